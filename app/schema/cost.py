"""The query cost limit (rules.md §11): the objects a document may return, counted before it runs.

Depth, alias and token limits leave room for documents that stay small and fan out: 30 aliases of
`groupSessions(first: 100) { roster { patient { charges { session { roster … } } } } }` or three
nested `occurrences(first: 60)` (216,000 nodes from 247 bytes). Each field that returns objects
costs the number of objects it may return: its list size (`first`, the default page, or an
assumed size for an unpaged list such as a roster) multiplied by the sizes of the lists around it,
as GitHub's and Shopify's APIs count. Scalars are free. A document over the limit is refused with
QUERY_TOO_COMPLEX before any resolver (and so any SQL) runs; every response carries
`extensions.cost` = {requested, limit}.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
    is_composite_type,
    value_from_ast,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from app.errors import ErrorCode
from app.schema.pagination import DEFAULT_PAGE, MAX_PAGE

MAX_COST = 25_000
# Unpaged lists: what a clinic's data makes of them (a roster rarely passes 20 members).
ASSUMED_LIST_SIZES: Mapping[tuple[str, str], int] = {
    ("GroupSession", "roster"): 25,
    ("GroupSession", "supervisors"): 5,
    ("GroupSession", "charges"): 25,
    ("GroupSession", "claims"): 25,
    ("GroupSession", "auditLog"): 50,
    ("GroupNote", "memberNotes"): 25,
    ("GroupNote", "addenda"): 10,
    ("MemberNote", "addenda"): 10,
    ("GroupDefinition", "waitlist"): 25,
    ("Patient", "charges"): 50,
    ("Patient", "coverages"): 5,
    ("Patient", "diagnoses"): 12,  # the 837P's HI segment holds twelve
    ("Enrollment", "auditLog"): 20,
    ("Mutation", "setPatientDiagnoses"): 12,
    ("Claim", "charges"): 5,
    ("Claim", "postings"): 4,  # a line paid, then perhaps reversed and paid again
    ("Charge", "postings"): 4,
    ("Posting", "adjustments"): 4,
    ("Posting", "denialReasons"): 3,
    ("Posting", "remarks"): 3,
    ("EdiImport", "changes"): 50,
    ("EdiFile", "providerAdjustments"): 6,
    ("Viewer", "facilities"): 10,
    ("GenerateOccurrencesResult", "created"): 100,
    ("Mutation", "setAttendanceBatch"): 25,
}
DEFAULT_LIST_SIZE = 10
TOO_COSTLY = "Query cost {requested} is over the limit of {limit} (objects it may return: list sizes multiplied through the nesting)"


def query_cost(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
) -> int:
    """The objects the operation may return. The document has passed validation."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, variables or {})
    return walk.selection_cost(operation.selection_set, root, multiplier=1, page=None)


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_cost(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, multiplier: int, page: int | None
    ) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, multiplier, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                typed = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_cost(selection.selection_set, typed or parent, multiplier, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    typed = self.schema.get_type(fragment.type_condition.name.value) or parent
                    total += self.selection_cost(fragment.selection_set, typed, multiplier, page)
        return total

    def field_cost(self, node: FieldNode, parent: GraphQLNamedType, multiplier: int, page: int | None) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return 0  # introspection has its own cap; __typename is free
        definition = fields[name]
        returned, is_list = _unwrap(definition.type)
        if not is_composite_type(returned):
            return 0
        child_page = None
        if "first" in definition.args:  # a connection: one object, its edges a page long
            size = 1
            child_page = self.page_size(node)
        elif is_list:
            if page is not None and name == "edges":
                size = page
            else:
                size = ASSUMED_LIST_SIZES.get((parent.name, name), DEFAULT_LIST_SIZE)
        else:
            size = 1
        count = multiplier * size
        return count + self.selection_cost(node.selection_set, returned, count, child_page)

    def page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
            else:
                value = value_from_ast(argument.value, GraphQLInt)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, MAX_PAGE))  # more than MAX_PAGE is BAD_USER_INPUT when it runs
        return DEFAULT_PAGE


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation costing more than `max_cost` before it executes; reports the cost."""

    def __init__(self, max_cost: int = MAX_COST) -> None:
        self.max_cost = max_cost
        self.requested: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            self.requested = query_cost(context.schema._schema, document, context.operation_name, context.variables)  # noqa: SLF001 - strawberry keeps the graphql-core schema private
            if self.requested > self.max_cost:
                error = GraphQLError(
                    TOO_COSTLY.format(requested=self.requested, limit=self.max_cost),
                    extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
                )
                if context.operation_type is OperationType.SUBSCRIPTION:
                    raise error  # a subscription's execution has no result to stand in for
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        return {"cost": {"requested": self.requested, "limit": self.max_cost}}
