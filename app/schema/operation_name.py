"""A document with several operations runs only the one its request names (the GraphQL spec's
GetOperation). Strawberry falls back to the first operation when no name is given; this refuses
such a request instead, over HTTP and websocket alike."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

SEVERAL_OPERATIONS = "Must provide operationName: the document contains {count} operations"


class OperationNameRequired(SchemaExtension):
    """List it before the validation cache: its error stands in for validation, like the limits'."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None and context._provided_operation_name is None:  # noqa: SLF001 - strawberry exposes no public accessor
            count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if count > 1:
                context.pre_execution_errors = [GraphQLError(SEVERAL_OPERATIONS.format(count=count))]
        yield
