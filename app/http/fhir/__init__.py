"""A FHIR R4 read API under /fhir/R4/ (JSON): the same bearer tokens and facility walls as GraphQL."""
