"""Scheduling helpers for tests: groups, occurrences and a look at the outbox and audit trail."""

from __future__ import annotations

from sqlalchemy import select

from app.db import models

GROUP = """
mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }"""

OCCURRENCE_FIELDS = """
id sessionDate startTime endTime startsAt endsAt status cancellationReason cancelledAt
facilitator { id } group { id }
"""

ADD = f"""
mutation($input: AddOccurrenceInput!) {{ addOccurrence(input: $input) {{ {OCCURRENCE_FIELDS} }} }}"""

GENERATE = f"""
mutation($groupId: ID!, $from: Date!, $to: Date!) {{
  generateOccurrences(groupId: $groupId, from: $from, to: $to) {{ created {{ {OCCURRENCE_FIELDS} }} skipped }}
}}"""

UPDATE = f"""
mutation($id: ID!, $input: UpdateOccurrenceInput!) {{ updateOccurrence(id: $id, input: $input) {{ {OCCURRENCE_FIELDS} }} }}"""

CANCEL = f"""
mutation($id: ID!, $reason: String!) {{ cancelOccurrence(id: $id, reason: $reason) {{ {OCCURRENCE_FIELDS} }} }}"""


async def create_group(
    gql, clinic, facility_id: str | None = None, facilitator_id: str | None = None, **overrides
) -> str:
    data = {
        "name": "Morning IOP",
        "groupType": "IOP",
        "facilityId": facility_id or clinic.facility_id,
        "facilitatorId": facilitator_id or clinic.staff[0],
        "maxCapacity": 8,
        "durationMinutes": 180,
    }
    data.update(overrides)
    return (await gql.execute(GROUP, {"input": data}))["createGroup"]["id"]


async def add_occurrence(
    gql, group_id: str, session_date="2026-01-07", start="09:00:00", end="12:00:00", **extra
) -> dict:
    data = {"groupId": group_id, "sessionDate": session_date, "startTime": start, "endTime": end, **extra}
    return (await gql.execute(ADD, {"input": data}))["addOccurrence"]


async def generate(gql, group_id: str, first: str, last: str) -> dict:
    return (await gql.execute(GENERATE, {"groupId": group_id, "from": first, "to": last}))["generateOccurrences"]


async def outbox(services, event_type: str | None = None) -> list[models.IntegrationEvent]:
    query = select(models.IntegrationEvent).order_by(models.IntegrationEvent.id)
    if event_type:
        query = query.where(models.IntegrationEvent.type == event_type)
    async with services.sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def audit_actions(services) -> list[str]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(select(models.AuditEntry.action).order_by(models.AuditEntry.id))
        return list(rows)
