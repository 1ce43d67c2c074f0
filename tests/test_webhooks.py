"""Signed webhooks (issue 30), received by a Starlette app that verifies every message with the
`standardwebhooks` package: signatures, retries with the same webhook-id, a slow endpoint beside a
fast one, disabling after a failed schedule, rotation with an overlap, replay, scopes and facility
filters, refused addresses and redirects."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.auth import ALL_SCOPES
from app.db import models
from app.events.webhooks import Dispatcher
from app.ids import decode_id
from app.operations.webhooks import SecretSeal
from tests.conftest import GraphQLClient, make_token
from tests.support.builders import Clinic
from tests.support.builders_enrollment import ENROLL
from tests.support.builders_hardening import ServerProcess
from tests.support.builders_scheduling import add_occurrence, create_group
from tests.support.webhooks import REPLAY, ROTATE, UPDATE, endpoint_log, receiving, register
from tests.test_faults import fetch

SCHEDULED = "pm_group_session_scheduled"


def dispatcher_of(services) -> Dispatcher:
    return Dispatcher(services.settings, services.sessionmaker, services.clock, services.units)


@pytest.fixture
async def dispatcher(services):
    """The delivery loop the server runs in the background, running beside the test."""
    running = dispatcher_of(services)
    task = asyncio.create_task(running.run_forever())
    yield running
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await running.close()


async def until(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_message_is_signed_per_the_standard_and_logged(gql, clinic, dispatcher):
    async with receiving() as receiver:
        endpoint_id, secret = await register(gql, receiver.url, [SCHEDULED], description="EHR sync")
        receiver.secrets = [secret]
        assert secret.startswith("whsec_")
        group = await create_group(gql, clinic)
        occurrence = await add_occurrence(gql, group, "2026-01-07")
        [message] = await receiver.wait_for(1)
    assert message.verified_with == [0]
    assert message.webhook_id.startswith("msg_")
    assert abs(int(message.headers["webhook-timestamp"]) - time.time()) < 30
    assert message.headers["webhook-signature"].startswith("v1,") and " " not in message.headers["webhook-signature"]
    body = message.message
    assert body["type"] == SCHEDULED and body["timestamp"]
    assert body["data"]["globalIds"]["occurrenceId"] == occurrence["id"]
    assert body["data"]["facilityId"] and "name" not in str(body)
    log = await until(lambda: _settled(gql, endpoint_id), what="the attempt to be logged")
    [delivery] = [e["node"] for e in log["deliveries"]["edges"]]
    assert delivery["webhookId"] == message.webhook_id and delivery["eventId"] == body["eventId"]
    assert delivery["status"] == "SUCCEEDED" and delivery["lastStatusCode"] == 204
    [attempt] = delivery["attempts"]
    assert attempt["attempt"] == 1 and attempt["statusCode"] == 204 and attempt["latencyMs"] >= 0


async def _settled(gql, endpoint_id: str):
    log = await endpoint_log(gql, endpoint_id)
    deliveries = [e["node"] for e in log["deliveries"]["edges"]]
    return log if deliveries and all(d["status"] != "PENDING" for d in deliveries) else None


async def test_the_secret_is_shown_once_and_kept_encrypted(gql, clinic, services, settings):
    endpoint_id, secret = await register(gql, "http://127.0.0.1:9/hooks", [SCHEDULED])
    async with services.sessionmaker() as db:
        row = (await db.scalars(select(models.WebhookEndpoint))).one()
    assert secret not in row.sealed_secret and secret.removeprefix("whsec_") not in row.sealed_secret
    assert SecretSeal(settings.jwt_secret).open(row.id, row.sealed_secret) == secret
    with pytest.raises(ValueError):
        SecretSeal("another signing secret").open(row.id, row.sealed_secret)
    fields = await gql.execute('{ __type(name: "WebhookEndpoint") { fields { name } } }')
    assert not [
        f for f in fields["__type"]["fields"] if "secret" in f["name"].lower() and f["name"] != "previousSecretUntil"
    ]


async def test_a_failing_receiver_gets_the_same_webhook_id_until_it_answers(gql, clinic, dispatcher):
    async with receiving() as receiver:
        receiver.answers = [500, 503]
        endpoint_id, secret = await register(gql, receiver.url, [SCHEDULED])
        receiver.secrets = [secret]
        await add_occurrence(gql, await create_group(gql, clinic), "2026-01-07")
        messages = await receiver.wait_for(3)
        await until(lambda: _settled(gql, endpoint_id), what="the delivery to succeed")
        log = await endpoint_log(gql, endpoint_id)  # read again: the endpoint row may have been read first
    assert len({m.webhook_id for m in messages}) == 1
    assert all(m.verified_with == [0] for m in messages)
    [delivery] = [e["node"] for e in log["deliveries"]["edges"]]
    assert delivery["status"] == "SUCCEEDED"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 204]
    assert log["consecutiveFailures"] == 0


async def test_a_hanging_endpoint_never_delays_another(gql, clinic, dispatcher):
    async with receiving() as slow, receiving() as fast:
        slow.delay = 10  # past the 2 s time-out
        slow_id, slow.secrets = await _registered(gql, slow.url)
        fast_id, fast.secrets = await _registered(gql, fast.url)
        group = await create_group(gql, clinic)
        await slow.wait_for(0)
        started = time.monotonic()
        await add_occurrence(gql, group, "2026-01-07")
        await add_occurrence(gql, group, "2026-01-08")
        await fast.wait_for(2, timeout=5)
        assert time.monotonic() - started < 2.0, "the fast endpoint waited for the slow one"
        await slow.wait_for(1)
        log = await until(lambda: _attempted(gql, slow_id), what="the slow attempt to time out")
    attempt = log["deliveries"]["edges"][-1]["node"]["attempts"][0]
    assert attempt["statusCode"] is None and attempt["error"] == "timed out"


async def _registered(gql, url: str) -> tuple[str, list[str]]:
    endpoint_id, secret = await register(gql, url, [SCHEDULED])
    return endpoint_id, [secret]


async def _attempted(gql, endpoint_id: str):
    log = await endpoint_log(gql, endpoint_id)
    edges = log["deliveries"]["edges"]
    return log if edges and edges[-1]["node"]["attempts"] else None


async def test_an_endpoint_failing_its_whole_schedule_is_disabled_and_the_admin_told(gql, clinic, dispatcher):
    async with receiving() as gone:
        url = gone.url
    # Nothing listens there any more: every attempt is refused.
    endpoint_id, secret = await register(gql, url, [SCHEDULED])
    await add_occurrence(gql, await create_group(gql, clinic), "2026-01-07")
    log = await until(lambda: _disabled(gql, endpoint_id), what="the endpoint to be disabled")
    [delivery] = [e["node"] for e in log["deliveries"]["edges"]]
    assert delivery["status"] == "FAILED" and len(delivery["attempts"]) == 4  # GS_WEBHOOK_MAX_ATTEMPTS in the tests
    assert all(a["statusCode"] is None and a["error"] for a in delivery["attempts"])
    assert log["consecutiveFailures"] == 4 and "4 attempts in a row failed" in log["disabledReason"]
    events = await gql.execute(
        "{ integrationEvents(first: 100) { edges { node { type payload } } } }",
    )
    [told] = [
        e["node"] for e in events["integrationEvents"]["edges"] if e["node"]["type"] == "webhook_endpoint_disabled"
    ]
    assert told["payload"]["endpointId"] == str(decode_id(endpoint_id, "WebhookEndpoint"))
    assert told["payload"]["globalIds"]["endpointId"] == endpoint_id
    node = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { disabledAt } } }", {"id": endpoint_id}
    )
    assert node["node"]["disabledAt"] == log["disabledAt"]
    assert told["payload"]["consecutiveFailures"] == 4

    # Back up: enable the endpoint and replay the event; it arrives with the webhook-id it had.
    async with receiving() as back:
        back.secrets = [secret]
        await gql.execute(UPDATE, {"id": endpoint_id, "change": {"url": back.url, "enabled": True}})
        queued = await gql.execute(REPLAY, {"id": endpoint_id, "eventId": _event_id_of(log)})
        assert queued["replayWebhookEvents"] == 1
        [message] = await back.wait_for(1)
    assert message.verified_with == [0] and message.webhook_id == delivery["webhookId"]


def _event_id_of(log: dict) -> str:
    return log["deliveries"]["edges"][0]["node"]["eventId"]


async def _disabled(gql, endpoint_id: str):
    log = await endpoint_log(gql, endpoint_id)
    return log if log["disabledAt"] else None


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_overlap(gql, clinic, dispatcher):
    async with receiving() as receiver:
        endpoint_id, old = await register(gql, receiver.url, [SCHEDULED])
        rotated = (await gql.execute(ROTATE, {"id": endpoint_id, "overlap": 1}))["rotateWebhookSecret"]
        new = rotated["secret"]
        assert new != old and rotated["endpoint"]["previousSecretUntil"]
        receiver.secrets = [old, new]
        group = await create_group(gql, clinic)
        await add_occurrence(gql, group, "2026-01-07")
        [during] = await receiver.wait_for(1)
        assert during.verified_with == [0, 1]  # a receiver on either secret accepts it
        assert len(during.headers["webhook-signature"].split(" ")) == 2

        await gql.execute(ROTATE, {"id": endpoint_id, "overlap": 0})
        receiver.secrets = [old, new]
        await add_occurrence(gql, group, "2026-01-08")
        messages = await receiver.wait_for(2)
    after = messages[1]
    assert after.verified_with == [] and len(after.headers["webhook-signature"].split(" ")) == 1


async def test_endpoints_hear_only_their_facilities_and_event_types(gql, clinic, dispatcher):
    other = await clinic.facility(name="Elsewhere")
    other_staff = await clinic.add_staff(facility_id=other)
    async with receiving() as home, receiving() as everywhere:
        home_id, secret = await register(gql, home.url, [SCHEDULED], facilityIds=[clinic.facility_id])
        home.secrets = [secret]
        _, secret = await register(gql, everywhere.url, [SCHEDULED, "pm_group_enrollment_enrolled"])
        everywhere.secrets = [secret]
        await add_occurrence(
            gql, await create_group(gql, clinic, facility_id=other, facilitator_id=other_staff), "2026-01-08"
        )
        group = await create_group(gql, clinic)
        await add_occurrence(gql, group, "2026-01-07")
        patient = await clinic.add_patient()
        await gql.execute(ENROLL, {"groupId": group, "patientId": patient})
        await everywhere.wait_for(3)
        await home.wait_for(1)
        await asyncio.sleep(0.5)
    assert [m.message["data"]["sessionDate"] for m in home.messages] == ["2026-01-07"]
    assert sorted(m.message["type"] for m in everywhere.messages) == [
        "pm_group_enrollment_enrolled",
        SCHEDULED,
        SCHEDULED,
    ]


async def test_an_endpoint_cannot_hear_more_than_its_registrants_scopes(gql, clinic):
    limited = gql.as_(scopes=["integrations.write", "events.read", "pm.group_schedule.view"])
    _, code, body = await limited.error(
        "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
        {"i": {"url": "http://127.0.0.1:9/hooks", "eventTypes": ["pm_group_enrollment_enrolled"]}},
    )
    assert code == "FORBIDDEN" and "pm.group_enrollments.view" in body["errors"][0]["message"]
    endpoint_id, _ = await register(limited, "http://127.0.0.1:9/hooks", [SCHEDULED])
    assert endpoint_id
    away = gql.as_(facilities=[await clinic.facility(name="Elsewhere")])
    _, code, _ = await away.error(UPDATE, {"id": endpoint_id, "change": {"description": "mine now"}})
    assert code == "NOT_FOUND"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hooks", "loopback"),
        ("https://localhost/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://192.168.0.10/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hooks", "loopback"),
        ("https://[::ffff:10.0.0.1]/hooks", "private"),
        ("https://224.0.0.1/hooks", "multicast"),
        ("https://0.0.0.0/hooks", "unspecified"),
        ("ftp://example.org/hooks", "http(s)"),
        ("https://user:pw@example.org/hooks", "credentials"),
    ],
)
async def test_addresses_inside_the_network_are_refused_unless_a_setting_allows_them(
    gql, app, services, monkeypatch, url, reason
):
    refusing = dataclasses.replace(services.settings, webhook_allowed_networks=())
    monkeypatch.setattr(app.state.graphql, "services", dataclasses.replace(services, settings=refusing))
    _, code, body = await gql.error(
        "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
        {"i": {"url": url, "eventTypes": [SCHEDULED]}},
    )
    assert code == "BAD_USER_INPUT" and reason in body["errors"][0]["message"], body


async def test_each_attempt_checks_the_address_again(gql, clinic, services):
    """An address allowed at registration and refused since (a setting changed, or the name now points
    inside the network) is not called: the attempt fails with the reason."""
    refusing = dataclasses.replace(services.settings, webhook_allowed_networks=())
    loop = dispatcher_of(dataclasses.replace(services, settings=refusing))
    task = asyncio.create_task(loop.run_forever())
    try:
        async with receiving() as receiver:
            endpoint_id, receiver.secrets = await _registered(gql, receiver.url)
            await add_occurrence(gql, await create_group(gql, clinic), "2026-01-07")
            log = await until(lambda: _attempted(gql, endpoint_id), what="an attempt")
            await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await loop.close()
    assert receiver.messages == []
    attempt = log["deliveries"]["edges"][0]["node"]["attempts"][0]
    assert attempt["statusCode"] is None and attempt["error"] == "refused: 127.0.0.1 is a loopback address"


REBINDING = "hooks.rebinding.test"


class RebindingName:
    """A name whose DNS answer changes between lookups (DNS rebinding): `answers` in order, then `then`.
    Installed as socket.getaddrinfo, which the event loop's resolver and httpx's connect both call; every
    other name resolves as usual."""

    def __init__(self, answers: list[str], then: str) -> None:
        self.answers, self.then, self.lookups = answers, then, 0
        self.real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if host != REBINDING:
            return self.real(host, port, *args, **kwargs)
        self.lookups += 1
        address = self.answers.pop(0) if self.answers else self.then
        return self.real(address, port, *args, **kwargs)


async def test_the_address_an_attempt_checks_is_the_address_it_calls(gql, clinic, dispatcher, monkeypatch):
    """The name is looked up once per attempt, and the request goes to the address checked: a name that points
    elsewhere after the check (here a loopback address nothing listens on) does not redirect the call; one that
    points inside the network at the attempt's own look-up (the cloud metadata address) is refused."""
    async with receiving() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        # registration's look-up, then the first attempt's; a look-up at connect would get 127.0.0.2
        name = RebindingName(["127.0.0.1", "127.0.0.1"], then="127.0.0.2")
        monkeypatch.setattr(socket, "getaddrinfo", name)
        endpoint_id, secret = await register(gql, f"http://{REBINDING}:{port}/hooks", [SCHEDULED])
        receiver.secrets = [secret]
        group = await create_group(gql, clinic)
        await add_occurrence(gql, group, "2026-01-07")
        [message] = await receiver.wait_for(1)
        assert message.verified_with == [0] and message.headers["host"] == f"{REBINDING}:{port}"
        assert name.lookups == 2
        name.answers = ["169.254.169.254"]  # the next attempt's look-up
        await add_occurrence(gql, group, "2026-01-08")

        async def refused():
            log = await endpoint_log(gql, endpoint_id)
            errors = [a["error"] for e in log["deliveries"]["edges"] for a in e["node"]["attempts"] if a["error"]]
            return errors or None

        errors = await until(refused, what="the second attempt")
        assert errors[0] == "refused: 169.254.169.254 is a link-local address"
        assert len(receiver.messages) == 1


