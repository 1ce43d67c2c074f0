"""Many claims in one 837P interchange: the files the 837P writer (app/rules/edi837.py) made for each claim of a
batch, under the batch's one control number, put together as one functional group with a transaction set per
claim (005010X222A1 allows many ST/SE in a GS/GE). The writer's segments are kept as it wrote them; only ST02 and
SE02 are numbered anew and GE01 counts the sets."""

from __future__ import annotations

from collections.abc import Sequence

from app.rules.edi.x12 import ISA_LENGTH, read_interchange, render_segment


def set_number(index: int) -> str:
    """ST02 of the batch's index-th transaction set (1-based)."""
    return f"{index:04d}"


def batch_837p(claim_files: Sequence[str]) -> str:
    """One interchange from claim files that share one ISA and GS (the same sender, receiver, time, usage and
    control number): their envelopes once, each file's transaction set in turn."""
    if not claim_files:
        raise ValueError("a batch holds at least one claim")
    interchanges = [read_interchange(text) for text in claim_files]
    first = interchanges[0]
    for other in interchanges[1:]:
        if (other.control_number, other.sender_id, other.receiver_id, other.production) != (
            first.control_number, first.sender_id, first.receiver_id, first.production,
        ):  # fmt: skip
            raise ValueError("the claims of a batch share one interchange: sender, receiver, usage, control number")
    isa = claim_files[0].lstrip()[:ISA_LENGTH]  # fixed width, as the writer wrote it
    gs = render_segment(("GS", *first.groups[0].header.elements))
    lines = [isa, gs]
    count = 0
    for interchange in interchanges:
        for transaction in interchange.transactions:
            count += 1
            number = set_number(count)
            for segment in transaction.segments:
                elements = list(segment.elements)
                if segment.id == "ST":
                    elements[1] = number
                elif segment.id == "SE":
                    elements[1] = number
                lines.append(render_segment((segment.id, *elements)))
    control = first.groups[0].control_number
    lines.append(render_segment(("GE", str(count), control)))
    lines.append(render_segment(("IEA", "1", first.control_number)))
    return "\n".join(lines) + "\n"
