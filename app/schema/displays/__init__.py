"""Room displays in GraphQL: pairing, listing and revoking displays, the room a display shows, and the fields a wall may show."""
