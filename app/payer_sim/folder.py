"""The simulated payer's mailbox: every 837P and 270 in a folder answered into another, as a clearinghouse's
SFTP drop would be."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.payer_sim.answers import answer_claims, answer_inquiries
from app.payer_sim.policy import Outcome, Policy
from app.rules.edi.x12 import X12Error, read_interchange

SUFFIXES = (".837", ".270", ".x12", ".edi", ".txt")


@dataclass
class FolderReport:
    written: list[Path] = field(default_factory=list)
    refused: dict[Path, str] = field(default_factory=dict)  # the file and why it could not be read
    outcomes: dict[str, Outcome] = field(default_factory=dict)


def answer_folder(inbox: Path, outbox: Path, policy: Policy | None = None) -> FolderReport:
    """Answers each file of `inbox` (by name order, so the policy's mix always falls the same way) into `outbox`:
    NAME.999, NAME.277, NAME.835 and NAME.reversal.835 for a claim batch, NAME.271 for an inquiry. A file that
    cannot be read is reported, not answered."""
    policy = policy or Policy()
    outbox.mkdir(parents=True, exist_ok=True)
    report = FolderReport()
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES):
        text = path.read_text(encoding="ascii", errors="replace")
        try:
            kind = read_interchange(text).transactions[0].id
            if kind == "270":
                answers = {".271": answer_inquiries(text, policy)}
            else:
                claims = answer_claims(text, policy, first_turn=len(report.outcomes))
                report.outcomes.update(claims.outcomes)
                answers = {
                    ".999": claims.acknowledgment,
                    ".277": claims.claim_acknowledgment,
                    ".835": claims.remittance,
                    ".reversal.835": claims.reversal,
                }
        except X12Error as error:
            report.refused[path] = error.message
            continue
        for suffix, answer in answers.items():
            if answer is not None:
                target = outbox / (path.stem + suffix)
                target.write_text(answer, encoding="ascii")
                report.written.append(target)
    return report
