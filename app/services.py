"""What a running process holds: settings, database, broadcaster, relay. Built in the lifespan."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.clock import Clock
from app.config import Settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    # Filled in by the capabilities that need them (event relay, live-update hub, ...).
    extras: dict[str, Any] = field(default_factory=dict)
