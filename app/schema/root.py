"""The Schema: roots composed from each area's operations, limits and caches switched on."""
from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection

from app.schema.billing import Charge, Claim
from app.schema.errors import classify_in_place
from app.schema.operations.billing import BillingMutation, BillingQuery
from app.schema.operations.enrollment import EnrollmentMutation
from app.schema.operations.events import EventsQuery
from app.schema.operations.live import Subscription
from app.schema.operations.reference import ReferenceMutation, ReferenceQuery
from app.schema.operations.scheduling import SchedulingMutation, SchedulingQuery
from app.schema.operations.sessions import SessionsMutation, SessionsQuery
from app.schema.reference import Facility, Patient, Payer, Staff
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


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Classify and log each error once, without patient data (replaces the default logging)."""
        classify_in_place(errors, execution_context)


def build_schema(introspection: bool = True, caches: bool = True) -> Schema:
    """`caches=False` drops the parser and validation caches (only for bench/'s side-by-side run)."""
    extensions = [
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
    ]
    if caches:
        extensions += [partial(ParserCache, maxsize=512), partial(ValidationCache, maxsize=512)]
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Facility, Staff, Patient, Payer, GroupDefinition, GroupOccurrence, Enrollment, GroupSession, Charge, Claim],
        extensions=extensions,
    )


schema = build_schema()
