"""What each live update carries, built once per change per process: the changed session's row and
billing preview (or the group, its line and the changed enrollment or occurrence).

A session or group update's sequence number carries exactly the state after that change. Writers of
a session serialize on its row, writers of a group on the group's (taken by the change's first
statement, held to commit; the sequence is taken under it), so the writing transaction sees that
state itself: where the change is watched, the writer reads it before it commits
(`SessionStates.prepare`, `GroupStates.prepare`) and the message names that reading (`Prepared`).
Anywhere else the state is read after the commit, in one REPEATABLE READ snapshot with the entity's
own sequence: a reading that already holds a later change is not sent under this change's number
(the later change's own message follows and carries it), so a client may see a gap, never a number
with another state."""

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
from app.db.queries.billing import billing_inputs_and_roster, billing_inputs_and_roster_in_transaction
from app.db.queries.enrollments import group_line
from app.ids import split_id
from app.live.backends import PAUSED, RESYNC
from app.rules.billing import Preview
from app.rules.updates import GroupUpdateKind, SessionUpdateKind, Touched

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
    changed: tuple[Touched, ...]  # the rows it touched, encoded by the schema
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
    # The group's line read with it (enrolled and waitlisted counts by status, the waitlist in order):
    # the watchers' loaders are primed with it (app.schema.loaders.enrollment).
    counts: dict[str, int] | None = field(default=None, compare=False)
    waitlist: tuple[models.Enrollment, ...] | None = field(default=None, compare=False)


class Prepared:
    """Changes read by their writer before commit, by the name their message carries (`"p"`), kept
    until the hub and the cluster build have taken them."""

    def __init__(self) -> None:
        self._readings: collections.OrderedDict[str, tuple[float, Any]] = collections.OrderedDict()

    def put(self, envelope: Any) -> str:
        token = uuid.uuid4().hex[:16]
        now = time.monotonic()
        readings = self._readings
        while readings and (len(readings) >= PREPARED_MAX or next(iter(readings.values()))[0] < now - PREPARED_SECONDS):
            readings.popitem(last=False)
        readings[token] = (now, envelope)
        return token

    def get(self, data: dict[str, Any]) -> Any:
        """The reading a message names, when it is this change's (same sequence); else None."""
        found = self._readings.get(data.get("p") or "")
        if found is not None and found[1].sequence == data["sequence"]:
            return found[1]
        return None


class SessionStates:
    """Reads a session's state for live updates, and counts how often (one per change per process)."""

    def __init__(self, sessionmaker: Sessionmaker, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.previews = 0
        self.skipped = 0  # changes read after a later one had committed: not sent under their number
        self._next: dict[uuid.UUID, asyncio.Task] = {}
        self._running: dict[uuid.UUID, asyncio.Task] = {}
        self._prepared = Prepared()

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
        found = await billing_inputs_and_roster_in_transaction(db, session_id)
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
                _touched(message["changed"]),
                roster=tuple(roster),
            )
        except Exception:
            log.exception("live update prepare failed session=%s", session_id)
            return None
        return self._prepared.put(envelope)

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
        prepared = self._prepared.get(data)
        if prepared is not None:
            return prepared
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
            _touched(data["changed"]),
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


def _detached(row: Any) -> Any:
    """A copy of a row's instance that belongs to no database session: what it held when read."""
    return type(row)(**{column.key: getattr(row, column.key) for column in inspect(row).mapper.column_attrs})


GroupState = tuple[models.GroupDefinition, dict[str, int], tuple[models.Enrollment, ...], models.Enrollment | None, Any]


