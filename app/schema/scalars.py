"""Date, DateTime, Time and Decimal inputs that mean one thing only, refused in our words.

Dates are limited to years a clinic can mean, so no date arithmetic downstream (time zones, week
starts, list windows) can overflow into a server fault. Python's parsers also accept more than a
clinic would send and then quietly read it their way: a Time with a UTC offset lost the offset,
a Decimal took exponents, digit separators and other scripts' digits ("1E+2", "5_0", "٤٠"),
"-0" passed as a rate. Their own error text ("not enough values to unpack") reached callers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation

import dateutil.parser
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition, DecimalDefinition, TimeDefinition

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?")
_TIME_WITH_OFFSET = re.compile(r"[0-9:.]+([+-][0-9:]+|Z|z)")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _refuse(type_name: str, value: object, how: str) -> StrawberryInputCoercionError:
    shown = str(value)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return StrawberryInputCoercionError(f'Value cannot represent a {type_name}: "{shown}". {how}')


def _within_range(type_name: str, day: dt.date, value: object) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _refuse(type_name, value, f"Dates run from {FIRST_DAY} to {LAST_DAY}.")


def parse_date(value: object) -> dt.date:
    how = "Use a date as YYYY-MM-DD."
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _refuse("Date", value, how)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise _refuse("Date", value, "No such day in the calendar. " + how) from None
    _within_range("Date", day, value)
    return day


def parse_datetime(value: object) -> dt.datetime:
    how = "Use an ISO 8601 date and time such as 2026-03-10T09:00:00-07:00."
    if not isinstance(value, str) or not value.isascii():
        raise _refuse("DateTime", value, how)
    try:
        moment = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError, TypeError, IndexError):
        raise _refuse("DateTime", value, how) from None
    _within_range("DateTime", moment.date(), value)
    return moment


def parse_time(value: object) -> dt.time:
    """A wall-clock time in the facility's zone. An offset cannot be honoured without a date (the
    zone's offset changes with DST), and dropping it silently moved the session; it is refused."""
    if isinstance(value, str) and _TIME_WITH_OFFSET.fullmatch(value):
        raise _refuse(
            "Time", value, "A Time is the facility's wall-clock time: send it without a UTC offset (10:00:00)."
        )
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise _refuse("Time", value, "Use a time as HH:MM or HH:MM:SS.")
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise _refuse("Time", value, "Hours run 00-23, minutes and seconds 00-59.") from None


def parse_decimal(value: object) -> Decimal:
    how = "Use a plain decimal number such as 40 or 31.25 (digits 0-9, no exponent, sign or separators)."
    if isinstance(value, bool):
        raise _refuse("Decimal", value, how)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _refuse("Decimal", value, how)
        return Decimal(str(value))
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise _refuse("Decimal", value, how)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _refuse("Decimal", value, how) from None
    if number.is_zero() and number.is_signed():
        raise _refuse("Decimal", value, how)  # "-0": a sign on nothing
    return number


def _override(definition, parse) -> object:
    return replace(definition, parse_value=parse, implementation=None)


SCALAR_OVERRIDES = {
    dt.date: _override(DateDefinition, parse_date),
    dt.datetime: _override(DateTimeDefinition, parse_datetime),
    dt.time: _override(TimeDefinition, parse_time),
    Decimal: _override(DecimalDefinition, parse_decimal),
}
