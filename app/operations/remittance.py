"""The payer's answers read into our claims: one import for a 999, a 277CA or an 835, whichever way the file
came (the API, the command line, the inbox folder). One file is one transaction: it is read and checked whole
(our readers, then pyx12 against the guide's map) before anything is written, and the same file imported
again changes nothing."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyx12.params
import pyx12.x12n_document

from app.auth import Principal
from app.db import models
from app.db.queries import billing as billing_queries
from app.db.queries import remittance as queries
from app.db.uow import UnitOfWork
from app.errors import BadInput, DomainError
from app.live.publish import stage_billing_change
from app.operations import pyx12_maps  # noqa: F401 - pyx12's maps built once per process
from app.operations.common import require_scope
from app.operations.work import Services, unit_of_work
from app.rules import remittance as rules
from app.rules.claims import ClaimFrequency, ClaimStatus, rejected_by_payer
from app.rules.edi import codes as edi_codes
from app.rules.edi import edi277, edi835, edi999
from app.rules.edi.x12 import Interchange, Place, Segment, X12Error, read_interchange, read_segments, transactions_of
from app.rules.scopes import Scope

log = logging.getLogger(__name__)
# pyx12 logs every finding as an error of its own; the import reports them in its refusal instead.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)

SOURCES = ("api", "cli", "inbox", "demo")
MAX_FILE_CHARACTERS = 5_000_000
MAX_PROCEDURE_CODE = 10


@dataclass(frozen=True)
class ClaimChange:
    claim_id: uuid.UUID
    claim_number: str
    before: str
    after: str
    reason: str | None = None


@dataclass(frozen=True)
class ImportResult:
    file: models.EdiFile
    duplicate: bool  # the same file was imported before: nothing changed
    changes: tuple[ClaimChange, ...] = ()

    @property
    def kind(self) -> str:
        return self.file.kind


# ---------------------------------------------------------------- pyx12


def pyx12_findings(text: str) -> list[tuple[int | None, str, str]]:
    """What pyx12 finds against the guide's map: (segment ordinal in the file or None, segment id, message)."""
    json_out = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), io.StringIO(), None, None, json_out
    )
    found: list[tuple[int | None, str, str]] = []

    def collect(node: Any, segment: tuple[int | None, str]) -> None:
        if isinstance(node, dict):
            here = (node.get("cur_line"), node.get("seg_id") or segment[1]) if "seg_id" in node else segment
            for error in node.get("errors", []):
                found.append((here[0], here[1], _without_values(node, here[1], error)))
            for key, value in node.items():
                if key != "errors":
                    collect(value, here)
        elif isinstance(node, list):
            for item in node:
                collect(item, segment)

    collect(json.loads(json_out.getvalue() or "{}"), (None, ""))
    if not valid and not found:
        found.append((None, "", "pyx12 rejected the file without naming an error"))
    return found


def _without_values(node: dict, segment_id: str, error: dict) -> str:
    """A finding in words that never repeats a value of the file (pyx12's own text repeats the element's
    value, which can be a patient's name, address or birth date): an element's by its name, place and X12
    error; a segment's or envelope's in pyx12's words (they name segments and counts, not values)."""
    code = str(error.get("err_cde", ""))
    if "ele_pos" not in node:
        return f"{code}: {error.get('err_str', '')}"
    place = f"{segment_id}{int(node['ele_pos']):02d}"
    if node.get("subele_pos"):
        place += f"-{node['subele_pos']}"
    # X12's data element errors (the 999's IK403, which pyx12's element codes follow), in words
    what = edi_codes.ELEMENT_ERRORS.get(code, f"data element error {code}").lower()
    return f"{code}: {node.get('name') or 'data element'} ({place}): {what}"


def refuse_pyx12(text: str, segments: Sequence[Segment]) -> None:
    """The first finding of pyx12 as a refusal naming the segment and its line."""
    findings = pyx12_findings(text)
    if not findings:
        return
    ordinal, segment_id, message = findings[0]
    if ordinal is not None and 0 < ordinal <= len(segments):
        where = segments[ordinal - 1].place
    else:
        where = Place(segment_id or "ISA", ordinal or 1, 1)
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    raise X12Error(f"the guide's map refuses it: {message}{more}", where)


