"""One execution of a live update per audience, shared by every watcher that asked the same thing.

Strawberry executes a subscription's selection set once per watcher for every event. A session
change watched by 1,000 room displays was executed 1,000 times (bench/README.md: the fan-out
profile was almost all graphql-core field execution). A payload that opts in, by carrying a
`shared_results` dict, is executed once per (operation, variables, audience); the other
watchers get that ExecutionResult. The audience is what a resolver may check: the caller's
scopes and facilities.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _audience(context: Any) -> tuple:
    principal = getattr(context, "_principal", None)
    if principal is None:
        return ()
    return (principal.scopes, principal.facilities)


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = getattr(self.root_value, "shared_results", None)
        if shared is None:
            return super().execute_operation(serially)
        key = (
            id(self.operation),
            json.dumps(self.variable_values, sort_keys=True, default=str),
            _audience(self.context_value),
        )
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
            return asyncio.shield(value)
        return value
