"""Webhook types: an endpoint wraps its row (never its secret); the secret appears once, in the
answer of the mutation that made it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.db import models
from app.ids import encode_id
from app.operations import webhooks as ops
from app.rules import webhooks as rules
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.node import Node, global_id, rows_of
from app.schema.pagination import page_args

WebhookDeliveryStatus = strawberry.enum(
    rules.DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="PENDING: waiting for its next attempt; SUCCEEDED: answered 2xx; FAILED: its retry schedule ran out.",
)


@strawberry.type(description="One attempt of a delivery: what the endpoint answered, and how fast.")
class WebhookAttempt:
    attempt: int = strawberry.field(description="1 for the first attempt (a replay starts again at 1).")
    at: datetime
    status_code: int | None = strawberry.field(description="The HTTP status; null when no answer came.")
    latency_ms: int
    error: str | None = strawberry.field(
        description="Why no answer came: timed out, refused address, connection error."
    )


@strawberry.type(description="One event for one endpoint; `webhookId` is the webhook-id header of every attempt.")
class WebhookDelivery:
    @strawberry.field(description="The webhook-id header: the same on every retry and replay of this event.")
    def webhook_id(log: strawberry.Parent[ops.DeliveryLog]) -> str:
        return rules.message_id(log.delivery.id)

    @strawberry.field(description="The integration event's id (as in integrationEvents).")
    def event_id(log: strawberry.Parent[ops.DeliveryLog]) -> strawberry.ID:
        return strawberry.ID(str(log.delivery.event_id))

    @strawberry.field
    def event_type(log: strawberry.Parent[ops.DeliveryLog]) -> str:
        return log.delivery.event_type

    @strawberry.field
    def status(log: strawberry.Parent[ops.DeliveryLog]) -> WebhookDeliveryStatus:
        return rules.DeliveryStatus(log.delivery.status)

    @strawberry.field(description="When the next attempt is due (null unless PENDING).")
    def next_attempt_at(log: strawberry.Parent[ops.DeliveryLog]) -> datetime | None:
        return log.delivery.next_attempt_at if log.delivery.status == rules.DeliveryStatus.PENDING else None

    @strawberry.field
    def last_status_code(log: strawberry.Parent[ops.DeliveryLog]) -> int | None:
        return log.delivery.last_status_code

    @strawberry.field
    def delivered_at(log: strawberry.Parent[ops.DeliveryLog]) -> datetime | None:
        return log.delivery.delivered_at

    @strawberry.field
    def created_at(log: strawberry.Parent[ops.DeliveryLog]) -> datetime:
        return log.delivery.created_at

    @strawberry.field(description="Every attempt, oldest first.")
    def attempts(log: strawberry.Parent[ops.DeliveryLog]) -> list[WebhookAttempt]:
        return log.attempts


@strawberry.type(description="A URL that receives signed integration events (Standard Webhooks).")
class WebhookEndpoint(Node):
    id: strawberry.ID = global_id("WebhookEndpoint")
    url: str
    description: str | None
    event_types: list[str]
    created_by: str = strawberry.field(description="The subject of the token that registered it.")
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None = strawberry.field(
        description="Set when a message failed its whole retry schedule with no success between (or an admin paused it)."
    )
    disabled_reason: str | None
    consecutive_failures: int = strawberry.field(description="Failed attempts since the last success.")
    previous_secret_until: datetime | None = strawberry.field(
        description="After a rotation, until when messages also carry a signature with the old secret."
    )

    is_type_of = rows_of(models.WebhookEndpoint)

    @strawberry.field(description="The facility filter: only these facilities' events (null: every facility).")
    def facility_ids(endpoint: strawberry.Parent[models.WebhookEndpoint]) -> list[strawberry.ID] | None:
        if endpoint.facility_ids is None:
            return None
        return [strawberry.ID(encode_id("Facility", f)) for f in endpoint.facility_ids]

    @strawberry.field(description="The scopes its messages may draw on, taken from the token that registered it.")
    def scopes(endpoint: strawberry.Parent[models.WebhookEndpoint]) -> list[str]:
        return list(endpoint.scopes)

    @strawberry.field(description="The delivery log, newest event first.")
    async def deliveries(
        endpoint: strawberry.Parent[models.WebhookEndpoint],
        info: Info,
        status: WebhookDeliveryStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        window = page_args(first, after)
        async with info.context.db() as db:
            rows, total = await ops.deliveries(db, endpoint, status, window)
        return Connection.from_page(rows, window, total)


@strawberry.type(description="An endpoint and its signing secret: shown this once, kept only encrypted.")
class WebhookEndpointSecret:
    @strawberry.field
    def endpoint(created: strawberry.Parent[ops.EndpointWithSecret]) -> WebhookEndpoint:
        return created.endpoint

    @strawberry.field(description="`whsec_` and base64: give it to a Standard Webhooks library to verify messages.")
    def secret(created: strawberry.Parent[ops.EndpointWithSecret]) -> str:
        return created.secret