async def test_a_message_carries_the_events_payload_and_nothing_more(gql, clinic, dispatcher):
    """The same minimum-necessary payload as the event feed: ids, statuses, no patient details."""
    async with receiving() as receiver:
        _, secret = await register(gql, receiver.url, ["pm_group_enrollment_enrolled"])
        receiver.secrets = [secret]
        group = await create_group(gql, clinic)
        patient = await clinic.add_patient("Zephyrine Quillfeather", dob="1961-07-23")
        await gql.execute(ENROLL, {"groupId": group, "patientId": patient})
        [message] = await receiver.wait_for(1)
    events = await gql.execute("{ integrationEvents(first: 100) { edges { node { id type payload } } } }")
    [event] = [
        e["node"] for e in events["integrationEvents"]["edges"] if e["node"]["type"] == "pm_group_enrollment_enrolled"
    ]
    assert message.message == {
        "type": "pm_group_enrollment_enrolled",
        "timestamp": message.message["timestamp"],
        "eventId": event["id"],
        "data": event["payload"],
    }
    assert "Quillfeather" not in message.body.decode() and "1961" not in message.body.decode()
    assert message.message["data"]["status"] == "ENROLLED"


async def test_a_redirect_is_not_followed(gql, clinic, dispatcher):
    async with receiving() as receiver:
        receiver.then = 307
        endpoint_id, secret = await register(gql, receiver.url, [SCHEDULED])
        receiver.secrets = [secret]
        await add_occurrence(gql, await create_group(gql, clinic), "2026-01-07")
        await receiver.wait_for(2)
        log = await endpoint_log(gql, endpoint_id)
    assert receiver.redirected_hits == 0
    assert {a["statusCode"] for e in log["deliveries"]["edges"] for a in e["node"]["attempts"]} == {307}


