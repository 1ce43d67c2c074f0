"""What each live update carries, built once per change per process: the changed session's row and
billing preview (or the group and the changed enrollment or occurrence).

A session update's sequence number carries exactly the state after that change. Writers of a session
serialize on its row (the change's first statement takes the row and its sequence, held to commit),
so the writing transaction sees that state itself: where the change is watched, the writer reads it
before it commits (`SessionStates.prepare`) and the message names that reading. Anywhere else the
state is read after the commit, in one REPEATABLE READ snapshot with the session's own sequence: a
reading that already holds a later change is not sent under this change's number (the later change's
own message follows and carries it), so a client may see a gap, never a number with another state."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.db import models
from app.db.queries.billing import billing_inputs_and_roster
from app.live.backends import PAUSED, RESYNC
from app.rules.billing import Preview
from app.rules.updates import GroupUpdateKind, SessionUpdateKind

log = logging.getLogger(__name__)

Sessionmaker = async_sessionmaker[AsyncSession]

# Changes read by their writer before commit, kept until the hub and the cluster build have taken them
# (a rolled-back writer's stays until pushed out: its message is never sent).
PREPARED_SECONDS = 30.0
PREPARED_MAX = 512

# Broadcaster signals that carry the current state rather than one change.
STATE_KINDS = {RESYNC: "SNAPSHOT", PAUSED: "PAUSED"}


@dataclass(frozen=True)
class SessionEnvelope:
    kind: SessionUpdateKind
    sequence: int
    at: datetime
    session: models.GroupSession
    preview: Preview
    changed: tuple[str, ...]
    # What the schema builds from this envelope for every watcher, kept once (app.schema.live).
    shared_results: dict[str, Any] = field(default_factory=dict, compare=False)
    # The session's roster (sessions.RosterRow), read with the billing inputs: the watchers' roster
    # loader is primed with it.
    roster: tuple[Any, ...] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class GroupEnvelope:
    kind: GroupUpdateKind
    sequence: int
    at: datetime
    group: models.GroupDefinition
    enrollment: models.Enrollment | None
    occurrence: models.GroupOccurrence | None


class SessionStates:
    """Reads a session's state for live updates, and counts how often (one per change per process)."""

    def __init__(self, sessionmaker: Sessionmaker, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.previews = 0
        self.skipped = 0  # changes read after a later one had committed: not sent under their number
        self._next: dict[uuid.UUID, asyncio.Task] = {}
        self._running: dict[uuid.UUID, asyncio.Task] = {}
        self._prepared: collections.OrderedDict[str, tuple[float, SessionEnvelope]] = collections.OrderedDict()

    async def read(self, session_id: uuid.UUID) -> tuple[models.GroupSession, Preview, tuple[Any, ...]] | None:
        """The session, its preview and roster as committed, in one snapshot: the session's
        `update_sequence` names exactly the state read with it."""
        async with self.sessionmaker() as db:
            await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            found = await billing_inputs_and_roster(db, session_id)
        if found is None:
            return None
        self.previews += 1
        inputs, roster = found
        return inputs.session, inputs.preview(), tuple(roster)

    async def prepare(self, db: AsyncSession, session_id: uuid.UUID, message: dict[str, Any]) -> str | None:
        """Read the change's state in its writing transaction, which holds the session's row from
        the statement that took `message["sequence"]` to its commit: no other change of the session
        can be in it. Returns the name the message carries to find it (app.live.publish); None when
        the session is gone."""
        await db.flush()
        found = await billing_inputs_and_roster(db, session_id, refresh=True)
        if found is None:
            return None
        self.previews += 1
        inputs, roster = found
        try:
            envelope = SessionEnvelope(
                SessionUpdateKind(message["kind"]),
                message["sequence"],
                datetime.fromisoformat(message["at"]),
                _detached(inputs.session),  # the transaction may change its instance after this change
                inputs.preview(),
                tuple(message["changed"]),
                roster=tuple(roster),
            )
        except Exception:
            log.exception("live update prepare failed session=%s", session_id)
            return None
        token = uuid.uuid4().hex[:16]
        now = time.monotonic()
        prepared = self._prepared
        while prepared and (len(prepared) >= PREPARED_MAX or next(iter(prepared.values()))[0] < now - PREPARED_SECONDS):
            prepared.popitem(last=False)
        prepared[token] = (now, envelope)
        return token

    async def build(self, channel: str, message: str) -> SessionEnvelope | None:
        """The hub's builder for `session:<id>` channels (and the cluster build's reader). None when
        the change is not to be sent: its session is gone, or a later change had committed before
        it could be read (that change's own message carries the state)."""
        session_id = uuid.UUID(channel.partition(":")[2])
        if message in STATE_KINDS:
            state = await self.read(session_id)
            if state is None:
                return None
            session, preview, roster = state
            kind = SessionUpdateKind(STATE_KINDS[message])
            return SessionEnvelope(kind, session.update_sequence, self.clock.now(), session, preview, (), roster=roster)
        data = json.loads(message)
        prepared = self._prepared.get(data.get("p") or "")
        if prepared is not None and prepared[1].sequence == data["sequence"]:
            return prepared[1]
        state = await self.read(session_id)
        if state is None:
            return None
        session, preview, roster = state
        if session.update_sequence != data["sequence"]:
            self.skipped += 1
            log.debug(
                "live update %s read at sequence %s: not sent under its number",
                data["sequence"],
                session.update_sequence,
            )
            return None
        return SessionEnvelope(
            SessionUpdateKind(data["kind"]),
            data["sequence"],
            datetime.fromisoformat(data["at"]),
            session,
            preview,
            tuple(data["changed"]),
            roster=roster,
        )

    async def snapshot(self, session_id: uuid.UUID) -> SessionEnvelope | None:
        """A SNAPSHOT computed once for all the subscribers waiting when the computation starts
        (10,000 displays subscribing at once made 10,000 previews). A subscriber only joins a
        computation that has not started yet, so every snapshot it gets was read after its watcher
        was registered: no change can fall between the snapshot and the first update."""
        task = self._next.get(session_id)
        if task is None:
            task = self._next[session_id] = asyncio.ensure_future(self._snapshot(session_id))
        return await asyncio.shield(task)

    async def _snapshot(self, session_id: uuid.UUID) -> SessionEnvelope | None:
        running = self._running.get(session_id)
        if running is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(running)
        me = self._next.pop(session_id)  # from here on, newcomers wait for the next computation
        self._running[session_id] = me
        try:
            state = await self.read(session_id)
        finally:
            if self._running.get(session_id) is me:
                del self._running[session_id]
        if state is None:
            return None
        session, preview, roster = state
        return SessionEnvelope(
            SessionUpdateKind.SNAPSHOT,
            session.update_sequence,
            self.clock.now(),
            session,
            preview,
            (),
            roster=roster,
        )


def _detached(session: models.GroupSession) -> models.GroupSession:
    """A copy of a session's instance that belongs to no database session: what it held when read."""
    return models.GroupSession(
        **{column.key: getattr(session, column.key) for column in inspect(session).mapper.column_attrs}
    )


def group_builder(sessionmaker: Sessionmaker, clock: Clock):
    """The hub's builder for `group:<id>` channels."""

    async def build(channel: str, message: str) -> GroupEnvelope | None:
        group_id = uuid.UUID(channel.partition(":")[2])
        async with sessionmaker() as db:
            group = await db.get(models.GroupDefinition, group_id)
            if group is None:
                return None
            if message in STATE_KINDS:
                kind = GroupUpdateKind(STATE_KINDS[message])
                return GroupEnvelope(kind, group.update_sequence, clock.now(), group, None, None)
            data = json.loads(message)
            enrollment = (
                await db.get(models.Enrollment, uuid.UUID(data["enrollmentId"])) if data.get("enrollmentId") else None
            )
            occurrence = (
                await db.get(models.GroupOccurrence, uuid.UUID(data["occurrenceId"]))
                if data.get("occurrenceId")
                else None
            )
        return GroupEnvelope(
            GroupUpdateKind(data["kind"]),
            data["sequence"],
            datetime.fromisoformat(data["at"]),
            group,
            enrollment,
            occurrence,
        )

    return build


@dataclass(frozen=True)
class DisplayChange:
    """A room display's state after a change on its channel (revoked, credential rotated), or after
    a broadcaster outage (`paused`: the next message re-reads it)."""

    display_id: uuid.UUID
    revoked: bool
    credential_generation: int
    paused: bool = False


@dataclass(frozen=True)
class ScheduleChange:
    """A facility's sessions changed (added, moved, cancelled), or its display settings did: its
    displays look at their rooms again. After an outage: PAUSED, then SNAPSHOT (look again)."""

    facility_id: uuid.UUID
    kind: str  # "CHANGED", "SNAPSHOT" or "PAUSED"


def display_builder(sessionmaker: Sessionmaker):
    """The hub's builder for `display:<id>` channels."""

    async def build(channel: str, message: str) -> DisplayChange | None:
        display_id = uuid.UUID(channel.partition(":")[2])
        if message == PAUSED:
            return DisplayChange(display_id, False, 0, paused=True)
        async with sessionmaker() as db:
            display = await db.get(models.RoomDisplay, display_id)
        if display is None:
            return DisplayChange(display_id, True, 0)
        return DisplayChange(display_id, display.revoked_at is not None, display.credential_generation)

    return build


async def build_billing_change(channel: str, message: str) -> dict | None:
    """The hub's builder for `billing:<facility id>` channels: the message itself (queues and ids); a PAUSED or
    RESYNC of the broadcaster becomes a change of every queue, so watchers read their lists again."""
    try:
        found = json.loads(message)
    except ValueError:
        found = None
    if not isinstance(found, dict) or "queues" not in found:
        return {"queues": [], "claimId": None, "sessionId": None, "facilityId": None, "at": None, "resync": True}
    return found


async def build_schedule_change(channel: str, message: str) -> ScheduleChange:
    """The hub's builder for `schedule:<facility id>` channels: the display reads its room itself."""
    return ScheduleChange(uuid.UUID(channel.partition(":")[2]), STATE_KINDS.get(message, "CHANGED"))
