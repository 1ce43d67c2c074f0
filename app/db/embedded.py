"""An embedded PostgreSQL (the pgserver package) for machines with no DATABASE_URL."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir / "pg"
        self._server = None

    def start(self) -> str:
        import pgserver

        first_run = not (self.data_dir / "PG_VERSION").exists()
        if first_run:
            print(
                f"Starting the embedded PostgreSQL for the first time in {self.data_dir} ...",
                file=sys.stderr,
                flush=True,
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(str(self.data_dir), cleanup_mode="stop")
        return self._server.get_uri()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def asyncpg_url(url: str) -> str:
    """SQLAlchemy's asyncpg dialect spelling of any postgres URL."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")
