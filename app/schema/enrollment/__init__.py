"""Enrollment in GraphQL: enrollments, their results, and the waitlist's changes."""
