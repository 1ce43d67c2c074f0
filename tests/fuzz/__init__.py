"""Fuzzing the live GraphQL endpoint with schemathesis (`make fuzz` runs it long; tests/test_fuzz.py runs it briefly)."""
