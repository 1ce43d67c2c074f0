"""Clinical notes in GraphQL: group notes, member notes, addenda."""
