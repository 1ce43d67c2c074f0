"""Live updates in GraphQL: the subscriptions room displays and web clients watch."""
