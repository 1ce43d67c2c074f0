"""roomDisplay: the session subscription's SNAPSHOT/PAUSED stream for whichever session a room holds,
following the room as sessions start and end and as the schedule changes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated

import strawberry

from app.errors import NotFound, Unauthenticated
from app.ids import decode_id
from app.live.envelopes import DisplayChange, ScheduleChange, SessionEnvelope
from app.live.publish import display_channel, schedule_channel, session_channel
from app.operations import displays as ops
from app.rules.displays import DisplayMode as DisplayModeValue
from app.rules.scopes import Scope
from app.rules.updates import UNSEQUENCED, SessionUpdateKind
from app.schema.batching import Loaders
from app.schema.context import Info
from app.schema.displays.privacy import check_mode, operation_fields
from app.schema.displays.types import RoomDisplayUpdate, RoomEnvelope
from app.schema.enums import DisplayMode
from app.schema.live.subscriptions import counted, fresh_loaders
from app.schema.permissions import scoped

# A boundary is looked at again this long after it, so the clock has surely passed it.
BOUNDARY_SLACK = 0.05


class _Next:
    """The next item of several watchers and a deadline, whichever comes first; a pending read is kept
    for the next call (a queue read cancelled midway loses nothing, but there is no need to)."""

    def __init__(self, **sources: AsyncIterator) -> None:
        self._sources = sources
        self._pending: dict[str, asyncio.Task] = {}

    async def wait(self, seconds: float) -> tuple[str, object] | None:
        for name, source in self._sources.items():
            if name not in self._pending:
                self._pending[name] = asyncio.ensure_future(anext(source))
        done, _ = await asyncio.wait(
            self._pending.values(), timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            return None
        name = next(n for n, task in self._pending.items() if task in done)
        return name, self._pending.pop(name).result()  # a lagged watcher raises here: the client resubscribes

    def close(self) -> None:
        for task in self._pending.values():
            task.cancel()
        self._pending.clear()


def _seconds_until(moment: datetime, now: datetime) -> float:
    return (moment - now).total_seconds() + BOUNDARY_SLACK


async def watch_room(
    info: Info, facility_id: uuid.UUID | None, location: str | None, mode: DisplayModeValue | None = None
) -> AsyncGenerator[RoomEnvelope, None]:
    ctx = info.context
    services = ctx.services
    principal = ctx.principal
    asked = operation_fields(info._raw_info)  # noqa: SLF001 - see tests/test_strawberry_hooks.py
    async with services.sessionmaker() as db:
        room = await ops.room_of(db, principal, facility_id, location, mode)
    async with contextlib.AsyncExitStack() as stack:
        sources = {"schedule": await stack.enter_async_context(services.hub.watch(schedule_channel(room.facility.id)))}
        if principal.is_display:
            # Over any transport (websocket, SSE, multipart) a revoked or replaced credential ends the stream.
            sources["display"] = await stack.enter_async_context(
                services.hub.watch(display_channel(uuid.UUID(principal.display_id)))
            )
            async with services.sessionmaker() as db:
                await ops.live_display(db, principal)  # revoked while the watch was being set up
        paused = False  # only while no session is shown: a session's PAUSED comes on its own channel
        while True:
            # The watch reads the clock itself: it decides when the next message is, before that
            # message's moment (info.context.now(), for the fields it resolves) begins.
            view = await _look(services, room)
            room = view.room
            check_mode(room.mode, asked)  # a display switched to patient-facing ends a staff selection
            if view.session_id is None:
                ctx.loaders = Loaders(services.sessionmaker)
                yield RoomEnvelope(
                    SessionUpdateKind.PAUSED if paused else SessionUpdateKind.SNAPSHOT,
                    0,
                    services.clock.now(),
                    view,
                    None,
                    None,
                )
                waiting = _Next(**sources)
                try:
                    while True:
                        item = await waiting.wait(_seconds_until(view.changes_at, services.clock.now()))
                        if item is None:
                            break  # a boundary: look again, and show what the room holds now
                        if _still_shown(item, principal):
                            continue
                        if item[1].kind != "PAUSED" and not paused:
                            fresh = await _look(services, room)
                            if fresh.shown == view.shown:
                                view = fresh  # another room's or another day's change: nothing to show
                                continue
                        paused = item[1].kind == "PAUSED"
                        break
                finally:
                    waiting.close()
                continue
            async with services.hub.watch(session_channel(view.session_id)) as watcher:
                snapshot = await services.session_states.snapshot(view.session_id)
                if snapshot is None:
                    raise NotFound("The room's session is gone")
                last = snapshot.sequence
                ctx.loaders = fresh_loaders(info, snapshot)
                yield _room_envelope(snapshot, view)
                waiting = _Next(session=watcher, **sources)
                try:
                    while True:
                        item = await waiting.wait(_seconds_until(view.changes_at, services.clock.now()))
                        if item is None:
                            break  # a boundary: look at the room again
                        source, envelope = item
                        if source != "session":
                            if _still_shown(item, principal) or envelope.kind == "PAUSED":
                                continue  # the session's own channel says PAUSED to the page
                            fresh = await _look(services, room)
                            if fresh.shown == view.shown:
                                view = fresh  # its boundary may have moved; the session's changes come on its channel
                                continue
                            break  # added, moved, cancelled, or settings changed: show the room again
                        assert isinstance(envelope, SessionEnvelope)
                        if envelope.kind not in UNSEQUENCED and envelope.sequence <= last:
                            continue
                        last = max(last, envelope.sequence)
                        ctx.loaders = fresh_loaders(info, envelope)
                        yield _room_envelope(envelope, view)
                finally:
                    waiting.close()


async def _look(services, room: ops.Room) -> ops.RoomView:
    """The room's view now, its facility and display re-read."""
    async with services.sessionmaker() as db:
        return await ops.room_view(db, await ops.reread_room(db, room), services.clock.now())


