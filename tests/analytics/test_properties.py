"""Invariants of the flow measures over generated event logs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.calendar import window_ending
from analytics.cfd import cumulative_flow
from analytics.eventlog import events_from_records
from analytics.measures import board_metrics
from analytics.timeline import build_timeline
from tests.analytics.builders import workflow

WORKFLOW = workflow()
STATUSES = ["To Do", "Selected", "In Progress", "In Review", "Done", "Closed", "Won't Do", "Triage"]
FORWARD = ["To Do", "Selected", "In Progress", "In Review", "Done"]
BASE = pd.Timestamp("2026-01-01T00:00Z")
ASOF = pd.Timestamp("2026-03-01T00:00Z")


@st.composite
def event_logs(draw, *, forward_only: bool = False):
    """Items walking the board in strictly increasing time (so row order cannot matter), with blocks."""
    records = []
    for number in range(draw(st.integers(0, 8))):
        item_id = f"I-{number}"
        minutes = draw(st.lists(st.integers(1, 6 * 24 * 60), min_size=1, max_size=8))
        times = BASE + pd.to_timedelta(np.cumsum(minutes), unit="min")
        if forward_only:
            stages = sorted(
                draw(st.lists(st.integers(0, len(FORWARD) - 1), min_size=len(times), max_size=len(times)))
            )
            statuses = [FORWARD[i] for i in stages]
        else:
            statuses = draw(st.lists(st.sampled_from(STATUSES), min_size=len(times), max_size=len(times)))
        for time, status in zip(times, statuses, strict=True):
            records.append({"item_id": item_id, "timestamp": time.isoformat(), "to_status": status})
        if not forward_only and draw(st.booleans()):
            start, length = draw(st.integers(0, 50 * 24 * 60)), draw(st.integers(1, 10 * 24 * 60))
            blocked_at = BASE + pd.Timedelta(minutes=start) + pd.Timedelta(seconds=30)  # never ties a move
            records.append({"item_id": item_id, "timestamp": blocked_at.isoformat(), "event": "blocked"})
            unblocked_at = blocked_at + pd.Timedelta(minutes=length)
            records.append({"item_id": item_id, "timestamp": unblocked_at.isoformat(), "event": "unblocked"})
    return records


def frame(records):
    return events_from_records(records, "UTC").events


@settings(max_examples=60, deadline=None)
@given(event_logs())
def test_throughput_equals_items_finished_in_the_window(records):
    """Throughput total = items whose finish falls in the window = the sum of the daily series."""
    events = frame(records)
    m = board_metrics(events, WORKFLOW, ASOF, window_days=45)
    timeline = build_timeline(events, WORKFLOW, ASOF)
    finished = timeline.items.loc[timeline.items["finished"], "finished_at"]
    expected = int(((finished >= m.window.start) & (finished < m.window.end)).sum())
    assert m.throughput_total == expected == int(m.throughput_daily.sum()) == m.cycle_time.count


@settings(max_examples=60, deadline=None)
@given(event_logs())
def test_durations_are_never_negative_and_time_in_stage_adds_up(records):
    """Cycle time, age and blocked time are ≥ 0; time in stage sums to cycle time (finished) or age (WIP)."""
    timeline = build_timeline(frame(records), WORKFLOW, ASOF)
    items = timeline.items
    assert (items["cycle_time_days"].dropna() >= 0).all()
    assert (items["age_days"].dropna() >= 0).all()
    assert (items["blocked_days"] >= 0).all()
    total_in_stages = timeline.time_in_stage_days.sum(axis=1)
    finished = items["finished"].to_numpy()
    wip = items["wip"].to_numpy()
    np.testing.assert_allclose(
        total_in_stages[finished], items["cycle_time_days"].to_numpy()[finished], atol=1e-9
    )
    np.testing.assert_allclose(total_in_stages[wip], items["age_days"].to_numpy()[wip], atol=1e-9)
    spans = np.where(finished, items["cycle_time_days"], items["age_days"])
    counted = finished | wip
    assert (items["blocked_days"].to_numpy()[counted] <= spans[counted] + 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(event_logs(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(records, random):
    """Shuffling the rows of the log changes nothing in the metrics document."""
    from analytics.document import metrics_document

    shuffled = list(records)
    random.shuffle(shuffled)
    first = metrics_document(board_metrics(frame(records), WORKFLOW, ASOF))
    second = metrics_document(board_metrics(frame(shuffled), WORKFLOW, ASOF))
    assert first == second


@settings(max_examples=60, deadline=None)
@given(event_logs(forward_only=True))
def test_cfd_cumulative_lines_never_decrease_for_forward_flow(records):
    """Without backward moves, every cumulative line (done, done+review, …) is non-decreasing day by day."""
    timeline = build_timeline(frame(records), WORKFLOW, ASOF)
    cfd = cumulative_flow(timeline, window_ending(ASOF, 60, "UTC"))
    cumulative = cfd[list(reversed(WORKFLOW.stage_names))].cumsum(axis=1).to_numpy()
    assert (np.diff(cumulative, axis=0) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(event_logs())
def test_cfd_top_line_never_decreases(records):
    """Items never leave the diagram (discarded is a band too), so the total only grows."""
    timeline = build_timeline(frame(records), WORKFLOW, ASOF)
    totals = cumulative_flow(timeline, window_ending(ASOF, 60, "UTC")).sum(axis=1).to_numpy()
    assert (np.diff(totals) >= 0).all()


@settings(max_examples=40, deadline=None)
@given(event_logs())
def test_flow_efficiency_is_a_share(records):
    """Flow efficiency lies in [0, 1] or is null when nothing finished."""
    m = board_metrics(frame(records), WORKFLOW, ASOF, window_days=60)
    assert m.flow_efficiency is None or 0 <= m.flow_efficiency <= 1