async def test_a_time_range_is_replayed_with_the_webhook_ids_it_had(gql, clinic, dispatcher, services):
    async with receiving() as receiver:
        endpoint_id, secret = await register(gql, receiver.url, [SCHEDULED])
        receiver.secrets = [secret]
        group = await create_group(gql, clinic)
        for day in (5, 6, 7):
            await add_occurrence(gql, group, f"2026-01-0{day}")
        first = await receiver.wait_for(3)
        await until(lambda: _settled(gql, endpoint_id), what="the first deliveries")
        now = services.clock.now()
        queued = await gql.execute(
            REPLAY,
            {
                "id": endpoint_id,
                "from": (now - timedelta(hours=1)).isoformat(),
                "to": (now + timedelta(minutes=1)).isoformat(),
            },
        )
        assert queued["replayWebhookEvents"] == 3
        messages = await receiver.wait_for(6)
    assert sorted(m.webhook_id for m in messages[3:]) == sorted(m.webhook_id for m in first[:3])
    assert all(m.verified_with == [0] for m in messages)


async def test_webhook_administration_needs_integrations_write(gql):
    without = gql.as_(scopes=[s for s in ALL_SCOPES if s != "integrations.write"])
    _, code, body = await without.error("{ webhookEndpoints { totalCount } }")
    assert code == "FORBIDDEN" and body["data"] is None


