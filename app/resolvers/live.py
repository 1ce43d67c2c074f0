"""Live updates: the payload of each change is built once per process and shared by every watcher."""
from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime

import strawberry
from strawberry.types import Info

from app.db import models
from app.db.billing_queries import billing_inputs_for_sessions
from app.errors import NotFound
from app.ids import decode_id
from app.live.backends import PAUSED, RESYNC, make_broadcast
from app.live.hub import Hub, keep_listener_alive
from app.live.publish import LivePublisher, group_channel, session_channel
from app.resolvers.common import visible_or_not_found
from app.rules.billing import Preview
from app.schema.events import GroupUpdate, SessionUpdate
from app.schema.enums import GroupUpdateKind, SessionUpdateKind
from app.schema.loaders import Loaders
from app.schema.scheduling import Enrollment, GroupDefinition, GroupOccurrence
from app.schema.sessions import GroupSession

# How many preview computations live updates made (benchmarks check: one per change per process).
PREVIEW_COMPUTATIONS = 0


@dataclass(frozen=True)
class SessionEnvelope:
    kind: str
    sequence: int
    at: datetime
    row: models.GroupSession
    loaders: Loaders
    preview: Preview
    changed: tuple[str, ...]
    # The SessionUpdate every watcher of this change gets, built once (app.schema.shared_events).
    shared: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class GroupEnvelope:
    kind: str
    sequence: int
    at: datetime
    row: models.GroupDefinition
    loaders: Loaders
    enrollment: models.Enrollment | None
    occurrence: models.GroupOccurrence | None


async def _session_state(services, session_id: uuid.UUID) -> tuple[models.GroupSession, Loaders, Preview] | None:
    """The session row and loaders primed with its billing preview: one computation, shared."""
    global PREVIEW_COMPUTATIONS
    loaders = Loaders(services.sessionmaker)
    async with services.sessionmaker() as db:
        inputs = await billing_inputs_for_sessions(db, [session_id])
    if session_id not in inputs:
        return None
    PREVIEW_COMPUTATIONS += 1
    preview = inputs[session_id].preview()

    async def batch(db, keys):  # only reached for other sessions, e.g. via nested fields
        found = await billing_inputs_for_sessions(db, keys)
        return [found[k].preview() for k in keys]

    loaders.custom("billing_preview", batch).prime(session_id, preview)
    loaders.by_id(models.GroupSession).prime(session_id, inputs[session_id].session)
    return inputs[session_id].session, loaders, preview


# Broadcaster signals that carry the current state rather than one change.
_STATE_KINDS = {RESYNC: "SNAPSHOT", PAUSED: "PAUSED"}
_UNSEQUENCED = frozenset(_STATE_KINDS.values())


def build_session_envelope(services):
    async def build(channel: str, message: str) -> SessionEnvelope | None:
        session_id = uuid.UUID(channel.partition(":")[2])
        state = await _session_state(services, session_id)
        if state is None:
            return None
        row, loaders, preview = state
        if message in _STATE_KINDS:
            return SessionEnvelope(_STATE_KINDS[message], row.update_sequence, services.clock.now(), row, loaders, preview, ())
        data = json.loads(message)
        return SessionEnvelope(
            data["kind"], data["sequence"], datetime.fromisoformat(data["at"]), row, loaders, preview,
            tuple(data["changed"]),
        )

    return build


def build_group_envelope(services):
    async def build(channel: str, message: str) -> GroupEnvelope | None:
        group_id = uuid.UUID(channel.partition(":")[2])
        async with services.sessionmaker() as db:
            row = await db.get(models.GroupDefinition, group_id)
            if row is None:
                return None
            if message in _STATE_KINDS:
                return GroupEnvelope(_STATE_KINDS[message], row.update_sequence, services.clock.now(), row, Loaders(services.sessionmaker), None, None)
            data = json.loads(message)
            enrollment = await db.get(models.Enrollment, uuid.UUID(data["enrollmentId"])) if data.get("enrollmentId") else None
            occurrence = await db.get(models.GroupOccurrence, uuid.UUID(data["occurrenceId"])) if data.get("occurrenceId") else None
        return GroupEnvelope(
            data["kind"], data["sequence"], datetime.fromisoformat(data["at"]), row,
            Loaders(services.sessionmaker), enrollment, occurrence,
        )

    return build


def _session_update(envelope: SessionEnvelope) -> SessionUpdate:
    from app.resolvers.billing import preview_type

    return SessionUpdate(
        kind=SessionUpdateKind(envelope.kind),
        sequence=envelope.sequence,
        at=envelope.at,
        session=GroupSession.from_row(envelope.row),
        billing_preview=preview_type(envelope.preview),
        changed_participant_ids=[strawberry.ID(p) for p in envelope.changed],
    )