# ---------------------------------------------------------------- reading the whole file first


@dataclass
class _Read:
    interchange: Interchange
    kind: rules.EdiKind
    segments: list[Segment]
    acknowledgments: tuple[edi999.ImplementationAcknowledgment, ...] = ()
    claim_acknowledgments: tuple[edi277.HealthCareClaimAcknowledgment, ...] = ()
    remittances: tuple[edi835.Remittance, ...] = ()


async def read_answer(text: str) -> _Read:
    """The file read and checked whole: envelopes and our reader (X12Error names the segment and line), then
    pyx12 against the guide's map, then an 835's balancing (005010X221A1 section 1.10.2.1)."""
    if len(text) > MAX_FILE_CHARACTERS:
        raise BadInput(f"An X12 file is at most {MAX_FILE_CHARACTERS} characters")
    _, segments = read_segments(text)
    interchange = read_interchange(text)
    kind = rules.kind_of(interchange)
    set_id = {v[0]: k for k, v in rules.KINDS.items()}[kind]
    transactions = transactions_of(interchange, set_id, rules.KINDS[set_id][1])
    read = _Read(interchange, kind, segments)
    if kind is rules.EdiKind.ACKNOWLEDGMENT:
        read.acknowledgments = tuple(edi999.read_999_transaction(t) for t in transactions)
    elif kind is rules.EdiKind.CLAIM_ACKNOWLEDGMENT:
        read.claim_acknowledgments = tuple(edi277.read_277ca_transaction(t) for t in transactions)
    else:
        read.remittances = tuple(edi835.read_835_transaction(t) for t in transactions)
        for transaction, remittance in zip(transactions, read.remittances, strict=True):
            problems = edi835.balance_problems(remittance)
            if problems:
                raise X12Error("the remittance does not balance: " + "; ".join(problems), transaction.header)
    await asyncio.to_thread(refuse_pyx12, text, segments)
    return read


def acknowledgment_results(file: models.EdiFile) -> tuple[rules.SetResult, ...] | None:
    """A 999's result per transaction set (None for another kind of file), read again from the file kept."""
    if file.kind != rules.EdiKind.ACKNOWLEDGMENT:
        return None
    transactions = transactions_of(read_interchange(file.text), "999", rules.KINDS["999"][1])
    return rules.set_results([edi999.read_999_transaction(t) for t in transactions])


def _segment_naming(segments: Sequence[Segment], segment_id: str, position: int, value: str) -> Segment | Place:
    return next((s for s in segments if s.id == segment_id and s[position] == value), Place(segment_id, 1, 1))


# ---------------------------------------------------------------- importing


@dataclass
class _Posting:
    uow: UnitOfWork
    actor: Principal
    file_id: uuid.UUID
    changes: list[ClaimChange] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=lambda: {"claims": {}, "unchanged": {}})

    def already_posted(self, claim_number: str, trace_number: str) -> None:
        """A claim payment a file imported before posted (the same 835 in another envelope): nothing is posted."""
        self.summary["unchanged"][claim_number] = f"already posted (TRN02 {trace_number})"
        self.summary["alreadyPosted"] = [*self.summary.get("alreadyPosted", []), claim_number]

    def visible(self, session: models.GroupSession) -> bool:
        return self.actor.all_facilities or session.facility_id in self.actor.facility_uuids

    async def move(
        self,
        claim: models.Claim,
        to: ClaimStatus,
        *,
        reason: str | None = None,
        payer_claim_number: str | None = None,
        carc: str | None = None,
        money: dict[str, str] | None = None,
    ) -> None:
        before = claim.status
        if payer_claim_number:
            claim.payer_claim_number = payer_claim_number
        if not rules.moves(before, to):
            if rules.rejection_kept(before, to, claim.payer_claim_number):
                # a claim we replaced or voided before the payer answered: it never held it (the correction
                # waiting for its number answers nothing now; app.rules.claims.plan_correction)
                claim.payer_reason, claim.answered_at = reason, self.uow.clock.now()
            self.summary["unchanged"][claim.claim_number] = f"{before}, not moved to {to}"
            return
        now = self.uow.clock.now()
        claim.status = to
        claim.answered_at = now
        claim.payer_reason = reason
        claim.denial_carc = carc
        self.summary["claims"][claim.claim_number] = str(to)
        self.changes.append(ClaimChange(claim.id, claim.claim_number, before, to, reason))
        session = await self.uow.db.get(models.GroupSession, claim.session_id)
        self.uow.audit(
            "claim.answer",
            "Claim",
            claim.id,
            before={"status": before},
            after={
                "status": str(to),
                "payerClaimNumber": claim.payer_claim_number,
                "reason": reason,
                "ediFileId": str(self.file_id),
                **(money or {}),
            },
            session_id=claim.session_id,
        )
        await stage_billing_change(
            self.uow,
            session.facility_id,
            rules.queues_of_move(before, to),
            claim_id=claim.id,
            session_id=claim.session_id,
        )
        self.uow.record_event(
            rules.EVENT_OF_STATUS[to],
            {
                "claimId": str(claim.id),
                "claimNumber": claim.claim_number,
                "status": str(to),
                "payerClaimNumber": claim.payer_claim_number,
                "sessionId": str(claim.session_id),
                "patientId": str(claim.patient_id),
                "facilityId": str(session.facility_id),
                "reason": reason,
                "carc": carc,
                **(money or {}),
            },
        )


