"""The Schema: roots composed from each area's queries and mutations, the node registry, limits and
caches switched on."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from app.schema.billing.mutations import BillingMutation
from app.schema.billing.queries import BillingQuery, charge_node, claim_node
from app.schema.billing.types import Charge, Claim
from app.schema.calendars.mutations import CalendarsMutation
from app.schema.calendars.queries import CalendarsQuery
from app.schema.context import Info, OperationScope
from app.schema.cost import QueryCostLimiter
from app.schema.coverage.mutations import CoverageMutation
from app.schema.coverage.queries import CoverageQuery
from app.schema.displays.mutations import DisplaysMutation
from app.schema.displays.privacy import WallFieldsOnly
from app.schema.displays.queries import DisplaysQuery
from app.schema.displays.subscriptions import DisplaysSubscription
from app.schema.enrollment.mutations import EnrollmentMutation
from app.schema.enrollment.queries import enrollment_node
from app.schema.enrollment.types import Enrollment
from app.schema.errors import classify_in_place
from app.schema.events.queries import EventsQuery
from app.schema.history.queries import HistoryQuery
from app.schema.limits import CachedValidation, FragmentExpansionLimiter
from app.schema.live.subscriptions import Subscription as LiveSubscription
from app.schema.node import Node, resolve_node
from app.schema.notes.mutations import NotesMutation
from app.schema.notes.queries import NotesQuery
from app.schema.notes.types import GroupNote, MemberNote
from app.schema.operation_name import OperationNameRequired
from app.schema.parsing import DEFAULT_CACHE_BYTES, DEFAULT_OFF_LOOP_CHARACTERS, BoundedParsing, ParsedDocuments
from app.schema.plain_leaves import plan_plain_leaves
from app.schema.reference.mutations import ReferenceMutation
from app.schema.reference.queries import (
    ReferenceQuery,
    facility_node,
    patient_node,
    payer_node,
    staff_node,
)
from app.schema.reference.types import Facility, Patient, Payer, Staff
from app.schema.remittance.mutations import RemittanceMutation
from app.schema.remittance.queries import RemittanceQuery
from app.schema.remittance.subscriptions import RemittanceSubscription
from app.schema.scalars import SCALAR_OVERRIDES
from app.schema.scheduling.mutations import SchedulingMutation
from app.schema.scheduling.queries import SchedulingQuery, group_node, occurrence_node
from app.schema.scheduling.types import GroupDefinition, GroupOccurrence
from app.schema.sessions.mutations import SessionsMutation
from app.schema.sessions.queries import SessionsQuery, session_node
from app.schema.sessions.types import GroupSession
from app.schema.shared_events import GraphQLCoreFieldByField, SharedEventExecutionContext
from app.schema.webhooks.mutations import WebhooksMutation
from app.schema.webhooks.queries import WebhooksQuery, webhook_endpoint_node
from app.schema.webhooks.types import WebhookEndpoint

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000

# What `node(id:)` resolves, by the type name a global id carries; each fetcher applies its type's
# scope and facility rules.
NODE_FETCHERS = {
    "Facility": facility_node,
    "Staff": staff_node,
    "Patient": patient_node,
    "Payer": payer_node,
    "GroupDefinition": group_node,
    "GroupOccurrence": occurrence_node,
    "Enrollment": enrollment_node,
    "GroupSession": session_node,
    "Charge": charge_node,
    "Claim": claim_node,
    "WebhookEndpoint": webhook_endpoint_node,
}
NODE_TYPES = [
    Facility,
    Staff,
    Patient,
    Payer,
    GroupDefinition,
    GroupOccurrence,
    Enrollment,
    GroupSession,
    Charge,
    Claim,
    WebhookEndpoint,
]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any record by its global id, within the caller's facilities.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id, NODE_FETCHERS)


@strawberry.type
class Query(
    NodeQuery,
    ReferenceQuery,
    SchedulingQuery,
    SessionsQuery,
    BillingQuery,
    EventsQuery,
    HistoryQuery,
    CalendarsQuery,
    DisplaysQuery,
    NotesQuery,
    WebhooksQuery,
    CoverageQuery,
    RemittanceQuery,
):
    pass


@strawberry.type
class Mutation(
    ReferenceMutation,
    SchedulingMutation,
    EnrollmentMutation,
    SessionsMutation,
    BillingMutation,
    CalendarsMutation,
    DisplaysMutation,
    NotesMutation,
    WebhooksMutation,
    CoverageMutation,
    RemittanceMutation,
):
    pass


@strawberry.type
class Subscription(LiveSubscription, DisplaysSubscription, RemittanceSubscription):
    pass


# The depth and alias rules are built once. QueryDepthLimiter and MaxAliasesLimiter, passed as
# factories, build new rule classes for every request; ValidationCache is keyed by the rule
# classes, so it never hit and every request was validated from scratch (bench/README.md).
LIMIT_RULES = (max_depth_rule(MAX_DEPTH, None, None), max_aliases_rule(MAX_ALIASES))


class LimitRules(AddValidationRules):
    """The depth (QueryDepthLimiter) and alias (MaxAliasesLimiter) limits, with one set of rule classes."""

    def __init__(self) -> None:
        super().__init__(list(LIMIT_RULES))


class Schema(strawberry.Schema):
    documents: ParsedDocuments  # the parsed-document cache (its budget is set from the settings at start)

    def process_errors(self, errors, execution_context=None) -> None:
        """Classify and log each error once, without patient data (replaces the default logging)."""
        classify_in_place(errors, execution_context)


def build_schema(
    introspection: bool = True,
    caches: bool = True,
    parser_cache_bytes: int = DEFAULT_CACHE_BYTES,
    max_tokens: int = MAX_TOKENS,
    off_loop_characters: int = DEFAULT_OFF_LOOP_CHARACTERS,
    plain_leaves: bool = True,
) -> Schema:
    """`caches=False` drops the parser and validation caches, `plain_leaves=False` executes every field
    through Strawberry's and graphql-core's own path (both only to compare: bench/, tests).
    `max_tokens` (GS_DOCUMENT_TOKENS) and `off_loop_characters` (GS_PARSE_OFF_LOOP_CHARACTERS): the
    parsing budgets of app.schema.parsing."""
    extensions = [
        FragmentExpansionLimiter,  # first: it refuses fan-out documents before any validator expands them
        LimitRules,
        OperationNameRequired,
        WallFieldsOnly,  # before OperationScope: a refused display operation opens no transaction
        OperationScope,
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        QueryCostLimiter,
    ]
    documents = ParsedDocuments(
        max_tokens, max_bytes=parser_cache_bytes if caches else 0, off_loop_characters=off_loop_characters
    )
    extensions.insert(0, partial(BoundedParsing, documents))
    if caches:
        extensions.append(partial(CachedValidation, maxsize=512))
    if not introspection:
        extensions.append(DisableIntrospection)
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*NODE_TYPES, GroupNote, MemberNote],
        extensions=extensions,
        execution_context_class=SharedEventExecutionContext if plain_leaves else GraphQLCoreFieldByField,
        scalar_overrides=SCALAR_OVERRIDES,
    )
    built.documents = documents
    handlers = bool(getattr(built.schema_converter, "_exception_handler_specs", ())) or not plain_leaves
    plan_plain_leaves(built._schema, built.config.info_class, has_exception_handlers=handlers)  # noqa: SLF001 - strawberry keeps the graphql-core schema private
    return built


schema = build_schema()
