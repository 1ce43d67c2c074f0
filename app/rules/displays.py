"""Room displays (issue 18): pairing codes, the guessing limit, how a patient's name reads on a wall,
and which session a room's display shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# No 0/O, 1/I/L: a code is read off a screen across a room and typed on a keyboard.
PAIRING_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PAIRING_CODE_LENGTH = 6
PAIRING_CODE_TTL = timedelta(minutes=10)
# Wrong codes a caller may send within the window before pairing is refused for the rest of it.
GUESS_LIMIT = 5
GUESS_WINDOW = timedelta(minutes=10)
# A device credential lasts a year; the page replaces it long before, after ROTATE_AFTER (the display
# page's own ROTATE_AFTER_MS: tests/rules/test_displays.py holds the two equal).
CREDENTIAL_LIFETIME = timedelta(days=365)
ROTATE_AFTER = timedelta(days=7)


class NameFormat(StrEnum):
    FIRST_NAME_LAST_INITIAL = "FIRST_NAME_LAST_INITIAL"
    INITIALS = "INITIALS"


class DisplayMode(StrEnum):
    STAFF = "STAFF"  # the session, every member's status, the billing panel
    PATIENT_FACING = "PATIENT_FACING"  # for screens patients see: no billing panel, no member's status


class PairingState(StrEnum):
    PENDING = "PENDING"
    EXPIRED = "EXPIRED"
    PAIRED = "PAIRED"


def normalize_code(text: str) -> str | None:
    """The code as typed ("abc-234", " ABC 234 ") in its canonical form, or None when it cannot be a code."""
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if len(code) != PAIRING_CODE_LENGTH or any(ch not in PAIRING_CODE_ALPHABET for ch in code):
        return None
    return code


def format_code(code: str) -> str:
    """How the screen shows it: two groups of three."""
    return f"{code[:3]}-{code[3:]}"


def pairing_state(*, expires_at: datetime, paired_at: datetime | None, now: datetime) -> PairingState:
    if paired_at is not None:
        return PairingState.PAIRED
    return PairingState.PENDING if now < expires_at else PairingState.EXPIRED


@dataclass(frozen=True)
class GuessDecision:
    allowed: bool
    recent: tuple[datetime, ...]  # the failures still inside the window, oldest first
    retry_after: timedelta  # zero when allowed


def guess_decision(
    failures: Sequence[datetime], now: datetime, *, limit: int = GUESS_LIMIT, window: timedelta = GUESS_WINDOW
) -> GuessDecision:
    """Whether a caller with these failed attempts may try another code now."""
    recent = tuple(sorted(f for f in failures if now - f < window))
    if len(recent) < limit:
        return GuessDecision(True, recent, timedelta(0))
    return GuessDecision(False, recent, recent[-limit] + window - now)


def display_name(full_name: str, name_format: NameFormat) -> str:
    """A patient as a wall shows them: "Ana R." by default, "A. R." with initials. Never more: a name
    stored as "Reyes, Ana" reads "Ana R." too, and a surname alone only as its initial."""
    surname, comma, given = full_name.partition(",")
    if comma:
        first = next(iter(given.split()), "")
        last = next(iter(surname.split()), "")
    else:
        parts = full_name.split()
        first = parts[0] if parts else ""
        last = parts[-1] if len(parts) > 1 else ""
    if not first and not last:
        return "?"
    if name_format == NameFormat.INITIALS or not first:
        return " ".join(f"{part[0].upper()}." for part in (first, last) if part)
    return f"{first} {last[0].upper()}." if last else first


@dataclass(frozen=True)
class RoomSlot:
    """A live (not cancelled) session in the room: its id and its time window."""

    session_id: object
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class RoomPick:
    session_id: object | None  # the session in progress, else the next one today, else None
    changes_at: datetime  # when the pick may change by the clock alone


def pick_session(slots: Sequence[RoomSlot], now: datetime, timezone: str) -> RoomPick:
    """The session a room's display shows: the one in progress (the earliest-started, if sessions
    overlap), else the next to start today (facility time), else none. `changes_at` is the next
    boundary: the shown session's end or start, or the facility's midnight."""
    midnight = local_midnight_after(now, timezone)
    in_progress = sorted((s for s in slots if s.starts_at <= now < s.ends_at), key=lambda s: (s.starts_at, s.ends_at))
    later = sorted((s for s in slots if now < s.starts_at < midnight), key=lambda s: s.starts_at)
    if in_progress:
        return RoomPick(in_progress[0].session_id, in_progress[0].ends_at)
    if later:
        return RoomPick(later[0].session_id, later[0].starts_at)
    return RoomPick(None, midnight)


def local_midnight_after(now: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()
