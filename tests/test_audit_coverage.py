"""Audit coverage, walked from the schema: every mutation that changes state writes an audit entry
naming the actor, what it changed, and (for a change to an existing record) what it was before;
a forced attendance change carries its reason. Entries hold ids and states, never patient details."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import models
from app.ids import split_id
from tests.conftest import make_token
from tests.support.builders_hardening import CALLS, FORCE_SET_ATTENDANCE, World, fresh_world, root_fields

CREATE = "create"  # a new record: `after` only
CHANGE = "change"  # an existing record changes: `before` and `after`

AUDIT_RULES: dict[str, tuple[str, str]] = {
    # mutation: (audit action it writes, kind)
    "createFacility": ("facility.create", CREATE),
    "createStaff": ("staff.create", CREATE),
    "createPatient": ("patient.create", CREATE),
    "updatePatient": ("patient.update", CHANGE),
    "createPayer": ("payer.create", CREATE),
    "updatePayerClaimSettings": ("payer.update", CHANGE),
    "updateStaffBilling": ("staff.update", CHANGE),
    "updateFacilityBilling": ("facility.update", CHANGE),
    "addCoverage": ("coverage.add", CREATE),
    "assignStaff": ("staff_assignment.create", CREATE),
    "setSupervisionRule": ("supervision_rule.set", CHANGE),
    "setGroupSizeBands": ("group_size_bands.set", CHANGE),
    "setFacilityFeeSchedule": ("fee_schedule.set", CHANGE),
    "setPatientDiagnoses": ("patient.diagnoses.set", CHANGE),
    "removeStaffAssignment": ("staff_assignment.remove", CHANGE),
    "createGroup": ("group.create", CREATE),
    "updateGroup": ("group.update", CHANGE),
    "deleteGroup": ("group.delete", CHANGE),
    "addOccurrence": ("occurrence.add", CREATE),
    "generateOccurrences": ("occurrence.generate", CREATE),
    "updateOccurrence": ("occurrence.update", CHANGE),
    "cancelOccurrence": ("occurrence.cancel", CHANGE),
    "enrollPatient": ("enrollment.waitlisted", CREATE),
    "disenrollPatient": ("enrollment.disenrolled", CHANGE),
    "removeEnrollment": ("enrollment.removed", CHANGE),
    "createGroupSession": ("session.create", CREATE),
    "addSessionParticipant": ("session.participant_add", CREATE),
    "setAttendance": ("attendance.set", CHANGE),
    "setSupervisorAttendance": ("attendance.set", CHANGE),
    "setAttendanceBatch": ("attendance.set", CHANGE),
    "acceptBillingIssue": ("billing_issue.accept", CHANGE),
    "runBilling": ("session.bill", CHANGE),
    "submitClaim": ("claim.submit", CHANGE),
    "importEdi": ("edi_file.import", CREATE),
    "submitClaimBatches": ("claim_batch.submit", CREATE),  # after submitClaim: the world's other drafts go
    "correctClaim": ("claim.correct", CHANGE),
    "createCalendarFeed": ("calendar_feed.create", CREATE),
    "revokeCalendarFeed": ("calendar_feed.revoke", CHANGE),
    "pairDisplay": ("display.pair", CREATE),
    "rotateDisplayCredential": ("display.credential_rotate", CHANGE),  # before revokeDisplay ends the display
    "setDisplayMode": ("display.mode", CHANGE),
    "revokeDisplay": ("display.revoke", CHANGE),
    "setDisplayNameFormat": ("facility.display_name_format", CHANGE),
    "createGroupNote": ("note.group_create", CREATE),
    "updateGroupNote": ("note.group_update", CHANGE),
    "updateMemberNote": ("note.member_update", CHANGE),
    "signNote": ("note.sign", CHANGE),
    "cosignNote": ("note.cosign", CHANGE),
    "addNoteAddendum": ("note.addendum", CHANGE),
    "setParticipantVisit": ("attendance.visit", CHANGE),
    "setSessionModality": ("session.modality", CHANGE),
    "setPayerDocumentationRule": ("documentation_rule.set", CHANGE),
    "checkEligibility": ("eligibility.check", CREATE),
    "checkSessionEligibility": ("eligibility.check", CREATE),
    "createPriorAuthorization": ("prior_authorization.create", CREATE),
    "updatePriorAuthorization": ("prior_authorization.update", CHANGE),
    "cancelPriorAuthorization": ("prior_authorization.cancel", CHANGE),
    "setPayerCoverageRule": ("coverage_rule.set", CHANGE),
    "setPayerProgram": ("payer_program.set", CHANGE),
    "createWebhookEndpoint": ("webhook_endpoint.create", CREATE),
    "updateWebhookEndpoint": ("webhook_endpoint.update", CHANGE),
    "rotateWebhookSecret": ("webhook_endpoint.rotate_secret", CHANGE),
    "replayWebhookEvents": ("webhook_endpoint.replay", CREATE),  # new messages queued: what was queued
    "deleteWebhookEndpoint": ("webhook_endpoint.delete", CHANGE),
}

ACTOR = "auditor-7"


@pytest.fixture
async def world(gql, clinic, services, database_url) -> World:
    return await fresh_world(gql, clinic, services, database_url)


async def last_audit_id(services) -> int:
    async with services.sessionmaker() as session:
        return int(await session.scalar(select(func.coalesce(func.max(models.AuditEntry.id), 0))))


async def entries_since(services, audit_id: int) -> list[models.AuditEntry]:
    async with services.sessionmaker() as session:
        rows = await session.scalars(
            select(models.AuditEntry).where(models.AuditEntry.id > audit_id).order_by(models.AuditEntry.id)
        )
        return list(rows)


async def run_as_actor(gql, spec, world: World) -> dict:
    """As ACTOR (or the staff member a note operation needs); a display's own operation as that
    display (its entries name `display:<id>`)."""
    actor = gql.__class__(
        gql.http, world.display_credential if spec.device else make_token(subject=actor_of(spec, world))
    )
    return (await actor.post(spec.document, spec.variables(world))).json()


def actor_of(spec, world: World) -> str:
    """Who calls: ACTOR, the staff member a note operation needs (its author or co-signer), or a
    display for its own operation."""
    if spec.device:
        return f"display:{split_id(world.display)[1]}"
    return spec.subject(world) if spec.subject is not None else ACTOR


def test_every_mutation_has_an_audit_rule():
    assert sorted(AUDIT_RULES) == root_fields("mutation"), "a new mutation needs an audit rule"


async def test_every_mutation_writes_its_audit_entry_with_actor_before_and_after(gql, world, services):
    failures = []
    for mutation, (action, kind) in AUDIT_RULES.items():
        mark = await last_audit_id(services)
        body = await run_as_actor(gql, CALLS[mutation], world)
        if body.get("errors"):
            failures.append(f"{mutation} failed: {body['errors']}")
            continue
        actor = actor_of(CALLS[mutation], world)
        mine = [e for e in await entries_since(services, mark) if e.actor == actor]
        matching = [e for e in mine if e.action == action]
        if not matching:
            failures.append(f"{mutation}: no {action} entry by {actor} (got {[e.action for e in mine]})")
            continue
        for entry in matching:
            if entry.after is None:
                failures.append(f"{mutation}: {action} without `after`")
            if kind == CHANGE and entry.before is None:
                failures.append(f"{mutation}: {action} changes an existing record but records no `before`")
            if kind == CHANGE and entry.before == entry.after:
                failures.append(f"{mutation}: {action} records no difference ({entry.before})")
    assert failures == []


async def test_a_forced_change_records_the_reason_actor_before_and_after(gql, world, services):
    mark = await last_audit_id(services)
    body = await run_as_actor(gql, FORCE_SET_ATTENDANCE, world)
    assert "errors" not in body, body
    forced = [e for e in await entries_since(services, mark) if e.action == "attendance.force_update"]
    assert len(forced) == 1
    entry = forced[0]
    assert entry.actor == ACTOR
    assert entry.reason == FORCE_SET_ATTENDANCE.variables(world)["reason"]
    assert (entry.before["status"], entry.after["status"]) == ("ATTENDED", "ABSENT")


async def test_a_refused_mutation_writes_no_audit_entry(gql, world, services):
    mark = await last_audit_id(services)
    spec = CALLS["cancelOccurrence"]
    actor = gql.__class__(gql.http, make_token(subject=ACTOR))
    body = (await actor.post(spec.document, {**spec.variables(world), "reason": "   "})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await entries_since(services, mark) == []


async def test_audit_entries_carry_ids_never_patient_details(gql, world, services):
    for mutation in AUDIT_RULES:
        await run_as_actor(gql, CALLS[mutation], world)
    await run_as_actor(gql, FORCE_SET_ATTENDANCE, world)
    async with services.sessionmaker() as session:
        patients = (await session.scalars(select(models.Patient))).all()
        entries = (await session.scalars(select(models.AuditEntry))).all()
    assert entries
    text = " ".join(f"{e.before} {e.after} {e.reason}" for e in entries)
    for patient in patients:
        for detail in (patient.name, patient.mrn, patient.date_of_birth.isoformat()):
            assert detail not in text, f"audit trail holds {detail!r}"
