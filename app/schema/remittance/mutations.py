"""Importing the payer's answers: one file's text, whichever kind it is."""

from __future__ import annotations

import strawberry

from app.operations import remittance as ops
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.permissions import scoped
from app.schema.remittance.types import EdiImport


@strawberry.type
class RemittanceMutation:
    @strawberry.mutation(
        description="Import a 999, 277CA or 835 (X12 5010) from its text: one file is one transaction, refused "
        "whole with the segment and line at fault; the same file again changes nothing.",
        **scoped(Scope.BILLING_WRITE),
    )
    async def import_edi(self, info: Info, text: str, name: str | None = None) -> EdiImport:
        result = await ops.import_edi(
            await info.context.transaction(), info.context.principal, text, name=name, source="api"
        )
        return EdiImport(duplicate=result.duplicate, file=result.file, changes=list(result.changes))  # type: ignore[arg-type]
