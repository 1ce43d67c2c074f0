"""Execution with three changes to graphql-core's: live updates executed once per audience, a
mutation that stops at its first failed field, and plain leaf fields read by their planned getter
(app.schema.plain_leaves).

Strawberry executes a subscription's selection set once per watcher for every event. A session
change watched by 1,000 room displays was executed 1,000 times (bench/README.md: the fan-out
profile was almost all graphql-core field execution). A payload that opts in, by carrying a
`shared_results` dict, is executed once per (operation, variables, audience); the other
watchers get that ExecutionResult. The audience is what a resolver may check: the caller's
scopes and facilities.

A request's mutation fields share one transaction that is rolled back when any of them fails
(app.schema.context), so running the fields after a failed one would only do work that is
thrown away, on a transaction the failure may have aborted.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import ExecutionResult
from graphql.pyutils import Path, Undefined, async_reduce
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.live.cluster import Prebuilt
from app.schema.plain_leaves import NOT_PLAIN, PLAN_KEY, complete_plain_leaf


def _audience(context: Any) -> tuple:
    principal = getattr(context, "_principal", None)
    if principal is None:
        return ()
    return (principal.scopes, principal.facilities)


def _variables_key(variables: Any) -> Any:
    """The coerced variables (graphql-core's VariableValues) as a dict key: their items when
    hashable (ids, strings: cheap for each of thousands of watchers), else their JSON."""
    coerced = getattr(variables, "coerced", None)
    if isinstance(coerced, dict):
        try:
            return frozenset(coerced.items())
        except TypeError:
            pass
    return json.dumps(variables, sort_keys=True, default=str)


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # Plain leaf fields (app.schema.plain_leaves) read with their planned getter; off only to compare
    plain_leaves = True

    def execute_field(
        self, parent_type: Any, source: Any, field_details_list: Any, path: Any, position_context: Any
    ) -> Any:
        manager = self.middleware_manager  # strawberry makes one per request, empty without resolve hooks
        if self.plain_leaves and (manager is None or not manager.middlewares):
            field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            plan = field_def.extensions.get(PLAN_KEY) if field_def is not None and field_def.extensions else None
            if plan is not None:
                value = complete_plain_leaf(plan, source, self.is_awaitable)
                if value is not NOT_PLAIN:
                    return value
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def execute_operation(self, serially: bool | None = None) -> Any:
        if isinstance(self.root_value, Prebuilt):  # executed by the process that committed the change
            return ExecutionResult(data=self.root_value.data, errors=None)
        shared = getattr(self.root_value, "shared_results", None)
        if shared is None:
            return super().execute_operation(serially)
        key = (id(self.operation), _variables_key(self.variable_values), _audience(self.context_value))
        entry = shared.get(key)
        if entry is None or entry[0] is not self.operation:
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                shared[key] = (self.operation, result)
                return result
            future = asyncio.ensure_future(result)
            shared[key] = entry = (self.operation, future)
        value = entry[1]
        if isinstance(value, asyncio.Future):
            if value.done() and not value.cancelled() and value.exception() is None:
                return value.result()  # built already: no shield, no await
            return asyncio.shield(value)
        return value

    def execute_fields_serially(self, parent_type, source_value, path, grouped_field_set, position_context) -> Any:
        """graphql-core's serial execution, skipping every field after the first one that failed."""
        is_awaitable = self.is_awaitable
        errors = self.collected_errors

        def reducer(results: dict[str, Any], field_item: tuple[str, Any]) -> Any:
            if errors.errors:
                return results
            response_name, field_details_list = field_item
            field_path = Path(path, response_name, parent_type.name)
            result = self.execute_field(parent_type, source_value, field_details_list, field_path, position_context)
            if result is Undefined:
                return results
            if is_awaitable(result):

                async def set_result() -> dict[str, Any]:
                    results[response_name] = await result
                    return results

                return set_result()
            results[response_name] = result
            return results

        return async_reduce(reducer, grouped_field_set.items(), {})


class GraphQLCoreFieldByField(SharedEventExecutionContext):
    """Every field executed graphql-core's way (the comparison in tests/test_plain_leaves.py)."""

    plain_leaves = False
