"""RFC 5545 recurrence rules for group schedules."""
from __future__ import annotations

from datetime import datetime

from dateutil.rrule import DAILY, rrulestr

MAX_FREQUENCY = DAILY  # dateutil numbers YEARLY=0 ... DAILY=3, HOURLY=4, MINUTELY=5, SECONDLY=6


def recurrence_rule_problem(rule: str, anchor: datetime | None = None) -> str | None:
    """Why the RRULE value cannot be used (malformed, carries DTSTART, more frequent than DAILY)."""
    text = rule.strip()
    if not text:
        return "recurrenceRule must not be empty"
    if len(text) > 500:
        return "recurrenceRule must be at most 500 characters"
    upper = text.upper()
    if upper.startswith("RRULE:"):
        text = text[6:]
        upper = upper[6:]
    if "DTSTART" in upper or "\n" in text:
        return "recurrenceRule is an RRULE value only (no DTSTART line); recurrenceStart anchors it"
    try:
        parsed = rrulestr(text, dtstart=anchor or datetime(2000, 1, 3, 9, 0))
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return f"recurrenceRule does not parse: {error}"
    if parsed._freq > MAX_FREQUENCY:  # noqa: SLF001 - dateutil exposes no public accessor
        return "recurrenceRule may not be more frequent than DAILY"
    if parsed._interval < 1:  # noqa: SLF001
        return "recurrenceRule INTERVAL must be at least 1"
    return None
