"""Live updates: resilient broadcaster backends, the per-process hub, and session/group update payloads."""
