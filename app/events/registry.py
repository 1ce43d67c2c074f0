"""Imports every module that registers an event-feed consumer, so the feed knows them all at start-up."""
from __future__ import annotations

import app.resolvers.session_feed  # noqa: F401 - registers "clinical-sessions"
