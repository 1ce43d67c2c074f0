"""Room display changes: pair a screen by its code, revoke a display, a display's own credential
rotation, and how a facility's displays show names."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.ids import decode_id
from app.operations import displays as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.displays.types import DisplayCredential, RoomDisplay
from app.schema.enums import DisplayMode, DisplayNameFormat
from app.schema.permissions import scoped

FacilityType = Annotated["Facility", strawberry.lazy("app.schema.reference.types")]  # noqa: F821 - resolved lazily


@strawberry.type
class DisplaysMutation:
    @strawberry.mutation(
        **scoped(Scope.REFERENCE_WRITE),
        description=(
            "Pair the screen showing `code` to a facility's room (`location` as the groups name it). Codes last 10 minutes "
            "and pair once; five wrong codes in 10 minutes and the caller must wait."
        ),
    )
    async def pair_display(
        self, info: Info, code: str, facility_id: strawberry.ID, location: str, label: str
    ) -> RoomDisplay:
        return await ops.pair_display(
            await info.context.transaction(),
            info.context.principal,
            info.context.services.pairing_attempts,
            code=code,
            facility_id=decode_id(facility_id, "Facility"),
            location=location,
            label=label,
        )

    @strawberry.mutation(
        **scoped(Scope.REFERENCE_WRITE),
        description="Its credential stops working and its socket closes; the screen shows a new pairing code.",
    )
    async def revoke_display(self, info: Info, id: strawberry.ID) -> RoomDisplay:
        return await ops.revoke_display(
            await info.context.transaction(), info.context.principal, decode_id(id, "RoomDisplay")
        )

    @strawberry.mutation(
        **scoped(Scope.REFERENCE_WRITE),
        description=(
            "What a display shows: STAFF, or PATIENT_FACING for a screen patients can see (no billing panel, no "
            "member's status). The display shows its room in the new mode at once."
        ),
    )
    async def set_display_mode(self, info: Info, id: strawberry.ID, mode: DisplayMode) -> RoomDisplay:
        return await ops.set_display_mode(
            await info.context.transaction(), info.context.principal, decode_id(id, "RoomDisplay"), mode
        )

    @strawberry.mutation(
        **scoped(Scope.DISPLAY),
        description="A display replaces its own device credential; the one it called with stops working.",
    )
    async def rotate_display_credential(self, info: Info) -> DisplayCredential:
        return await ops.rotate_credential(
            await info.context.transaction(), info.context.principal, info.context.services.settings.jwt_secret
        )

    @strawberry.mutation(
        **scoped(Scope.REFERENCE_WRITE), description="How the facility's room displays show patients' names."
    )
    async def set_display_name_format(
        self, info: Info, facility_id: strawberry.ID, format: DisplayNameFormat
    ) -> FacilityType:
        return await ops.set_display_name_format(
            await info.context.transaction(), info.context.principal, decode_id(facility_id, "Facility"), format
        )
