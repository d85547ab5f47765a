"""Per-stage exit ages (spec/metrics.md, ``stages[].exit_age``): hand-computed, then properties."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.document import metrics_document
from tests.analytics.builders import metrics

# A: Ready 1 d, Development to age 3, Review to age 4.
# B: Development → Review → back to Development → Review again: judged by its last forward exit (age 7).
# C: skips Ready (starts in Development on the 2nd), so it gives Ready nothing.
ROWS = [
    ("A", "2026-01-01T00:00", "Selected"),
    ("A", "2026-01-02T00:00", "In Progress"),
    ("A", "2026-01-04T00:00", "In Review"),
    ("A", "2026-01-05T00:00", "Done"),
    ("B", "2026-01-01T00:00", "Selected"),
    ("B", "2026-01-04T00:00", "In Progress"),
    ("B", "2026-01-05T00:00", "In Review"),
    ("B", "2026-01-06T00:00", "In Progress"),
    ("B", "2026-01-08T00:00", "In Review"),
    ("B", "2026-01-09T00:00", "Done"),
    ("C", "2026-01-02T00:00", "In Progress"),
    ("C", "2026-01-03T00:00", "Done"),
    ("W", "2026-01-08T00:00", "Selected"),  # WIP: counts nowhere
]


def test_exit_ages_are_the_ages_at_the_last_forward_exit_of_finished_items():
    stages = {flow.name: flow.exit_age for flow in metrics(ROWS, "2026-01-10T00:00").stages}
    ready, development, review = stages["Ready"], stages["Development"], stages["Review"]
    assert (ready.count, ready.p50, ready.p85) == (2, 2.0, 2.7)  # ages 1 and 3
    assert development.count == 3 and development.p50 == 3.0  # ages 1, 3, 7
    assert abs((development.p85 or 0) - 5.8) < 1e-9  # 3 + 0.7 × (7 − 3)
    assert (review.count, review.p50) == (2, 6.0)  # ages 4 and 8
    assert stages["Backlog"].count == stages["Done"].count == 0


def test_the_document_gives_exit_ages_with_provisional_under_ten_items():
    document = metrics_document(metrics(ROWS, "2026-01-10T00:00"))
    ready = next(stage for stage in document["stages"] if stage["name"] == "Ready")
    assert ready["exit_age"] == {
        "p50": 2.0,
        "p70": 2.4,
        "p85": 2.7,
        "p95": 2.9,
        "count": 2,
        "provisional": True,
    }
    assert document["sle"]["provisional"] is True and document["sle"]["count"] == 3
    assert document["cycle_time"]["provisional"] is True


def test_only_items_finished_in_the_sle_window_count():
    """90 days later A, B and C have left the SLE window: no exits, every percentile null."""
    stages = {flow.name: flow.exit_age for flow in metrics(ROWS, "2026-04-20T00:00").stages}
    assert stages["Development"].count == 0 and stages["Development"].p85 is None


STAGE_STATUSES = ("Selected", "In Progress", "In Review")


@st.composite
def linear_boards(draw: st.DrawFn) -> tuple[list[tuple[str, ...]], dict[str, int]]:
    """Items moving forward through a random subset of stages, finished or not; the expected counts."""
    rows: list[tuple[str, ...]] = []
    expected = dict.fromkeys(STAGE_STATUSES, 0)
    for number in range(draw(st.integers(0, 25))):
        path = [s for s in STAGE_STATUSES if draw(st.booleans())] or ["In Progress"]
        finished = draw(st.booleans())
        moment = pd.Timestamp("2026-01-01") + pd.Timedelta(minutes=draw(st.integers(0, 40 * 24 * 60)))
        for status in [*path, *(["Done"] if finished else [])]:
            rows.append((f"I-{number}", moment.strftime("%Y-%m-%dT%H:%M"), status))
            moment += pd.Timedelta(minutes=draw(st.integers(1, 5 * 24 * 60)))
        if finished:
            for status in path:
                expected[status] += 1
    return rows, expected


@settings(max_examples=60, deadline=None)
@given(linear_boards())
def test_exit_age_percentiles_are_ordered_and_count_every_qualifying_exit(board):
    rows, expected = board
    result = metrics(rows, "2026-03-15T00:00") if rows else None
    if result is None:
        return
    by_status = dict(zip(("Ready", "Development", "Review"), STAGE_STATUSES, strict=True))
    for flow in result.stages:
        stats = flow.exit_age
        if flow.name in by_status:
            assert stats.count == expected[by_status[flow.name]]
        if stats.count:
            assert stats.p50 is not None and stats.p70 is not None and stats.p85 is not None
            assert stats.p95 is not None and result.sle_cycle_time.max is not None
            assert 0 <= stats.p50 <= stats.p70 <= stats.p85 <= stats.p95 <= result.sle_cycle_time.max + 1e-9
            assert stats.provisional == (stats.count < 10)
        else:
            assert stats.p50 is None