def _still_shown(item: tuple[str, object], principal) -> bool:
    """Whether the view stands after this message of the schedule or display channel: a display's
    own change (not a pause) either leaves it as it was or, revoked or replaced, ends the watch."""
    source, change = item
    if source == "display":
        assert isinstance(change, DisplayChange)
        if change.paused:
            return True
        if change.revoked:
            raise Unauthenticated("Display revoked")
        if change.credential_generation != principal.credential_generation:
            raise Unauthenticated("Display credential replaced by a newer one")
        return True
    assert isinstance(change, ScheduleChange)
    return False


def _room_envelope(envelope: SessionEnvelope, view: ops.RoomView) -> RoomEnvelope:
    return RoomEnvelope(
        envelope.kind, envelope.sequence, envelope.at, view, envelope.session, envelope.preview, envelope.changed
    )


@strawberry.type
class DisplaysSubscription:
    @strawberry.subscription(
        **scoped(Scope.DISPLAY),
        description=(
            "What a room display shows. A display's credential shows its own room (no arguments); staff with the "
            "display scope preview a room by facilityId and location. Only the fields a wall may show can be asked for."
        ),
    )
    async def room_display(
        self,
        info: Info,
        facility_id: strawberry.ID | None = None,
        location: str | None = None,
        mode: Annotated[
            DisplayMode | None,
            strawberry.argument(description="Staff previewing a room: show it as this mode does (STAFF if left out)."),
        ] = None,
    ) -> AsyncGenerator[RoomDisplayUpdate, None]:
        with counted(info):
            async with contextlib.aclosing(
                watch_room(
                    info,
                    decode_id(facility_id, "Facility") if facility_id else None,
                    location,
                    DisplayModeValue(mode.value) if mode is not None else None,
                )
            ) as updates:
                async for update in updates:
                    yield update
