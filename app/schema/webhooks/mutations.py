"""Webhook changes: register an endpoint, change or delete it, rotate its secret, replay events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from app.errors import BadInput
from app.ids import decode_id
from app.operations import webhooks as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.permissions import scoped
from app.schema.webhooks.types import WebhookEndpoint, WebhookEndpointSecret

ADMIN = scoped(Scope.INTEGRATIONS_WRITE)


@strawberry.input
class WebhookEndpointInput:
    url: str
    event_types: list[str] = strawberry.field(description="Integration event types to receive (at least one).")
    facility_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these facilities' events; left out: all of the caller's facilities."
    )
    description: str | None = None


@strawberry.input(description="Only the fields given change.")
class WebhookEndpointChange:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = strawberry.field(
        default=None, description="true turns a disabled endpoint back on (its pending messages resume)."
    )


def _event_id(value: strawberry.ID) -> int:
    try:
        event_id = int(value)
    except ValueError:
        raise BadInput("Malformed event id") from None
    if event_id < 1:
        raise BadInput("Malformed event id")
    return event_id


def _seal(info: Info) -> ops.SecretSeal:
    return ops.SecretSeal(info.context.services.settings.jwt_secret)


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(**ADMIN, description="Register an endpoint; its signing secret is in this answer only.")
    async def create_webhook_endpoint(self, info: Info, input: WebhookEndpointInput) -> WebhookEndpointSecret:
        new = ops.NewEndpoint(
            url=input.url,
            event_types=list(input.event_types),
            facility_ids=[decode_id(f, "Facility") for f in input.facility_ids]
            if input.facility_ids is not None
            else None,
            description=input.description,
        )
        return await ops.create_endpoint(
            await info.context.transaction(),
            info.context.principal,
            new,
            seal=_seal(info),
            settings=info.context.services.settings,
        )

    @strawberry.mutation(**ADMIN)
    async def update_webhook_endpoint(
        self, info: Info, id: strawberry.ID, change: WebhookEndpointChange
    ) -> WebhookEndpoint:
        return await ops.update_endpoint(
            await info.context.transaction(),
            info.context.principal,
            decode_id(id, "WebhookEndpoint"),
            ops.EndpointChange(
                url=change.url, event_types=change.event_types, description=change.description, enabled=change.enabled
            ),
            settings=info.context.services.settings,
        )

    @strawberry.mutation(**ADMIN, description="No more messages; the delivery log is kept.")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint:
        return await ops.delete_endpoint(
            await info.context.transaction(), info.context.principal, decode_id(id, "WebhookEndpoint")
        )

    @strawberry.mutation(
        **ADMIN,
        description="A new signing secret (in this answer only); the old one keeps signing beside it for overlapHours (0 to 168).",
    )
    async def rotate_webhook_secret(
        self, info: Info, id: strawberry.ID, overlap_hours: float = 24
    ) -> WebhookEndpointSecret:
        return await ops.rotate_secret(
            await info.context.transaction(),
            info.context.principal,
            decode_id(id, "WebhookEndpoint"),
            timedelta(hours=overlap_hours),
            seal=_seal(info),
        )

    @strawberry.mutation(
        **ADMIN,
        description="Send one event (eventId) or every event of [from, to) again to the endpoint, each with its "
        "webhook-id, on a fresh retry schedule; returns how many messages were queued.",
    )
    async def replay_webhook_events(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        event_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> int:
        return await ops.replay(
            await info.context.transaction(),
            info.context.principal,
            decode_id(endpoint_id, "WebhookEndpoint"),
            event_id=_event_id(event_id) if event_id is not None else None,
            since=from_,
            until=to,
        )
