"""What a wall may show. A display's credential, and any operation that reads `roomDisplay`, may ask
only for these fields: no MRN, date of birth, payer member id, full name, note text or audit trail,
whatever the document's shape (fragments and aliases included). Anything else answers FORBIDDEN
before execution. A patient-facing display shows less again: no billing and no member's status
(STAFF_ONLY), refused while its room is shown in that mode."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLResolveInfo,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from app.errors import Forbidden
from app.rules.displays import DisplayMode

WALL_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(fields.split())
    for name, fields in {
        "Subscription": "roomDisplay",
        "Mutation": "rotateDisplayCredential",
        "DisplayCredential": "credential expiresAt display",
        "RoomDisplay": "id label location",
        "RoomDisplayUpdate": "kind sequence at room session billingPreview changedParticipantIds",
        "DisplayRoom": "location label mode facilityName timezone today nextSessionDate",
        "GroupSession": "id title groupType startsAt endsAt status sessionDate startTime endTime cancelledAt facilitator supervisors roster attendance",
        "Staff": "id name",
        "SupervisorAttendance": "id status staff",
        "RosterEntry": "id status noteStatus displayName billable",
        "AttendanceSummary": "scheduled attended late absent total terminal",
        "BillingPreview": "billableCount state band presentSupervisors maxParticipantsPerSupervisor issues readyToBill",
        "GroupSizeBand": "minSize maxSize procedureCode modifiers",
        "BillingIssue": "code severity message accepted participantIds",
    }.items()
}
ROOM_DISPLAY = "roomDisplay"

# What a patient-facing display may not ask for: the billing panel and each member's status.
STAFF_ONLY = frozenset(
    {
        ("RoomDisplayUpdate", "billingPreview"),
        ("RoomDisplayUpdate", "changedParticipantIds"),
        ("RosterEntry", "status"),
        ("RosterEntry", "noteStatus"),
        ("RosterEntry", "billable"),
    }
)
PATIENT_FACING = "A patient-facing display shows no billing and no member's status"


class _FieldsAsked(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.asked: set[tuple[str, str]] = set()

    def enter_field(self, node: FieldNode, *_args) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None:
            self.asked.add((parent.name, node.name.value))


def fields_asked(schema: GraphQLSchema, document: DocumentNode) -> set[tuple[str, str]]:
    """(type, field) for every field the document selects, through fragments too."""
    type_info = TypeInfo(schema)
    collector = _FieldsAsked(type_info)
    visit(document, TypeInfoVisitor(type_info, collector))
    return collector.asked


def operation_fields(info: GraphQLResolveInfo) -> set[tuple[str, str]]:
    """fields_asked for the operation a resolver runs in."""
    document = DocumentNode(definitions=(info.operation, *info.fragments.values()))
    return fields_asked(info.schema, document)


def check_mode(mode: DisplayMode, asked: set[tuple[str, str]]) -> None:
    """FORBIDDEN when a room shown in `mode` would show a field the mode leaves out."""
    refused = sorted(f"{t}.{f}" for t, f in asked & STAFF_ONLY) if mode == DisplayMode.PATIENT_FACING else []
    if refused:
        raise Forbidden(f"{PATIENT_FACING}: leave out {', '.join(refused)}")


def off_the_wall(asked: set[tuple[str, str]]) -> list[str]:
    return sorted(f"{t}.{f}" for t, f in asked if f != "__typename" and f not in WALL_FIELDS.get(t, frozenset()))


class WallFieldsOnly(SchemaExtension):
    """Refuses, before execution, a display credential's (or a roomDisplay) operation that asks for
    a field outside WALL_FIELDS."""

    def on_execute(self):
        context = self.execution_context
        principal = getattr(context.context, "_principal", None)
        document = context.graphql_document
        if document is not None:
            is_display = principal is not None and principal.is_display
            asked = (
                fields_asked(context.schema._schema, document)  # noqa: SLF001 - strawberry keeps the graphql-core schema private
                if is_display or _mentions_room_display(context.query)
                else set()
            )
            if is_display or ("Subscription", ROOM_DISPLAY) in asked:
                refused = off_the_wall(asked)
                if refused:
                    raise Forbidden(f"A room display may not read {', '.join(refused[:5])}")
        yield


def _mentions_room_display(query: str | None) -> bool:
    """A cheap first look, so other operations are not walked (a persisted query carries its text too)."""
    return query is None or ROOM_DISPLAY in query
