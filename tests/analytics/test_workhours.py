"""Working time in a board's calendar, hand-computed, across weekends and DST (spec/coaching.md)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.workhours import (
    WorkCalendar,
    is_working_time,
    next_working_time,
    working_days_back,
    working_seconds,
    working_seconds_many,
)
from tests.analytics.builders import workflow

ZONE = "Europe/Zurich"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = (*WEEKDAYS, "sat", "sun")
CAL = WorkCalendar(ZONE, WEEKDAYS, (dt.time(9), dt.time(18)))
# Sundays only, 01:00–04:00: the hours that hold both of 2026's DST changes (Sun 29 March, Sun 25 October).
NIGHT = WorkCalendar(ZONE, ("sun",), (dt.time(1), dt.time(4)))
HOUR = 3600.0


def local(text: str) -> pd.Timestamp:
    """A Zurich wall-clock time (2026-01-05 is a Monday)."""
    return pd.Timestamp(text, tz=ZONE)


def hours(start: str, end: str, calendar: WorkCalendar = CAL) -> float:
    return working_seconds(local(start), local(end), calendar) / HOUR


def test_calendar_of_a_workflow_takes_its_zone_days_and_hours():
    """WorkCalendar.of copies the board's time zone, working days and hours; a 9 h day is 32,400 s."""
    calendar = WorkCalendar.of(workflow(ZONE))
    assert calendar == CAL
    assert calendar.day_seconds == 9 * HOUR


@pytest.mark.parametrize(
    ("days", "hours_"),
    [
        ((), (dt.time(9), dt.time(18))),
        (("mon", "someday"), (dt.time(9), dt.time(18))),
        (WEEKDAYS, (dt.time(18), dt.time(9))),
    ],
)
def test_calendar_rejects_no_days_unknown_days_and_backward_hours(days, hours_):
    """A calendar needs known working days and a start before the end."""
    with pytest.raises(ValueError, match="working_"):
        WorkCalendar(ZONE, days, hours_)


def test_span_inside_one_day():
    """Tue 10:00 → 12:30 is 2.5 working hours; 07:00 → 20:00 the same day is the full 9 h."""
    assert hours("2026-01-06 10:00", "2026-01-06 12:30") == pytest.approx(2.5)
    assert hours("2026-01-06 07:00", "2026-01-06 20:00") == pytest.approx(9.0)


def test_span_over_a_weekend_counts_only_friday_evening_and_monday_morning():
    """Fri 17:00 → Mon 10:00 is 2 h: 17–18 on Friday and 9–10 on Monday."""
    assert hours("2026-01-09 17:00", "2026-01-12 10:00") == pytest.approx(2.0)


def test_span_starting_in_the_evening():
    """Tue 20:00 → Wed 10:00 is 1 h: nothing until Wednesday 09:00."""
    assert hours("2026-01-06 20:00", "2026-01-07 10:00") == pytest.approx(1.0)


def test_whole_weeks_and_a_whole_year():
    """Two weeks from Monday midnight are 10 × 9 h; 2026 has 261 weekdays of 9 h."""
    assert hours("2026-01-05", "2026-01-19") == pytest.approx(90.0)
    assert hours("2026-01-01", "2027-01-01") == pytest.approx(261 * 9.0)
    assert hours("2020-01-01", "2030-01-01") == pytest.approx(2609 * 9.0)  # a decade: 2,609 weekdays


def test_empty_and_reversed_spans_are_zero():
    """end ≤ start gives 0, and so does a span wholly outside working hours."""
    assert hours("2026-01-06 12:00", "2026-01-06 12:00") == 0.0
    assert hours("2026-01-06 12:00", "2026-01-06 10:00") == 0.0
    assert hours("2026-01-10 08:00", "2026-01-11 20:00") == 0.0  # Saturday and Sunday


def test_naive_instants_are_refused():
    """Working time needs instants, not wall-clock times without a zone."""
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds(pd.Timestamp("2026-01-06 10:00"), local("2026-01-06 12:00"), CAL)


