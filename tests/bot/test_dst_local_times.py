"""The application's local-time conversions over random instants in DST zones, transition hours included.

Times typed on the command line, times shown to people, the coach's evaluation clock and its "until the next
working morning" snooze: none may raise or drift for an instant in the hour clocks repeat or skip, or in a
zone whose clocks change at midnight (``tests/dst_instants.py``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.backtest import Backtest, Origin
from analytics.calendar import to_local_iso
from analytics.workhours import WorkCalendar, is_working_time
from bot.cli.backtest import backtest_document
from bot.cli.timeargs import parse_instant
from bot.coach.engine import EVALUATION_MINUTES, evaluation_moments
from bot.formatting import local_time
from bot.slack.nudges import snoozed_until
from tests.dst_instants import instants, stdlib_local

WORKDAY = (dt.time(9), dt.time(18))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@settings(max_examples=200, deadline=None)
@given(instants())
def test_an_instant_with_its_offset_parses_back_to_itself(case) -> None:
    moment, zone = case
    assert parse_instant(to_local_iso(moment, zone), zone, option="--asof") == moment.floor("s")


@settings(max_examples=200, deadline=None)
@given(instants())
def test_a_local_wall_time_parses_to_an_instant_showing_that_wall_time(case) -> None:
    """Naive text is board-local; in the repeated hour it is the first (DST) reading, never a later one."""
    moment, zone = case
    wall = stdlib_local(moment, zone).replace(tzinfo=None)
    parsed = parse_instant(wall.isoformat(), zone, option="--asof")
    assert parsed.tz_convert(zone).tz_localize(None) == pd.Timestamp(wall)
    assert parsed <= moment.floor("s")


@settings(max_examples=200, deadline=None)
@given(instants())
def test_local_time_is_the_wall_clock_of_the_zone(case) -> None:
    moment, zone = case
    wall = stdlib_local(moment, zone)
    assert local_time(moment, zone) == f"{wall:%a} {wall.day} {wall:%b %Y %H:%M}"


@settings(max_examples=150, deadline=None)
@given(instants(), st.integers(0, 6 * 60))
def test_evaluations_are_the_utc_quarter_hours_from_since_to_until_whatever_its_zone(case, minutes) -> None:
    since, zone = case
    until = since + pd.Timedelta(minutes=minutes)
    step = EVALUATION_MINUTES * 60 * 10**9
    first = -(-since.value // step) * step  # the first multiple of the step at or after since
    expected = [pd.Timestamp(ns, tz="UTC") for ns in range(first, until.value + 1, step)]
    assert evaluation_moments(since.tz_convert(zone), until) == expected


@settings(max_examples=150, deadline=None)
@given(instants())
def test_snoozing_until_tomorrow_wakes_on_a_later_local_day_in_working_hours(case) -> None:
    now, zone = case
    calendar = WorkCalendar(zone, WEEKDAYS, WORKDAY)
    until = snoozed_until("tomorrow", now, calendar)
    assert until > now
    assert until.tz_convert(zone).date() > now.tz_convert(zone).date()
    assert is_working_time(until, calendar)


@settings(max_examples=60, deadline=None)
@given(instants())
def test_a_backtest_origin_is_shown_as_the_local_midnight_it_starts(case) -> None:
    """Origins are dates; in the JSON each is the instant that date begins, even where midnight is skipped."""
    moment, zone = case
    date = moment.tz_convert(zone).date()
    origins = (Origin(date, None, 0, "no throughput"),)
    result = Backtest(horizon_days=7, window_days=30, every_days=1, trials=10, origins=origins, levels=(85,))
    [origin] = backtest_document("B", zone, result)["origins"]
    shown = pd.Timestamp(origin["asof"])
    assert shown.tz_convert(zone).date() == date
    assert (shown - pd.Timedelta(seconds=1)).tz_convert(zone).date() < date
