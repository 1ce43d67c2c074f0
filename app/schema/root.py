"""The Schema: roots composed from each area's operations, limits and caches switched on."""
from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from app.schema.billing import Charge, Claim
from app.schema.context import RequestSession
from app.schema.shared_events import SharedEventExecutionContext
from app.schema.errors import classify_in_place
from app.schema.limits import CachedValidation, FragmentExpansionLimiter
from app.schema.operation_name import OperationNameRequired
from app.schema.operations.billing import BillingMutation, BillingQuery
from app.schema.operations.enrollment import EnrollmentMutation
from app.schema.operations.events import EventsQuery
from app.schema.operations.live import Subscription
from app.schema.operations.reference import ReferenceMutation, ReferenceQuery
from app.schema.operations.scheduling import SchedulingMutation, SchedulingQuery
from app.schema.operations.sessions import SessionsMutation, SessionsQuery
from app.schema.reference import Facility, Patient, Payer, Staff
from app.schema.scalars import SCALAR_OVERRIDES
from app.schema.scheduling import Enrollment, GroupDefinition, GroupOccurrence
from app.schema.sessions import GroupSession

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


@strawberry.type
class Query(ReferenceQuery, SchedulingQuery, SessionsQuery, BillingQuery, EventsQuery):
    pass


@strawberry.type
class Mutation(ReferenceMutation, SchedulingMutation, EnrollmentMutation, SessionsMutation, BillingMutation):
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
    def process_errors(self, errors, execution_context=None) -> None:
        """Classify and log each error once, without patient data (replaces the default logging)."""
        classify_in_place(errors, execution_context)


def build_schema(introspection: bool = True, caches: bool = True) -> Schema:
    """`caches=False` drops the parser and validation caches (only for bench/'s side-by-side run)."""
    extensions = [
        FragmentExpansionLimiter,  # first: it refuses fan-out documents before any validator expands them
        LimitRules,
        OperationNameRequired,
        RequestSession,
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
    ]
    if caches:
        extensions += [partial(ParserCache, maxsize=512), partial(CachedValidation, maxsize=512)]
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Facility, Staff, Patient, Payer, GroupDefinition, GroupOccurrence, Enrollment, GroupSession, Charge, Claim],
        extensions=extensions,
        execution_context_class=SharedEventExecutionContext,
        scalar_overrides=SCALAR_OVERRIDES,
    )


schema = build_schema()
