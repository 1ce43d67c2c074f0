"""The self-filling waitlist (rules.md §5): who gets a seat, who waits, who moves up."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from enum import StrEnum

from app.errors import Conflict, IllegalTransition


class EnrollmentStatus(StrEnum):
    ENROLLED = "ENROLLED"
    WAITLISTED = "WAITLISTED"
    DISENROLLED = "DISENROLLED"


ENROLLED, WAITLISTED, DISENROLLED = EnrollmentStatus


@dataclass(frozen=True)
class Line:
    """A group's live enrollments, keyed by patient: who holds a seat and who waits, in order.

    `waitlist[0]` holds position 1, so positions read 1..n by construction.
    """

    max_capacity: int
    enrolled: tuple[Hashable, ...] = ()
    waitlist: tuple[Hashable, ...] = ()

    @property
    def open_seats(self) -> int:
        return max(0, self.max_capacity - len(self.enrolled))

    def status_of(self, patient: Hashable) -> EnrollmentStatus | None:
        if patient in self.enrolled:
            return ENROLLED
        if patient in self.waitlist:
            return WAITLISTED
        return None

    def position_of(self, patient: Hashable) -> int | None:
        return self.waitlist.index(patient) + 1 if patient in self.waitlist else None


@dataclass(frozen=True)
class Change:
    """The line after a change, and who was promoted from the waitlist (lowest position first)."""

    line: Line
    promoted: tuple[Hashable, ...] = ()


def at_capacity(enrolled: int, max_capacity: int) -> bool:
    return enrolled >= max_capacity


def below_minimum(enrolled: int, min_capacity: int | None) -> bool:
    """Fewer enrolled than the group's minimum to run (no minimum: never)."""
    return min_capacity is not None and enrolled < min_capacity


def over_capacity(enrolled: int, max_capacity: int) -> bool:
    """Only after maxCapacity was lowered below the enrolled count: nobody is disenrolled for it."""
    return enrolled > max_capacity


def waitlist_position(line: Line) -> int | None:
    """Where a newcomer lands: None for a free seat, else the end of the line (n + 1).
    Nobody jumps the line: while anyone waits, a newcomer waits behind them."""
    if line.open_seats and not line.waitlist:
        return None
    return len(line.waitlist) + 1


def fill_open_seats(line: Line) -> Change:
    """Promote from the front of the waitlist into every free seat; the rest close up."""
    count = min(line.open_seats, len(line.waitlist))
    promoted = line.waitlist[:count]
    return Change(
        replace(line, enrolled=line.enrolled + promoted, waitlist=line.waitlist[count:]),
        promoted,
    )


def enroll(line: Line, patient: Hashable) -> Change:
    """A free seat enrolls the patient; otherwise they join the end of the waitlist."""
    if line.status_of(patient) is not None:
        raise Conflict(f"Patient is already {line.status_of(patient)} in this group")
    if waitlist_position(line) is None:
        return Change(replace(line, enrolled=line.enrolled + (patient,)))
    return Change(replace(line, waitlist=line.waitlist + (patient,)))


def leave(line: Line, patient: Hashable) -> Change:
    """An enrolled or waitlisted patient leaves (disenrolled or removed); the line closes up
    and a freed seat goes to the lowest waitlist position."""
    status = line.status_of(patient)
    if status is None:
        raise IllegalTransition("Only an ENROLLED or WAITLISTED enrollment can be disenrolled")
    remaining = replace(
        line,
        enrolled=tuple(p for p in line.enrolled if p != patient),
        waitlist=tuple(p for p in line.waitlist if p != patient),
    )
    return fill_open_seats(remaining)


def change_capacity(line: Line, max_capacity: int) -> Change:
    """Raising maxCapacity fills the new seats from the waitlist; lowering it disenrolls nobody."""
    return fill_open_seats(replace(line, max_capacity=max_capacity))
