"""History, absence and calendar helpers for tests: a program with patients enrolled and sessions
made by the scheduling feed, attendance marked through the API."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.builders_enrollment import enroll, make_group
from tests.support.builders_scheduling import add_occurrence

OCCURRENCE_SESSION = """
query($id: ID!) { occurrence(id: $id) { id session { id roster { id status patient { id } } } } }"""

MARK = """
mutation($id: ID!, $status: AttendanceStatus!, $force: Boolean, $reason: String) {
  setAttendance(participantId: $id, status: $status, force: $force, reason: $reason) { id status }
}"""

ALERT_FIELDS = (
    "id threshold since raisedAt consecutiveAbsences sessions { id startsAt } patient { id } enrollment { id } groupId"
)

AT_RISK = f"""
query($facilityId: ID!) {{ patientsAtRisk(facilityId: $facilityId) {{ totalCount edges {{ node {{ {ALERT_FIELDS} }} }} }} }}"""

ENROLLMENT_ALERT = f"""
query($id: ID!) {{ node(id: $id) {{ ... on Enrollment {{ id status absenceAlert {{ {ALERT_FIELDS} }} }} }} }}"""


@dataclass
class Program:
    """A group, its enrolled patients, and its sessions in time order with each patient's roster entry."""

    group_id: str
    enrollments: dict[str, str]  # patient -> enrollment
    sessions: list[str] = field(default_factory=list)
    occurrences: list[str] = field(default_factory=list)
    entries: list[dict[str, str]] = field(default_factory=list)  # per session: patient -> roster entry

    def entry(self, session_index: int, patient: str) -> str:
        return self.entries[session_index][patient]


async def program(
    gql,
    clinic,
    patients: list[str],
    *,
    group_type="IOP",
    name="IOP Mornings",
    location="Room 2",
    facility_id: str | None = None,
    facilitator_id: str | None = None,
) -> Program:
    overrides = {"groupType": group_type, "name": name, "location": location, "maxCapacity": 12}
    if facility_id:
        overrides["facilityId"] = facility_id
    if facilitator_id:
        overrides["facilitatorId"] = facilitator_id
    group_id = await make_group(gql, clinic, **overrides)
    enrollments = {p: (await enroll(gql, group_id, p))["enrollment"]["id"] for p in patients}
    return Program(group_id, enrollments)


async def add_sessions(gql, made: Program, days: list[str], start="09:00:00", end="12:00:00") -> list[str]:
    """An occurrence on each day; the feed makes its session with the enrolled patients on the roster."""
    added = []
    for day in days:
        occurrence = await add_occurrence(gql, made.group_id, day, start, end)
        session = (await gql.execute(OCCURRENCE_SESSION, {"id": occurrence["id"]}))["occurrence"]["session"]
        made.occurrences.append(occurrence["id"])
        made.sessions.append(session["id"])
        made.entries.append({r["patient"]["id"]: r["id"] for r in session["roster"]})
        added.append(session["id"])
    return added


async def mark(gql, entry_id: str, status: str, **force) -> dict:
    return (await gql.execute(MARK, {"id": entry_id, "status": status, **force}))["setAttendance"]


async def at_risk(gql, facility_id: str) -> list[dict]:
    return [e["node"] for e in (await gql.execute(AT_RISK, {"facilityId": facility_id}))["patientsAtRisk"]["edges"]]


async def enrollment_alert(gql, enrollment_id: str) -> dict | None:
    return (await gql.execute(ENROLLMENT_ALERT, {"id": enrollment_id}))["node"]["absenceAlert"]
