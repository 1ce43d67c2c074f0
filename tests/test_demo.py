"""Where the demo puts today's sessions, for every minute of a day: whole, within one day, and in the
same order around the moment it is loaded (tests/test_walkthroughs.py loads it at several)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from app.demo import PHOENIX, SESSION_MINUTES, staged_windows

DAY = datetime(2026, 12, 7, tzinfo=PHOENIX)  # a Monday


def staging_problems(now: datetime) -> list[str]:
    windows = staged_windows(now)
    problems = [
        f"{name} is not a whole session within one day"
        for name, w in windows.items()
        if w.ends_at - w.starts_at != timedelta(minutes=SESSION_MINUTES)
        or w.starts_at.date() != w.ends_at.date()
        or w.ends_at.time() > time(23, 59)
    ]
    billed, ended, live, later = (windows[n] for n in ("billed", "ended", "live", "later"))
    if not (billed.ends_at <= ended.starts_at and ended.ends_at <= live.starts_at):
        problems.append("the past sessions overlap (Priya supervises both) or the CBT room is taken")
    if not (ended.ends_at <= now and now - ended.ends_at < timedelta(hours=24)):
        problems.append("the ended session is not past and before its finalization deadline")
    if not (later.starts_at > now and later.starts_at >= live.ends_at):
        problems.append("the later session is not after the live one")
    # In a day's last minute no session of that day can still be in progress.
    if not (live.starts_at <= now < live.ends_at or now.time() >= time(23, 59)) or live.starts_at.date() != now.date():
        problems.append("the live session does not hold now")
    return [f"{now:%H:%M:%S}: {problem}" for problem in problems]


def test_staged_sessions_are_whole_within_a_day_and_around_the_load_at_every_minute():
    moments = [DAY + timedelta(minutes=m, seconds=s) for m in range(24 * 60) for s in (0, 59)]
    assert [problem for now in moments for problem in staging_problems(now)] == []


def test_in_the_day_the_sessions_keep_their_offsets_from_now():
    windows = staged_windows(datetime(2026, 12, 7, 14, 2, tzinfo=PHOENIX))
    assert {name: w.starts_at.strftime("%d %H:%M") for name, w in windows.items()} == {
        "billed": "07 09:00",
        "ended": "07 11:00",
        "live": "07 13:30",
        "later": "07 16:00",
    }


def test_at_night_a_session_that_would_span_midnight_moves_whole_to_the_day_before_or_after():
    small_hours = staged_windows(datetime(2026, 12, 7, 0, 10, tzinfo=PHOENIX))
    assert {name: w.starts_at.strftime("%d %H:%M") for name, w in small_hours.items()} == {
        "billed": "06 19:30",
        "ended": "06 21:30",
        "live": "07 00:00",
        "later": "07 02:30",
    }
    late = staged_windows(datetime(2026, 12, 7, 23, 40, tzinfo=PHOENIX))
    assert {name: w.starts_at.strftime("%d %H:%M") for name, w in late.items()} == {
        "billed": "07 17:59",
        "ended": "07 19:59",
        "live": "07 22:29",
        "later": "08 00:59",
    }
    crossing = staged_windows(datetime(2026, 12, 7, 4, 0, tzinfo=PHOENIX))  # the billed one would end at 00:00
    assert crossing["billed"].starts_at.strftime("%d %H:%M") == "06 22:29"
