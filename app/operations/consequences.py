"""What follows a domain event, written once: each event's handlers, in order, run in the event's
own transaction once its writes are flushed (as Cosmic Python's message bus has EVENT_HANDLERS).

An operation makes its change, then `handle`s the event; the handlers below decide nothing about
the change itself, they carry it to the notes, the claims, the absence alerts, the watchers and
finalization. A handler that changes more rows the watchers should hear of adds them to the
event's `changed`, so the one live update of the change names them too."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from app.db import models
from app.db.uow import UnitOfWork
from app.live.publish import stage_session_update
from app.operations import absences, billing_pipeline, note_drafts
from app.rules.updates import SessionUpdateKind, Touched


@dataclass
class AttendanceMarked:
    """Attendance of one session changed: roster entries (of `patients`) or a supervisor's row."""

    session: models.GroupSession
    kind: SessionUpdateKind  # ATTENDANCE_CHANGED or SUPERVISORS_CHANGED
    changed: list[Touched]
    patients: Sequence[uuid.UUID] = ()
    forced: bool = False
    sequence: int | None = None  # the live update's, when the session's lock took it already
    # Whether the session has a group note, when the mark read it under the session's lock (None: unknown).
    has_group_note: bool | None = None

    @property
    def update_kind(self) -> SessionUpdateKind:
        return SessionUpdateKind.FORCE_UPDATED if self.forced else self.kind


@dataclass
class SessionChanged:
    """A change of a session whose only consequences are its live update (and, for some, finalization)."""

    session: models.GroupSession
    changed: list[Touched] = field(default_factory=list)
    sequence: ClassVar[None] = None
    update_kind: ClassVar[SessionUpdateKind]


@dataclass
class NoteSigned(SessionChanged):
    """A note was signed or co-signed: it can clear a BLOCKING NOTE_UNSIGNED."""

    update_kind: ClassVar[SessionUpdateKind] = SessionUpdateKind.NOTE_CHANGED


@dataclass
class NoteChanged(SessionChanged):
    """A note was written, drafted, edited or given an addendum."""

    update_kind: ClassVar[SessionUpdateKind] = SessionUpdateKind.NOTE_CHANGED


@dataclass
class VisitChanged(SessionChanged):
    """A member's arrival, departure or way of joining was corrected (attendance unchanged): an
    arrival time can clear a BLOCKING MISSING_ARRIVAL_TIME."""

    update_kind: ClassVar[SessionUpdateKind] = SessionUpdateKind.VISIT_CHANGED


@dataclass
class SessionModalityChanged(SessionChanged):
    """How the room meets changed (members marked otherwise keep their own)."""

    update_kind: ClassVar[SessionUpdateKind] = SessionUpdateKind.VISIT_CHANGED


@dataclass
class RosterEntryAdded(SessionChanged):
    """A patient was added to the roster by hand after the session was created (addedLate)."""

    update_kind: ClassVar[SessionUpdateKind] = SessionUpdateKind.ROSTER_CHANGED


@dataclass
class BillingIssueAccepted(SessionChanged):
    """A WARNING of the session's preview was accepted, on its draft claims too."""

    update_kind: ClassVar[SessionUpdateKind] = SessionUpdateKind.ISSUE_ACCEPTED


@dataclass
class ClaimCorrected:
    """A claim's member row (stay, modality, place) or member id was corrected: the payer's claim of
    each patient in `resubmit` is replaced, and the per-diem day's claim of each patient in `days`."""

    session: models.GroupSession
    resubmit: frozenset[uuid.UUID]
    changed: list[Touched] = field(default_factory=list)
    days: frozenset[uuid.UUID] = frozenset()
    sequence: ClassVar[None] = None
    update_kind: ClassVar[SessionUpdateKind] = SessionUpdateKind.FORCE_UPDATED


Event = (
    AttendanceMarked
    | NoteSigned
    | NoteChanged
    | VisitChanged
    | SessionModalityChanged
    | RosterEntryAdded
    | BillingIssueAccepted
    | ClaimCorrected
)


async def draft_member_notes(uow: UnitOfWork, event: AttendanceMarked) -> None:
    """A member marked present after the group note was written gets their draft."""
    if event.has_group_note is False:
        return
    event.changed.extend(await note_drafts.draft_missing_member_notes(uow, event.session))


async def rebill(uow: UnitOfWork, event: AttendanceMarked | NoteSigned) -> None:
    """A billed session's charges and claims follow it (app.rules.claims.plan_correction)."""
    await billing_pipeline.rebill_session(uow, event.session)


async def rebill_resubmitting(uow: UnitOfWork, event: ClaimCorrected) -> None:
    """The corrected session is billed again, the corrected member's claim replaced at the payer."""
    await billing_pipeline.rebill_session(uow, event.session, resubmit=event.resubmit, resubmit_days=event.days)


async def reassess_absences(uow: UnitOfWork, event: AttendanceMarked) -> None:
    """The marked patients' absence alerts are judged again."""
    cause = "forced_correction" if event.forced else "attendance"
    await absences.reassess_absences(uow, event.session, event.patients, cause=cause)


async def stage_live_update(uow: UnitOfWork, event: Event) -> None:
    """One update for the session's watchers, naming every row the change touched, sent at commit."""
    changed = list(dict.fromkeys(event.changed))
    await stage_session_update(uow, event.session.id, event.update_kind, changed, sequence=event.sequence)


async def finalize(uow: UnitOfWork, event: AttendanceMarked | NoteSigned | VisitChanged) -> None:
    """A session awaiting finalization is billed by the change that clears its last BLOCKING issue."""
    await billing_pipeline.finalize_if_cleared(uow, event.session)


Handler = Callable[[UnitOfWork, Event], Awaitable[None]]

EVENT_HANDLERS: dict[type[Event], list[Handler]] = {
    AttendanceMarked: [draft_member_notes, rebill, reassess_absences, stage_live_update, finalize],
    NoteSigned: [rebill, stage_live_update, finalize],
    NoteChanged: [stage_live_update],
    VisitChanged: [stage_live_update, finalize],
    # Not finalized here, as it was not before the table: a session awaiting finalization whose
    # telehealth issues the room's modality clears is billed by the next sweep.
    SessionModalityChanged: [stage_live_update],
    RosterEntryAdded: [stage_live_update],
    BillingIssueAccepted: [stage_live_update],
    ClaimCorrected: [rebill_resubmitting, stage_live_update],
}


async def handle(uow: UnitOfWork, event: Event) -> None:
    """Carry out the event's consequences, in order, in its transaction."""
    await uow.db.flush()
    for handler in EVENT_HANDLERS[type(event)]:
        await handler(uow, event)
