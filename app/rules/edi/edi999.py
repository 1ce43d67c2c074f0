"""The 999 Implementation Acknowledgment (005010X231A1): whether each transaction set of a functional group we
sent was accepted, and the segment and element errors when it was not. Read, written, and built for a group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from app.rules.edi import codes
from app.rules.edi.x12 import (
    Envelope,
    FunctionalGroup,
    Grammar,
    Segment,
    TransactionSet,
    X12Error,
    composite,
    read_interchange,
    render_interchange,
    transactions_of,
    walk,
)

IMPLEMENTATION = "005010X231A1"
FUNCTIONAL_ID = "FA"
ACCEPTED, ACCEPTED_WITH_ERRORS, PARTIALLY_ACCEPTED, REJECTED = "A", "E", "P", "R"
# IK501 and AK901 codes under which the set (or group) goes on to the payer's adjudication.
ACCEPTING = frozenset({ACCEPTED, ACCEPTED_WITH_ERRORS})


@dataclass(frozen=True)
class ElementError:
    """IK4: an element of the segment in error."""

    position: int  # IK401-1: the element's number in the segment
    component: int | None  # IK401-2
    repetition: int | None  # IK401-3
    reference_number: str  # IK402: the X12 data element number
    code: str  # IK403
    bad_value: str  # IK404: a copy of the bad data, when the payer sends it

    @property
    def text(self) -> str:
        return codes.describe(codes.ELEMENT_ERRORS, self.code)


@dataclass(frozen=True)
class SegmentError:
    """IK3 with its context and element notes."""

    segment_id: str  # IK301
    position: int  # IK302: the segment's position in the transaction set, ST being 1
    loop: str  # IK303: the guide's loop id, e.g. 2300
    code: str  # IK304; "" when only elements are in error
    claim_number: str | None  # CTX*CLM01:<ours>: the claim the error is in
    elements: tuple[ElementError, ...] = ()

    @property
    def text(self) -> str:
        return codes.describe(codes.SEGMENT_ERRORS, self.code) if self.code else "Data element errors"


@dataclass(frozen=True)
class TransactionSetResponse:
    """AK2 to IK5: one transaction set of the acknowledged group."""

    transaction_set: str  # AK201
    control_number: str  # AK202: the ST02 we sent
    implementation: str  # AK203
    code: str  # IK501
    syntax_errors: tuple[str, ...]  # IK502..IK506
    segment_errors: tuple[SegmentError, ...]

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTING

    @property
    def text(self) -> str:
        return codes.describe(codes.ACKNOWLEDGMENTS, self.code)


@dataclass(frozen=True)
class ImplementationAcknowledgment:
    """One 999: the answer to one functional group."""

    functional_id: str  # AK101: HC for our claims
    group_control_number: str  # AK102: the GS06 we sent
    version: str  # AK103
    code: str  # AK901: A, E, P (some sets rejected) or R
    included: int  # AK902: sets the group said it held
    received: int  # AK903
    accepted_count: int  # AK904
    group_errors: tuple[str, ...]  # AK905..AK909
    responses: tuple[TransactionSetResponse, ...]

    @property
    def text(self) -> str:
        return codes.describe(codes.ACKNOWLEDGMENTS, self.code)

    def response_for(self, control_number: str) -> TransactionSetResponse | None:
        return next((r for r in self.responses if r.control_number == control_number), None)


# ---------------------------------------------------------------- reading

GRAMMAR: Grammar = {
    "start": {"AK1": "header"},
    "header": {"AK2": "2000", "AK9": "trailer"},
    "2000": {"IK3": "2100", "IK5": "2000 end"},
    "2100": {"CTX": "2100", "IK4": "2110", "IK3": "2100", "IK5": "2000 end"},
    "2110": {"CTX": "2110", "IK4": "2110", "IK3": "2100", "IK5": "2000 end"},
    "2000 end": {"AK2": "2000", "AK9": "trailer"},
    "trailer": {},
}


def _number(segment: Segment, position: int) -> int:
    value = segment.required(position)
    if not value.isdigit():
        raise X12Error(f"{segment.id}{position:02d} {value!r} must be a number", segment)
    return int(value)


def _optional_number(segment: Segment, position: int, index: int) -> int | None:
    value = segment.component(position, index)
    if value and not value.isdigit():
        raise X12Error(f"{segment.id}{position:02d}-{index} {value!r} must be a number", segment)
    return int(value) if value else None


def _element_error(ik4: Segment) -> ElementError:
    position = _optional_number(ik4, 1, 1)
    if position is None:
        raise X12Error("IK401-1 is required", ik4)
    return ElementError(
        position, _optional_number(ik4, 1, 2), _optional_number(ik4, 1, 3), ik4[2], ik4.required(3), ik4[4]
    )


def _codes(segment: Segment, first: int, last: int) -> tuple[str, ...]:
    return tuple(segment[n] for n in range(first, last + 1) if segment[n])


def read_999_transaction(transaction: TransactionSet) -> ImplementationAcknowledgment:
    ak1: Segment | None = None
    ak9: Segment | None = None
    responses: list[TransactionSetResponse] = []
    ak2: Segment | None = None
    errors: list[SegmentError] = []
    ik3: Segment | None = None
    claim_number: str | None = None
    elements: list[ElementError] = []

    def close_segment_error() -> None:
        nonlocal ik3, claim_number, elements
        if ik3 is not None:
            errors.append(SegmentError(ik3.required(1), _number(ik3, 2), ik3[3], ik3[4], claim_number, tuple(elements)))
        ik3, claim_number, elements = None, None, []

    for _, segment in walk(transaction, GRAMMAR, "start"):
        match segment.id:
            case "AK1":
                ak1 = segment
            case "AK2":
                ak2, errors = segment, []
            case "IK3":
                close_segment_error()
                ik3 = segment
            case "CTX" if segment.component(1, 1) == "CLM01" and ik3 is not None:
                claim_number = segment.component(1, 2)
            case "IK4":
                elements.append(_element_error(segment))
            case "IK5":
                close_segment_error()
                assert ak2 is not None  # the grammar lets IK5 follow an AK2 only
                responses.append(
                    TransactionSetResponse(
                        ak2.required(1), ak2.required(2), ak2[3], segment.required(1), _codes(segment, 2, 6),
                        tuple(errors),
                    )
                )  # fmt: skip
            case "AK9":
                ak9 = segment
    if ak1 is None or ak9 is None:
        raise X12Error("the 999 has no AK9 (functional group response trailer)", transaction.trailer)
    return ImplementationAcknowledgment(
        ak1.required(1), ak1.required(2), ak1[3], ak9.required(1), _number(ak9, 2), _number(ak9, 3),
        _number(ak9, 4), _codes(ak9, 5, 9), tuple(responses),
    )  # fmt: skip


def read_999(text: str) -> tuple[ImplementationAcknowledgment, ...]:
    """Every 999 of the file; a malformed one raises X12Error naming the segment and line."""
    interchange = read_interchange(text)
    return tuple(read_999_transaction(t) for t in transactions_of(interchange, "999", IMPLEMENTATION))


# ---------------------------------------------------------------- building and writing


def acknowledge_group(
    group: FunctionalGroup, rejections: Mapping[str, Sequence[SegmentError]] | None = None
) -> ImplementationAcknowledgment:
    """The 999 a receiver sends for a group it read: each transaction set accepted, unless `rejections` names
    its ST02 with the segment errors found in it."""
    rejections = rejections or {}
    responses = []
    for transaction in group.transactions:
        errors = tuple(rejections.get(transaction.control_number, ()))
        code = REJECTED if errors else ACCEPTED
        syntax = ("5",) if errors else ()  # IK502 5: one or more segments in error
        responses.append(
            TransactionSetResponse(
                transaction.id, transaction.control_number, transaction.implementation, code, syntax, errors
            )
        )
    accepted = sum(r.accepted for r in responses)
    if accepted == len(responses):
        group_code = ACCEPTED
    elif accepted:
        group_code = PARTIALLY_ACCEPTED
    else:
        group_code = REJECTED
    return ImplementationAcknowledgment(
        group.functional_id, group.control_number, group.version, group_code, len(responses), len(responses),
        accepted, (), tuple(responses),
    )  # fmt: skip


def _optional(value: int | None) -> str:
    return "" if value is None else str(value)


def _body(acknowledgment: ImplementationAcknowledgment) -> list[tuple[str, ...]]:
    body: list[tuple[str, ...]] = [
        ("AK1", acknowledgment.functional_id, acknowledgment.group_control_number, acknowledgment.version)
    ]
    for response in acknowledgment.responses:
        body.append(("AK2", response.transaction_set, response.control_number, response.implementation))
        for error in response.segment_errors:
            body.append(("IK3", error.segment_id, str(error.position), error.loop, error.code))
            if error.claim_number:
                body.append(("CTX", composite("CLM01", error.claim_number)))
            for element in error.elements:
                where = composite(str(element.position), _optional(element.component), _optional(element.repetition))
                body.append(("IK4", where, element.reference_number, element.code, element.bad_value))
        body.append(("IK5", response.code, *response.syntax_errors))
    body.append((
        "AK9", acknowledgment.code, str(acknowledgment.included), str(acknowledgment.received),
        str(acknowledgment.accepted_count), *acknowledgment.group_errors,
    ))  # fmt: skip
    return body


def render_999(envelope: Envelope, acknowledgments: Sequence[ImplementationAcknowledgment]) -> str:
    """A 999 interchange, one transaction set per acknowledged group; the envelope's functional id and guide are
    the 999's whatever the caller passed."""
    envelope = replace(envelope, functional_id=FUNCTIONAL_ID, implementation=IMPLEMENTATION)
    return render_interchange(envelope, "999", [_body(a) for a in acknowledgments])
