"""Partial attendance and telehealth: when a member arrived and left, how many minutes count, a
payer's minimum for a billable group visit, and the place of service and modifiers a modality
puts on the claim (CMS's telehealth rules by default, a payer's own mapping where it has one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.rules.attendance import AttendanceStatus


class Modality(StrEnum):
    IN_PERSON = "IN_PERSON"
    TELEHEALTH_VIDEO = "TELEHEALTH_VIDEO"
    TELEHEALTH_AUDIO = "TELEHEALTH_AUDIO"


IN_PERSON, TELEHEALTH_VIDEO, TELEHEALTH_AUDIO = Modality
TELEHEALTH = frozenset({TELEHEALTH_VIDEO, TELEHEALTH_AUDIO})

# CMS place-of-service codes for telehealth: 02 = the patient is somewhere other than home,
# 10 = the patient is at home. Modifier 95 = synchronous audio-video, 93 = audio only.
POS_TELEHEALTH_ELSEWHERE, POS_TELEHEALTH_HOME = "02", "10"
MODIFIER_VIDEO, MODIFIER_AUDIO = "95", "93"
MAX_MODIFIERS = 4  # SV101 carries four
MAX_MINIMUM_MINUTES = 720


# ------------------------------------------------------------------ arrival, departure, minutes


@dataclass(frozen=True)
class Stay:
    """When a member arrived and left; None where not recorded."""

    arrived_at: datetime | None
    departed_at: datetime | None


def default_stay(status: str, starts_at: datetime, ends_at: datetime, marked_at: datetime) -> Stay:
    """What marking a member records when no times are given: ATTENDED covers the session's window;
    LATE records the arrival only, the minute it was marked (the start, if marked before it). A LATE
    marked after the session ended records no arrival: the time of marking says nothing about when
    the member came, and the tablet should give `arrivedAt`. Anything else records nothing."""
    if status == AttendanceStatus.ATTENDED:
        return Stay(starts_at, ends_at)
    if status == AttendanceStatus.LATE:
        if marked_at >= ends_at:
            return Stay(None, None)
        return Stay(max(marked_at.replace(second=0, microsecond=0), starts_at), None)
    return Stay(None, None)


def stay_problem(stay: Stay, starts_at: datetime, ends_at: datetime) -> str | None:
    """Times must carry an offset, fall inside the session's window, and leave after arriving."""
    for label, moment in (("arrivedAt", stay.arrived_at), ("departedAt", stay.departed_at)):
        if moment is None:
            continue
        if moment.tzinfo is None:
            return f"{label} must carry a UTC offset"
        if not starts_at <= moment <= ends_at:
            return f"{label} must fall within the session ({starts_at.isoformat()} to {ends_at.isoformat()})"
    if stay.arrived_at and stay.departed_at and stay.departed_at <= stay.arrived_at:
        return "departedAt must be after arrivedAt"
    return None


def minutes_present(status: str, stay: Stay, starts_at: datetime, ends_at: datetime) -> int:
    """Minutes in the group: from arrival (or the start) to departure (or the end), clipped to the
    window; 0 for a member who was not there."""
    if status not in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE):
        return 0
    start = max(stay.arrived_at or starts_at, starts_at)
    end = min(stay.departed_at or ends_at, ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def minimum_minutes_problem(value: int | None) -> str | None:
    if value is not None and not 1 <= value <= MAX_MINIMUM_MINUTES:
        return f"minimumMinutes must be between 1 and {MAX_MINIMUM_MINUTES}"
    return None


def meets_minimum(minutes: int, minimum: int | None) -> bool:
    return minimum is None or minutes >= minimum


# ------------------------------------------------------------------ place of service and modifiers


@dataclass(frozen=True)
class TelehealthCoding:
    """How a payer codes one telehealth modality: POS at home, POS elsewhere, and the modifier."""

    home_place_of_service: str
    other_place_of_service: str
    modifier: str | None


CMS_TELEHEALTH: dict[Modality, TelehealthCoding] = {
    TELEHEALTH_VIDEO: TelehealthCoding(POS_TELEHEALTH_HOME, POS_TELEHEALTH_ELSEWHERE, MODIFIER_VIDEO),
    TELEHEALTH_AUDIO: TelehealthCoding(POS_TELEHEALTH_HOME, POS_TELEHEALTH_ELSEWHERE, MODIFIER_AUDIO),
}
PLACES_OF_SERVICE = frozenset({"02", "10", "11", "53"})
TELEHEALTH_MODIFIERS = frozenset({"95", "93", "GT", "FQ", "FR"})


@dataclass(frozen=True)
class ServiceCoding:
    place_of_service: str
    modifiers: tuple[str, ...]


def service_coding(
    modality: str,
    *,
    patient_at_home: bool,
    band_modifiers: tuple[str, ...],
    facility_place_of_service: str,
    overrides: Mapping[str, TelehealthCoding] | None = None,
) -> ServiceCoding:
    """The claim's place of service and SV101 modifiers for one member: in person, the facility's
    POS and the band's modifiers; by telehealth, the payer's mapping (CMS's by default) and its
    modifier after the band's, never twice and never more than four."""
    if modality not in TELEHEALTH:
        return ServiceCoding(facility_place_of_service, band_modifiers[:MAX_MODIFIERS])
    coding = (overrides or {}).get(modality) or CMS_TELEHEALTH[Modality(modality)]
    pos = coding.home_place_of_service if patient_at_home else coding.other_place_of_service
    modifiers = list(band_modifiers)
    if coding.modifier and coding.modifier not in modifiers:
        modifiers.append(coding.modifier)
    return ServiceCoding(pos, tuple(modifiers[:MAX_MODIFIERS]))


def effective_modality(session_modality: str, row_modality: str | None) -> Modality:
    """A member may join differently from the room; unset, they join as the session runs."""
    return Modality(row_modality or session_modality)


def telehealth_coding_problem(modality: str, coding: TelehealthCoding) -> str | None:
    if modality not in TELEHEALTH:
        return f"a place-of-service mapping is for telehealth modalities, not {modality}"
    for pos in (coding.home_place_of_service, coding.other_place_of_service):
        if pos not in PLACES_OF_SERVICE:
            return f"place of service {pos!r} is not one of {', '.join(sorted(PLACES_OF_SERVICE))}"
    if coding.modifier is not None and coding.modifier not in TELEHEALTH_MODIFIERS:
        return f"modifier {coding.modifier!r} is not one of {', '.join(sorted(TELEHEALTH_MODIFIERS))}"
    return None
