"""Calendar feeds in GraphQL: create, list and revoke the secret URLs of schedule feeds."""
