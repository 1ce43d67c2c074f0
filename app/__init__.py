"""Group Sessions API: group therapy scheduling, attendance and billing over GraphQL."""
