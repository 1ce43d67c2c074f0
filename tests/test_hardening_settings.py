"""The parsing and recurrence limits are settings (issue 25: "where a limit is the fix, make it a
setting with a safe default"): GS_DOCUMENT_TOKENS (5,000), GS_PARSE_OFF_LOOP_CHARACTERS (8 KiB) and
GS_RECURRENCE_FIRST_START_YEARS (30). A server with other values answers by them through the endpoint,
beside the tests' server with the defaults; a value outside its bounds stops the server at start."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest

import app.schema.parsing as parsing
from app.config import Settings
from app.main import create_app
from tests.conftest import GraphQLClient, make_token, started
from tests.support.builders_scheduling import GROUP
from tests.support.server import start_server

# Feb 29 on a Monday: from 2026-03-02 the first start is 2044-02-29, 18 years on.
RARE_RULE = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"
RULE_START = "2026-03-02T09:00:00-07:00"


class CountingExecutor(ThreadPoolExecutor):
    """The parse thread, counting the documents handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="graphql-parse-test")
        self.parsed = 0

    def submit(self, fn, /, *args, **kwargs):
        self.parsed += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
async def tight(settings):
    """Another app on the same database with lower limits than the defaults."""
    application = create_app(
        replace(settings, document_tokens=600, parse_off_loop_characters=512, recurrence_first_start_years=10),
        background=False,
    )
    async with started(application):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test")
        try:
            yield GraphQLClient(client, make_token())
        finally:
            await client.aclose()


def fields(count: int) -> str:
    """A query of `count` + 3 tokens, unique (a comment), so no cache answers it."""
    return f"# {uuid.uuid4()}\nquery {{ " + "__typename " * count + "}"


async def test_the_token_limit_is_the_setting(gql, tight):
    document = fields(700)  # 703 tokens, 7.7 KB: under the defaults' 5,000 tokens and 8 KiB
    assert (await gql.execute(document)) == {"__typename": "Query"}
    status, code, body = await tight.error(document)
    assert (status, code) == (400, "QUERY_TOO_COMPLEX")
    assert "more than 600 tokens" in body["errors"][0]["message"]
    short = fields(500)
    assert (await tight.execute(short)) == {"__typename": "Query"}


async def test_the_off_loop_length_is_the_setting(gql, tight, monkeypatch):
    counting = CountingExecutor()
    monkeypatch.setattr(parsing, "_parser_thread", counting)
    try:
        document = fields(90)  # ~1 KB
        assert 512 < len(document) < 8 * 1024
        assert (await gql.execute(document)) == {"__typename": "Query"}
        assert counting.parsed == 0  # the default: parsed on the loop
        assert (await tight.execute(fields(90))) == {"__typename": "Query"}
        assert counting.parsed == 1  # over 512 characters: in the worker thread
        assert (await tight.execute("query { __typename }")) == {"__typename": "Query"}
        assert counting.parsed == 1
    finally:
        counting.shutdown()


async def test_the_first_start_horizon_is_the_setting(gql, tight, clinic):
    def group(name: str) -> dict:
        return {
            "input": {
                "name": name,
                "groupType": "IOP",
                "facilityId": clinic.facility_id,
                "facilitatorId": clinic.staff[0],
                "maxCapacity": 8,
                "durationMinutes": 60,
                "recurrenceRule": RARE_RULE,
                "recurrenceStart": RULE_START,
            }
        }

    assert (await gql.execute(GROUP, group("Leap Mondays")))["createGroup"]["id"]
    status, code, body = await tight.error(GROUP, group("Leap Mondays, tight"))
    assert code == "BAD_USER_INPUT", body
    assert "no occurrence within 10 years of recurrenceStart" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GS_DOCUMENT_TOKENS", "10"), ("GS_PARSE_OFF_LOOP_CHARACTERS", "1MB"), ("GS_RECURRENCE_FIRST_START_YEARS", "0")],
)
async def test_a_limit_outside_its_bounds_stops_the_server_naming_it(database_url, variable, value):
    with pytest.raises(RuntimeError) as stopped:
        async with start_server(database_url, {variable: value}):
            pass
    assert "server exited" in str(stopped.value) and variable in str(stopped.value)


CHECK = """mutation($p: ID!, $d: Date!) { checkEligibility(patientId: $p, serviceDate: $d) { status } }"""


async def test_outside_dev_no_payer_is_simulated_by_default(database_url, clinic):
    """A server with GS_ENV=prod asks nobody about eligibility unless told where: the simulated payer would
    record every member ACTIVE."""
    patient = await clinic.add_patient()
    await clinic.cover(patient)
    async with start_server(database_url, {"GS_ENV": "prod", "GS_ELIGIBILITY_EXCHANGE": ""}) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as http:
            status, code, body = await GraphQLClient(http, make_token()).error(CHECK, {"p": patient, "d": "2026-03-10"})
    assert code == "BAD_USER_INPUT", body
    assert "No eligibility exchange is configured" in body["errors"][0]["message"]


async def test_the_simulated_payer_outside_dev_stops_the_server_unless_opted_in(database_url):
    with pytest.raises(RuntimeError) as stopped:
        async with start_server(database_url, {"GS_ENV": "prod", "GS_ELIGIBILITY_EXCHANGE": "simulated"}):
            pass
    assert "server exited" in str(stopped.value)
    assert "GS_ELIGIBILITY_SIMULATED_OUTSIDE_DEV" in str(stopped.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "simulated"),  # dev (GS_ENV unset)
        ({"GS_ENV": "prod"}, "off"),
        ({"GS_ENV": "prod", "GS_ELIGIBILITY_EXCHANGE": "off"}, "off"),
        ({"GS_DEV": "0"}, "off"),
        (
            {"GS_ENV": "prod", "GS_ELIGIBILITY_EXCHANGE": "simulated", "GS_ELIGIBILITY_SIMULATED_OUTSIDE_DEV": "1"},
            "simulated",
        ),
        ({"GS_ENV": "prod", "GS_ELIGIBILITY_EXCHANGE": "simulated"}, "GS_ELIGIBILITY_SIMULATED_OUTSIDE_DEV"),
        ({"GS_ELIGIBILITY_EXCHANGE": "clearinghouse"}, "must be one of simulated, off"),
    ],
)
def test_the_eligibility_exchange_setting(monkeypatch, tmp_path, env, expected):
    for name in ("GS_ENV", "GS_DEV", "GS_ELIGIBILITY_EXCHANGE", "GS_ELIGIBILITY_SIMULATED_OUTSIDE_DEV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GS_JWT_SECRET", "x" * 40)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if expected in ("simulated", "off"):
        assert Settings.from_env().eligibility_exchange == expected
    else:
        with pytest.raises(ValueError, match=expected):
            Settings.from_env()
