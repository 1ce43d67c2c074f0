"""Enrollment test helpers: a group, patients enrolled through the API, and the group's line."""

from __future__ import annotations

from sqlalchemy import select

from app.db import models
from app.ids import decode_id

ENROLLMENT_FIELDS = (
    "id status waitlistPosition enrolledAt waitlistedAt disenrolledAt disenrollReason deletedAt patient { id }"
)

ENROLL = f"""
mutation($groupId: ID!, $patientId: ID!) {{
  enrollPatient(groupId: $groupId, patientId: $patientId) {{
    outcome message enrollment {{ {ENROLLMENT_FIELDS} }}
  }}
}}"""

DISENROLL = f"""
mutation($id: ID!, $reason: String) {{
  disenrollPatient(enrollmentId: $id, reason: $reason) {{
    message enrollment {{ {ENROLLMENT_FIELDS} }} promoted {{ {ENROLLMENT_FIELDS} }}
  }}
}}"""

REMOVE = f"""
mutation($id: ID!) {{ removeEnrollment(enrollmentId: $id) {{ {ENROLLMENT_FIELDS} }} }}"""

GROUP_LINE = f"""
query($id: ID!) {{
  group(id: $id) {{
    capacity {{ enrolled max min waitlisted atCapacity overCapacity }}
    waitlist {{ {ENROLLMENT_FIELDS} }}
    enrollments(status: [ENROLLED]) {{ totalCount edges {{ node {{ {ENROLLMENT_FIELDS} }} }} }}
  }}
}}"""

CREATE_GROUP = """
mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }"""

UPDATE_CAPACITY = """
mutation($id: ID!, $max: Int!) { updateGroup(id: $id, input: {maxCapacity: $max}) { maxCapacity } }"""


async def make_group(gql, clinic, **overrides) -> str:
    data = {
        "name": "Morning CBT Group",
        "groupType": "THERAPY",
        "facilityId": clinic.facility_id,
        "facilitatorId": clinic.staff[0],
        "maxCapacity": 8,
        "durationMinutes": 90,
    }
    data.update(overrides)
    return (await gql.execute(CREATE_GROUP, {"input": data}))["createGroup"]["id"]


async def enroll(gql, group_id: str, patient_id: str) -> dict:
    return (await gql.execute(ENROLL, {"groupId": group_id, "patientId": patient_id}))["enrollPatient"]


async def enroll_new(gql, clinic, group_id: str, count: int) -> list[dict]:
    """Register `count` new patients and enroll them one after another."""
    return [await enroll(gql, group_id, await clinic.add_patient()) for _ in range(count)]


async def disenroll(gql, enrollment_id: str, reason: str | None = None) -> dict:
    return (await gql.execute(DISENROLL, {"id": enrollment_id, "reason": reason}))["disenrollPatient"]


async def group_line(gql, group_id: str) -> dict:
    """Capacity, the waitlist in order, and the enrolled patients."""
    group = (await gql.execute(GROUP_LINE, {"id": group_id}))["group"]
    return {
        "capacity": group["capacity"],
        "waitlist": [e["patient"]["id"] for e in group["waitlist"]],
        "positions": [e["waitlistPosition"] for e in group["waitlist"]],
        "enrolled": {e["node"]["patient"]["id"] for e in group["enrollments"]["edges"]},
    }


async def stored_enrollments(services, group_id: str) -> list[models.Enrollment]:
    """Every row of the group, removed ones included, straight from the table."""
    async with services.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(models.Enrollment).where(
                        models.Enrollment.group_id == decode_id(group_id, "GroupDefinition")
                    )
                )
            ).all()
        )


def assert_line_is_sound(rows: list[models.Enrollment], max_capacity: int) -> None:
    """The invariants of rules.md §5 on stored rows: positions 1..n, nobody twice active,
    nobody waiting while a seat is free."""
    live = [r for r in rows if r.deleted_at is None and r.status in ("ENROLLED", "WAITLISTED")]
    enrolled = [r for r in live if r.status == "ENROLLED"]
    waiting = [r for r in live if r.status == "WAITLISTED"]
    assert sorted(r.waitlist_position for r in waiting) == list(range(1, len(waiting) + 1))
    assert len({r.patient_id for r in live}) == len(live)
    assert not waiting or len(enrolled) >= max_capacity
