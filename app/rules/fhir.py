"""The FHIR R4 read API's rules: which resources a token may read (our scopes, and SMART's
`patient/…` and `user/…` spellings), the search parameters each resource takes, FHIR's date
prefixes, and our statuses as FHIR codes (both ways, for reads and for `status` searches)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum

from app.rules.attendance import AttendanceStatus
from app.rules.claims import ChargeStatus, ClaimStatus
from app.rules.scopes import Scope
from app.rules.visits import Modality

FHIR_VERSION = "4.0.1"
DEFAULT_COUNT = 50
MAX_COUNT = 100


class SearchType(StrEnum):
    TOKEN = "token"
    DATE = "date"
    REFERENCE = "reference"


@dataclass(frozen=True)
class SearchParameter:
    name: str
    type: SearchType
    documentation: str


_ID = SearchParameter("_id", SearchType.TOKEN, "The resource's id")
_LAST_UPDATED = SearchParameter("_lastUpdated", SearchType.DATE, "When the resource last changed (meta.lastUpdated)")
_PATIENT = SearchParameter("patient", SearchType.REFERENCE, "Patient/<id>, or the id alone")

# Every resource served, the scope that reads the same records in the GraphQL API, and its search
# parameters beside _count: the CapabilityStatement lists exactly these.
RESOURCE_SCOPES: Mapping[str, Scope] = {
    "Patient": Scope.ENROLLMENTS_VIEW,
    "Practitioner": Scope.GROUP_DEFINITIONS_VIEW,
    "Group": Scope.GROUP_DEFINITIONS_VIEW,
    "Appointment": Scope.GROUP_SCHEDULE_VIEW,
    "Encounter": Scope.SESSION_READ,
    "ChargeItem": Scope.BILLING_READ,
    "Claim": Scope.BILLING_READ,
}
SEARCH_PARAMETERS: Mapping[str, tuple[SearchParameter, ...]] = {
    "Patient": (_ID, _LAST_UPDATED),
    "Practitioner": (_ID, _LAST_UPDATED),
    "Group": (_ID, _LAST_UPDATED, SearchParameter("member", SearchType.REFERENCE, "An enrolled member: Patient/<id>")),
    "Appointment": (
        _ID,
        _LAST_UPDATED,
        SearchParameter("date", SearchType.DATE, "When the occurrence starts"),
        SearchParameter("status", SearchType.TOKEN, "booked | fulfilled | cancelled"),
        SearchParameter("patient", SearchType.REFERENCE, "A member on the session's roster"),
        SearchParameter("practitioner", SearchType.REFERENCE, "The facilitator or co-facilitator"),
    ),
    "Encounter": (
        _ID,
        _LAST_UPDATED,
        SearchParameter("date", SearchType.DATE, "When the session starts"),
        SearchParameter("status", SearchType.TOKEN, "planned | finished | cancelled"),
        _PATIENT,
        SearchParameter("class", SearchType.TOKEN, "AMB (in person) | VR (telehealth)"),
    ),
    "ChargeItem": (
        _ID,
        _LAST_UPDATED,
        _PATIENT,
        SearchParameter("occurrence", SearchType.DATE, "The date of service"),
    ),
    "Claim": (
        _ID,
        _LAST_UPDATED,
        _PATIENT,
        SearchParameter("status", SearchType.TOKEN, "draft | active | cancelled"),
        SearchParameter("created", SearchType.DATE, "When the claim was built"),
    ),
}
# What a `patient/…` scope reaches: the patient's own records; and, within the token's facilities,
# the practitioners those records name (staff names and NPIs, no one else's health information).
PATIENT_COMPARTMENT = frozenset({"Patient", "Encounter", "Appointment", "ChargeItem", "Claim"})
NAMED_BY_PATIENT_RECORDS = frozenset({"Practitioner"})
SMART_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Za-z]+)\.(read|\*|[cruds]+)$")


@dataclass(frozen=True)
class Access:
    """What a token may read: every resource type of `readable`, within its facilities; those also
    in `patient_only` only as far as they are the token's patient's (SMART's patient context)."""

    readable: frozenset[str]
    patient_only: frozenset[str]

    def may_read(self, resource_type: str) -> bool:
        return resource_type in self.readable

    def patient_bound(self, resource_type: str) -> bool:
        return resource_type in self.patient_only


def _smart_reads(permissions: str) -> bool:
    """v1 `read` or `*`; v2 letters (`rs`, `cruds`) that include both read and search."""
    return permissions in ("read", "*") or ("r" in permissions and "s" in permissions)


def access(scopes: Iterable[str], has_patient_context: bool) -> Access:
    """Our scopes read what they read in GraphQL; `user/X.read` and `system/X.read` read X within the
    token's facilities; `patient/X.read` reads X's records of the token's patient (a token with no
    `patient` claim gets nothing from it); `*` stands for every resource served."""
    full: set[str] = set()
    bound: set[str] = set()
    for scope in scopes:
        for resource_type, needed in RESOURCE_SCOPES.items():
            if scope == needed:
                full.add(resource_type)
        match = SMART_SCOPE.match(scope)
        if match is None or not _smart_reads(match[3]):
            continue
        context, resource = match[1], match[2]
        types = set(RESOURCE_SCOPES) if resource == "*" else ({resource} & set(RESOURCE_SCOPES))
        if context == "patient":
            if has_patient_context:
                bound |= types & PATIENT_COMPARTMENT
                full |= types & NAMED_BY_PATIENT_RECORDS
        else:
            full |= types
    bound -= full
    return Access(readable=frozenset(full | bound), patient_only=frozenset(bound))


# ------------------------------------------------------------------ search values


@dataclass(frozen=True)
class Range:
    """[start, end): either side open when None."""

    start: datetime | None = None
    end: datetime | None = None

    def narrowed(self, other: Range) -> Range:
        starts = [m for m in (self.start, other.start) if m is not None]
        ends = [m for m in (self.end, other.end) if m is not None]
        return Range(max(starts) if starts else None, min(ends) if ends else None)


DATE_VALUE = re.compile(
    r"^(?P<prefix>eq|ne|lt|le|gt|ge|sa|eb|ap)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def _interval(m: re.Match) -> tuple[datetime, datetime]:
    """The value's whole interval at its precision (a day, a month, a year, a second), in UTC; a
    value without a zone is read as UTC."""
    year = int(m["year"])
    if m["month"] is None:
        start = datetime(year, 1, 1, tzinfo=timezone.utc)
        return start, start.replace(year=year + 1)
    month = int(m["month"])
    if m["day"] is None:
        start = datetime(year, month, 1, tzinfo=timezone.utc)
        return start, (start.replace(year=year + 1, month=1) if month == 12 else start.replace(month=month + 1))
    day = date(year, month, int(m["day"]))
    if m["hour"] is None:
        start = datetime.combine(day, time(0), tzinfo=timezone.utc)
        return start, start + timedelta(days=1)
    zone = timezone.utc
    if m["zone"] and m["zone"] != "Z":
        sign = 1 if m["zone"][0] == "+" else -1
        hours, minutes = m["zone"][1:].split(":")
        zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    moment = datetime.combine(day, time(int(m["hour"]), int(m["minute"]), int(m["second"] or 0)), tzinfo=zone)
    return moment, moment + timedelta(seconds=1)


def date_range(value: str) -> Range:
    """A date search value (`ge2026-01-01`, `2026-01`, `lt2026-01-07T09:00:00-07:00`) as the range of
    moments it selects. Raises ValueError for what it cannot read (and for ne/sa/eb/ap, not served)."""
    m = DATE_VALUE.match(value)
    if m is None:
        raise ValueError(
            f"{value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime), with an optional prefix"
        )
    try:
        low, high = _interval(m)
    except ValueError:
        raise ValueError(f"{value!r} is not a date") from None
    prefix = m["prefix"] or "eq"
    ranges = {
        "eq": Range(low, high),
        "ge": Range(low, None),
        "gt": Range(high, None),
        "le": Range(None, high),
        "lt": Range(None, low),
    }
    if prefix not in ranges:
        raise ValueError(f"the date prefix {prefix!r} is not served (eq, lt, le, gt, ge are)")
    return ranges[prefix]


def count(value: str | None) -> int:
    if value is None:
        return DEFAULT_COUNT
    if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
        raise ValueError(f"_count must be a whole number from 1 to {MAX_COUNT}")
    return int(value)


# ------------------------------------------------------------------ statuses, both ways


def encounter_status(attendance: str, session_cancelled: bool) -> str:
    if session_cancelled or attendance == AttendanceStatus.ABSENT:
        return "cancelled"
    if attendance in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE):
        return "finished"
    return "planned"


ENCOUNTER_STATUSES = ("planned", "finished", "cancelled")


def encounter_class(modality: Modality) -> tuple[str, str]:
    """HL7 v3 ActCode: telehealth (video or audio) is the virtual class."""
    return ("AMB", "ambulatory") if modality == Modality.IN_PERSON else ("VR", "virtual")


def appointment_status(cancelled: bool, ended: bool) -> str:
    if cancelled:
        return "cancelled"
    return "fulfilled" if ended else "booked"


APPOINTMENT_STATUSES = ("booked", "fulfilled", "cancelled")

CHARGE_ITEM_STATUS: Mapping[str, str] = {ChargeStatus.ACTIVE: "billable", ChargeStatus.VOIDED: "aborted"}
CLAIM_STATUS: Mapping[str, str] = {
    ClaimStatus.DRAFT: "draft",
    ClaimStatus.SUBMITTED: "active",
    ClaimStatus.VOIDED: "cancelled",
    ClaimStatus.REPLACED: "cancelled",
    ClaimStatus.ACCEPTED: "active",
    ClaimStatus.REJECTED: "active",
    ClaimStatus.PAID: "active",
    ClaimStatus.PARTIALLY_PAID: "active",
    ClaimStatus.DENIED: "active",
    ClaimStatus.REVERSED: "active",
}


def claim_statuses_for(codes: Iterable[str]) -> set[str]:
    """Our claim statuses behind FHIR status codes (a `status` search)."""
    wanted = set(codes)
    return {ours for ours, theirs in CLAIM_STATUS.items() if theirs in wanted}


GENDER: Mapping[str, str] = {"F": "female", "M": "male", "U": "unknown", "X": "other", "O": "other"}