class GroupStates:
    """Reads a group's state for live updates (the hub's builder for `group:<id>` channels): the group,
    its line (counts and waitlist) and the changed enrollment or occurrence, as SessionStates reads a
    session's."""

    def __init__(self, sessionmaker: Sessionmaker, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.skipped = 0  # changes read after a later one had committed: not sent under their number
        self._prepared = Prepared()

    async def read(self, group_id: uuid.UUID, data: dict[str, Any] | None = None) -> GroupState | None:
        """The group, its line and the message's enrollment and occurrence as committed, in one
        snapshot: the group's `update_sequence` names exactly the state read with it."""
        async with self.sessionmaker() as db:
            await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            found = await group_line(db, group_id, *_changed(data or {}))
        if found is None:
            return None
        group, counts, waitlist, enrollment, occurrence = found
        return group, counts, tuple(waitlist), enrollment, occurrence

    async def prepare(self, db: AsyncSession, group_id: uuid.UUID, message: dict[str, Any]) -> str | None:
        """Read the change's state in its writing transaction, which holds the group's row from its
        first statement to its commit (the sequence is taken under it): no other change of the group
        can be in it. Every number one transaction takes carries the state it commits (its line is
        written before its updates are staged: a disenrollment and the promotion it causes are two
        numbers with one state). Returns the name the message carries; None when the group is gone."""
        await db.flush()
        found = await group_line(db, group_id, *_changed(message), refresh=True)
        if found is None:
            return None
        group, counts, waitlist, enrollment, occurrence = found
        try:
            envelope = GroupEnvelope(
                GroupUpdateKind(message["kind"]),
                message["sequence"],
                datetime.fromisoformat(message["at"]),
                _detached(group),  # the transaction may change its instances after this change
                _detached(enrollment) if enrollment is not None else None,
                _detached(occurrence) if occurrence is not None else None,
                counts=dict(counts),
                waitlist=tuple(_detached(row) for row in waitlist),
            )
        except Exception:
            log.exception("live update prepare failed group=%s", group_id)
            return None
        return self._prepared.put(envelope)

    async def build(self, channel: str, message: str) -> GroupEnvelope | None:
        """The hub's builder for `group:<id>` channels. None when the change is not to be sent: its
        group is gone, or a later change had committed before it could be read."""
        group_id = uuid.UUID(channel.partition(":")[2])
        if message in STATE_KINDS:
            state = await self.read(group_id)
            if state is None:
                return None
            group, counts, waitlist, _, _ = state
            kind = GroupUpdateKind(STATE_KINDS[message])
            return GroupEnvelope(
                kind, group.update_sequence, self.clock.now(), group, None, None, counts=counts, waitlist=waitlist
            )
        data = json.loads(message)
        prepared = self._prepared.get(data)
        if prepared is not None:
            return prepared
        state = await self.read(group_id, data)
        if state is None:
            return None
        group, counts, waitlist, enrollment, occurrence = state
        if group.update_sequence != data["sequence"]:
            self.skipped += 1
            log.debug(
                "live group update %s read at sequence %s: not sent under its number",
                data["sequence"],
                group.update_sequence,
            )
            return None
        return GroupEnvelope(
            GroupUpdateKind(data["kind"]),
            data["sequence"],
            datetime.fromisoformat(data["at"]),
            group,
            enrollment,
            occurrence,
            counts=counts,
            waitlist=waitlist,
        )

    async def snapshot(self, group_id: uuid.UUID) -> GroupEnvelope | None:
        """A SNAPSHOT: the group and its line in one snapshot, under the group's sequence."""
        state = await self.read(group_id)
        if state is None:
            return None
        group, counts, waitlist, _, _ = state
        return GroupEnvelope(
            GroupUpdateKind.SNAPSHOT,
            group.update_sequence,
            self.clock.now(),
            group,
            None,
            None,
            counts=counts,
            waitlist=waitlist,
        )


def _touched(rows: list[list[str] | str]) -> tuple[Touched, ...]:
    """A message's "changed" ([type name, key] pairs in JSON) as the envelope keeps it. A process of the
    release before names each row by its global id (one string): read as the same pair, so the live updates
    of a rolling deploy's old processes still reach the watchers of its new ones."""
    return tuple(split_id(row) if isinstance(row, str) else (row[0], row[1]) for row in rows)


def _changed(data: dict[str, Any]) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The enrollment and occurrence a group update's message names."""
    enrollment, occurrence = data.get("enrollmentId"), data.get("occurrenceId")
    return (uuid.UUID(enrollment) if enrollment else None, uuid.UUID(occurrence) if occurrence else None)


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
