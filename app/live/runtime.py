"""Starting and stopping a process's live updates: broadcaster, publisher, hub and its builders."""

from __future__ import annotations

import asyncio

from app.live.backends import make_broadcast
from app.live.cluster import ClusterBuilds, ClusterShapes, node_id
from app.live.envelopes import SessionStates, build_schedule_change, display_builder, group_builder
from app.live.hub import Hub, keep_listener_alive
from app.live.publish import LivePublisher
from app.services import Services


async def start_live(services: Services) -> None:
    """Connect the broadcaster and start the hub; called from the app's lifespan."""
    url = services.settings.broadcast_url
    if url.startswith("postgres") and url.rstrip("/").endswith(("postgres:", "postgresql:")):
        url = services.database_url  # the `postgres://` shorthand: the application's own database
    if services.broadcast is None:
        services.broadcast = make_broadcast(url)
        await services.broadcast.connect()
    services.live_publisher = LivePublisher(services.broadcast, url, services.database_url)
    services.session_states = SessionStates(services)
    shapes = None
    if services.settings.live_build_once and not url.startswith("memory") and services.live_render is not None:
        shapes = ClusterShapes(services.broadcast, node_id())
        await shapes.start()
        services.live_publisher.cluster = ClusterBuilds(
            services.broadcast,
            shapes,
            services.session_states.build,
            services.live_render,
            notify_limit=url.startswith("postgres"),
        )
    services.live_shapes = shapes
    services.hub = Hub(
        services.broadcast,
        {
            "session": services.session_states.build,
            "group": group_builder(services),
            "display": display_builder(services),
            "schedule": build_schedule_change,
        },
        shapes=shapes,
    )
    services.broadcast_watchdog = asyncio.create_task(keep_listener_alive(services.broadcast))


async def stop_live(services: Services) -> None:
    watchdog, services.broadcast_watchdog = services.broadcast_watchdog, None
    if watchdog:
        watchdog.cancel()
    shapes, services.live_shapes = services.live_shapes, None
    if shapes:
        await shapes.stop()
    hub, services.hub = services.hub, None
    if hub:
        await hub.close()
    broadcast, services.broadcast = services.broadcast, None
    if broadcast is not None:
        await broadcast.disconnect()