async def test_two_delivery_loops_send_each_message_once_and_one_at_a_time_per_endpoint(gql, clinic, services):
    """Two processes' loops on one database: every message once, never two at once to one endpoint,
    while another endpoint is served beside it."""
    loops = [dispatcher_of(services), dispatcher_of(services)]
    tasks = [asyncio.create_task(loop.run_forever()) for loop in loops]
    try:
        async with receiving() as first, receiving() as second:
            first.delay = second.delay = 0.05
            _, secret = await register(gql, first.url, [SCHEDULED])
            first.secrets = [secret]
            _, secret = await register(gql, second.url, [SCHEDULED])
            second.secrets = [secret]
            group = await create_group(gql, clinic)
            await asyncio.gather(*(add_occurrence(gql, group, f"2026-02-{day:02d}") for day in range(1, 13)))
            await first.wait_for(12)
            await second.wait_for(12)
            await asyncio.sleep(0.5)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for loop in loops:
            await loop.close()
    for receiver in (first, second):
        assert len(receiver.messages) == 12 and len(set(receiver.ids())) == 12
        assert all(m.verified_with == [0] for m in receiver.messages)
        assert receiver.most_in_flight == 1


# ------------------------------------------------------------------ restarts and kill -9 (real server processes)

SERVER_ENV = {
    "GS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "GS_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
    "GS_WEBHOOK_TIMEOUT_SECONDS": "2",
    "GS_WEBHOOK_DELIVERY": "1",
}


