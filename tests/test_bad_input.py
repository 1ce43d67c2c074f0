"""Bad input everywhere: malformed ids, dates out of range, time zones that do not exist, RRULEs that
never match or never end, negative or absurd money, oversized strings and NUL characters. Each is a
clear BAD_USER_INPUT, quickly, and nothing is written (rules.md §3)."""

from __future__ import annotations

import base64
import copy
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from app.rules.recurrence import recurrence_rule_problem
from tests.support.builders_hardening import CALLS, FORCE_SET_ATTENDANCE, World, fresh_world, row_counts
from tests.support.builders_sessions import create_session

QUICK = 2.0


@pytest.fixture
async def world(gql, clinic, services, database_url) -> World:
    return await fresh_world(gql, clinic, services, database_url)


async def refusal(gql, document: str, variables: dict) -> tuple[str, str, float]:
    """(code, message, seconds) of a call that must fail without a server fault."""
    started = time.monotonic()
    response = await gql.post(document, variables)
    elapsed = time.monotonic() - started
    body = response.json()
    assert body.get("errors"), body
    assert response.status_code < 500 and all(e["extensions"]["code"] != "INTERNAL" for e in body["errors"]), body
    return body["errors"][0]["extensions"]["code"], body["errors"][0]["message"], elapsed


async def assert_bad_input(gql, document: str, variables: dict, *, mentions: str | None = None) -> str:
    code, message, elapsed = await refusal(gql, document, variables)
    assert code == "BAD_USER_INPUT", (variables, message)
    assert elapsed < QUICK, f"{elapsed:.1f}s for {variables}"
    if mentions:
        assert mentions.lower() in message.lower(), message
    return message


