"""A document's size once its fragments are spread, counted before anything expands them.

Fragments that spread the next one twice make a 1 KB document name millions of fields; the depth
and alias validators walk every spread (exponential time on the event loop). This count memoizes
each fragment, so it is linear in the document, and refuses such a document first.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension, ValidationCache

MAX_EXPANDED_FIELDS = 2000
TOO_MANY_FIELDS = "Document expands to more than {limit} fields once its fragments are spread"


def expanded_field_count(document: DocumentNode, limit: int) -> int:
    """Fields the document's largest operation names with every fragment spread; stops counting past `limit`."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    sizes: dict[str, int] = {}
    open_fragments: set[str] = set()

    def fragment_size(name: str) -> int:
        if name not in sizes:
            if name in open_fragments or name not in fragments:
                return 0  # a cycle or an unknown fragment: validation names it
            open_fragments.add(name)
            sizes[name] = selection_size(fragments[name].selection_set)
            open_fragments.discard(name)
        return sizes[name]

    def selection_size(selection_set: SelectionSetNode | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += 1 + selection_size(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += selection_size(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment_size(selection.name.value)
            if total > limit:
                return total
        return total

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    try:
        return max((selection_size(op.selection_set) for op in operations), default=0)
    except RecursionError:
        return limit + 1


class FragmentExpansionLimiter(SchemaExtension):
    """Refuses a document naming more than `max_fields` fields once expanded (QUERY_TOO_COMPLEX).

    List it first: its error stands in for validation, which strawberry then skips
    (and `CachedValidation` too), so no validator expands the document.
    """

    def __init__(self, max_fields: int = MAX_EXPANDED_FIELDS) -> None:
        self.max_fields = max_fields

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and expanded_field_count(document, self.max_fields) > self.max_fields:
            context.pre_execution_errors = [GraphQLError(TOO_MANY_FIELDS.format(limit=self.max_fields))]
        yield


class CachedValidation(ValidationCache):
    """strawberry's ValidationCache, except that a document an earlier extension refused stays refused."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is not None:
            yield
            return
        yield from super().on_validate()
