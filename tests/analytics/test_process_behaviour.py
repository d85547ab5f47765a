"""Process behaviour (XmR of weekly throughput and of cycle time): weeks, baseline, hand-computed charts,
the metrics document, and a change that is real (throughput halving) told apart from a steady board."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.calendar import full_weeks
from analytics.document import metrics_document
from analytics.measures import compute_metrics
from analytics.process_behaviour import chart_weeks, recent_weeks
from analytics.xmr import natural_limits, signals
from tests.analytics.builders import finishing_board, timeline

ZONE = "Europe/Zurich"
FIRST_MONDAY = dt.date(2026, 1, 5)
# Weekly throughput 10 12 11 13 9 11 | 17 5: the first six are the baseline of the hand example
# (tests/analytics/test_xmr.py): centre 11, limits 11 ± 2.66 × 2.2 = 5.148 and 16.852.
WEEKLY = (10, 12, 11, 13, 9, 11, 17, 5)


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(ZONE)


def weekly_rows(weekly: tuple[int, ...]) -> list[tuple[str, ...]]:
    """Each week's items all finished on its Monday (so a count is the week's, whatever the hour)."""
    mondays = {FIRST_MONDAY + dt.timedelta(weeks=week): count for week, count in enumerate(weekly)}
    return finishing_board(lambda day: mondays.get(day, 0), FIRST_MONDAY.isoformat(), "2026-12-31")


def test_full_weeks_are_whole_local_monday_to_sunday_weeks():
    """From Tuesday 10:00 to Monday 00:00 three weeks later: the two whole weeks between, Mondays first;
    the week of the DST change (29 March) is 167 hours long."""
    mondays, bounds = full_weeks(local("2026-03-17T10:00"), local("2026-04-06T00:00"), ZONE)
    assert mondays == (dt.date(2026, 3, 23), dt.date(2026, 3, 30))
    assert bounds[0] == local("2026-03-23").value and bounds[-1] == local("2026-04-06").value
    assert (bounds[1] - bounds[0]) / 3.6e12 == 167


def test_a_week_is_full_only_from_its_monday_midnight():
    """Starting at Monday 00:00 includes that week; at Monday 00:01 it does not."""
    assert full_weeks(local("2026-03-23T00:00"), local("2026-03-30T00:00"), ZONE)[0] == (
        dt.date(2026, 3, 23),
    )
    assert full_weeks(local("2026-03-23T00:01"), local("2026-03-30T00:00"), ZONE)[0] == ()


def test_recent_weeks_are_the_last_four_before_the_instant_week():
    """On Wednesday 25 November, and from Monday 23 November 00:00 on, the coach judges the four weeks
    from 26 October to 22 November: the week just ended is the last one."""
    starts, ends = recent_weeks([local("2026-11-25T15:00"), local("2026-11-23T00:00")], ZONE)
    assert pd.Timestamp(starts[0], tz="UTC") == local("2026-10-26") and ends[0] == local("2026-11-23").value
    assert starts[1] == starts[0] and ends[1] == ends[0]


@pytest.mark.parametrize(
    ("window", "baseline", "provisional"),
    [
        ((20, 30), (8, 20), False),  # 10 weeks in the window: the 12 before it
        ((10, 30), (10, 22), False),  # 20 weeks in the window: its first 12
        ((6, 8), (0, 8), True),  # 8 weeks of history: all of them, reaching into the window
        ((1, 3), (0, 3), True),  # 3 weeks: a baseline too short for limits
    ],
)
def test_the_baseline_is_the_window_s_first_weeks_or_those_before_it(window, baseline, provisional):
    """Weeks numbered from 5 January, the first full week after the first finish; the window and the
    expected baseline as week numbers [first, last). The chart shows weeks from the baseline's first on."""
    first_finish = local("2026-01-04T10:00").value  # a Sunday
    start, end = (local(str(FIRST_MONDAY + dt.timedelta(weeks=w))) for w in window)
    weeks = chart_weeks(first_finish, start, end, ZONE)
    number = {FIRST_MONDAY + dt.timedelta(weeks=w): w for w in range(40)}
    shown = [number[monday] for monday in weeks.mondays]
    assert shown == list(range(baseline[0], window[1]))
    assert (shown[weeks.baseline[0]], shown[weeks.baseline[1] - 1] + 1) == baseline
    assert shown[weeks.window_first] == window[0]
    assert weeks.provisional is provisional


