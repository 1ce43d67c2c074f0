"""The FHIR API's rules as tables: scope spellings, date prefixes, statuses both ways."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.rules import fhir as rules
from app.rules.visits import Modality

ALL = frozenset(rules.RESOURCE_SCOPES)
UTC = timezone.utc


@pytest.mark.parametrize(
    ("scopes", "patient_context", "readable", "patient_only"),
    [
        ([], False, set(), set()),
        (["pm.group_enrollments.view"], False, {"Patient"}, set()),
        (["billing.read"], False, {"ChargeItem", "Claim"}, set()),
        (["pm.group_definitions.view"], False, {"Practitioner", "Group"}, set()),
        (["user/*.read"], False, ALL, set()),
        (["system/*.read"], False, ALL, set()),
        (["user/*.rs"], False, ALL, set()),
        (["user/*.cruds"], False, ALL, set()),
        (["user/*.r"], False, set(), set()),  # v2 read without search: searches are the API here
        (["user/*.write"], False, set(), set()),
        (["user/Encounter.read"], False, {"Encounter"}, set()),
        (["user/Observation.read"], False, set(), set()),
        (["patient/*.read"], False, set(), set()),  # no patient claim: nothing
        (
            ["patient/*.read"],
            True,
            {"Patient", "Encounter", "Appointment", "ChargeItem", "Claim", "Practitioner"},
            {"Patient", "Encounter", "Appointment", "ChargeItem", "Claim"},
        ),
        (["patient/Group.read"], True, set(), set()),  # a group lists other patients
        (
            ["patient/*.read", "user/Encounter.read"],
            True,
            ALL - {"Group"},
            {"Patient", "Appointment", "ChargeItem", "Claim"},
        ),
        (["Patient.read", "patient/*"], True, set(), set()),
    ],
)
def test_which_resources_a_token_reads(scopes, patient_context, readable, patient_only):
    access = rules.access(scopes, patient_context)
    assert access.readable == frozenset(readable)
    assert access.patient_only == frozenset(patient_only)


def day(y, m, d, *rest) -> datetime:
    return datetime(y, m, d, *rest, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2026-01-07", day(2026, 1, 7), day(2026, 1, 8)),
        ("eq2026-01-07", day(2026, 1, 7), day(2026, 1, 8)),
        ("ge2026-01-07", day(2026, 1, 7), None),
        ("gt2026-01-07", day(2026, 1, 8), None),
        ("le2026-01-07", None, day(2026, 1, 8)),
        ("lt2026-01-07", None, day(2026, 1, 7)),
        ("2026-01", day(2026, 1, 1), day(2026, 2, 1)),
        ("2026-12", day(2026, 12, 1), day(2027, 1, 1)),
        ("2026", day(2026, 1, 1), day(2027, 1, 1)),
        ("ge2026-01-07T09:00:00-07:00", day(2026, 1, 7, 16), None),
        ("lt2026-01-07T09:00:00Z", None, day(2026, 1, 7, 9)),
        ("2026-01-07T09:00:00Z", day(2026, 1, 7, 9), day(2026, 1, 7, 9, 0, 1)),
    ],
)
def test_date_values_select_the_moments_of_their_precision(value, start, end):
    assert rules.date_range(value) == rules.Range(start, end)


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01", "2026-02-30", "ne2026-01-01", "sa2026-01-01", "2026-1-7", ""]
)
def test_date_values_it_cannot_read_are_refused(value):
    with pytest.raises(ValueError):
        rules.date_range(value)


def test_two_dates_narrow_to_their_overlap():
    both = rules.date_range("ge2026-01-01").narrowed(rules.date_range("lt2026-02-01"))
    assert both == rules.Range(day(2026, 1, 1), day(2026, 2, 1))


@pytest.mark.parametrize(("value", "expected"), [(None, 50), ("1", 1), ("100", 100)])
def test_count(value, expected):
    assert rules.count(value) == expected


@pytest.mark.parametrize("value", ["0", "101", "-1", "ten", "1.5"])
def test_count_out_of_range(value):
    with pytest.raises(ValueError):
        rules.count(value)


@pytest.mark.parametrize(
    ("attendance", "cancelled", "status"),
    [
        ("SCHEDULED", False, "planned"),
        ("ATTENDED", False, "finished"),
        ("LATE", False, "finished"),
        ("ABSENT", False, "cancelled"),
        ("ATTENDED", True, "cancelled"),
    ],
)
def test_encounter_status(attendance, cancelled, status):
    assert rules.encounter_status(attendance, cancelled) == status


@pytest.mark.parametrize(
    ("modality", "code"),
    [(Modality.IN_PERSON, "AMB"), (Modality.TELEHEALTH_VIDEO, "VR"), (Modality.TELEHEALTH_AUDIO, "VR")],
)
def test_telehealth_is_the_virtual_class(modality, code):
    assert rules.encounter_class(modality)[0] == code


@pytest.mark.parametrize(
    ("codes", "ours"),
    [
        (["draft"], {"DRAFT"}),
        (["active"], {"SUBMITTED", "ACCEPTED", "REJECTED", "PAID", "PARTIALLY_PAID", "DENIED", "REVERSED"}),
        (["cancelled"], {"VOIDED", "REPLACED"}),
        (["x"], set()),
    ],
)
def test_claim_status_searches(codes, ours):
    assert rules.claim_statuses_for(codes) == ours


def test_every_status_code_a_search_takes_is_one_a_resource_can_carry():
    assert set(rules.CLAIM_STATUS.values()) == {"draft", "active", "cancelled"}
    assert {rules.appointment_status(c, e) for c in (True, False) for e in (True, False)} == set(
        rules.APPOINTMENT_STATUSES
    )
