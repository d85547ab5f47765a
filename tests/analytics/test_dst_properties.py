"""Local-time conversions over random instants in zones with DST, the two transition hours included.

Every helper that turns an instant into local text or a local day must work whichever instant it is given:
in the hour that happens twice when clocks go back, just after the hour skipped when they go forward, and in
zones whose clocks change at midnight (Havana, Santiago) or by half an hour (Lord Howe). The standard
library's ``zoneinfo`` is the independent oracle (``tests/dst_instants.py``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from analytics.calendar import day_start, days_before, local_midnights, to_local_iso, window_ending
from tests.dst_instants import FIRST_YEAR, HOUR_NS, LAST_YEAR, ZONES, instants, stdlib_local, transitions

BERLIN_FALL_BACK = pd.Timestamp("2026-10-25T02:30:00.75+01:00")  # the second 02:30 (CET), with a fraction
BERLIN_FALL_BACK_FIRST = pd.Timestamp("2026-10-25T02:30:00.75+02:00")  # the first 02:30 (CEST)
BERLIN_SPRING_FORWARD = pd.Timestamp("2026-03-29T03:00:00.5+02:00")  # just after the skipped hour


def test_the_zones_have_both_transitions_every_year() -> None:
    """The generator really reaches DST changes: about two a year in each zone (a few years had none)."""
    for zone in ZONES:
        assert len(transitions(zone)) >= 1.8 * (LAST_YEAR - FIRST_YEAR), zone


@settings(max_examples=300, deadline=None)
@given(instants())
@example((BERLIN_FALL_BACK, "Europe/Berlin"))
@example((BERLIN_FALL_BACK_FIRST, "Europe/Berlin"))
@example((BERLIN_SPRING_FORWARD, "Europe/Berlin"))
@example((pd.Timestamp("2026-11-01T01:30:00.1-05:00"), "America/New_York"))
def test_to_local_iso_is_the_instant_to_the_second_with_its_local_offset(case) -> None:
    moment, zone = case
    text = to_local_iso(moment, zone)
    assert text == stdlib_local(moment, zone).isoformat()
    assert pd.Timestamp(text) == moment.floor("s")  # the offset keeps the two 02:30s apart


def test_to_local_iso_in_the_repeated_hour_names_each_reading() -> None:
    assert to_local_iso(BERLIN_FALL_BACK_FIRST, "Europe/Berlin") == "2026-10-25T02:30:00+02:00"
    assert to_local_iso(BERLIN_FALL_BACK, "Europe/Berlin") == "2026-10-25T02:30:00+01:00"


@settings(max_examples=200, deadline=None)
@given(instants())
def test_day_start_is_the_first_instant_of_the_local_date(case) -> None:
    moment, zone = case
    date = moment.tz_convert(zone).date()
    start = day_start(date, zone)
    assert start <= moment
    assert start.tz_convert(zone).date() == date
    assert (start - pd.Timedelta(1, "ns")).tz_convert(zone).date() < date


@settings(max_examples=200, deadline=None)
@given(instants(), st.integers(1, 400))
def test_days_before_is_the_same_wall_time_n_local_days_earlier(case, days) -> None:
    moment, zone = case
    earlier = days_before(moment, days, zone)
    assert earlier < moment
    assert earlier.tz_convert(zone).date() == moment.tz_convert(zone).date() - dt.timedelta(days=days)
    wall = moment.tz_convert(zone).tz_localize(None) - pd.Timedelta(days=days)
    shown = earlier.tz_convert(zone).tz_localize(None)
    assert shown >= wall and shown - wall <= pd.Timedelta(hours=1)  # only a skipped wall time moves, forward


@settings(max_examples=150, deadline=None)
@given(instants(), st.integers(1, 60))
def test_a_window_is_its_local_days_in_order(case, days) -> None:
    end, zone = case
    window = window_ending(end, days, zone)
    bounds = window.boundaries
    assert len(window.dates) in (days, days + 1) and len(bounds) == len(window.dates) + 1
    assert np.all(np.diff(bounds) > 0)
    assert bounds[0] <= window.start_ns < bounds[1] and bounds[-2] < window.end_ns <= bounds[-1]
    lengths_hours = np.diff(bounds) / HOUR_NS
    assert np.all((lengths_hours >= 22.5) & (lengths_hours <= 25.5))  # 23, 23.5, 24, 24.5 or 25 hours
    assert list(np.asarray(bounds[:-1])) == list(local_midnights(list(window.dates), zone))