def test_throughput_chart_computed_by_hand():
    """Eight weeks, window of all eight, baseline of six: 17 is above 16.852, 5 below 5.148."""
    rows = weekly_rows(WEEKLY)
    metrics = compute_metrics(
        timeline(rows, "2026-03-02T00:00+01:00", ZONE), window_days=56, baseline_weeks=6
    )
    chart = metrics.process_behaviour.throughput
    assert chart.counts.tolist() == list(WEEKLY)
    assert chart.limits is not None
    assert chart.limits.centre == pytest.approx(11.0)
    assert chart.limits.lower == pytest.approx(5.148) and chart.limits.upper == pytest.approx(16.852)
    assert [(s.index, s.rule, s.side) for s in chart.signals] == [
        (6, "outside_limits", "above"),
        (7, "outside_limits", "below"),
    ]


def test_the_document_gives_limits_baseline_weeks_and_signals():
    """A 14-day window holds the last two weeks; the baseline is the six full weeks before them."""
    rows = weekly_rows(WEEKLY)
    metrics = compute_metrics(
        timeline(rows, "2026-03-02T00:00+01:00", ZONE), window_days=14, baseline_weeks=6
    )
    document = metrics_document(metrics)["process_behaviour"]
    throughput = document["throughput"]
    assert document["baseline_weeks"] == 6
    assert throughput["baseline"] == ["2026-01-05", "2026-02-15"]
    assert (throughput["centre"], throughput["lower"], throughput["upper"]) == (11.0, 5.148, 16.852)
    assert throughput["provisional"] is False
    assert [w["count"] for w in throughput["weeks"]] == list(WEEKLY)
    assert throughput["signals"] == [
        {"week": "2026-02-16", "rule": "outside_limits", "side": "above", "count": 17},
        {"week": "2026-02-23", "rule": "outside_limits", "side": "below", "count": 5},
    ]
    assert set(document["cycle_time"]) >= {"centre", "lower", "upper", "baseline", "signals"}


def test_cycle_time_by_finished_item_computed_by_hand():
    """One item a week; cycle times 2 3 2 4 3 2 in the baseline (mean 16/6, moving ranges 1 1 2 1 1, so
    limits 2.667 ± 2.66 × 1.2: 0 and 5.859), then 9 days: a signal naming the item and its finish."""
    cycle_days = (2, 3, 2, 4, 3, 2, 9, 1)
    rows: list[tuple[str, ...]] = [
        ("F-0", "2026-01-02T10:00", "In Progress"),
        ("F-0", "2026-01-03T10:00", "Done"),
    ]
    for week, days in enumerate(cycle_days):
        finish = dt.datetime(2026, 1, 6, 12) + dt.timedelta(weeks=week)
        rows += [
            (f"C-{week}", (finish - dt.timedelta(days=days)).isoformat(), "In Progress"),
            (f"C-{week}", finish.isoformat(), "Done"),
        ]
    metrics = compute_metrics(
        timeline(rows, "2026-03-02T00:00+01:00", ZONE), window_days=56, baseline_weeks=6
    )
    chart = metrics.process_behaviour.cycle_time
    assert chart.item_ids == tuple(f"C-{week}" for week in range(8))
    assert chart.baseline == (0, 6)
    assert chart.limits is not None
    assert chart.limits.centre == pytest.approx(16 / 6)
    assert chart.limits.upper == pytest.approx(16 / 6 + 2.66 * 1.2) and chart.limits.lower == 0.0
    assert chart.provisional  # six baseline items: fewer than ten
    document = metrics_document(metrics)["process_behaviour"]["cycle_time"]
    assert document["signals"] == [
        {
            "item": "C-6",
            "finished": "2026-02-17T12:00:00+01:00",
            "rule": "outside_limits",
            "side": "above",
            "days": 9.0,
        }
    ]
    assert (document["count"], document["baseline_count"]) == (8, 6)


def test_an_empty_board_has_no_chart():
    """No finish, no weeks: limits are null and nothing signals."""
    rows = [("PAY-1", "2026-02-02T10:00", "In Progress")]
    document = metrics_document(compute_metrics(timeline(rows, "2026-03-02T00:00Z", ZONE)))
    throughput = document["process_behaviour"]["throughput"]
    assert throughput["centre"] is None and throughput["baseline"] is None
    assert throughput["weeks"] == [] and throughput["signals"] == []
    assert document["process_behaviour"]["cycle_time"]["signals"] == []