async def import_edi(
    uow: UnitOfWork, actor: Principal, text: str, *, name: str | None = None, source: str = "api"
) -> ImportResult:
    """Import one 999, 277CA or 835: claims move along their path (SUBMITTED → ACCEPTED or REJECTED → PAID,
    PARTIALLY_PAID or DENIED → REVERSED), each 835 line posts to its charge, PLB adjustments are kept. A file
    that cannot be read, that the guide's map refuses, or that names a claim that is not ours is refused
    whole. The same file again answers with the first import and changes nothing."""
    require_scope(actor, Scope.BILLING_WRITE)
    if source not in SOURCES:
        raise BadInput(f"source must be one of {', '.join(SOURCES)}")
    if name is not None:
        name = name.strip()[:255] or None
    read = await read_answer(text)
    digest = rules.content_hash(text)
    interchange = read.interchange
    file_id = uuid.uuid4()
    added = await queries.add_edi_file(
        uow.db,
        id=file_id,
        content_hash=digest,
        kind=str(read.kind),
        name=name,
        source=source,
        control_number=interchange.control_number,
        sender_id=interchange.sender_id[:15],
        production=interchange.production,
        text=text,
        summary={},
        imported_by=uow.actor,
    )
    if added is None:
        existing = await queries.edi_file_by_hash(uow.db, digest)
        assert existing is not None
        return ImportResult(existing, duplicate=True)
    posting = _Posting(uow, actor, file_id)
    if read.kind is rules.EdiKind.ACKNOWLEDGMENT:
        await _apply_999(posting, read)
    elif read.kind is rules.EdiKind.CLAIM_ACKNOWLEDGMENT:
        await _apply_277(posting, read)
    else:
        await _apply_835(posting, read)
    record = await uow.db.get(models.EdiFile, file_id)
    assert record is not None
    record.summary = posting.summary
    uow.audit(
        "edi_file.import",
        "EdiFile",
        file_id,
        after={"kind": str(read.kind), "name": name, "source": source, "contentHash": digest, **posting.summary},
    )
    await uow.db.flush()
    return ImportResult(record, duplicate=False, changes=tuple(posting.changes))


async def _claims_named(posting: _Posting, read: _Read, numbers: Iterable[tuple[str, str, int]]) -> dict:
    """Our claims by number; a number that is not ours (or not in the caller's facilities) refuses the file,
    naming the segment that carries it."""
    wanted = list(dict.fromkeys(numbers))
    found = await queries.lock_claims_by_number(posting.uow.db, [n for n, _, _ in wanted])
    for number, segment_id, position in wanted:
        claim = found.get(number)
        session = await posting.uow.db.get(models.GroupSession, claim.session_id) if claim is not None else None
        if session is None or not posting.visible(session):
            where = _segment_naming(read.segments, segment_id, position, number)
            raise X12Error(f"claim {number} is not one of ours", where)
    return found


