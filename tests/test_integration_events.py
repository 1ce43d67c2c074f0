"""The integration-event feed (integrationEvents) and the relay that publishes the outbox."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json

import pytest
from sqlalchemy import func, select

from app.auth import ALL_SCOPES
from app.db import models
from app.events.relay import CHANNEL, publish_pending
from tests.support.builders_scheduling import CANCEL, UPDATE, add_occurrence, create_group, outbox

EVENTS = """
query($after: String, $first: Int) {
  integrationEvents(after: $after, first: $first) {
    totalCount
    edges { cursor node { id type occurredAt payload } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def feed(client, **variables) -> dict:
    return (await client.execute(EVENTS, variables))["integrationEvents"]


async def test_events_are_listed_in_commit_order_with_their_payload(gql, clinic):
    group = await create_group(gql, clinic)
    occurrence = await add_occurrence(gql, group, "2026-01-07")
    await gql.execute(UPDATE, {"id": occurrence["id"], "input": {"startTime": "10:00:00"}})
    await gql.execute(CANCEL, {"id": occurrence["id"], "reason": "Holiday"})
    page = await feed(gql)
    assert page["totalCount"] == 3
    nodes = [e["node"] for e in page["edges"]]
    assert [n["type"] for n in nodes] == [
        "pm_group_session_scheduled",
        "pm_group_session_updated",
        "pm_group_session_cancelled",
    ]
    assert [int(n["id"]) for n in nodes] == sorted(int(n["id"]) for n in nodes)
    assert nodes[1]["payload"]["startTime"] == "10:00:00"
    assert nodes[2]["payload"]["reason"] == "Holiday"
    assert all(n["occurredAt"] for n in nodes)
    assert page["pageInfo"]["hasNextPage"] is False and page["pageInfo"]["hasPreviousPage"] is False


async def test_event_pages_follow_the_keyset_cursor(gql, clinic):
    group = await create_group(gql, clinic)
    for day in range(5, 10):
        await add_occurrence(gql, group, f"2026-01-{day:02d}")
    first = await feed(gql, first=2)
    assert first["totalCount"] == 5 and len(first["edges"]) == 2
    assert first["pageInfo"]["hasNextPage"] is True
    assert base64.urlsafe_b64decode(first["pageInfo"]["endCursor"]).decode() == f"e:{first['edges'][-1]['node']['id']}"
    second = await feed(gql, first=2, after=first["pageInfo"]["endCursor"])
    third = await feed(gql, first=2, after=second["pageInfo"]["endCursor"])
    dates = [e["node"]["payload"]["sessionDate"] for p in (first, second, third) for e in p["edges"]]
    assert dates == [f"2026-01-{day:02d}" for day in range(5, 10)]
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert third["pageInfo"]["hasNextPage"] is False
    # A new commit appears after the last cursor, never before it.
    await add_occurrence(gql, group, "2026-01-12")
    tail = await feed(gql, after=third["pageInfo"]["endCursor"])
    assert [e["node"]["payload"]["sessionDate"] for e in tail["edges"]] == ["2026-01-12"]


@pytest.mark.parametrize("variables", [{"first": 101}, {"first": -1}, {"after": "bm9wZQ=="}, {"after": "o:1"}])
async def test_event_feed_rejects_bad_paging(gql, variables):
    _, code, _ = await gql.error(EVENTS, variables)
    assert code == "BAD_USER_INPUT"


async def test_event_feed_shows_only_the_callers_facilities(gql, clinic, services):
    group = await create_group(gql, clinic)
    await add_occurrence(gql, group, "2026-01-07")
    other = await clinic.facility(name="Elsewhere")
    other_staff = await clinic.add_staff(facility_id=other)
    other_group = await create_group(gql, clinic, facility_id=other, facilitator_id=other_staff)
    await add_occurrence(gql, other_group, "2026-01-08")
    async with services.sessionmaker() as session, session.begin():
        session.add(models.IntegrationEvent(type="platform_note", payload={"note": "no facility"}))

    home = await feed(gql.as_(facilities=[clinic.facility_id]))
    assert home["totalCount"] == 1
    assert [e["node"]["payload"]["sessionDate"] for e in home["edges"]] == ["2026-01-07"]
    away = await feed(gql.as_(facilities=[other]))
    assert [e["node"]["payload"]["sessionDate"] for e in away["edges"]] == ["2026-01-08"]
    both = await feed(gql.as_(facilities=[clinic.facility_id, other]))
    assert both["totalCount"] == 2
    everyone = await feed(gql)
    assert everyone["totalCount"] == 3


async def test_event_feed_needs_events_read(gql, clinic):
    without = gql.as_(scopes=[s for s in ALL_SCOPES if s != "events.read"])
    _, code, body = await without.error(EVENTS)
    assert code == "FORBIDDEN" and body["data"] is None


# ------------------------------------------------------------------ relay


@contextlib.asynccontextmanager
async def listening(services):
    """Messages the relay publishes on the integration-events channel, as parsed JSON."""
    async with services.broadcast.subscribe(CHANNEL) as subscriber:
        received: list[dict] = []

        async def collect(quiet: float = 0.3) -> list[dict]:
            """Everything published until the channel has been quiet for `quiet` seconds."""
            while True:
                try:
                    event = await asyncio.wait_for(subscriber.get(), quiet)
                except TimeoutError:
                    return received
                received.append(json.loads(event.message))

        yield collect


async def unpublished(services) -> int:
    async with services.sessionmaker() as session:
        table = models.IntegrationEvent
        return await session.scalar(select(func.count()).select_from(table).where(table.published_at.is_(None)))


async def insert_events(services, count: int) -> list[int]:
    """Committed events that no relay pass has seen, as if their process died right after commit."""
    async with services.sessionmaker() as session, session.begin():
        rows = [models.IntegrationEvent(type="test_event", payload={"n": n}) for n in range(count)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_a_committed_event_is_published_once_right_after_commit(gql, clinic, services):
    group = await create_group(gql, clinic)
    async with listening(services) as collect:
        occurrence = await add_occurrence(gql, group, "2026-01-07")
        [message] = await collect()
        # Another pass finds nothing left to publish.
        assert await services.relay.kick() == 0
        assert await collect() == [message]
    [event] = await outbox(services)
    assert message == {
        "id": str(event.id),
        "type": "pm_group_session_scheduled",
        "occurredAt": event.occurred_at.isoformat(),
        "payload": event.payload,
    }
    assert message["payload"]["sessionDate"] == "2026-01-07"
    assert event.published_at is not None
    assert occurrence["id"]


async def test_a_rolled_back_change_publishes_nothing(gql, clinic, services):
    group = await create_group(gql, clinic)
    await add_occurrence(gql, group, "2026-01-07")
    other = await add_occurrence(gql, group, "2026-01-09")
    async with listening(services) as collect:
        # The move is written, then the live-slot index refuses it: the transaction rolls back.
        status, code, _ = await gql.error(UPDATE, {"id": other["id"], "input": {"sessionDate": "2026-01-07"}})
        assert (status, code) == (409, "CONFLICT")
        assert await services.relay.kick() == 0
        assert await collect() == []
    assert [e.type for e in await outbox(services)] == ["pm_group_session_scheduled"] * 2
    assert await unpublished(services) == 0


async def test_an_event_left_unpublished_is_published_by_the_next_pass(services):
    [event_id] = await insert_events(services, 1)
    async with listening(services) as collect:
        assert await services.relay.kick() == 1
        messages = await collect()
    assert [(m["id"], m["type"], m["payload"]) for m in messages] == [(str(event_id), "test_event", {"n": 0})]
    assert await unpublished(services) == 0


async def test_concurrent_relay_passes_publish_each_event_exactly_once(services):
    ids = await insert_events(services, 450)
    in_transaction = services.live.publisher.notify_in_transaction
    passes = [
        publish_pending(services.sessionmaker, services.clock, services.broadcast, notify_in_transaction=in_transaction)
        for _ in range(4)
    ]
    async with listening(services) as collect:
        counts = await asyncio.gather(*passes)
        messages = await collect()
    assert sum(counts) == 450
    assert sorted(int(m["id"]) for m in messages) == ids
    assert await unpublished(services) == 0


async def test_an_event_too_large_for_notify_is_published_by_reference(services):
    """PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; such an event must not stall the relay."""
    import json

    from sqlalchemy import select

    from app.db.models import IntegrationEvent
    from app.events.relay import MAX_MESSAGE_BYTES, event_message
    from app.operations.work import unit_of_work

    async with unit_of_work(services, "test") as uow:
        uow.record_event("group_session_documented", {"claimIds": ["x" * 36] * 400})
    async with services.sessionmaker() as db:
        event = (await db.scalars(select(IntegrationEvent))).one()
    message = event_message(event)
    assert len(message.encode()) <= MAX_MESSAGE_BYTES
    assert json.loads(message) == {
        "id": str(event.id),
        "type": "group_session_documented",
        "occurredAt": event.occurred_at.isoformat(),
        "payloadOmitted": True,
    }


# ------------------------------------------------------------------ ids an integrator can follow

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
EVENT_TYPES = {
    "pm_group_session_scheduled",
    "pm_group_session_updated",
    "pm_group_session_cancelled",
    "pm_group_enrollment_enrolled",
    "pm_group_enrollment_waitlisted",
    "pm_group_enrollment_promoted",
    "pm_group_enrollment_disenrolled",
    "pm_group_enrollment_removed",
    "group_session_documented",
    "pm_group_attendance_alert",
    "eligibility_checked",
    "prior_authorization_expiring",
    # the demo's batch answered by the simulated payer (app.demo._payer_cycle)
    "claim_accepted",
    "claim_rejected",
    "claim_paid",
    "claim_denied",
    "claim_reversed",
}


async def every_event(gql) -> list[dict]:
    events, after = [], None
    while True:
        page = await feed(gql, first=100, after=after)
        events += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return events
        after = page["pageInfo"]["endCursor"]


async def test_every_event_types_ids_are_global_ids_that_node_resolves(gql, services, test_clock):
    """The demo clinic plus the changes it does not make itself: every event type the service emits,
    each with `globalIds` naming what it is about as the API does; the raw ids stay beside them."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.demo import load_demo
    from app.ids import EVENT_ID_TYPES, decode_id
    from tests.support.builders_sessions import set_now

    phoenix = ZoneInfo("America/Phoenix")
    today = test_clock.now().astimezone(phoenix).date()
    set_now(test_clock, datetime(today.year, today.month, today.day, 14, 0, tzinfo=phoenix))
    await load_demo(services)
    groups = (await gql.execute("{ groups(first: 10) { edges { node { id name } } } }"))["groups"]["edges"]
    cbt = next(g["node"]["id"] for g in groups if g["node"]["name"] == "Morning CBT Group")
    iop = next(g["node"]["id"] for g in groups if g["node"]["name"].startswith("IOP Mornings"))
    upcoming = (
        await gql.execute(
            "query($id: ID!) { group(id: $id) { occurrences(status: SCHEDULED, first: 2) { edges { node { id } } } } }",
            {"id": iop},
        )
    )["group"]["occurrences"]["edges"]
    await gql.execute(
        UPDATE, {"id": upcoming[0]["node"]["id"], "input": {"startTime": "09:30:00", "endTime": "12:30:00"}}
    )
    await gql.execute(CANCEL, {"id": upcoming[1]["node"]["id"], "reason": "Holiday"})
    enrolled = (
        await gql.execute(
            "query($id: ID!) { group(id: $id) { enrollments(first: 2) { edges { node { id status } } } } }", {"id": cbt}
        )
    )["group"]["enrollments"]["edges"]
    await gql.execute(
        'mutation($id: ID!) { disenrollPatient(enrollmentId: $id, reason: "Moved") { message } }',
        {"id": enrolled[0]["node"]["id"]},
    )
    await gql.execute(
        "mutation($id: ID!) { removeEnrollment(enrollmentId: $id) { __typename } }", {"id": enrolled[1]["node"]["id"]}
    )

    events = await every_event(gql)
    assert {e["type"] for e in events} == EVENT_TYPES
    resolved: dict[str, str] = {}
    for event in events:
        payload = event["payload"]
        for key, value in payload["globalIds"].items():
            type_name = EVENT_ID_TYPES[key]
            for global_id, raw in zip(
                value if isinstance(value, list) else [value],
                payload[key] if isinstance(payload[key], list) else [payload[key]],
                strict=False,
            ):
                assert str(decode_id(global_id, type_name)) == raw, (event["type"], key)
                resolved.setdefault(global_id, type_name)
        assert set(payload["globalIds"]) == {k for k in EVENT_ID_TYPES if payload.get(k)}, event["type"]
    for global_id, type_name in resolved.items():
        node = (await gql.execute(NODE, {"id": global_id}))["node"]
        assert node == {"__typename": type_name, "id": global_id}
    # A webhook endpoint is named only by webhook_endpoint_disabled (tests/test_webhooks.py follows it).
    assert set(resolved.values()) == set(EVENT_ID_TYPES.values()) - {"WebhookEndpoint"}

    # docs/integrators.md documents one payload of each type: the keys it shows are the keys events carry.
    documented = documented_event_examples()
    assert set(documented) == EVENT_TYPES
    for event in events:
        example = documented[event["type"]]
        if event["type"] == "pm_group_attendance_alert" and event["payload"]["state"] == "CLEARED":
            continue
        assert set(example) == set(event["payload"]), event["type"]
        # An id that is null (no co-facilitator) has no global id.
        assert set(event["payload"]["globalIds"]) <= set(example["globalIds"]), event["type"]


def documented_event_examples() -> dict[str, dict]:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "integrators.md").read_text()
    block = text.split("One of each from the demo", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    examples = [json.loads(line) for line in block.splitlines() if line.strip()]
    return {e["type"]: e["payload"] for e in examples}
