"""The integration-event feed in GraphQL."""