async def _apply_999(posting: _Posting, read: _Read) -> None:
    """005010X231A1: AK102 is our GS06 (the interchange our claims went in); IK5 R rejects a transaction set,
    AK9 R the whole group. An accepted file leaves its claims SUBMITTED: the 277CA accepts each claim."""
    for acknowledgment in read.acknowledgments:
        if not acknowledgment.group_control_number.isdigit():
            raise X12Error("AK102 is not a group control number of ours", read.segments[0])
        claims = await queries.lock_claims_of_interchanges(posting.uow.db, [int(acknowledgment.group_control_number)])
        claims = [c for c in claims if posting.visible(await posting.uow.db.get(models.GroupSession, c.session_id))]
        if not claims:
            if acknowledgment.code in edi999.ACCEPTING:  # nothing to move: the acceptance is kept with the file
                posting.summary["unmatched"] = [
                    *posting.summary.get("unmatched", []),
                    acknowledgment.group_control_number,
                ]
                continue
            ak1 = _segment_naming(read.segments, "AK1", 2, acknowledgment.group_control_number)
            raise X12Error(f"AK102 {acknowledgment.group_control_number} answers no claim file of ours", ak1)
        rejected = [r for r in acknowledgment.responses if not r.accepted]
        if acknowledgment.code == edi999.REJECTED and not acknowledgment.responses:
            reason = f"999 {acknowledgment.code}: {acknowledgment.text}"
            for claim in claims:
                await posting.move(claim, ClaimStatus.REJECTED, reason=reason)
            continue
        for response in rejected:
            # AK202 is the ST02 the claim went in (a batch carries a set per claim).
            for claim in claims:
                if claim.transaction_set_number in (None, response.control_number):
                    await posting.move(claim, ClaimStatus.REJECTED, reason=rules.rejection_of_999(response))
        for claim in claims:
            posting.summary["claims"].setdefault(claim.claim_number, "received")


async def _apply_277(posting: _Posting, read: _Read) -> None:
    """005010X214: each claim's TRN02 is our CLM01; STC01 A1/A2 accepts (REF*1K its payer claim number),
    A3/A6/A7/A8 rejects with the status codes' text."""
    answers = [c for a in read.claim_acknowledgments for c in a.claims]
    claims = await _claims_named(posting, read, ((c.claim_number, "TRN", 2) for c in answers))
    for answer in answers:
        claim = claims[answer.claim_number]
        claim.status_category = answer.statuses[0].category if answer.statuses else None
        claim.status_codes = rules.status_codes_of_277(answer)
        if answer.accepted:
            await posting.move(claim, ClaimStatus.ACCEPTED, payer_claim_number=answer.payer_claim_number)
        else:
            await posting.move(claim, ClaimStatus.REJECTED, reason=rules.reason_of_277(answer))


def _payment_claim(lineage: Sequence[models.Claim], number: str, payer_claim_number: str) -> models.Claim:
    """The claim a CLP answers within the lineage of the claim it names: the one the payer's claim number was
    given to, else the one named unless a correction superseded it, then the newest correction the payer holds
    (not a void)."""
    for claim in lineage:
        if payer_claim_number and claim.payer_claim_number == payer_claim_number:
            return claim
    named = next(c for c in lineage if c.claim_number == number)
    if named.status not in (ClaimStatus.REPLACED, ClaimStatus.VOIDED):
        return named
    held = [
        c
        for c in lineage
        if c.submitted_at is not None
        and c.frequency != ClaimFrequency.VOID
        and not rejected_by_payer(c.status, c.payer_claim_number, c.payer_reason)
    ]
    return held[-1] if held else named