class SnapshotFlights:
    """Snapshots of a session computed once for all the subscribers waiting when the computation
    starts (10,000 displays subscribing at once made 10,000 previews). A subscriber only joins a
    computation that has not started yet, so every snapshot it gets was read after its watcher
    was registered: no change can fall between the snapshot and the first update."""

    def __init__(self) -> None:
        self._next: dict[uuid.UUID, asyncio.Task] = {}
        self._running: dict[uuid.UUID, asyncio.Task] = {}

    async def get(self, services, session_id: uuid.UUID) -> SessionEnvelope | None:
        task = self._next.get(session_id)
        if task is None:
            task = self._next[session_id] = asyncio.ensure_future(self._compute(services, session_id))
        return await asyncio.shield(task)

    async def _compute(self, services, session_id: uuid.UUID) -> SessionEnvelope | None:
        running = self._running.get(session_id)
        if running is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(running)
        me = self._next.pop(session_id)  # from here on, newcomers wait for the next computation
        self._running[session_id] = me
        try:
            state = await _session_state(services, session_id)
        finally:
            if self._running.get(session_id) is me:
                del self._running[session_id]
        if state is None:
            return None
        row, loaders, preview = state
        return SessionEnvelope("SNAPSHOT", row.update_sequence, services.clock.now(), row, loaders, preview, ())


def _shared_session_update(envelope: SessionEnvelope) -> SessionUpdate:
    """One SessionUpdate per change, carrying the executions shared by its watchers."""
    update = envelope.shared.get("update")
    if update is None:
        update = envelope.shared["update"] = _session_update(envelope)
        update.shared_results = {}
    return update


async def session_updates(info: Info, session_id: str) -> AsyncGenerator[SessionUpdate, None]:
    ctx = info.context
    services = ctx.services
    pk = decode_id(session_id, "GroupSession")
    async with services.sessionmaker() as db:
        visible_or_not_found(ctx, await db.get(models.GroupSession, pk), "GroupSession")
    hub: Hub = services.extras["hub"]
    async with hub.watch(session_channel(pk)) as watcher:
        snapshots = services.extras.setdefault("session_snapshots", SnapshotFlights())
        snapshot = await snapshots.get(services, pk)
        if snapshot is None:
            raise NotFound("No GroupSession with that id")
        last = snapshot.sequence
        ctx.loaders = snapshot.loaders
        yield _shared_session_update(snapshot)
        async for envelope in watcher:
            if envelope.kind not in _UNSEQUENCED and envelope.sequence <= last:
                continue  # already part of the snapshot this watcher got
            last = max(last, envelope.sequence)
            ctx.loaders = envelope.loaders  # a websocket context lives for the socket: load fresh per change
            yield _shared_session_update(envelope)


async def group_updates(info: Info, group_id: str) -> AsyncGenerator[GroupUpdate, None]:
    ctx = info.context
    services = ctx.services
    pk = decode_id(group_id, "GroupDefinition")
    hub: Hub = services.extras["hub"]
    async with hub.watch(group_channel(pk)) as watcher:
        async with services.sessionmaker() as db:
            row = visible_or_not_found(ctx, await db.get(models.GroupDefinition, pk), "GroupDefinition")
        if row.deleted_at is not None:
            raise NotFound("No GroupDefinition with that id")
        last = row.update_sequence
        ctx.loaders = Loaders(services.sessionmaker)
        yield GroupUpdate(
            kind=GroupUpdateKind.SNAPSHOT, sequence=last, at=services.clock.now(),
            group=GroupDefinition.from_row(row), enrollment=None, occurrence=None,
        )
        async for envelope in watcher:
            if envelope.kind not in _UNSEQUENCED and envelope.sequence <= last:
                continue
            last = max(last, envelope.sequence)
            ctx.loaders = envelope.loaders
            yield GroupUpdate(
                kind=GroupUpdateKind(envelope.kind),
                sequence=envelope.sequence,
                at=envelope.at,
                group=GroupDefinition.from_row(envelope.row),
                enrollment=Enrollment.from_row(envelope.enrollment) if envelope.enrollment else None,
                occurrence=GroupOccurrence.from_row(envelope.occurrence) if envelope.occurrence else None,
            )


async def start_live(services) -> None:
    """Connect the broadcaster and start the hub; called from the app's lifespan."""
    settings = services.settings
    url = settings.broadcast_url
    if url.startswith("postgres") and url.rstrip("/").endswith(("postgres:", "postgresql:")):
        url = services.extras["database_url"]  # the `postgres://` shorthand: the application's own database
    broadcast = services.extras.get("broadcast")
    if broadcast is None:
        broadcast = make_broadcast(url)
        await broadcast.connect()
        services.extras["broadcast"] = broadcast
    services.extras["live_publisher"] = LivePublisher(broadcast, url, services.extras["database_url"])
    services.extras["hub"] = Hub(broadcast, {"session": build_session_envelope(services), "group": build_group_envelope(services)})
    services.extras["broadcast_watchdog"] = asyncio.create_task(keep_listener_alive(broadcast))


async def stop_live(services) -> None:
    watchdog = services.extras.pop("broadcast_watchdog", None)
    if watchdog:
        watchdog.cancel()
    hub = services.extras.pop("hub", None)
    if hub:
        await hub.close()
    broadcast = services.extras.pop("broadcast", None)
    if broadcast is not None:
        await broadcast.disconnect()
