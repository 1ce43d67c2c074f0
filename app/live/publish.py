"""Staging live updates inside the writing transaction: nothing is sent for a rolled-back change.

With the postgres backend on the application's own database, the NOTIFY is issued inside the
transaction (PostgreSQL delivers it at commit); otherwise the message is published right after
commit. Messages carry ids and the sequence only, never the payload: NOTIFY caps at 8,000 bytes.

A session or group change that is watched (here, or, for a session, in the cluster when it is built
once) is read in its writing transaction before it commits (`SessionStates.prepare`,
`GroupStates.prepare`): the state after exactly that change. Its message names the reading (`"p"`),
which the hub and the cluster build of this process use instead of reading the session or group after
the commit, when a later change may already be there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlparse

from broadcaster import Broadcast

from app.db.queries import events as event_queries
from app.db.queries import groups as group_queries
from app.db.queries import sessions as session_queries
from app.db.uow import UnitOfWork
from app.ids import payload_uuid
from app.live.cluster import ClusterBuilds
from app.rules.updates import GroupUpdateKind, SessionUpdateKind, Touched


def session_channel(session_id: uuid.UUID) -> str:
    return f"session:{session_id}"


def group_channel(group_id: uuid.UUID) -> str:
    return f"group:{group_id}"


def display_channel(display_id: uuid.UUID) -> str:
    """A room display's own changes: revoked, its credential rotated."""
    return f"display:{display_id}"


def schedule_channel(facility_id: uuid.UUID) -> str:
    """A facility's sessions were added, moved or cancelled, or how its displays show names changed:
    its room displays look again at what their rooms hold."""
    return f"schedule:{facility_id}"


def billing_channel(facility_id: uuid.UUID) -> str:
    """The billing office's work queues of a facility changed."""
    return f"billing:{facility_id}"


async def stage_billing_change(
    uow: UnitOfWork,
    facility_id: uuid.UUID,
    queues: Sequence[str],
    *,
    claim_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
) -> None:
    """Which work queues a change touched (ids only), for the facility's watchers."""
    if uow.live is None or not queues:
        return
    message = {
        "queues": list(dict.fromkeys(queues)),
        "claimId": str(claim_id) if claim_id else None,
        "sessionId": str(session_id) if session_id else None,
        "facilityId": str(facility_id),
        "at": uow.clock.now().isoformat(),
    }
    await uow.live.stage(uow, billing_channel(facility_id), message)


def _same_database(a: str, b: str) -> bool:
    pa, pb = urlparse(a), urlparse(b)
    return (pa.hostname, pa.port or 5432, pa.path, pa.query) == (pb.hostname, pb.port or 5432, pb.path, pb.query)


def notifies_in_transaction(broadcast_url: str, database_url: str) -> bool:
    """Whether the broadcaster is PostgreSQL on the application's own database: then a message is a
    NOTIFY inside the writing transaction, delivered by PostgreSQL at its commit."""
    scheme = urlparse(broadcast_url).scheme
    return scheme in ("postgres", "postgresql") and _same_database(
        broadcast_url.replace("postgres://", "postgresql://", 1), database_url
    )


# Reads a session or group change's state in its writing transaction; returns the name its message carries.
Prepare = Callable[[UnitOfWork, str, dict], Awaitable[str | None]]


class LivePublisher:
    def __init__(
        self,
        broadcast: Broadcast,
        *,
        notify_in_transaction: bool,
        prepare: Prepare | None = None,
    ) -> None:
        self.broadcast = broadcast
        self.notify_in_transaction = notify_in_transaction
        # Session changes built once per cluster: set when the process takes part (app.live.runtime).
        self.cluster: ClusterBuilds | None = None
        self._prepare = prepare

    async def stage(self, uow: UnitOfWork, channel: str, message: dict) -> None:
        sequenced = channel.startswith(("session:", "group:")) and "sequence" in message
        if sequenced and self._prepare is not None:
            token = await self._prepare(uow, channel, message)
            if token is not None:
                message = {**message, "p": token}
        cluster = self.cluster if sequenced and channel.startswith("session:") else None
        if cluster is not None:
            message = {**message, "b": 1}  # its built results follow from this process (app.live.cluster)
        body = json.dumps(message, separators=(",", ":"))
        if self.notify_in_transaction:
            await event_queries.notify(uow.db, channel, body)
        else:

            async def send() -> None:
                await self.broadcast.publish(channel, body)

            uow.after_commit(send)
        if cluster is not None:

            async def build() -> None:
                cluster.after_commit(channel, body)

            uow.after_commit(build)