async def _apply_835(posting: _Posting, read: _Read) -> None:
    """005010X221A1: CLP01 our CLM01 (matched across the claim's voids and replacements), CLP02 its status,
    CLP07 the payer's claim number; each SVC posts to its charge with its CAS by group and its RARC; PLB kept."""
    db = posting.uow.db
    payments = [(r, p) for r in read.remittances for p in r.claims]
    for _, payment in payments:  # what our charges can hold: a procedure code of up to 10 characters
        for service in payment.services:
            if len(service.procedure_code) > MAX_PROCEDURE_CODE:
                where = next((s for s in read.segments if s.id == "SVC" and service.procedure_code in s[1]), None)
                raise X12Error(
                    f"SVC01-2 {service.procedure_code!r} is longer than a procedure code ({MAX_PROCEDURE_CODE})",
                    where or Place("SVC", 1, 1),
                )
    named = await _claims_named(posting, read, ((p.claim_number, "CLP", 1) for _, p in payments))
    posted_before = await queries.posted_payment_keys(
        db, [rules.payment_key(r, p) for r, p in payments]
    )  # after the claims' locks: an import of the same payments at the same time has committed by now
    posted_before_file = set(posted_before)
    for remittance, payment in payments:
        key = rules.payment_key(remittance, payment)
        if key in posted_before:
            posting.already_posted(payment.claim_number, remittance.trace_number)
            continue
        posted_before.add(key)
        lineage = await queries.lock_lineage(db, named[payment.claim_number])
        claim = _payment_claim(lineage, payment.claim_number, payment.payer_claim_number)
        charges = (await billing_queries.charges_of_claims(db, [claim.id]))[0]
        matched = _match_charges(payment, charges)
        # The contracted amount: the payer's rate the charge was built from (its group-size band's, or its
        # per-diem rate), times its units; not the charge's amount, the facility's fee billed.
        expected = [
            Decimal(c.expected_amount) if c is not None and c.expected_amount is not None else None for c in matched
        ]
        postings = rules.post_claim(payment, expected)
        for number, (line, charge) in enumerate(zip(postings, matched or [None] * len(postings), strict=False)):
            db.add(
                models.RemittanceLine(
                    payment_key=key, line_number=number, edi_file_id=posting.file_id, claim_id=claim.id, charge_id=charge.id if charge else None,
                    patient_id=claim.patient_id, payer_claim_number=payment.payer_claim_number,
                    claim_status_code=payment.status, procedure_code=line.procedure_code,
                    service_date=line.service_date, charged=line.charged, paid=line.paid,
                    contractual=line.contractual, patient_responsibility=line.patient_responsibility,
                    other_adjustments=line.other_adjustments, allowed=line.allowed, expected=line.expected,
                    underpaid_by=line.underpaid_by, adjustments=[_reason(r) for r in line.adjustments],
                    denial_reasons=[_reason(r) for r in line.denial_reasons],
                    remarks=[_reason(r) for r in line.remarks], reversal=line.reversal, paid_on=remittance.paid_on,
                )
            )  # fmt: skip
        status = rules.status_of_payment(payment)
        money = {
            "paid": str(payment.paid),
            "patientResponsibility": str(payment.patient_responsibility),
            "underpaidBy": str(sum((p.underpaid_by for p in postings), Decimal(0))),
        }
        denied = status is ClaimStatus.DENIED
        await posting.move(
            claim,
            status,
            reason=rules.denial_reason(postings) if denied or status is ClaimStatus.PARTIALLY_PAID else None,
            payer_claim_number=payment.payer_claim_number,
            carc=rules.carc_of(postings) if denied else None,
            money=money,
        )
    plb_keys = {
        rules.adjustment_key(r, i, a): (r, a) for r in read.remittances for i, a in enumerate(r.provider_adjustments)
    }
    kept_before = await queries.kept_adjustment_keys(db, list(plb_keys))
    for remittance in read.remittances:
        adjustments = [(k, a) for k, (r, a) in plb_keys.items() if r is remittance and k not in kept_before]
        if len(adjustments) < len(remittance.provider_adjustments):
            posting.summary["adjustmentsAlreadyKept"] = posting.summary.get("adjustmentsAlreadyKept", 0) + (
                len(remittance.provider_adjustments) - len(adjustments)
            )
        for key, adjustment in adjustments:
            db.add(
                models.ProviderAdjustment(
                    adjustment_key=key, edi_file_id=posting.file_id, trace_number=remittance.trace_number,
                    provider_id=adjustment.provider_id, fiscal_period_end=adjustment.fiscal_period_end,
                    reason=adjustment.reason, reason_text=adjustment.reason_text, reference=adjustment.reference,
                    amount=adjustment.amount,
                )
            )  # fmt: skip
        posting.summary.setdefault("providerAdjustments", 0)
        posting.summary["providerAdjustments"] += len(adjustments)
        posting.summary.setdefault("paid", "0")
        if adjustments or any(rules.payment_key(remittance, p) not in posted_before_file for p in remittance.claims):
            posting.summary["paid"] = str(Decimal(posting.summary["paid"]) + remittance.total_paid)


