"""Scheduling in GraphQL (PM-04): group definitions, occurrences, capacity, compliance."""
