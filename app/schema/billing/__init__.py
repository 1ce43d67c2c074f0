"""Billing in GraphQL: the live preview, charges, claims and their 837P."""
