"""Scope checks as Strawberry permission classes, named for the scope they require."""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission

from app.errors import Forbidden
from app.schema.context import Info


@cache
def RequireScope(scope: str) -> type[BasePermission]:  # noqa: N802 - reads as a class name
    class _RequireScope(BasePermission):
        message = f"Missing scope {scope}"

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            if not info.context.principal.has_scope(scope):
                raise Forbidden(self.message)
            return True

    _RequireScope.__name__ = f"RequireScope[{scope}]"
    _RequireScope.scope = scope  # type: ignore[attr-defined]
    return _RequireScope


def scoped(*scopes: str) -> dict[str, Any]:
    """Keyword arguments for strawberry.field/mutation that require every scope given."""
    return {"permission_classes": [RequireScope(s) for s in scopes]}
