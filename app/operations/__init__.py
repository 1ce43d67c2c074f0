"""What the service does, one module per area: load through a unit of work, call the rules, write,
audit and record events. No GraphQL here: the schema decodes ids and wraps what these return."""
