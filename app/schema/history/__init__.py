"""Attendance history and absence alerts in GraphQL."""
