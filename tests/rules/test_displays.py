"""Room displays: pairing codes, the guessing limit, names on a wall, the session a room shows."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.http.assets import ASSETS
from app.rules.displays import (
    CREDENTIAL_LIFETIME,
    GUESS_LIMIT,
    GUESS_WINDOW,
    ROTATE_AFTER,
    NameFormat,
    PairingState,
    RoomSlot,
    display_name,
    format_code,
    guess_decision,
    normalize_code,
    pairing_state,
    pick_session,
)

PHOENIX = "America/Phoenix"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo(PHOENIX))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ABC234", "ABC234"),
        ("abc-234", "ABC234"),
        (" AB C2 34 ", "ABC234"),
        ("ABC23", None),  # too short
        ("ABC2345", None),  # too long
        ("ABC10O", None),  # 0, 1 and O are never in a code
        ("ABCI34", None),  # nor I
        ("", None),
        ("ÄBC234", None),
    ],
)
def test_normalize_code(typed, code):
    assert normalize_code(typed) == code


def test_format_code_groups_by_three():
    assert format_code("ABC234") == "ABC-234"


@pytest.mark.parametrize(
    ("paired", "minutes_later", "state"),
    [
        (False, 0, PairingState.PENDING),
        (False, 9.9, PairingState.PENDING),
        (False, 10, PairingState.EXPIRED),  # expires exactly at ten minutes
        (False, 60, PairingState.EXPIRED),
        (True, 0, PairingState.PAIRED),  # used once: never pending again
        (True, 60, PairingState.PAIRED),
    ],
)
def test_pairing_state(paired, minutes_later, state):
    expires_at = NOW + timedelta(minutes=10)
    assert (
        pairing_state(
            expires_at=expires_at, paired_at=NOW if paired else None, now=NOW + timedelta(minutes=minutes_later)
        )
        == state
    )


def _ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


@pytest.mark.parametrize(
    ("failures", "allowed", "retry_after", "kept"),
    [
        ([], True, timedelta(0), 0),
        (_ago(1, 2, 3, 4), True, timedelta(0), 4),  # four wrong codes: a fifth try is allowed
        (_ago(1, 2, 3, 4, 5), False, timedelta(minutes=5), 5),  # the oldest of the five leaves the window in 5 minutes
        (_ago(1, 2, 3, 4, 9), False, timedelta(minutes=1), 5),
        (_ago(1, 2, 3, 4, 10), True, timedelta(0), 4),  # ten minutes old: out of the window
        (_ago(1, 1, 1, 1, 1, 1, 1), False, timedelta(minutes=9), 7),  # retry_after counts from the limit-th newest
        (_ago(11, 12, 13, 14, 15, 16), True, timedelta(0), 0),
    ],
)
def test_guess_decision(failures, allowed, retry_after, kept):
    decision = guess_decision(failures, NOW)
    assert (decision.allowed, decision.retry_after, len(decision.recent)) == (allowed, retry_after, kept)


def test_guess_limits_are_what_the_issue_asks():
    assert GUESS_LIMIT == 5 and GUESS_WINDOW == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("name", "name_format", "shown"),
    [
        ("Ana Reyes", NameFormat.FIRST_NAME_LAST_INITIAL, "Ana R."),
        ("Ana María Reyes Soto", NameFormat.FIRST_NAME_LAST_INITIAL, "Ana S."),
        ("  Ana   reyes ", NameFormat.FIRST_NAME_LAST_INITIAL, "Ana R."),
        ("Reyes, Ana", NameFormat.FIRST_NAME_LAST_INITIAL, "Ana R."),  # "Last, First": never the surname
        ("Reyes Soto, Ana María", NameFormat.FIRST_NAME_LAST_INITIAL, "Ana R."),
        ("  reyes ,  ana ", NameFormat.FIRST_NAME_LAST_INITIAL, "ana R."),
        ("Reyes, Ana", NameFormat.INITIALS, "A. R."),
        ("Reyes,", NameFormat.FIRST_NAME_LAST_INITIAL, "R."),  # a surname alone: its initial only
        (", Ana", NameFormat.FIRST_NAME_LAST_INITIAL, "Ana"),
        (",", NameFormat.FIRST_NAME_LAST_INITIAL, "?"),
        ("Cher", NameFormat.FIRST_NAME_LAST_INITIAL, "Cher"),
        ("Ana Reyes", NameFormat.INITIALS, "A. R."),
        ("ana maría reyes", NameFormat.INITIALS, "A. R."),
        ("Cher", NameFormat.INITIALS, "C."),
        ("", NameFormat.INITIALS, "?"),
        ("   ", NameFormat.FIRST_NAME_LAST_INITIAL, "?"),
    ],
)
def test_display_name(name, name_format, shown):
    assert display_name(name, name_format) == shown


def _slot(name: str, start_hour: float, end_hour: float) -> RoomSlot:
    base = NOW.replace(hour=0, minute=0)
    return RoomSlot(name, base + timedelta(hours=start_hour), base + timedelta(hours=end_hour))


MORNING, MIDDAY, EVENING = _slot("morning", 9, 11), _slot("midday", 11, 13), _slot("evening", 18, 20)
MIDNIGHT = datetime(2026, 3, 3, 0, 0, tzinfo=ZoneInfo(PHOENIX))
TOMORROW = _slot("tomorrow", 24 + 9, 24 + 11)


def _at(hour: float) -> datetime:
    return NOW.replace(hour=0, minute=0) + timedelta(hours=hour)


@pytest.mark.parametrize(
    ("slots", "hour", "shown", "changes_at"),
    [
        ([MORNING, MIDDAY, EVENING], 8, "morning", _at(9)),  # before the first: the next today, until it starts
        ([MORNING, MIDDAY, EVENING], 9, "morning", _at(11)),  # starts at its start
        ([MORNING, MIDDAY, EVENING], 10.99, "morning", _at(11)),
        ([MORNING, MIDDAY, EVENING], 11, "midday", _at(13)),  # back to back: the boundary switches
        ([MORNING, MIDDAY, EVENING], 14, "evening", _at(18)),  # a gap: the next one today
        ([MORNING, MIDDAY, EVENING], 20, None, MIDNIGHT),  # all over: nothing until midnight
        ([TOMORROW], 10, None, MIDNIGHT),  # tomorrow's is not today's
        ([], 10, None, MIDNIGHT),
        ([_slot("long", 9, 12), _slot("overlap", 10, 11)], 10.5, "long", _at(12)),  # overlap: the earlier start stays
        ([_slot("overlap", 10, 11), _slot("long", 9, 12)], 11.5, "long", _at(12)),
    ],
)
def test_pick_session(slots, hour, shown, changes_at):
    pick = pick_session(slots, _at(hour), PHOENIX)
    assert (pick.session_id, pick.changes_at) == (shown, changes_at)


def test_pick_session_uses_the_facilitys_day_not_utc():
    late_evening = datetime(2026, 3, 2, 22, 0, tzinfo=ZoneInfo(PHOENIX))  # already 3 March in UTC
    slot = RoomSlot("late", late_evening + timedelta(minutes=30), late_evening + timedelta(hours=1))
    pick = pick_session([slot], late_evening.astimezone(timezone.utc), PHOENIX)
    assert pick.session_id == "late"


def test_the_display_page_replaces_its_credential_after_rotate_after_long_before_it_expires():
    script = (ASSETS / "display" / "display.js").read_text(encoding="utf-8")
    product = re.search(r"^const ROTATE_AFTER_MS = ([0-9_ *]+);", script, re.MULTILINE)
    assert product is not None, "display.js no longer declares ROTATE_AFTER_MS as a product of numbers"
    milliseconds = math.prod(int(factor.replace("_", "")) for factor in product.group(1).split("*"))
    assert timedelta(milliseconds=milliseconds) == ROTATE_AFTER < CREDENTIAL_LIFETIME / 10