def test_weeks_before_the_first_finish_are_not_history():
    """Items created months before anything finished add no zero weeks to the baseline."""
    rows = [("OLD-1", "2025-06-02T10:00", "To Do"), *weekly_rows(WEEKLY)]
    metrics = compute_metrics(
        timeline(rows, "2026-03-02T00:00+01:00", ZONE), window_days=14, baseline_weeks=6
    )
    assert metrics.process_behaviour.throughput.weeks.mondays[0] == FIRST_MONDAY


def test_a_constant_board_has_no_signal():
    """Four items every weekday for half a year: every week is 20, and no week is news."""
    rows = finishing_board(lambda _day: 4, "2026-01-05", "2026-06-28")
    metrics = compute_metrics(timeline(rows, "2026-06-29T00:00+02:00", ZONE), window_days=30)
    chart = metrics.process_behaviour.throughput
    assert set(chart.counts.tolist()) == {20}
    assert chart.signals == ()


def test_throughput_halving_on_a_known_day_is_a_signal_within_two_weeks():
    """19 and 21 items in alternate weeks (limits 20 ± 5.32) until Wednesday 27 May, half as many after:
    two weeks later, both weeks since the change are below the lower limit of 14.68."""
    change = dt.date(2026, 5, 27)
    rows = finishing_board(lambda day: alternating(day) if day < change else 2, "2026-01-05", "2026-06-30")
    asof = local("2026-06-10T09:00")  # 14 days after the change
    metrics = compute_metrics(timeline(rows, asof.isoformat(), ZONE), window_days=30)
    chart = metrics.process_behaviour.throughput
    assert chart.limits is not None and chart.limits.lower == pytest.approx(20 - 2.66 * 2)
    below = [chart.weeks.mondays[s.index] for s in chart.signals if s.side == "below"]
    assert below == [dt.date(2026, 5, 25), dt.date(2026, 6, 1)]
    assert all(s.index >= chart.weeks.window_first for s in chart.signals)


def alternating(day: dt.date) -> int:
    """Four a weekday, with Fridays of odd ISO weeks at 3 and of even ones at 5: 19, 21, 19, 21 a week."""
    if day.weekday() == 4:
        return 3 if day.isocalendar().week % 2 else 5
    return 4


def test_the_chart_only_sees_finishes_not_reopened_items():
    """An item reopened after finishing leaves its week's count (it is WIP again)."""
    rows = [*weekly_rows(WEEKLY), ("F-0223-0", "2026-02-25T10:00", "In Progress")]
    metrics = compute_metrics(
        timeline(rows, "2026-03-02T00:00+01:00", ZONE), window_days=56, baseline_weeks=6
    )
    counts = metrics.process_behaviour.throughput.counts.tolist()
    assert counts[-1] == WEEKLY[-1] - 1 and sum(counts) == sum(WEEKLY) - 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=20), st.integers(6, 12))
def test_the_board_s_chart_is_the_xmr_of_its_weekly_counts(weekly, baseline_weeks):
    """Whatever the weeks hold, the chart counts each week's finishes and judges them exactly as the XmR
    of those counts over its baseline: limits contain the centre, the lower one is ≥ 0, and a board
    finishing the same number every week has no signal."""
    rows = weekly_rows(tuple(weekly))
    end = FIRST_MONDAY + dt.timedelta(weeks=len(weekly))
    metrics = compute_metrics(
        timeline(rows, local(f"{end}T00:00").isoformat(), ZONE),
        window_days=7 * len(weekly),
        baseline_weeks=baseline_weeks,
    )
    chart = metrics.process_behaviour.throughput
    assert chart.counts.tolist() == weekly
    first, last = chart.weeks.baseline
    assert (first, last) == (0, min(baseline_weeks, len(weekly)))
    if last - first < 6:
        assert chart.limits is None and chart.signals == ()
        return
    limits = natural_limits(np.array(weekly[first:last], dtype=np.float64))
    assert chart.limits == limits
    assert 0 <= limits.lower <= limits.centre <= limits.upper
    assert chart.signals == signals(np.array(weekly, dtype=np.float64), limits)
    if len(set(weekly)) == 1:
        assert chart.signals == ()
