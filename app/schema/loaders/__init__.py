"""Every DataLoader, one module per area, each a named accessor (`sessions.rosters(info)`); the
machinery they share is app/schema/batching.py. An area's types load other areas' rows through here,
never through each other."""
