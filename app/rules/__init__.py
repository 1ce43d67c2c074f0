"""The domain as pure functions and frozen dataclasses: no I/O, no framework."""
