"""A zone's VTIMEZONE as calendar apps read it: each yearly change of offset as one RRULE (RFC 5545
3.6.5), not a list of dates on one RDATE line, which ical.js (Thunderbird, many web calendars) reads
only the first of; a change that follows no yearly rule gets an RDATE line of its own."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar

STEP = timedelta(hours=12)  # zones change offset at most once in half a day
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    """One change of offset: the instant, the offsets either side, and the name and kind after it."""

    at: datetime  # UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    @property
    def local(self) -> datetime:
        """The wall time of the change before it happens: what DTSTART and RRULE count in (RFC 5545 3.6.5)."""
        return (self.at + self.offset_from).replace(tzinfo=None)

    @property
    def kind(self) -> tuple[timedelta, timedelta, str, bool]:
        return self.offset_from, self.offset_to, self.name, self.daylight


@dataclass(frozen=True)
class YearlyRule:
    """The n-th (or, with -1, the last) given weekday of a month, at a wall time."""

    month: int
    nth: int
    weekday: int
    at: time

    def day_in(self, year: int) -> date | None:
        length = calendar.monthrange(year, self.month)[1]
        days = [d for d in range(1, length + 1) if calendar.weekday(year, self.month, d) == self.weekday]
        if self.nth > len(days):
            return None
        return date(year, self.month, days[self.nth - 1] if self.nth > 0 else days[-1])

    def next_after(self, change: Transition) -> datetime | None:
        """The UTC instant of the rule's change in the year after this one (the offsets unchanged)."""
        day = self.day_in(change.local.year + 1)
        return None if day is None else datetime.combine(day, self.at, timezone.utc) - change.offset_from

    def matches(self, local: datetime) -> bool:
        return local.time() == self.at and self.day_in(local.year) == local.date()

    def recur(self) -> dict:
        return {"FREQ": "YEARLY", "BYMONTH": self.month, "BYDAY": f"{self.nth}{WEEKDAYS[self.weekday]}"}


def rules_of(local: datetime) -> list[YearlyRule]:
    """The yearly rules a change at this wall time can follow: its weekday's n-th and, in the last week, the last."""
    nth = (local.day - 1) // 7 + 1
    rules = [YearlyRule(local.month, nth, local.weekday(), local.time())]
    if local.day + 7 > calendar.monthrange(local.year, local.month)[1]:
        rules.append(YearlyRule(local.month, -1, local.weekday(), local.time()))
    return rules


def transitions(zone: ZoneInfo, first: datetime, last: datetime) -> list[Transition]:
    """Every change of the zone's offset between two UTC instants."""
    found = []
    before, offset = first, first.astimezone(zone).utcoffset()
    while before < last:
        after = min(before + STEP, last)
        if after.astimezone(zone).utcoffset() != offset:
            low, high = before, after  # the offset changes in (low, high]: halve down to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (low, middle) if middle.astimezone(zone).utcoffset() != offset else (middle, high)
            wall = high.astimezone(zone)
            found.append(Transition(high, offset, wall.utcoffset(), wall.tzname() or "", bool(wall.dst())))
            offset = wall.utcoffset()
        before = after
    return found


def runs(changes: list[Transition], window_end: datetime) -> list[tuple[list[Transition], YearlyRule | None, bool]]:
    """Changes of one kind grouped into runs that follow one yearly rule in consecutive years, each
    with its rule (None for a lone change) and whether it goes on past the window's end."""
    grouped: list[tuple[list[Transition], list[YearlyRule]]] = []
    for change in changes:
        if grouped:
            run, rules = grouped[-1]
            following = [r for r in rules if change.local.year == run[-1].local.year + 1 and r.matches(change.local)]
            if following:
                run.append(change)
                grouped[-1] = (run, following)
                continue
        grouped.append(([change], rules_of(change.local)))
    found = []
    for run, rules in grouped:
        rule = rules[-1] if len(run) > 1 else None  # "the last Sunday" over "the fifth" where both hold
        upcoming = rule.next_after(run[-1]) if rule else None
        found.append((run, rule, upcoming is not None and upcoming >= window_end))
    return found


def vtimezone(tzid: str, first: date, last: date) -> icalendar.Timezone:
    """The VTIMEZONE of an IANA zone, true from `first` to `last` and, where the zone's last yearly
    rules still hold, after it: what a calendar app needs to place events of those years exactly."""
    zone = ZoneInfo(tzid)
    start = datetime.combine(first, time(), zone).astimezone(timezone.utc)
    end = datetime.combine(last, time(), zone).astimezone(timezone.utc)
    component = icalendar.Timezone()
    component.add("tzid", tzid)
    opening = start.astimezone(zone)
    component.add_component(
        _observance(
            Transition(start, opening.utcoffset(), opening.utcoffset(), opening.tzname() or "", bool(opening.dst()))
        )
    )
    changes = transitions(zone, start, end)
    kinds = sorted({c.kind for c in changes}, key=lambda k: next(c.at for c in changes if c.kind == k))
    for kind in kinds:
        lone = []
        for run, rule, ongoing in runs([c for c in changes if c.kind == kind], end):
            if rule is None:
                lone.extend(run)
                continue
            observance = _observance(run[0])
            observance.add("rrule", rule.recur() if ongoing else {**rule.recur(), "UNTIL": run[-1].at})
            component.add_component(observance)
        if lone:
            observance = _observance(lone[0])
            for change in lone[1:]:
                observance.add("rdate", change.local)  # a line each
            component.add_component(observance)
    return component


def _observance(change: Transition) -> icalendar.cal.Component:
    observance = icalendar.TimezoneDaylight() if change.daylight else icalendar.TimezoneStandard()
    observance.add("dtstart", change.local)
    observance.add("tzoffsetfrom", change.offset_from)
    observance.add("tzoffsetto", change.offset_to)
    observance.add("tzname", change.name)
    return observance
