"""Files the app serves as they are: the GraphiQL page and what it loads (see graphiql/README.md)."""