def test_dst_weekends_leave_working_days_at_nine_hours():
    """Across the spring and autumn changes (both on a Sunday) Fri 17:00 → Mon 10:00 is still 2 h, and the
    week around each change still holds 45 h."""
    assert hours("2026-03-27 17:00", "2026-03-30 10:00") == pytest.approx(2.0)
    assert hours("2026-10-23 17:00", "2026-10-26 10:00") == pytest.approx(2.0)
    assert hours("2026-03-23", "2026-03-30") == pytest.approx(45.0)
    assert hours("2026-10-19", "2026-10-26") == pytest.approx(45.0)


def test_dst_change_inside_the_hours_counts_real_elapsed_time():
    """01:00–04:00 local is 3 h on an ordinary Sunday, 2 h on 29 March (02:00 → 03:00), 4 h on 25 October."""
    assert hours("2026-03-22", "2026-03-23", NIGHT) == pytest.approx(3.0)
    assert hours("2026-03-29", "2026-03-30", NIGHT) == pytest.approx(2.0)
    assert hours("2026-10-25", "2026-10-26", NIGHT) == pytest.approx(4.0)


def test_working_seconds_many_matches_hand_computed_spans():
    """The vectorised form gives each span's working seconds, 0 for reversed ones, and [] for []."""
    starts = [local("2026-01-06 10:00"), local("2026-01-09 17:00"), local("2026-01-06 12:00")]
    ends = [local("2026-01-06 12:30"), local("2026-01-12 10:00"), local("2026-01-06 10:00")]
    result = working_seconds_many(ns(starts), ns(ends), CAL)
    assert result.tolist() == pytest.approx([2.5 * HOUR, 2 * HOUR, 0.0])
    assert working_seconds_many(ns([]), ns([]), CAL).shape == (0,)


def test_is_working_time_includes_the_start_and_excludes_the_end():
    """Mon 09:00 is working time; 08:59, 18:00 and Saturday noon are not."""
    assert is_working_time(local("2026-01-05 09:00"), CAL)
    assert not is_working_time(local("2026-01-05 08:59"), CAL)
    assert not is_working_time(local("2026-01-05 18:00"), CAL)
    assert not is_working_time(local("2026-01-10 12:00"), CAL)


def test_next_working_time():
    """Inside the hours: the moment itself; Tue 18:00 → Wed 09:00; Saturday → Monday 09:00, also over DST."""
    assert next_working_time(local("2026-01-06 10:00"), CAL) == local("2026-01-06 10:00")
    assert next_working_time(local("2026-01-06 18:00"), CAL) == local("2026-01-07 09:00")
    assert next_working_time(local("2026-01-10 12:00"), CAL) == local("2026-01-12 09:00")
    after_change = next_working_time(local("2026-03-27 18:30"), CAL)
    assert after_change == pd.Timestamp("2026-03-30T07:00Z")  # 09:00 CEST
    assert str(after_change.tz) == ZONE  # in the moment's zone


@pytest.mark.parametrize(
    ("moment", "days", "expected"),
    [
        ("2026-01-12 10:00", 1, "2026-01-09 10:00"),  # Mon → the Friday before, same time of day
        ("2026-01-12 10:00", 5, "2026-01-05 10:00"),
        ("2026-01-12 09:00", 1, "2026-01-09 09:00"),
        ("2026-01-09 18:00", 5, "2026-01-05 09:00"),  # after Friday's close: the whole week
        ("2026-01-10 12:00", 5, "2026-01-05 09:00"),  # at the weekend: the same week
        ("2026-01-10 12:00", 0, "2026-01-10 12:00"),  # zero days: the moment itself
        ("2026-03-30 10:00", 1, "2026-03-27 10:00"),  # across the spring change
        ("2026-10-26 10:00", 6, "2026-10-16 10:00"),  # across the autumn change
        ("2026-01-12 10:00", 260, "2025-01-13 10:00"),  # 52 weeks of weekdays
    ],
)
def test_working_days_back(moment, days, expected):
    """N working days back lands in working hours, exactly N × 9 working hours before the moment."""
    result = working_days_back(local(moment), days, CAL)
    assert result == local(expected)
    assert working_seconds(result, local(moment), CAL) == pytest.approx(days * 9 * HOUR)


