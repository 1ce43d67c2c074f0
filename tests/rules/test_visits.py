"""Partial attendance (arrival, departure, minutes, a payer's minimum) and telehealth coding."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.rules.visits import (
    IN_PERSON,
    TELEHEALTH_AUDIO,
    TELEHEALTH_VIDEO,
    Stay,
    TelehealthCoding,
    default_stay,
    effective_modality,
    meets_minimum,
    minimum_minutes_problem,
    minutes_present,
    service_coding,
    stay_problem,
    telehealth_coding_problem,
)

START = datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc)
END = START + timedelta(minutes=90)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "status, marked, expected",
    [
        ("ATTENDED", at(5), Stay(START, END)),
        ("LATE", at(20), Stay(at(20), None)),
        ("LATE", at(20) + timedelta(seconds=59), Stay(at(20), None)),  # recorded to the minute
        ("LATE", at(-10), Stay(START, None)),  # marked before the start: arrival held to the window
        ("LATE", at(200), Stay(None, None)),  # marked after the session: the arrival is not known
        ("LATE", END, Stay(None, None)),
        ("ABSENT", at(5), Stay(None, None)),
        ("SCHEDULED", at(5), Stay(None, None)),
    ],
)
def test_default_arrival_and_departure(status, marked, expected):
    assert default_stay(status, START, END, marked) == expected


@pytest.mark.parametrize(
    "status, stay, minutes",
    [
        ("ATTENDED", Stay(START, END), 90),
        ("ATTENDED", Stay(None, None), 90),
        ("LATE", Stay(at(20), None), 70),
        ("ATTENDED", Stay(START, at(35)), 35),
        ("LATE", Stay(at(30), at(60)), 30),
        ("LATE", Stay(at(-30), at(200)), 90),  # clipped to the window
        ("ABSENT", Stay(START, END), 0),
        ("SCHEDULED", Stay(None, None), 0),
        ("LATE", Stay(at(90), None), 0),
    ],
)
def test_minutes_present(status, stay, minutes):
    assert minutes_present(status, stay, START, END) == minutes


@pytest.mark.parametrize(
    "stay, problem",
    [
        (Stay(START, END), None),
        (Stay(at(10), None), None),
        (Stay(None, at(40)), None),
        (Stay(at(-1), None), "arrivedAt must fall within"),
        (Stay(None, at(91)), "departedAt must fall within"),
        (Stay(at(40), at(40)), "departedAt must be after arrivedAt"),
        (Stay(at(40), at(10)), "departedAt must be after arrivedAt"),
        (Stay(datetime(2026, 3, 10, 16, 10), None), "arrivedAt must carry a UTC offset"),
    ],
)
def test_arrival_and_departure_checks(stay, problem):
    found = stay_problem(stay, START, END)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(
    "minutes, minimum, expected",
    [(45, None, True), (45, 45, True), (44, 45, False), (0, 1, False), (90, 60, True)],
)
def test_a_member_meets_the_payers_minimum_visit(minutes, minimum, expected):
    assert meets_minimum(minutes, minimum) is expected


@pytest.mark.parametrize("value, ok", [(None, True), (1, True), (720, True), (0, False), (721, False), (-5, False)])
def test_minimum_minutes_bounds(value, ok):
    assert (minimum_minutes_problem(value) is None) is ok


PAYER_MAPPING = {TELEHEALTH_VIDEO: TelehealthCoding("02", "02", "GT")}


@pytest.mark.parametrize(
    "modality, home, band_modifiers, overrides, pos, modifiers",
    [
        (IN_PERSON, True, ("HQ",), None, "11", ("HQ",)),
        (TELEHEALTH_VIDEO, True, ("HQ",), None, "10", ("HQ", "95")),
        (TELEHEALTH_VIDEO, False, ("HQ",), None, "02", ("HQ", "95")),
        (TELEHEALTH_AUDIO, True, (), None, "10", ("93",)),
        (TELEHEALTH_AUDIO, False, ("HQ", "U1"), None, "02", ("HQ", "U1", "93")),
        (TELEHEALTH_VIDEO, True, ("HQ",), PAYER_MAPPING, "02", ("HQ", "GT")),  # the payer's own mapping
        (TELEHEALTH_AUDIO, True, ("HQ",), PAYER_MAPPING, "10", ("HQ", "93")),  # CMS where the payer is silent
        (TELEHEALTH_VIDEO, True, ("95",), None, "10", ("95",)),  # never twice
        (TELEHEALTH_VIDEO, True, ("HQ", "U1", "U2", "U3"), None, "10", ("HQ", "U1", "U2", "U3")),  # four at most
    ],
)
def test_place_of_service_and_modifiers_by_modality(modality, home, band_modifiers, overrides, pos, modifiers):
    coding = service_coding(
        modality,
        patient_at_home=home,
        band_modifiers=band_modifiers,
        facility_place_of_service="11",
        overrides=overrides,
    )
    assert (coding.place_of_service, coding.modifiers) == (pos, modifiers)


@pytest.mark.parametrize(
    "session, row, expected",
    [
        (IN_PERSON, None, IN_PERSON),
        (IN_PERSON, TELEHEALTH_VIDEO, TELEHEALTH_VIDEO),
        (TELEHEALTH_AUDIO, None, TELEHEALTH_AUDIO),
        (TELEHEALTH_VIDEO, IN_PERSON, IN_PERSON),
    ],
)
def test_a_member_may_join_differently_from_the_room(session, row, expected):
    assert effective_modality(session, row) == expected


@pytest.mark.parametrize(
    "modality, coding, ok",
    [
        (TELEHEALTH_VIDEO, TelehealthCoding("10", "02", "95"), True),
        (TELEHEALTH_AUDIO, TelehealthCoding("10", "02", None), True),
        (IN_PERSON, TelehealthCoding("10", "02", "95"), False),
        (TELEHEALTH_VIDEO, TelehealthCoding("99", "02", "95"), False),
        (TELEHEALTH_VIDEO, TelehealthCoding("10", "02", "ZZ"), False),
    ],
)
def test_a_payers_telehealth_mapping_is_checked(modality, coding, ok):
    assert (telehealth_coding_problem(modality, coding) is None) is ok