def _reason(reason: rules.Reason) -> dict[str, str]:
    return {"code": reason.code, "text": reason.text}


def _match_charges(payment: edi835.ClaimPayment, charges: Sequence[models.Charge]) -> list[models.Charge | None]:
    """Each SVC's charge: the same procedure code and date of service, else the same code, else the next one
    left (a payer may pay another code than billed: SVC06 names ours)."""
    left = list(charges)
    matched: list[models.Charge | None] = []
    services = payment.services or ()
    if not services:
        return [left[0] if left else None]
    for service in services:
        code = service.submitted_procedure_code or service.procedure_code
        day = service.service_dates[0] if service.service_dates else None
        choice = (
            next((c for c in left if c.procedure_code == code and c.service_date == day), None)
            or next((c for c in left if c.procedure_code == code), None)
            or (left[0] if left else None)
        )
        if choice is not None:
            left.remove(choice)
        matched.append(choice)
    return matched


# ---------------------------------------------------------------- files and the inbox folder

# The inbox's own readers: who an import from the command line or the folder is recorded as.
FOLDER_ACTOR = Principal(
    subject="edi-inbox", scopes=frozenset({Scope.BILLING_READ.value, Scope.BILLING_WRITE.value}), facilities=("*",)
)
CLI_ACTOR = Principal(
    subject="cli-import-edi", scopes=frozenset({Scope.BILLING_READ.value, Scope.BILLING_WRITE.value}), facilities=("*",)
)
PROCESSED, REFUSED = "processed", "refused"
# Files still being written by the clearinghouse's SFTP client carry one of these, or are younger than this.
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".filepart")
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    result: ImportResult | None = None
    refusal: str | None = None


async def import_file(services: Services, path: Path, *, actor: Principal, source: str) -> FileOutcome:
    """One file, one transaction: imported whole, or refused (its reason, the segment and line) with nothing
    written."""
    try:
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError as error:
        return FileOutcome(path, refusal=f"not an X12 file: byte {error.start} is not ASCII")
    except OSError as error:
        return FileOutcome(path, refusal=f"cannot be read: {error.strerror}")
    try:
        async with unit_of_work(services, actor.subject) as uow:
            result = await import_edi(uow, actor, text, name=path.name, source=source)
    except DomainError as error:
        return FileOutcome(path, refusal=error.message)
    return FileOutcome(path, result=result)


def _ready(path: Path, now: float) -> bool:
    return (
        path.is_file()
        and not path.name.startswith(".")
        and not path.name.lower().endswith(PARTIAL_SUFFIXES)
        and now - path.stat().st_mtime >= SETTLE_SECONDS
    )


def _move_aside(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    stem, number = path.stem, 1
    while target.exists():  # a name the clearinghouse used again: keep both
        target = folder / f"{stem}.{number}{path.suffix}"
        number += 1
    return path.rename(target)


async def import_inbox(services: Services, inbox: Path) -> list[FileOutcome]:
    """Every settled file of the inbox, oldest name first, each in its own transaction; then moved to
    processed/ (imported, or the same file again) or refused/ beside NAME.error.txt."""
    outcomes = []
    now = time.time()
    for path in sorted(p for p in inbox.iterdir() if _ready(p, now)):
        outcome = await import_file(services, path, actor=FOLDER_ACTOR, source="inbox")
        if outcome.refusal is None:
            _move_aside(path, inbox / PROCESSED)
        else:
            moved = _move_aside(path, inbox / REFUSED)
            moved.with_name(moved.name + ".error.txt").write_text(outcome.refusal + "\n")
            log.warning("EDI file refused file=%s reason=%s", path.name, outcome.refusal)
        outcomes.append(outcome)
    return outcomes


async def watch_inbox_forever(services: Services) -> None:
    """The background loop app.main runs while serving when GS_EDI_INBOX names a folder."""
    inbox, interval = services.settings.edi_inbox, services.settings.edi_inbox_seconds
    if inbox is None or interval <= 0:
        return
    inbox.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            await import_inbox(services, inbox)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("EDI inbox pass failed")
        await asyncio.sleep(interval)
