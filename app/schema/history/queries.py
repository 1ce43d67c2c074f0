"""History reads: a patient's attendance (root field and Patient.attendance) and the patients at risk."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from app.db import models
from app.ids import decode_id
from app.operations import absences as absence_ops
from app.operations import history as ops
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.history.types import AbsenceAlert, AttendanceHistory
from app.schema.pagination import page_args
from app.schema.permissions import scoped

From = Annotated[
    date | None,
    strawberry.argument(name="from", description="First day (facility time zone); default: a year before `to`."),
]
To = Annotated[
    date | None,
    strawberry.argument(description="Last day (facility time zone); default: today, or a year after `from`."),
]
GroupFilter = Annotated[strawberry.ID | None, strawberry.argument(description="Only this group's sessions.")]


async def attendance_of(
    info: Info,
    patient: models.Patient,
    date_from: date | None,
    date_to: date | None,
    group_id: strawberry.ID | None,
    first: int | None,
    after: str | None,
) -> AttendanceHistory:
    """Patient.attendance and patientAttendance: three statements (facility, tallies, page) whatever the range."""
    window = page_args(first, after)
    async with info.context.db() as db:
        history = await ops.patient_attendance(
            db,
            patient,
            date_from=date_from,
            date_to=date_to,
            group_id=decode_id(group_id, "GroupDefinition") if group_id else None,
            window=window,
            now=info.context.now(),
        )
    return AttendanceHistory.of(history)


@strawberry.type
class HistoryQuery:
    @strawberry.field(
        **scoped(Scope.SESSION_READ),
        description="A patient's attendance history (as Patient.attendance), for a reader of sessions who does not search patients.",
    )
    async def patient_attendance(
        self,
        info: Info,
        patient_id: strawberry.ID,
        from_: From = None,
        to: To = None,
        group_id: GroupFilter = None,
        first: int | None = None,
        after: str | None = None,
    ) -> AttendanceHistory:
        async with info.context.db() as db:
            patient = await ops.visible_patient(db, info.context.principal, decode_id(patient_id, "Patient"))
        return await attendance_of(info, patient, from_, to, group_id, first, after)

    @strawberry.field(
        **scoped(Scope.SESSION_READ),
        description="The facility's enrolled patients flagged by absence alerts, the longest-running first.",
    )
    async def patients_at_risk(
        self, info: Info, facility_id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[AbsenceAlert]:
        window = page_args(first, after)
        async with info.context.db() as db:
            rows, total = await absence_ops.patients_at_risk(
                db, info.context.principal, decode_id(facility_id, "Facility"), window
            )
        return Connection.from_page(rows, window, total)
