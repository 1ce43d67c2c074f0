"""The subscriptions: a SNAPSHOT first, then one message per committed change (rules.md §10)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncGenerator, Iterator

import strawberry
from graphql import print_ast

from app.errors import NotFound
from app.ids import decode_id
from app.live.cluster import Prebuilt
from app.live.envelopes import GroupEnvelope, SessionEnvelope
from app.live.publish import group_channel, session_channel
from app.operations.common import visible_or_not_found
from app.rules.scopes import Scope
from app.rules.updates import UNSEQUENCED
from app.schema.batching import Loaders
from app.schema.context import Info
from app.schema.live.cluster import primed_loaders, watcher_shape
from app.schema.live.types import GroupUpdate, SessionUpdate
from app.schema.loaders.enrollment import prime_group_update
from app.schema.permissions import scoped


@contextlib.contextmanager
def counted(info: Info) -> Iterator[None]:
    """The subscription counted against its caller's limits while it runs (app.operations.callers):
    subscriptions at once, and distinct documents among them (each document is executed on its own
    for every change, so 600 distinct ones cost each change seconds)."""
    operation = info._raw_info.operation  # noqa: SLF001 - the document being run, as graphql-core has it
    text = operation.loc.source.body if operation.loc is not None else print_ast(operation)
    document = hashlib.sha256(text.encode()).hexdigest()
    with info.context.services.caller_limits.subscription(info.context.principal.subject, document):
        yield


def fresh_loaders(info: Info, envelope: SessionEnvelope) -> Loaders:
    """Loaders of one change for this watcher's audience, primed with what the hub already read.
    Each audience executes with loaders of its own: one audience's failed execution cancels only
    its own loads."""
    return primed_loaders(info.context.services, envelope)


async def watch_session(info: Info, session_id: strawberry.ID) -> AsyncGenerator[SessionEnvelope, None]:
    ctx = info.context
    services = ctx.services
    pk = decode_id(session_id, "GroupSession")
    shape = watcher_shape(info) if services.hub.shapes is not None else None
    async with services.hub.watch(session_channel(pk), shape) as watcher:
        # Who may watch is read from the snapshot, which subscribers arriving together share: no
        # connection of its own per subscriber (10,000 room displays subscribing at once took the
        # whole pool). A session of another facility answers NOT_FOUND, as one that does not exist.
        snapshot = await services.session_states.snapshot(pk)
        if snapshot is None:
            raise NotFound("No GroupSession with that id")
        visible_or_not_found(ctx.principal, snapshot.session, "GroupSession")
        last = snapshot.sequence
        ctx.loaders = fresh_loaders(info, snapshot)
        yield snapshot
        async for envelope in watcher:
            if envelope.kind not in UNSEQUENCED and envelope.sequence <= last:
                continue  # already part of the snapshot this watcher got
            last = max(last, envelope.sequence)
            if not isinstance(envelope, Prebuilt):  # built elsewhere: its encoded result is sent as is
                ctx.loaders = fresh_loaders(info, envelope)
            yield envelope


async def watch_group(info: Info, group_id: strawberry.ID) -> AsyncGenerator[GroupEnvelope, None]:
    ctx = info.context
    services = ctx.services
    pk = decode_id(group_id, "GroupDefinition")
    async with services.hub.watch(group_channel(pk)) as watcher:
        # The group and its line in one snapshot, under the group's sequence (GroupStates).
        snapshot = await services.live.group_states.snapshot(pk)
        group = visible_or_not_found(ctx.principal, snapshot.group if snapshot else None, "GroupDefinition")
        if group.deleted_at is not None:
            raise NotFound("No GroupDefinition with that id")
        last = snapshot.sequence
        ctx.loaders = group_loaders(info, snapshot)
        yield snapshot
        async for envelope in watcher:
            if envelope.kind not in UNSEQUENCED and envelope.sequence <= last:
                continue
            last = max(last, envelope.sequence)
            ctx.loaders = group_loaders(info, envelope)
            yield envelope


def group_loaders(info: Info, envelope: GroupEnvelope) -> Loaders:
    """Loaders of one group change for this watcher, primed with what the hub read for it."""
    loaders = Loaders(info.context.services.sessionmaker)
    prime_group_update(loaders, envelope)
    return loaders


@strawberry.type
class Subscription:
    @strawberry.subscription(
        **scoped(Scope.SESSION_READ),
        description="First message: kind SNAPSHOT with the current state. Then one message per change, to every watcher.",
    )
    async def session_updates(self, info: Info, session_id: strawberry.ID) -> AsyncGenerator[SessionUpdate, None]:
        with counted(info):
            async for update in watch_session(info, session_id):
                yield update

    @strawberry.subscription(
        **scoped(Scope.GROUP_DEFINITIONS_VIEW),
        description="First message: kind SNAPSHOT with the group. Then one message per enrollment, occurrence or group change.",
    )
    async def group_updates(self, info: Info, group_id: strawberry.ID) -> AsyncGenerator[GroupUpdate, None]:
        with counted(info):
            async for update in watch_group(info, group_id):
                yield update
