"""Absence alerts (issue 20): after attendance changes, each patient's run of consecutive absences
in the group is judged again (app.rules.absences) in the same transaction; an alert raised or
cleared is audited and announced as pm_group_attendance_alert through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.auth import Principal
from app.db import models
from app.db.queries import absences as queries
from app.db.queries.common import Page
from app.db.uow import UnitOfWork
from app.errors import NotFound
from app.rules.absences import AbsenceRun, AlertState, absence_alert, absence_threshold, alert_change

ALERT_EVENT = "pm_group_attendance_alert"


async def reassess_absences(
    uow: UnitOfWork, session: models.GroupSession, patient_ids: Sequence[uuid.UUID], *, cause: str
) -> None:
    """Judge the runs of these patients in the session's group again: raise, update or clear each
    ENROLLED patient's alert. `cause` says what changed attendance (attendance, forced_correction,
    session_cancelled) in the event and the audit trail. Ad-hoc sessions belong to no group: no alerts."""
    if session.group_id is None or not patient_ids:
        return
    db = uow.db
    await db.flush()
    enrollments = await queries.lock_enrollments_of(db, session.group_id, sorted(set(patient_ids)))
    if not enrollments:
        return
    threshold = absence_threshold(session.group_type, await queries.absence_thresholds(db))
    marks = await queries.marks_since_last_attendance(db, session.group_id, list(enrollments))
    existing = await queries.alerts_of_enrollments(db, [e.id for e in enrollments.values()])
    for (patient_id, enrollment), alert in zip(enrollments.items(), existing, strict=False):
        run = absence_alert(marks.get(patient_id, []), threshold)
        change = alert_change(alert is not None, run)
        if run is not None:
            alert = _flag(uow, alert, enrollment, session, run)
        if change is not None:
            _announce(uow, change, enrollment, session, alert, cause)
        if change == AlertState.CLEARED:
            await queries.delete_alert(db, enrollment.id)


def _flag(
    uow: UnitOfWork,
    alert: models.AbsenceAlert | None,
    enrollment: models.Enrollment,
    session: models.GroupSession,
    run: AbsenceRun,
) -> models.AbsenceAlert:
    if alert is None:
        alert = models.AbsenceAlert(
            enrollment_id=enrollment.id,
            group_id=enrollment.group_id,
            patient_id=enrollment.patient_id,
            facility_id=session.facility_id,
            raised_at=uow.clock.now(),
        )
        uow.db.add(alert)
    alert.threshold = run.threshold
    alert.session_ids = run.session_ids
    alert.since = run.since
    return alert


def _announce(  # noqa: PLR0917 - the change and the rows it names
    uow: UnitOfWork,
    change: AlertState,
    enrollment: models.Enrollment,
    session: models.GroupSession,
    alert: models.AbsenceAlert,
    cause: str,
) -> None:
    """Ids only: an integrator looks the patient up with its own access, and no name leaves in an event."""
    sessions = [str(pk) for pk in alert.session_ids]
    payload = {
        "state": change.value,
        "enrollmentId": str(enrollment.id),
        "groupId": str(enrollment.group_id),
        "patientId": str(enrollment.patient_id),
        "facilityId": str(session.facility_id),
        "groupType": session.group_type,
        "threshold": alert.threshold,
        "consecutiveAbsences": len(sessions),
        "sessionIds": sessions,
        "since": alert.since.isoformat(),
        "cause": cause,
    }
    if change == AlertState.CLEARED:
        payload["clearedBySessionId"] = str(session.id)
    uow.record_event(ALERT_EVENT, payload)
    flagged = {"sessionIds": sessions, "since": alert.since.isoformat(), "threshold": alert.threshold}
    uow.audit(
        "absence_alert.raise" if change == AlertState.RAISED else "absence_alert.clear",
        "Enrollment",
        enrollment.id,
        before=None if change == AlertState.RAISED else {"absenceAlert": flagged},
        after={"absenceAlert": flagged if change == AlertState.RAISED else None, "cause": cause},
        session_id=session.id,
        group_id=enrollment.group_id,
    )


async def patients_at_risk(
    db, actor: Principal, facility_id: uuid.UUID, window: Page
) -> tuple[list[models.AbsenceAlert], int]:
    """The facility's flagged enrollments (NOT_FOUND for a facility the caller does not see)."""
    if not actor.sees_facility(facility_id) or await db.get(models.Facility, facility_id) is None:
        raise NotFound("No Facility with that id")
    return await queries.alerts_page(db, facility_id, window)
