"""Webhook endpoints in GraphQL: register, change, rotate, replay, and read the delivery log."""