async def _clinic_on(server: ServerProcess) -> tuple[GraphQLClient, str]:
    """An admin client of the server and a group to add occurrences to."""
    client = GraphQLClient(httpx.AsyncClient(base_url=server.base_url, timeout=30), make_token())
    clinic = Clinic(client)
    await clinic.facility()
    await clinic.add_staff("Dana Facilitator")
    return client, await create_group(client, clinic)


async def _delivered(database_url: str) -> bool:
    rows = await fetch(database_url, "SELECT status FROM webhook_deliveries")
    return bool(rows) and all(r["status"] == "SUCCEEDED" for r in rows)


async def test_a_restart_in_the_middle_of_retries_loses_nothing(database_url, tmp_path):
    server = ServerProcess(database_url, tmp_path, SERVER_ENV)
    async with receiving() as receiver:
        receiver.then = 503
        await server.start()
        try:
            client, group = await _clinic_on(server)
            endpoint_id, secret = await register(client, receiver.url, [SCHEDULED])
            receiver.secrets = [secret]
            for day in (5, 6, 7):
                await add_occurrence(client, group, f"2026-01-0{day}")
            await receiver.wait_for(4)  # every message failed once, one of them twice
            await server.stop()
            receiver.then = 204
            await server.start()
            await until(lambda: _delivered(database_url), timeout=30, what="every message to be delivered")
        finally:
            await server.stop()
    assert all(m.verified_with == [0] for m in receiver.messages)
    by_event: dict[str, set[str]] = {}
    for message in receiver.messages:
        by_event.setdefault(message.message["eventId"], set()).add(message.webhook_id)
    assert len(by_event) == 3 and all(len(ids) == 1 for ids in by_event.values())


