"""The HTTP edge: the GraphQL endpoint over HTTP and websocket, and the routes beside it."""
