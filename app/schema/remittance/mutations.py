"""Importing the payer's answers: one file's text, whichever kind it is."""

from __future__ import annotations

import strawberry

from app.operations import claim_batches
from app.operations import remittance as ops
from app.operations.billing import SubmitterContact
from app.rules.scopes import Scope
from app.schema.context import Info
from app.schema.permissions import scoped
from app.schema.remittance.types import ClaimSubmission, EdiImport, HeldClaim


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

    @strawberry.mutation(
        description="The daily submission: every DRAFT claim that may go, one 837P interchange per facility and payer "
        "(ISA15 as GS_EDI_PRODUCTION says), written to the outbox folder (GS_EDI_OUTBOX) after the commit; the "
        "claims that cannot go stay DRAFT and are named with their reason.",
        **scoped(Scope.BILLING_WRITE),
    )
    async def submit_claim_batches(self, info: Info) -> ClaimSubmission:
        settings = info.context.services.settings
        submission = await claim_batches.submit_batches(
            await info.context.transaction(),
            info.context.principal,
            SubmitterContact(settings.edi_contact_name, settings.edi_contact_phone),
            production=settings.edi_production,
            outbox=settings.edi_outbox,
        )
        return ClaimSubmission(
            batches=list(submission.batches),  # type: ignore[arg-type]
            held=[HeldClaim(reason=reason, claim_id=claim.id) for claim, reason in submission.held],
        )
