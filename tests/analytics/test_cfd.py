"""Cumulative flow: band heights at the end of each local day (spec/metrics.md, "cfd")."""

from __future__ import annotations

import datetime as dt

from tests.analytics.builders import metrics


def test_cfd_counts_each_stage_at_the_end_of_each_day():
    """Moves during a day show in that day's row; the done band keeps items finished before the window."""
    rows = [
        ("old", "2025-11-01T10:00Z", "In Progress"),
        ("old", "2025-11-03T10:00Z", "Done"),
        ("A", "2026-01-01T09:00Z", "To Do"),
        ("A", "2026-01-02T09:00Z", "In Progress"),
        ("A", "2026-01-02T15:00Z", "In Review"),
        ("A", "2026-01-03T23:59Z", "Done"),
        ("B", "2026-01-02T10:00Z", "Selected"),
    ]
    cfd = metrics(rows, "2026-01-05T00:00Z", window_days=4).cfd
    assert list(cfd.index) == [dt.date(2026, 1, d) for d in (1, 2, 3, 4)]
    assert cfd.loc[dt.date(2026, 1, 1)].to_dict() == {
        "Backlog": 1,
        "Ready": 0,
        "Development": 0,
        "Review": 0,
        "Done": 1,
        "Dropped": 0,
    }
    assert cfd.loc[dt.date(2026, 1, 2)].to_dict() == {
        "Backlog": 0,
        "Ready": 1,
        "Development": 0,
        "Review": 1,
        "Done": 1,
        "Dropped": 0,
    }
    assert cfd.loc[dt.date(2026, 1, 3), "Done"] == 2
    assert cfd.loc[dt.date(2026, 1, 4), "Review"] == 0


def test_cfd_event_at_midnight_belongs_to_the_new_day():
    """A move exactly at local midnight is not yet visible at the end of the previous day."""
    rows = [("A", "2026-01-01T12:00Z", "In Progress"), ("A", "2026-01-03T00:00Z", "Done")]
    cfd = metrics(rows, "2026-01-04T00:00Z", window_days=3).cfd
    assert cfd["Done"].tolist() == [0, 0, 1]
    assert cfd["Development"].tolist() == [1, 1, 0]


def test_cfd_days_are_local_days():
    """In Zurich (UTC+1 in winter) a move at 23:30 UTC lands on the next local day."""
    rows = [("A", "2026-01-01T12:00Z", "In Progress"), ("A", "2026-01-02T23:30Z", "Done")]
    cfd = metrics(rows, "2026-01-05T00:00+01:00", window_days=4, timezone="Europe/Zurich").cfd
    assert cfd.loc[dt.date(2026, 1, 2), "Done"] == 0
    assert cfd.loc[dt.date(2026, 1, 3), "Done"] == 1
