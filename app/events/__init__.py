"""Integration events: the outbox feed, its in-process consumers and the relay."""