async def stage_session_update(
    uow: UnitOfWork,
    session_id: uuid.UUID,
    kind: SessionUpdateKind,
    changed: Sequence[Touched] = (),
    *,
    sequence: int | None = None,
) -> None:
    """Bump the session's sequence in this transaction and stage the message for all watchers.
    `sequence`: one this transaction already took (sessions.lock_session_of_entry_for_update), so
    no second bump."""
    if sequence is None:
        sequence = await session_queries.bump_sequence(uow.db, session_id)
    if uow.live is not None and sequence is not None:
        await uow.live.stage(
            uow,
            session_channel(session_id),
            {
                "sequence": sequence,
                "kind": kind,
                "changed": [list(row) for row in changed],
                "at": uow.clock.now().isoformat(),
            },
        )


async def stage_display_change(uow: UnitOfWork, display_id: uuid.UUID) -> None:
    if uow.live is not None:
        await uow.live.stage(uow, display_channel(display_id), {"at": uow.clock.now().isoformat()})


async def stage_schedule_change(uow: UnitOfWork, facility_id: uuid.UUID) -> None:
    """Once per facility per transaction (generating a month of sessions is one look again)."""
    channel = schedule_channel(facility_id)
    if uow.live is None or channel in uow.announced:
        return
    uow.announced.add(channel)
    await uow.live.stage(uow, channel, {"at": uow.clock.now().isoformat()})


async def stage_group_update(
    uow: UnitOfWork,
    group_id: uuid.UUID,
    kind: GroupUpdateKind,
    *,
    enrollment_id: uuid.UUID | None = None,
    occurrence_id: uuid.UUID | None = None,
) -> None:
    sequence = await group_queries.bump_sequence(uow.db, group_id)
    if uow.live is None or sequence is None:
        return
    await uow.live.stage(
        uow,
        group_channel(group_id),
        {
            "sequence": sequence,
            "kind": kind,
            "enrollmentId": str(enrollment_id) if enrollment_id else None,
            "occurrenceId": str(occurrence_id) if occurrence_id else None,
            "at": uow.clock.now().isoformat(),
        },
    )


# Integration events that are also live group updates, with the GroupUpdateKind they become.
GROUP_UPDATE_KINDS = {
    "pm_group_session_scheduled": GroupUpdateKind.OCCURRENCE_SCHEDULED,
    "pm_group_session_updated": GroupUpdateKind.OCCURRENCE_UPDATED,
    "pm_group_session_cancelled": GroupUpdateKind.OCCURRENCE_CANCELLED,
    "pm_group_enrollment_enrolled": GroupUpdateKind.ENROLLED,
    "pm_group_enrollment_waitlisted": GroupUpdateKind.WAITLISTED,
    "pm_group_enrollment_promoted": GroupUpdateKind.PROMOTED,
    "pm_group_enrollment_disenrolled": GroupUpdateKind.DISENROLLED,
    "pm_group_enrollment_removed": GroupUpdateKind.REMOVED,
}


async def stage_group_updates_for_events(uow: UnitOfWork) -> None:
    """One group update per enrollment change, and one per kind of occurrence change in a transaction
    (generating a month of occurrences is one change to a watcher, not thirty)."""
    seen: set[tuple[str, str]] = set()
    for event_type, payload in uow.recorded_events:
        kind = GROUP_UPDATE_KINDS.get(event_type)
        if kind is None or "groupId" not in payload:
            continue
        group_id = payload["groupId"]
        if "occurrenceId" in payload:
            if (group_id, kind) in seen:
                continue
            seen.add((group_id, kind))
        await stage_group_update(
            uow,
            payload_uuid(group_id, "GroupDefinition"),
            kind,
            enrollment_id=payload_uuid(payload["enrollmentId"], "Enrollment") if payload.get("enrollmentId") else None,
            occurrence_id=payload_uuid(payload["occurrenceId"], "GroupOccurrence")
            if payload.get("occurrenceId")
            else None,
        )
