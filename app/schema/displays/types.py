"""Room display types: a display wraps its row; a room update wraps what the room watcher built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

import strawberry

from app.db import models
from app.ids import encode_id
from app.operations.displays import RoomView
from app.rules.billing import Preview
from app.rules.updates import SessionUpdateKind as SessionUpdateKindValue
from app.rules.updates import Touched
from app.schema.context import Info
from app.schema.enums import DisplayMode, SessionUpdateKind
from app.schema.loaders import reference
from app.schema.node import global_id

BillingPreviewType = Annotated["BillingPreview", strawberry.lazy("app.schema.billing.types")]  # noqa: F821 - resolved lazily
FacilityType = Annotated["Facility", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily
GroupSessionType = Annotated["GroupSession", strawberry.lazy("app.schema.sessions.types")]  # noqa: F821 - resolved lazily


@strawberry.type(description="A screen on a room's wall, paired to a facility and a location (the groups' `location`).")
class RoomDisplay:
    id: strawberry.ID = global_id("RoomDisplay")
    location: str
    label: str
    mode: DisplayMode = strawberry.field(description="STAFF, or PATIENT_FACING for a screen patients can see.")
    paired_by: str = strawberry.field(description="The subject of the token that paired it.")
    paired_at: datetime
    credential_issued_at: datetime | None = strawberry.field(
        description="When its current device credential was issued (null until the screen claims it)."
    )
    revoked_at: datetime | None

    @strawberry.field
    async def facility(display: strawberry.Parent[models.RoomDisplay], info: Info) -> FacilityType:
        return await reference.facilities(info).load(display.facility_id)


@strawberry.type(description="A display's new device credential: shown this once, display scope only.")
class DisplayCredential:
    credential: str = strawberry.field(description="The bearer token the display sends in connection_init.")
    expires_at: datetime
    display: RoomDisplay


@dataclass(frozen=True)
class RoomEnvelope:
    """One message of a room's watch: the room's view, and the shown session's state when there is one."""

    kind: SessionUpdateKindValue
    sequence: int
    at: datetime
    view: RoomView
    session: models.GroupSession | None
    preview: Preview | None
    changed: tuple[Touched, ...] = ()


@strawberry.type(description="The room a display shows.")
class DisplayRoom:
    @strawberry.field
    def location(view: strawberry.Parent[RoomView]) -> str:
        return view.room.location

    @strawberry.field(description="The display's label (null when staff preview a room).")
    def label(view: strawberry.Parent[RoomView]) -> str | None:
        return view.room.label

    @strawberry.field(description="STAFF, or PATIENT_FACING: then no billing and no member's status may be asked for.")
    def mode(view: strawberry.Parent[RoomView]) -> DisplayMode:
        return view.room.mode

    @strawberry.field
    def facility_name(view: strawberry.Parent[RoomView]) -> str:
        return view.room.facility.name

    @strawberry.field
    def timezone(view: strawberry.Parent[RoomView]) -> str:
        return view.room.facility.timezone

    @strawberry.field(description="Today in the facility's time zone.")
    def today(view: strawberry.Parent[RoomView]) -> date:
        return view.today

    @strawberry.field(
        description="With nothing more today: the date of the room's next session (null when none is scheduled)."
    )
    def next_session_date(view: strawberry.Parent[RoomView]) -> date | None:
        return view.next_session_date


@strawberry.type(
    description=(
        "What a room display shows. First message: SNAPSHOT. Then one message per change of the shown session "
        "(as sessionUpdates), a SNAPSHOT whenever the room's session changes (at a boundary, or when sessions are "
        "added, moved or cancelled), and PAUSED while live updates are interrupted."
    )
)
class RoomDisplayUpdate:
    kind: SessionUpdateKind
    sequence: int = strawberry.field(description="The shown session's sequence (0 when there is none).")
    at: datetime
    session: GroupSessionType | None = strawberry.field(
        description="In progress in the room, else the next one today, else null."
    )

    @strawberry.field
    def room(update: strawberry.Parent[RoomEnvelope]) -> DisplayRoom:
        return update.view

    @strawberry.field
    def billing_preview(update: strawberry.Parent[RoomEnvelope]) -> BillingPreviewType | None:
        return update.preview

    @strawberry.field
    def changed_participant_ids(update: strawberry.Parent[RoomEnvelope]) -> list[strawberry.ID]:
        return [strawberry.ID(encode_id(type_name, key)) for type_name, key in update.changed]