def test_working_days_back_refuses_negative_days():
    """Going forward is not going back."""
    with pytest.raises(ValueError, match="days"):
        working_days_back(local("2026-01-12 10:00"), -1, CAL)


def ns(stamps) -> np.ndarray:
    return np.array([pd.Timestamp(s).value for s in stamps], dtype=np.int64)


# Properties: instants over 2025–2027 (both DST changes of each year), calendars with and without weekends.
BASE = pd.Timestamp("2025-01-01T00:00Z")
instants = st.integers(0, 3 * 365 * 24 * 60).map(lambda m: BASE + pd.Timedelta(minutes=m, seconds=m % 7))
calendars = st.builds(
    WorkCalendar,
    timezone=st.sampled_from([ZONE, "America/New_York", "UTC", "Australia/Sydney"]),
    working_days=st.lists(st.sampled_from(ALL_DAYS), min_size=1, unique=True).map(
        lambda days: tuple(d for d in ALL_DAYS if d in days)
    ),
    working_hours=st.sampled_from(
        [
            (dt.time(9), dt.time(18)),
            (dt.time(1), dt.time(4)),
            (dt.time(0), dt.time(23, 59)),
            (dt.time(8, 30), dt.time(12)),
        ]
    ),
)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants, instants)
def test_working_seconds_is_additive_and_bounded_by_elapsed_time(calendar, a, b, c):
    """ws(a, b) + ws(b, c) = ws(a, c) for a ≤ b ≤ c, and ws never exceeds the elapsed time."""
    a, b, c = sorted((a, b, c))
    ab, bc, ac = (working_seconds(x, y, calendar) for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == pytest.approx(ac, abs=1e-6)
    assert 0 <= ac <= (c - a).total_seconds()


@settings(max_examples=100, deadline=None)
@given(calendars, st.lists(st.tuples(instants, instants), max_size=20))
def test_vectorised_equals_scalar(calendar, spans):
    """working_seconds_many gives, span by span, what working_seconds gives."""
    starts, ends = ns([s for s, _ in spans]), ns([e for _, e in spans])
    expected = [working_seconds(s, e, calendar) for s, e in spans]
    assert working_seconds_many(starts, ends, calendar).tolist() == pytest.approx(expected)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, instants)
def test_working_seconds_equals_a_day_by_day_count(calendar, a, b):
    """Equal to an independent count over each local day with zoneinfo (no hours here start in a DST gap)."""
    a, b = sorted((a, b))
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    first, last = a.tz_convert(zone).date() - dt.timedelta(days=1), b.tz_convert(zone).date()
    total = 0.0
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        if ALL_DAYS[day.weekday()] not in calendar.working_days:
            continue
        opens = pd.Timestamp(dt.datetime.combine(day, calendar.working_hours[0], tzinfo=zone))
        closes = pd.Timestamp(dt.datetime.combine(day, calendar.working_hours[1], tzinfo=zone))
        total += max((min(b, closes) - max(a, opens)).total_seconds(), 0.0)
    assert working_seconds(a, b, calendar) == pytest.approx(total)


@settings(max_examples=150, deadline=None)
@given(calendars, instants, st.integers(0, 30))
def test_working_days_back_inverts_working_seconds(calendar, moment, days):
    """N ≥ 1 days back is working time exactly N working days' time before the moment; 0 is the moment."""
    result = working_days_back(moment, days, calendar)
    assert result <= moment
    assert working_seconds(result, moment, calendar) == pytest.approx(days * calendar.day_seconds)
    assert is_working_time(result, calendar) if days else result == moment


@settings(max_examples=150, deadline=None)
@given(calendars, instants)
def test_next_working_time_skips_only_non_working_time(calendar, moment):
    """The next working time is working time, and no working time lies between the moment and it."""
    result = next_working_time(moment, calendar)
    assert result >= moment
    assert is_working_time(result, calendar)
    assert working_seconds(moment, result, calendar) == 0.0