async def test_kill_9_during_a_delivery_loses_nothing_and_the_duplicate_keeps_its_webhook_id(database_url, tmp_path):
    server = ServerProcess(database_url, tmp_path, SERVER_ENV)
    async with receiving() as receiver:
        receiver.delay = 1.5  # the first message is in flight when the process dies
        await server.start()
        try:
            client, group = await _clinic_on(server)
            endpoint_id, secret = await register(client, receiver.url, [SCHEDULED])
            receiver.secrets = [secret]
            for day in (5, 6, 7):
                await add_occurrence(client, group, f"2026-01-0{day}")
            [first] = await receiver.wait_for(1)
            server.kill()
            receiver.delay = 0
            await server.start()
            await until(lambda: _delivered(database_url), timeout=40, what="every message to be delivered")
        finally:
            await server.stop()
    assert all(m.verified_with == [0] for m in receiver.messages)
    events = {m.message["eventId"] for m in receiver.messages}
    committed = {str(r["id"]) for r in await fetch(database_url, "SELECT id FROM integration_events")}
    assert events == committed and len(events) == 3
    again = [m for m in receiver.messages if m.message["eventId"] == first.message["eventId"]]
    assert len(again) >= 2 and {m.webhook_id for m in again} == {first.webhook_id}
    assert len({m.webhook_id for m in receiver.messages}) == 3


async def test_a_secret_sealed_under_another_signing_secret_stops_only_its_endpoint(gql, clinic, services, dispatcher):
    """After GS_JWT_SECRET changes, an endpoint's secret no longer opens: its messages wait (the
    others go on) until an admin rotates it, without overlap."""
    async with receiving() as stale, receiving() as fine:
        stale_id, _ = await register(gql, stale.url, [SCHEDULED])
        _, secret = await register(gql, fine.url, [SCHEDULED])
        fine.secrets = [secret]
        async with services.sessionmaker() as db, db.begin():
            row = await db.get(models.WebhookEndpoint, decode_id(stale_id, "WebhookEndpoint"))
            row.sealed_secret = SecretSeal("the signing secret before").seal(row.id, "whsec_b2xkc2VjcmV0")
        await add_occurrence(gql, await create_group(gql, clinic), "2026-01-07")
        await fine.wait_for(1)
        await asyncio.sleep(0.5)
        assert stale.messages == []
        rotated = (await gql.execute(ROTATE, {"id": stale_id, "overlap": 24}))["rotateWebhookSecret"]
        assert rotated["endpoint"]["previousSecretUntil"] is None
        stale.secrets = [rotated["secret"]]
        [message] = await stale.wait_for(1, timeout=20)  # once the endpoint's hold has passed
    assert message.verified_with == [0]
