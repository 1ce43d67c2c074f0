"""Webhook reads: the endpoints of the caller's facilities, and an endpoint by its node id."""

from __future__ import annotations

import uuid

import strawberry

from app.operations import webhooks as ops
from app.rules.scopes import Scope
from app.schema.connection import Connection
from app.schema.context import Info
from app.schema.pagination import page_args
from app.schema.permissions import scoped
from app.schema.webhooks.types import WebhookEndpoint


async def webhook_endpoint_node(info: Info, pk: uuid.UUID) -> WebhookEndpoint:
    """The endpoint a `webhook_endpoint_disabled` event names, for its admins."""
    async with info.context.db() as db:
        return await ops.endpoint_of(db, info.context.principal, pk)


@strawberry.type
class WebhooksQuery:
    @strawberry.field(
        **scoped(Scope.INTEGRATIONS_WRITE),
        description="Webhook endpoints whose facility filter is among the caller's facilities, newest first.",
    )
    async def webhook_endpoints(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookEndpoint]:
        window = page_args(first, after)
        async with info.context.db() as db:
            rows, total = await ops.endpoints(db, info.context.principal, window)
        return Connection.from_page(rows, window, total)