def with_value(variables: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(variables)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


# ------------------------------------------------------------------ malformed ids


def id_paths(value, known_ids: set[str], path: tuple = ()) -> list[tuple]:
    """Where in a call's variables a global id sits."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in id_paths(v, known_ids, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in id_paths(v, known_ids, (*path, i))]
    return [path] if isinstance(value, str) and value in known_ids else []


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


MALFORMED_IDS = {
    "empty": "",
    "not base64": "not an id!",
    "no type": encoded(":6f1c3f52-59a4-4d43-9d55-2a6b4c1e8a10"),
    "not a uuid": encoded("GroupDefinition:12345"),
    "binary": base64.urlsafe_b64encode(b"\xff\xfe\x00:\x01").decode(),
    "NUL": "\x00",
    "huge": "A" * 20_000,
}


async def test_a_malformed_id_in_any_argument_is_bad_user_input_and_writes_nothing(gql, world, database_url):
    known = {v for v in vars(world).values() if isinstance(v, str) and v} | set(world.patients)
    known |= set(world.live_roster.values())
    before = await row_counts(database_url)
    failures = []
    for field_name, spec in CALLS.items():
        variables = spec.variables(world)
        for path in id_paths(variables, known):
            for label, bad in MALFORMED_IDS.items():
                body = (await gql.post(spec.document, with_value(variables, path, bad))).json()
                codes = [e["extensions"]["code"] for e in body.get("errors") or []]
                if codes[:1] != ["BAD_USER_INPUT"]:
                    failures.append(f"{field_name} {'.'.join(map(str, path))} = {label}: {codes or body}")
    assert failures == []
    assert await row_counts(database_url) == before


async def test_an_id_of_the_wrong_type_is_bad_user_input_and_an_unknown_one_not_found(gql, world):
    spec = CALLS["enrollPatient"]
    message = await assert_bad_input(gql, spec.document, {"groupId": world.patients[0], "patientId": world.patients[1]})
    assert "Expected a GroupDefinition id, got a Patient id" in message
    nothing = encoded("GroupDefinition:00000000-0000-0000-0000-000000000000").rstrip("=")
    code, _, _ = await refusal(gql, spec.document, {"groupId": nothing, "patientId": world.patients[0]})
    assert code == "NOT_FOUND"


# ------------------------------------------------------------------ dates and times


OUT_OF_RANGE = [
    # (operation, path into its variables, value)
    ("createPatient", ("input", "dateOfBirth"), "0001-01-01"),
    ("createPatient", ("input", "dateOfBirth"), "9999-12-31"),
    ("createPatient", ("input", "dateOfBirth"), "2999-01-01"),
    ("createPatient", ("input", "dateOfBirth"), "1899-12-31"),
    ("createPatient", ("input", "dateOfBirth"), "2020-02-30"),
    ("createPatient", ("input", "dateOfBirth"), "1990-13-01"),
    ("createPatient", ("input", "dateOfBirth"), "tomorrow"),
    ("addCoverage", ("input", "effectiveFrom"), "0001-01-01"),
    ("addCoverage", ("input", "effectiveTo"), "2019-01-01"),
    ("createGroupSession", ("input", "startsAt"), "0001-01-01T09:00:00+00:00"),
    ("createGroupSession", ("input", "endsAt"), "9999-12-31T23:59:59-12:00"),
    ("createGroupSession", ("input", "startsAt"), "2030-01-09T09:00:00"),
    ("createGroupSession", ("input", "endsAt"), "2030-01-09T08:00:00-07:00"),
    ("createGroupSession", ("input", "endsAt"), "2030-01-19T08:00:00-07:00"),
    ("createGroup", ("input", "recurrenceStart"), "9999-12-31T23:59:59-12:00"),
    ("addOccurrence", ("input", "sessionDate"), "0001-01-01"),
    ("addOccurrence", ("input", "sessionDate"), "9999-12-31"),
    ("addOccurrence", ("input", "endTime"), "08:00:00"),
    ("addOccurrence", ("input", "startTime"), "25:00:00"),
    ("updateOccurrence", ("input", "sessionDate"), "0001-01-01"),
    ("generateOccurrences", ("from",), "0001-01-01"),
    ("generateOccurrences", ("to",), "9999-12-31"),
    ("generateOccurrences", ("to",), "2030-02-01"),
    ("generateOccurrences", ("to",), "2031-06-01"),
]


async def each_refused(gql, database_url, cases) -> list[str]:
    """Send every (label, document, variables); return what was not a quick BAD_USER_INPUT that wrote nothing."""
    failures = []
    for label, document, variables in cases:
        before = await row_counts(database_url)
        started = time.monotonic()
        body = (await gql.post(document, variables)).json()
        elapsed = time.monotonic() - started
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        if codes[:1] != ["BAD_USER_INPUT"] or elapsed > QUICK:
            failures.append(f"{label}: {codes or 'accepted'} in {elapsed:.1f}s")
        elif await row_counts(database_url) != before:
            failures.append(f"{label}: refused, yet wrote rows")
    return failures


async def test_a_date_or_time_out_of_range_is_bad_user_input_and_writes_nothing(gql, world, database_url):
    cases = []
    for operation, path, value in OUT_OF_RANGE:
        spec = CALLS[operation]
        variables = spec.variables(world)
        if operation == "createGroup":
            variables["input"]["recurrenceRule"] = "FREQ=WEEKLY;BYDAY=MO"
        cases.append((f"{operation}.{path[-1]}={value}", spec.document, with_value(variables, path, value)))
    assert await each_refused(gql, database_url, cases) == []


@pytest.mark.parametrize(
    "query",
    [
        '{ groupSessions(filter: {from: "0001-01-01", to: "0001-01-02"}) { totalCount } }',
        '{ groupSessions(filter: {from: "9999-12-30", to: "9999-12-31"}) { totalCount } }',
        '{ groupSessions(filter: {from: "2026-01-01", to: "2030-01-01"}) { totalCount } }',
        '{ groupSessions(filter: {from: "2026-02-01", to: "2026-01-01"}) { totalCount } }',
    ],
)
async def test_a_session_list_range_out_of_bounds_is_bad_user_input(gql, query):
    await assert_bad_input(gql, query, {})


async def test_compliance_for_a_week_out_of_range_is_bad_user_input(gql, world):
    query = "query($id: ID!, $week: Date) { group(id: $id) { compliance(weekOf: $week) { status } } }"
    for week in ("0001-01-01", "1899-12-25", "9999-12-31"):
        await assert_bad_input(gql, query, {"id": world.group, "week": week})


async def test_a_session_at_the_edge_of_the_supported_range_reads_back(gql, clinic):
    """The bounds are dates a clinic could mean; every field of a session inside them can be read."""
    session = await create_session(
        gql, clinic, patients=[], starts_at=datetime(2199, 12, 31, 22, 0, tzinfo=timezone.utc), minutes=60
    )
    assert session["sessionDate"] == "2199-12-31"


# ------------------------------------------------------------------ time zones


NOT_ZONES = [
    "Mars/Olympus_Mons",
    "America/phoenix",
    "UTC+5",
    "GMT+25",
    "Etc/GMT+14",
    "localtime",
    "../../etc/passwd",
    "America/Phoenix\x00",
    "",
    " America/Phoenix",
    "A" * 300,
]


async def test_a_time_zone_that_does_not_exist_is_bad_user_input(gql, world, database_url):
    spec = CALLS["createFacility"]
    cases = [
        (repr(zone[:40]), spec.document, with_value(spec.variables(world), ("input", "timezone"), zone))
        for zone in NOT_ZONES
    ]
    assert await each_refused(gql, database_url, cases) == []


async def test_a_real_time_zone_is_accepted(gql, world):
    spec = CALLS["createFacility"]
    for zone in ("America/Phoenix", "America/Denver", "Pacific/Honolulu", "UTC"):
        await gql.execute(spec.document, with_value(spec.variables(world), ("input", "timezone"), zone))


# ------------------------------------------------------------------ recurrence rules


NEVER_MATCHING = [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2,4,6,9,11",
    "FREQ=WEEKLY;BYDAY=MO;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=DAILY;BYYEARDAY=366;BYMONTH=1",
    "FREQ=DAILY;UNTIL=20200101T000000Z",
    "FREQ=DAILY;COUNT=0",
]

MALFORMED_RULES = [
    "FREQ=HOURLY",
    "FREQ=SECONDLY",
    "NOT A RULE",
    "FREQ=DAILY;BYHOUR=25",
    "FREQ=DAILY;INTERVAL=0",
    "DTSTART:20260101T090000\nRRULE:FREQ=DAILY",
    "FREQ=DAILY;" + "BYSETPOS=1;" * 60,
    "FREQ=WEEKLY;UNTIL=2030",
]


async def test_a_rule_that_never_matches_or_does_not_parse_is_bad_user_input_quickly(gql, world, database_url):
    create, update = CALLS["createGroup"], CALLS["updateGroup"]
    cases = []
    for rule in NEVER_MATCHING + MALFORMED_RULES:
        variables = create.variables(world)
        variables["input"].update(recurrenceRule=rule, recurrenceStart="2026-03-02T09:00:00-07:00")
        cases.append((f"createGroup {rule!r}", create.document, variables))
        cases.append((f"updateGroup {rule!r}", update.document, {"id": world.group, "input": {"recurrenceRule": rule}}))
    assert await each_refused(gql, database_url, cases) == []


# Text that is no RRULE value, or carries parts that RFC 5545 does not define: the parser used
# to crash on them (INTERNAL), or its own words reached the caller.
NOT_AN_RRULE = {
    "EXDATE:20270101": "RDATE, EXDATE and EXRULE are not accepted",
    "RDATE:20270101": "RDATE, EXDATE and EXRULE are not accepted",
    "EXRULE:FREQ=DAILY": "RDATE, EXDATE and EXRULE are not accepted",
    "FREQ=YEARLY;BYEASTER=-99999": "NAME one of FREQ, UNTIL, COUNT",
    "FREQ=WEEKLY;BYDAY=MO;BYMONTH=13": "BYMONTH must list whole numbers from 1 to 12",
    "FREQ=WEEKLY;BYDAY=XX": "BYDAY must list weekdays",
    "FREQ=DAILY;UNTIL=20270101": "UNTIL must be a UTC date and time",
    "FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z": "COUNT or UNTIL, not both",
    "FREQ=DAILY;FREQ=WEEKLY": "gives FREQ more than once",
    "BYDAY=MO": "needs FREQ",
    "FREQ=DAILY;INTERVAL=": "INTERVAL must be a whole number",
    "FREQ=WEEKLY;BYDAY=MO;COUNT=999999": "COUNT must end within 10 years",
}


@pytest.mark.parametrize("rule", sorted(NOT_AN_RRULE))
async def test_text_that_is_no_rfc_5545_rrule_is_bad_user_input_with_the_reason(gql, world, rule):
    variables = CALLS["createGroup"].variables(world)
    variables["input"].update(recurrenceRule=rule, recurrenceStart="2026-03-02T09:00:00-07:00")
    for document, values in [
        (CALLS["createGroup"].document, variables),
        (CALLS["updateGroup"].document, {"id": world.group, "input": {"recurrenceRule": rule}}),
    ]:
        message = await assert_bad_input(gql, document, values, mentions=NOT_AN_RRULE[rule])
        assert "unpack" not in message and "invalid literal" not in message and "Error" not in message


@pytest.mark.parametrize("rule", NEVER_MATCHING)
def test_recurrence_rule_problem_names_a_rule_that_never_matches(rule):
    started = time.monotonic()
    problem = recurrence_rule_problem(rule, datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=-7))))
    assert problem and "recurrenceRule" in problem
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=MO,WE",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
        "FREQ=DAILY;INTERVAL=1000",
        "FREQ=WEEKLY;COUNT=1",
        "FREQ=MONTHLY;BYDAY=-1FR",
    ],
)
def test_rules_that_match_rarely_are_accepted(rule):
    assert recurrence_rule_problem(rule, datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)) is None


async def test_a_rule_that_never_ends_is_bounded_by_the_generate_window(gql, world, database_url):
    every_hour = "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(0, 24, 1)) + ";BYMINUTE=0"
    variables = CALLS["createGroup"].variables(world)
    variables["input"].update(
        recurrenceRule="FREQ=DAILY", recurrenceStart="2026-03-02T09:00:00-07:00", durationMinutes=30
    )
    group = (await gql.execute("mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }", variables))[
        "createGroup"
    ]["id"]
    generate = CALLS["generateOccurrences"].document
    before = await row_counts(database_url)
    await assert_bad_input(gql, generate, {"groupId": group, "from": "2026-03-02", "to": "2027-03-03"}, mentions="366")
    # A rule with 24 starts a day would pass 1,000 occurrences in a window: it is refused before that,
    # as more frequent than DAILY (rules.md §4).
    await assert_bad_input(
        gql,
        "mutation($id: ID!, $r: String!) { updateGroup(id: $id, input: {recurrenceRule: $r}) { id } }",
        {"id": group, "r": every_hour},
        mentions="more frequent than DAILY",
    )
    assert await row_counts(database_url) == before


# ------------------------------------------------------------------ values that used to pass


# Each was accepted and silently meant something else: the offset was dropped, the rate was read
# through an exponent, digit separators or another script's digits, `Factory` is no place.
LOOSE_VALUES = [
    ("addOccurrence", ("input", "startTime"), "10:00:00+05:00", "without a UTC offset"),
    ("addOccurrence", ("input", "endTime"), "12:00:00Z", "without a UTC offset"),
    ("updateOccurrence", ("input", "startTime"), "09:30:00-07:00", "without a UTC offset"),
    ("addOccurrence", ("input", "startTime"), "1000", "HH:MM"),
    ("addOccurrence", ("input", "sessionDate"), "2030-W06-2", "YYYY-MM-DD"),
    ("addOccurrence", ("input", "sessionDate"), "20300205", "YYYY-MM-DD"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), "-0", "plain decimal"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), "-0.00", "plain decimal"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), "1E+2", "plain decimal"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), "5_0", "plain decimal"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), "\u0664\u0660", "plain decimal"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), " 40", "plain decimal"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), "+40", "plain decimal"),
    ("createFacility", ("input", "timezone"), "Factory", "IANA"),
    ("createFacility", ("input", "timezone"), "Etc/GMT+7", "IANA"),
    ("createFacility", ("input", "timezone"), "EST5EDT", "IANA"),
    ("createFacility", ("input", "timezone"), "MST", "IANA"),
]


@pytest.mark.parametrize(
    "operation, path, value, reason", LOOSE_VALUES, ids=[f"{c[0]}.{c[1][-1]}={c[2]!r}" for c in LOOSE_VALUES]
)
async def test_a_value_that_would_be_misread_is_bad_user_input(
    gql, world, database_url, operation, path, value, reason
):
    before = await row_counts(database_url)
    spec = CALLS[operation]
    await assert_bad_input(gql, spec.document, with_value(spec.variables(world), path, value), mentions=reason)
    assert await row_counts(database_url) == before


PARSER_WORDS = (
    "unpack",
    "invalid literal",
    "expected",
    "fromisoformat",
    "Invalid isoformat",
    "must be in",
    "argument",
    "Error",
)
GARBLED = [
    ("createGroupSession", ("input", "startsAt"), "2026-03-10T"),
    ("createGroupSession", ("input", "startsAt"), "2026-13-40T99:00:00Z"),
    ("createGroupSession", ("input", "startsAt"), "T"),
    ("addOccurrence", ("input", "sessionDate"), "2026-02-30"),
    ("addOccurrence", ("input", "startTime"), "25:61:00"),
    ("addOccurrence", ("input", "startTime"), ":"),
    ("setGroupSizeBands", ("input", "bands", 0, "rate"), "1..2"),
    ("addCoverage", ("input", "effectiveFrom"), "2026-1-1"),
]


@pytest.mark.parametrize("operation, path, value", GARBLED, ids=[f"{c[0]}.{c[1][-1]}={c[2]!r}" for c in GARBLED])
async def test_a_garbled_value_is_refused_in_our_words_not_the_parsers(gql, world, operation, path, value):
    spec = CALLS[operation]
    message = await assert_bad_input(gql, spec.document, with_value(spec.variables(world), path, value))
    assert not any(word.lower() in message.lower() for word in PARSER_WORDS), message


async def test_plain_values_still_pass(gql, world):
    bands = CALLS["setGroupSizeBands"]
    for rate in ("40", "31.25", "0.5", 40, 31.25):
        await gql.execute(bands.document, with_value(bands.variables(world), ("input", "bands", 0, "rate"), rate))
    occurrence = CALLS["addOccurrence"]
    variables = with_value(occurrence.variables(world), ("input", "startTime"), "07:15")
    variables = with_value(variables, ("input", "endTime"), "08:00:00")
    await gql.execute(occurrence.document, variables)
    facility = CALLS["createFacility"]
    for zone in ("America/Phoenix", "Pacific/Honolulu", "UTC", "America/Argentina/Buenos_Aires"):
        await gql.execute(facility.document, with_value(facility.variables(world), ("input", "timezone"), zone))


# ------------------------------------------------------------------ numbers and money


BAD_RATES = ["-5", "-0.01", "NaN", "Infinity", "-Infinity", "1e100", "123456789012.50", "0.001", "abc", "", "1,5"]


async def test_negative_or_absurd_money_is_bad_user_input(gql, world, database_url):
    spec = CALLS["setGroupSizeBands"]
    cases = [
        (f"rate={rate!r}", spec.document, with_value(spec.variables(world), ("input", "bands", 0, "rate"), rate))
        for rate in BAD_RATES
    ]
    assert await each_refused(gql, database_url, cases) == []


BAD_NUMBERS = [
    ("createGroup", ("input", "maxCapacity"), -1),
    ("createGroup", ("input", "maxCapacity"), 0),
    ("createGroup", ("input", "maxCapacity"), 2**31),
    ("createGroup", ("input", "durationMinutes"), 0),
    ("createGroup", ("input", "durationMinutes"), 100_000),
    ("createGroup", ("input", "minCapacity"), 99),
    ("addCoverage", ("input", "priority"), 0),
    ("setSupervisionRule", ("input", "maxParticipantsPerSupervisor"), 0),
    ("setGroupSizeBands", ("input", "bands", 0, "minSize"), -3),
    ("setGroupSizeBands", ("input", "bands", 0, "maxSize"), 2**31 - 1),
    ("updateGroup", ("input", "maxCapacity"), 1.5),
]


async def test_a_number_out_of_range_is_bad_user_input(gql, world, database_url):
    cases = [
        (
            f"{operation}.{path[-1]}={value}",
            CALLS[operation].document,
            with_value(CALLS[operation].variables(world), path, value),
        )
        for operation, path, value in BAD_NUMBERS
    ]
    assert await each_refused(gql, database_url, cases) == []


# ------------------------------------------------------------------ strings


def string_paths(variables, path: tuple = ()) -> list[tuple]:
    if isinstance(variables, dict):
        return [p for k, v in variables.items() for p in string_paths(v, (*path, k))]
    if isinstance(variables, list):
        return [p for i, v in enumerate(variables) for p in string_paths(v, (*path, i))]
    return [path] if isinstance(variables, str) else []


# Optional text fields the calls in CALLS leave out, added so that their limits are tested too.
OPTIONAL_TEXT = {
    "createFacility": {
        "npi": "1234567893",
        "taxId": "861234567",
        "addressLine1": "1 Main St",
        "city": "Mesa",
        "postalCode": "85201-1234",
    },
    "createStaff": {"npi": "1245319599"},
    "createPatient": {"sex": "F", "addressLine1": "1 Main St", "city": "Mesa", "state": "AZ", "postalCode": "85201"},
    "updatePatient": {
        "mrn": "MRN-FIXED",
        "name": "Renamed",
        "sex": "F",
        "addressLine1": "1 Main St",
        "state": "AZ",
        "postalCode": "85201",
    },
    "createGroup": {"location": "Room 2"},
}


# Values that are not free text (enums, dates, times, money, zones): their own tests cover them.
NOT_TEXT = {
    "status",
    "code",
    "groupType",
    "role",
    "timezone",
    "dateOfBirth",
    "from",
    "to",
    "startsAt",
    "endsAt",
    "startTime",
    "endTime",
    "sessionDate",
    "rate",
    "effectiveFrom",
    "effectiveTo",
    "recurrenceStart",
}


def text_cases(world: World) -> list[tuple[str, str, dict, tuple]]:
    """(operation, document, valid variables with every optional text field set, path of one text value) for every
    text value a mutation takes: ids and enum-like values are covered elsewhere."""
    ids = (
        {v for v in vars(world).values() if isinstance(v, str)} | set(world.patients) | set(world.live_roster.values())
    )
    cases = []
    for name, spec in {**CALLS, "setAttendance (forced)": FORCE_SET_ATTENDANCE}.items():
        if not spec.document.startswith("mutation"):
            continue
        variables = spec.variables(world)
        if name in OPTIONAL_TEXT:
            variables["input"].update(OPTIONAL_TEXT[name])
        for path in string_paths(variables):
            target = variables
            for key in path:
                target = target[key]
            if target in ids or str(path[-1]) in NOT_TEXT:
                continue
            cases.append((name, spec.document, variables, path))
    return cases


async def test_an_oversized_string_anywhere_is_bad_user_input_and_writes_nothing(gql, world, database_url):
    before = await row_counts(database_url)
    failures = []
    for name, document, variables, path in text_cases(world):
        body = (await gql.post(document, with_value(variables, path, "x" * 20_000))).json()
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        if codes[:1] != ["BAD_USER_INPUT"]:
            failures.append(f"{name} {'.'.join(map(str, path))}: {codes or 'accepted'}")
    assert failures == []
    assert await row_counts(database_url) == before


async def test_a_nul_character_anywhere_is_bad_user_input_and_writes_nothing(gql, world, database_url):
    before = await row_counts(database_url)
    failures = []
    for name, document, variables, path in text_cases(world):
        body = (await gql.post(document, with_value(variables, path, "Room\x00 4"))).json()
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        if codes[:1] != ["BAD_USER_INPUT"]:
            failures.append(f"{name} {'.'.join(map(str, path))}: {codes or 'accepted'}")
    assert failures == []
    assert await row_counts(database_url) == before


@pytest.mark.parametrize(
    "query",
    [
        "query($s: String) { patients(search: $s) { totalCount } }",
        "query($s: String) { groups(filter: {search: $s}) { totalCount } }",
    ],
)
@pytest.mark.parametrize("search", ["\x00", "%_\\", "x" * 50_000])
async def test_searching_for_anything_is_never_a_server_fault(gql, query, search):
    body = (await gql.post(query, {"s": search})).json()
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in body.get("errors") or []), body


@pytest.mark.parametrize(
    "cursor", ["bzo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "ZTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "!!", "bzotMQ=="]
)
@pytest.mark.parametrize("field", ["patients", "groups", "integrationEvents"])
async def test_a_hostile_cursor_is_bad_user_input(gql, cursor, field):
    await assert_bad_input(gql, f"query($c: String) {{ {field}(after: $c) {{ totalCount }} }}", {"c": cursor})


@pytest.mark.parametrize("reason,refused", [("x" * 1000, False), ("x" * 1001, True), ("   ", True)])
def test_a_force_reason_is_required_and_bounded(reason, refused):
    from app.rules.attendance import AttendanceChange, attendance_change_refusal

    change = AttendanceChange(
        current="ATTENDED", new="ABSENT", session_locked=True, force=True, may_force=True, reason=reason
    )
    refusal = attendance_change_refusal(change)
    assert (refusal is not None and refusal.code == "BAD_USER_INPUT") == refused


def test_dates_in_the_rules_stay_inside_the_supported_range():
    """The scalar bounds (1900-2199) leave room for every date arithmetic the resolvers do."""
    assert date(2199, 12, 31) + timedelta(days=400) < date.max
    assert date(1900, 1, 1) - timedelta(days=400) > date.min
