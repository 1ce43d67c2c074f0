"""The daily submission: every DRAFT claim that may go, one 837P interchange per facility and payer (each claim a
transaction set of it), kept to fetch again and written to the clearinghouse's outbox folder after the commit."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from app.auth import Principal
from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import claim_batches as queries
from app.db.uow import UnitOfWork
from app.errors import DomainError
from app.operations.billing import SubmitterContact, recheck_findings, refuse_unless_map_accepts, submit_in_interchange
from app.operations.common import facilities_seen, require_scope
from app.rules.edi.batch837 import batch_837p, set_number
from app.rules.scopes import Scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    batches: tuple[models.ClaimBatch, ...]
    held: tuple[tuple[models.Claim, str], ...]  # DRAFT claims that could not go, and why


async def batch_claims(db, batch_ids):
    """Each batch's claims in transaction-set order."""
    return await queries.claims_of_batches(db, batch_ids)


def file_name(payer_code: str, control: int) -> str:
    code = "".join(c for c in payer_code.upper() if c.isalnum())[:40] or "PAYER"
    return f"{code}-{control:09d}.837"


async def submit_batches(
    uow: UnitOfWork,
    actor: Principal,
    contact: SubmitterContact,
    *,
    production: bool = True,
    outbox: Path | None = None,
) -> Submission:
    """Every DRAFT claim of the caller's facilities that has no BLOCKING issue, in one interchange per facility
    and payer. A claim that cannot be rendered (a missing NPI, no active diagnosis) stays a DRAFT and is named
    with its reason; the others go."""
    require_scope(actor, Scope.BILLING_WRITE)
    db = uow.db
    drafts = await queries.lock_drafts(db, facilities_seen(actor))
    groups: dict[tuple[uuid.UUID, uuid.UUID], list[models.Claim]] = {}
    for claim, facility_id in drafts:
        groups.setdefault((facility_id, claim.payer_id), []).append(claim)
    batches, held = [], []
    for (facility_id, payer_id), claims in groups.items():
        control = await billing_queries.next_interchange_number(db)
        sent: list[models.Claim] = []
        for claim in claims:
            # Re-checked before its savepoint: a finding whose cause was fixed is dropped for good even
            # when another still holds the claim (else the draft shows it until it is sent).
            await recheck_findings(db, claim)
            try:
                async with db.begin_nested():  # a claim refused leaves nothing of itself
                    await submit_in_interchange(
                        uow, claim, contact, control, production=production, set_number=set_number(len(sent) + 1)
                    )
            except DomainError as error:
                # The savepoint's rollback expired what the submission changed on the claim (a
                # re-checked finding dropped before another held it): read it again as it stands.
                await db.refresh(claim)
                held.append((claim, error.message))
                continue
            sent.append(claim)
        if not sent:
            continue
        payer = await db.get(models.Payer, payer_id)
        text = batch_837p([c.edi837 for c in sent])
        await refuse_unless_map_accepts(text)  # each set was read alone; the interchange they make is read too
        batch = models.ClaimBatch(
            id=uuid.uuid4(), facility_id=facility_id, payer_id=payer_id, control_number=control,
            production=production, claim_count=len(sent), file_name=file_name(payer.payer_code, control),
            text=text, created_by=uow.actor,
        )  # fmt: skip
        db.add(batch)
        await db.flush()
        for claim in sent:
            claim.batch_id = batch.id
        uow.audit(
            "claim_batch.submit",
            "ClaimBatch",
            batch.id,
            after={
                "controlNumber": control, "payerId": str(payer_id), "claimIds": [str(c.id) for c in sent],
                "production": production, "fileName": batch.file_name,
            },
        )  # fmt: skip
        batches.append(batch)
    if outbox is not None and batches:
        written = [(b.file_name, b.text) for b in batches]

        async def write() -> None:
            outbox.mkdir(parents=True, exist_ok=True)
            for name, text in written:
                partial = outbox / (name + ".part")  # the clearinghouse never picks up half a file
                partial.write_text(text, encoding="ascii")
                partial.rename(outbox / name)

        uow.after_commit(write)
    return Submission(tuple(batches), tuple(held))
