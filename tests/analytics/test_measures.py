"""Board measures over a window, hand-computed (spec/metrics.md, "Board measures")."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.measures import cycle_time_stats, throughput_sample
from tests.analytics.builders import metrics

ASOF = "2026-01-31T00:00Z"  # window [Jan 1, Jan 31): exactly the 30 dates Jan 1 … Jan 30


def finished_item(item_id: str, start: str, finish: str) -> list[tuple[str, ...]]:
    return [(item_id, start, "In Progress"), (item_id, finish, "Done")]


def test_empty_board_has_zeros_and_nulls():
    """With no events: WIP 0 per stage, zero throughput every day, and null statistics, never 0."""
    m = metrics([], ASOF)
    assert m.wip_total == 0
    assert m.wip_by_stage == {"Ready": 0, "Development": 0, "Review": 0}
    assert m.throughput_total == 0 and len(m.throughput_daily) == 30
    assert m.cycle_time.count == 0 and m.cycle_time.p85 is None and m.cycle_time.mean is None
    assert m.sle_days is None and m.flow_efficiency is None
    assert all(flow.time_in_stage_p50 is None for flow in m.stages)
    assert m.wip_items.empty and m.finished.empty
    assert len(m.cfd) == 30 and int(m.cfd.to_numpy().sum()) == 0


def test_single_item_measures():
    """One item finished in the window: throughput 1 on its day, every percentile equal to its cycle time."""
    m = metrics(finished_item("A", "2026-01-10T00:00Z", "2026-01-12T12:00Z"), ASOF)
    assert m.throughput_total == 1
    assert m.throughput_daily[dt.date(2026, 1, 12)] == 1
    assert m.cycle_time.count == 1
    assert m.cycle_time.p50 == m.cycle_time.p95 == m.cycle_time.max == pytest.approx(2.5)
    assert m.sle_days == pytest.approx(2.5)
    assert m.flow_efficiency == pytest.approx(1.0)


def test_cycle_time_percentiles_interpolate_linearly():
    """Percentiles follow numpy's linear method: [1,2,3,4,10] → p50 3, p70 3.8, p85 6.4, p95 8.8."""
    stats = cycle_time_stats(np.array([4.0, 1.0, 10.0, 2.0, 3.0]))
    assert (stats.count, stats.mean, stats.max) == (5, 4.0, 10.0)
    assert stats.p50 == pytest.approx(3.0)
    assert stats.p70 == pytest.approx(3.8)
    assert stats.p85 == pytest.approx(6.4)
    assert stats.p95 == pytest.approx(8.8)


def test_throughput_counts_finishes_inside_the_half_open_window():
    """A finish at the window start counts, one before it or at asof does not; per_week scales by 7/30."""
    rows = [
        *finished_item("in-first", "2025-12-20T00:00Z", "2026-01-01T00:00Z"),
        *finished_item("before", "2025-12-20T00:00Z", "2025-12-31T23:59Z"),
        *finished_item("mid", "2026-01-10T00:00Z", "2026-01-15T08:00Z"),
        *finished_item("at-asof", "2026-01-20T00:00Z", ASOF),
    ]
    m = metrics(rows, ASOF)
    assert m.throughput_total == 2
    assert list(m.finished.index) == ["in-first", "mid"]
    assert m.throughput_per_week == pytest.approx(2 / 30 * 7)
    assert m.throughput_daily.sum() == m.throughput_total


def test_wip_by_stage_and_limits():
    """WIP counts started, unfinished, undiscarded items by stage; backlog and done hold no WIP."""
    rows = [
        ("a", "2026-01-01T00:00Z", "To Do"),
        ("b", "2026-01-01T00:00Z", "Selected"),
        ("c", "2026-01-01T00:00Z", "In Progress"),
        ("d", "2026-01-01T00:00Z", "In Progress"),
        ("e", "2026-01-01T00:00Z", "In Review"),
        ("f", "2026-01-01T00:00Z", "Done"),
        ("g", "2026-01-01T00:00Z", "Won't Do"),
    ]
    m = metrics(rows, ASOF)
    assert m.wip_by_stage == {"Ready": 1, "Development": 2, "Review": 1}
    assert m.wip_total == 4 and m.wip_limit == 12
    by_name = {flow.name: flow for flow in m.stages}
    assert by_name["Backlog"].wip is None and by_name["Backlog"].count == 1
    assert by_name["Development"].wip_limit == 4 and not by_name["Development"].over_limit


def test_sle_and_pace_from_the_sle_window():
    """SLE is the p85 of cycle times finished in the last 90 days; pace is the share finished no slower."""
    rows = [
        *finished_item("x1", "2026-01-01T00:00Z", "2026-01-02T00:00Z"),  # 1 day
        *finished_item("x2", "2026-01-01T00:00Z", "2026-01-03T00:00Z"),  # 2 days
        *finished_item("x3", "2026-01-01T00:00Z", "2026-01-05T00:00Z"),  # 4 days
        *finished_item("x4", "2026-01-01T00:00Z", "2026-01-09T00:00Z"),  # 8 days
        *finished_item("old", "2025-09-01T00:00Z", "2025-10-01T00:00Z"),  # outside 90 days
        ("w", "2026-01-28T00:00Z", "In Progress"),  # age 3 days at asof
    ]
    m = metrics(rows, ASOF)
    assert m.sle_days == pytest.approx(np.percentile([1, 2, 4, 8], 85))
    w = m.wip_items.loc["w"]
    assert w["age_days"] == pytest.approx(3.0)
    assert w["pace"] == pytest.approx(0.5)  # 1 and 2 finished within 3 days, 4 and 8 did not


def test_flow_efficiency_subtracts_blocked_time_in_active_stages():
    """Active time minus blocked active time over total cycle time: (3 - 1) / 5 = 0.4."""
    rows = [
        ("A", "2026-01-10T00:00Z", "Selected"),
        ("A", "2026-01-11T00:00Z", "In Progress"),
        ("A", "2026-01-12T00:00Z", "blocked"),
        ("A", "2026-01-13T00:00Z", "unblocked"),
        ("A", "2026-01-14T00:00Z", "In Review"),
        ("A", "2026-01-14T12:00Z", "blocked"),  # blocked while queued: waiting anyway, not subtracted
        ("A", "2026-01-15T00:00Z", "Done"),
    ]
    m = metrics(rows, ASOF)
    assert m.flow_efficiency == pytest.approx(0.4)


def test_arrivals_departures_and_time_in_stage_per_stage():
    """Entries and exits in the window count re-entries; time in stage is p50/p85 over visiting items."""
    rows = [
        ("A", "2025-12-30T00:00Z", "In Progress"),  # arrival before the window
        ("A", "2026-01-02T00:00Z", "In Review"),
        ("A", "2026-01-03T00:00Z", "In Progress"),  # re-entry
        ("A", "2026-01-05T00:00Z", "Done"),
        ("B", "2026-01-10T00:00Z", "In Progress"),
        ("B", "2026-01-11T00:00Z", "Done"),
        ("C", "2026-01-20T00:00Z", "In Progress"),  # still there
    ]
    m = metrics(rows, ASOF)
    dev = next(flow for flow in m.stages if flow.name == "Development")
    assert (dev.arrivals, dev.departures, dev.count) == (3, 3, 1)
    # A spent 3 + 2 = 5 days in Development, B 1 day: p50 3.0, p85 1 + 0.85 * 4 = 4.4
    assert dev.time_in_stage_p50 == pytest.approx(3.0)
    assert dev.time_in_stage_p85 == pytest.approx(4.4)
    review = next(flow for flow in m.stages if flow.name == "Review")
    assert (review.arrivals, review.departures, review.time_in_stage_p50) == (1, 1, pytest.approx(1.0))


def test_throughput_days_follow_the_board_time_zone_across_dst():
    """Local days decide the bucket: 23:30 and 00:30 Zurich time fall on different dates around DST."""
    rows = [
        *finished_item("late", "2026-03-20T10:00", "2026-03-28T23:30"),  # Saturday night, UTC+1
        *finished_item("early", "2026-03-20T10:00", "2026-03-29T00:30"),  # Sunday, DST starts at 02:00
        *finished_item("after", "2026-03-20T10:00", "2026-03-29T23:30"),  # Sunday night, UTC+2
    ]
    m = metrics(rows, "2026-04-01T00:00+02:00", window_days=7, timezone="Europe/Zurich")
    daily = m.throughput_daily
    assert daily[dt.date(2026, 3, 28)] == 1
    assert daily[dt.date(2026, 3, 29)] == 2
    assert list(daily.index) == [dt.date(2026, 3, 25) + dt.timedelta(days=i) for i in range(7)]


def test_throughput_sample_merges_the_two_partial_days():
    """A window that starts mid-day yields days+1 dates; the forecast sample folds first and last into one."""
    rows = finished_item("A", "2026-01-01T00:00Z", "2026-01-01T18:00Z") + finished_item(
        "B", "2026-01-02T00:00Z", "2026-01-31T06:00Z"
    )
    m = metrics(rows, "2026-01-31T12:00Z")
    assert len(m.throughput_daily) == 31
    sample = throughput_sample(m)
    assert len(sample) == 30 and sample[0] == 2 and sample.sum() == 2
