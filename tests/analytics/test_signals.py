"""What the coach's rules look at, at an instant, from one timeline: hand-computed and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.eventlog import events_from_records
from analytics.measures import compute_metrics
from analytics.signals import BoardSignals, board_signals, signals_at
from analytics.timeline import build_timeline
from analytics.workflow import parse_workflow
from analytics.workhours import WorkCalendar, working_days_back
from tests.analytics.builders import WORKFLOW_YAML, events, workflow

ZONE = "Europe/Zurich"  # winter: CET, UTC+1. 2026-01-05 is a Monday.
WORKFLOW = workflow(ZONE)
CALENDAR = WorkCalendar.of(WORKFLOW)  # Mon–Fri 09:00–18:00
ROWS = [
    # A: the whole way, Ready Mon 5th 10:00 → Done Fri 9th 15:00 (cycle 4 d 5 h).
    ("A", "2026-01-05 09:00", "To Do"),
    ("A", "2026-01-05 10:00", "Selected"),
    ("A", "2026-01-06 09:00", "In Progress"),
    ("A", "2026-01-08 12:00", "In Review"),
    ("A", "2026-01-09 15:00", "Done"),
    # B: blocked in Development from Friday 16:00 over the weekend until Tuesday.
    ("B", "2026-01-06 10:00", "Selected"),
    ("B", "2026-01-07 10:00", "In Progress"),
    ("B", "2026-01-09 16:00", "blocked"),
    ("B", "2026-01-13 11:00", "unblocked"),
    ("B", "2026-01-14 10:00", "In Review"),
    # C: waits in the backlog, pulled into Ready on Monday 12th.
    ("C", "2026-01-07 11:00", "To Do"),
    ("C", "2026-01-12 09:30", "Selected"),
    # D: skips Ready, Done Mon 12th 10:00 (cycle 4 d 1 h), then a move within Done.
    ("D", "2026-01-08 09:00", "In Progress"),
    ("D", "2026-01-08 14:00", "In Review"),
    ("D", "2026-01-12 10:00", "Done"),
    ("D", "2026-01-12 11:00", "Closed"),
]
END = "2026-01-16 18:00"


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=ZONE)


def signals(rows, moment: str, asof: str = END) -> BoardSignals:
    """Signals at a local instant from a timeline built at ``asof``; the window is 5 working days."""
    timeline = build_timeline(events(rows, ZONE), WORKFLOW, local(asof))
    return board_signals(timeline, local(moment), working_days_back(local(moment), 5, CALENDAR))


def wip(s: BoardSignals) -> dict[str, int | None]:
    return {stage.name: stage.wip for stage in s.stages}


def test_wip_at_several_instants():
    """WIP per stage and in total at Wed 7th, Fri 9th and Mon 12th; backlog and done hold none."""
    cases = {
        "2026-01-07 12:00": ({"Ready": 0, "Development": 2, "Review": 0}, 2),
        "2026-01-09 17:00": ({"Ready": 0, "Development": 1, "Review": 1}, 2),
        "2026-01-12 12:00": ({"Ready": 1, "Development": 1, "Review": 0}, 2),
    }
    for moment, (by_stage, total) in cases.items():
        s = signals(ROWS, moment)
        assert wip(s) == {"Backlog": None, **by_stage, "Done": None, "Dropped": None}
        assert s.wip_total == total
        assert s.wip_limit == 12
        assert s.stage("Development").wip_limit == 4


def test_arrivals_departures_and_wip_at_window_start():
    """Over [Mon 5th 12:00, Mon 12th 12:00): entries and exits per stage; a move within Done is no arrival."""
    s = signals(ROWS, "2026-01-12 12:00")
    assert s.window_start == local("2026-01-05 12:00")
    flow = {st_.name: (st_.arrivals, st_.departures, st_.wip_at_window_start) for st_ in s.stages}
    assert flow == {
        "Backlog": (1, 1, 0),  # C in; C out (A's backlog stay was before the window)
        "Ready": (2, 2, 1),  # B, C in; A, B out; A was waiting at the window start
        "Development": (3, 2, 0),  # A, B, D in; A, D out
        "Review": (2, 2, 0),
        "Done": (2, 0, 0),  # A, D (D's move to Closed stays in Done)
        "Dropped": (0, 0, 0),
    }


def test_window_is_half_open_but_wip_counts_arrivals_at_t():
    """C enters Ready exactly at t: it is in Ready's WIP and its newest arrival, not an arrival in [ws, t)."""
    s = signals(ROWS, "2026-01-12 09:30")
    ready = s.stage("Ready")
    assert ready.wip == 1
    assert s.window_start == local("2026-01-05 09:30")
    assert ready.arrivals == 2  # A at 10:00 on the 5th and B; not C
    assert (ready.newest_arrival, ready.newest_arrival_at) == ("C", local("2026-01-12 09:30"))


def test_empty_since_and_upstream():
    """An emptied stage is empty since its last exit; one never reached, since the window start."""
    wednesday = signals(ROWS, "2026-01-07 12:00")
    ready, review = wednesday.stage("Ready"), wednesday.stage("Review")
    assert ready.empty_since == local("2026-01-07 10:00")  # B left for Development
    assert (ready.upstream_wip, ready.upstream_heaviest) == (0, None)
    assert review.empty_since == wednesday.window_start == local("2025-12-31 12:00")
    assert (review.upstream_wip, review.upstream_heaviest) == (2, "Development")
    assert wednesday.stage("Development").empty_since is None  # not empty
    assert wednesday.stage("Done").empty_since is None  # holds no WIP

    monday = signals(ROWS, "2026-01-12 12:00").stage("Review")
    assert monday.empty_since == local("2026-01-12 10:00")  # D went to Done
    # Ready and Development hold one each: on a tie the nearer stage is named.
    assert (monday.upstream_wip, monday.upstream_heaviest) == (2, "Development")


def test_newest_arrival_per_stage():
    """The item that most recently entered each stage at or before t; None where nothing ever came."""
    s = signals(ROWS, "2026-01-12 12:00")
    newest = {stage.name: (stage.newest_arrival, stage.newest_arrival_at) for stage in s.stages}
    assert newest == {
        "Backlog": ("C", local("2026-01-07 11:00")),
        "Ready": ("C", local("2026-01-12 09:30")),
        "Development": ("D", local("2026-01-08 09:00")),
        "Review": ("D", local("2026-01-08 14:00")),
        "Done": ("D", local("2026-01-12 10:00")),  # not Closed at 11:00: same stage
        "Dropped": (None, None),
    }


def test_aging_lists_wip_items_oldest_first_with_ages_at_t():
    """Mon 12th 12:00: B started Tue 6th 10:00 (6 d 2 h), C at 09:30 (2.5 h)."""
    aging = signals(ROWS, "2026-01-12 12:00").aging
    assert list(aging.index) == ["B", "C"]
    assert aging.index.name == "item_id"
    assert list(aging.columns) == ["stage", "started_at", "age_days", "title", "url"]
    assert list(aging["stage"]) == ["Development", "Ready"]
    assert list(aging["started_at"]) == [local("2026-01-06 10:00"), local("2026-01-12 09:30")]
    assert aging["age_days"].tolist() == pytest.approx([6 + 2 / 24, 2.5 / 24])


def test_blocked_counts_working_hours_across_the_weekend():
    """B blocked since Fri 16:00: 1 working hour at Fri 17:00, 5 at Mon 12:00 (16–18 Fri, 9–12 Mon)."""
    friday = signals(ROWS, "2026-01-09 17:00").blocked
    monday = signals(ROWS, "2026-01-12 12:00").blocked
    assert list(monday.columns) == ["stage", "blocked_since", "blocked_working_hours", "title", "url"]
    assert list(friday.index) == list(monday.index) == ["B"]
    assert friday.loc["B", "blocked_working_hours"] == pytest.approx(1.0)
    assert monday.loc["B", "blocked_working_hours"] == pytest.approx(5.0)
    assert monday.loc["B", "blocked_since"] == local("2026-01-09 16:00")
    assert monday.loc["B", "stage"] == "Development"
    assert signals(ROWS, "2026-01-13 11:00").blocked.empty  # unblocked at t


def test_a_second_block_while_blocked_keeps_blocked_since():
    """Blocked again while blocked is one block: working hours count from the first blocked event."""
    rows = [*ROWS, ("B", "2026-01-12 09:00", "blocked")]
    monday = signals(rows, "2026-01-12 12:00").blocked
    assert monday.loc["B", "blocked_since"] == local("2026-01-09 16:00")
    assert monday.loc["B", "blocked_working_hours"] == pytest.approx(5.0)


def test_sle_at_t_ignores_items_finished_after_t():
    """No finishes on Wed 7th; on Fri 9th only A's 4 d 5 h (D finishes later); on Mon 12th p85 of both."""
    assert signals(ROWS, "2026-01-07 12:00").sle_days is None
    assert signals(ROWS, "2026-01-09 17:00").sle_days == pytest.approx(4 + 5 / 24)
    a, d = 4 + 5 / 24, 4 + 1 / 24
    assert signals(ROWS, "2026-01-12 12:00").sle_days == pytest.approx(d + 0.85 * (a - d))


def test_a_return_to_the_backlog_restarts_the_age_at_t():
    """E is pulled, sent back to the backlog, pulled again: its age at each t counts from the start then."""
    rows = [("E", "2026-01-05 10:00", "Selected"), ("E", "2026-01-06 10:00", "To Do")]
    rows.append(("E", "2026-01-08 10:00", "Selected"))
    before = signals(rows, "2026-01-05 12:00").aging
    assert before.loc["E", "started_at"] == local("2026-01-05 10:00")
    assert before.loc["E", "age_days"] == pytest.approx(2 / 24)
    between = signals(rows, "2026-01-07 12:00")
    assert between.aging.empty and between.wip_total == 0
    assert between.stage("Ready").empty_since == local("2026-01-06 10:00")
    after = signals(rows, "2026-01-09 12:00").aging
    assert after.loc["E", "age_days"] == pytest.approx(1 + 2 / 24)


def test_stages_before_the_start_stage_hold_no_wip():
    """With start: Development, Ready is a queue before the commitment point: no WIP there."""
    board = parse_workflow(WORKFLOW_YAML.format(timezone=ZONE) + "start: Development\n")
    timeline = build_timeline(events(ROWS, ZONE), board, local(END))
    s = board_signals(timeline, local("2026-01-12 12:00"), local("2026-01-05 12:00"))
    assert s.stage("Ready").wip is None and s.stage("Ready").wip_at_window_start == 0
    assert s.wip_total == 1 and list(s.aging.index) == ["B"]  # C waits in Ready, not started


def test_empty_event_log():
    """No events: no WIP, every WIP stage empty since the window start, no SLE, empty frames with columns."""
    timeline = build_timeline(events([], ZONE), WORKFLOW, local(END))
    moments = [local("2026-01-12 12:00"), local("2026-01-14 09:00")]
    result = signals_at(timeline, moments, window=lambda t: t - pd.Timedelta(days=3))
    assert [s.asof for s in result] == moments
    for s in result:
        assert s.wip_total == 0 and s.sle_days is None
        assert wip(s) == {
            "Backlog": None,
            "Ready": 0,
            "Development": 0,
            "Review": 0,
            "Done": None,
            "Dropped": None,
        }
        assert all(stage.empty_since == s.window_start for stage in s.stages if stage.wip is not None)
        assert all(stage.newest_arrival is None and stage.upstream_heaviest is None for stage in s.stages)
        assert s.aging.empty and list(s.aging.columns) == ["stage", "started_at", "age_days", "title", "url"]
        assert s.blocked.empty and "blocked_working_hours" in s.blocked.columns


def test_signals_at_many_instants_match_one_by_one():
    """signals_at over several instants gives what board_signals gives for each."""
    timeline = build_timeline(events(ROWS, ZONE), WORKFLOW, local(END))
    moments = [local(m) for m in ("2026-01-07 12:00", "2026-01-09 17:00", "2026-01-12 12:00")]
    window = lambda t: working_days_back(t, 5, CALENDAR)  # noqa: E731
    for together, moment in zip(signals_at(timeline, moments, window=window), moments, strict=True):
        assert_same(together, board_signals(timeline, moment, window(moment)))


def test_refuses_instants_after_the_timeline_and_windows_after_t():
    """The timeline only knows events up to its asof; a window must start at or before t."""
    timeline = build_timeline(events(ROWS, ZONE), WORKFLOW, local("2026-01-09 12:00"))
    with pytest.raises(ValueError, match="asof"):
        board_signals(timeline, local("2026-01-12 12:00"), local("2026-01-05 12:00"))
    with pytest.raises(ValueError, match="window"):
        board_signals(timeline, local("2026-01-08 12:00"), local("2026-01-09 12:00"))
    with pytest.raises(ValueError, match="timezone-aware"):
        board_signals(timeline, pd.Timestamp("2026-01-08 12:00"), local("2026-01-05 12:00"))


def assert_same(left: BoardSignals, right: BoardSignals, *, blocked: bool = True) -> None:
    assert (left.asof, left.window_start, left.wip_total, left.wip_limit) == (
        right.asof,
        right.window_start,
        right.wip_total,
        right.wip_limit,
    )
    assert left.stages == right.stages
    assert left.sle_days == right.sle_days
    pd.testing.assert_frame_equal(left.aging, right.aging)
    if blocked:
        pd.testing.assert_frame_equal(left.blocked, right.blocked)


# Properties over generated boards (UTC, the spec's stages), read at instants that include event times.
UTC_WORKFLOW = workflow()
UTC_CALENDAR = WorkCalendar.of(UTC_WORKFLOW)
STATUSES = ["To Do", "Selected", "In Progress", "In Review", "Done", "Closed", "Won't Do", "Triage"]
BASE = pd.Timestamp("2026-01-05T00:00Z")
LATER = pd.Timestamp("2026-03-01T00:00Z")


@st.composite
def boards(draw):
    """An event log and instants to read it at (some of them event times, to catch ties at t)."""
    records = []
    for number in range(draw(st.integers(0, 6))):
        minutes = np.cumsum(draw(st.lists(st.integers(0, 4 * 24 * 60), min_size=1, max_size=7)))
        statuses = draw(st.lists(st.sampled_from(STATUSES), min_size=len(minutes), max_size=len(minutes)))
        for minute, status in zip(minutes, statuses, strict=True):
            records.append(
                {
                    "item_id": f"I-{number}",
                    "timestamp": BASE + pd.Timedelta(minutes=int(minute)),
                    "to_status": status,
                }
            )
        for _ in range(draw(st.integers(0, 2))):
            start = BASE + pd.Timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
            end = start + pd.Timedelta(minutes=draw(st.integers(0, 5 * 24 * 60)))
            records.append({"item_id": f"I-{number}", "timestamp": start, "event": "blocked"})
            records.append({"item_id": f"I-{number}", "timestamp": end, "event": "unblocked"})
    times = [r["timestamp"] for r in records]
    moments = draw(st.lists(st.integers(0, 30 * 24 * 60), min_size=1, max_size=4))
    instants = [BASE + pd.Timedelta(minutes=m) for m in moments] + draw(
        st.lists(st.sampled_from(times), max_size=3) if times else st.just([])
    )
    return events_from_records(records, "UTC").events, sorted(instants)


def window(t: pd.Timestamp) -> pd.Timestamp:
    return working_days_back(t, 5, UTC_CALENDAR)


def restarted_after_start(events_frame: pd.DataFrame) -> bool:
    """Whether some item went back to the backlog after leaving it (the blocked approximation's case)."""
    moves = events_frame.loc[events_frame["to_status"].isin(STATUSES[:7])]
    backlog = (moves["to_status"] == "To Do").groupby(moves["item_id"])
    return bool(backlog.apply(lambda returns: returns.iloc[1:].any()).any())


@settings(max_examples=80, deadline=None)
@given(boards())
def test_events_after_t_do_not_change_signals_at_t(board):
    """Signals at t from a timeline built at t equal those from a timeline built much later."""
    log, moments = board
    later = signals_at(build_timeline(log, UTC_WORKFLOW, LATER), moments, window=window)
    exact_blocks = not restarted_after_start(log)
    for moment, from_later in zip(moments, later, strict=True):
        [at_t] = signals_at(build_timeline(log, UTC_WORKFLOW, moment), [moment], window=window)
        assert_same(at_t, from_later, blocked=exact_blocks)


@settings(max_examples=60, deadline=None)
@given(boards())
def test_signals_agree_with_the_measures_at_t(board):
    """WIP, ages, SLE and blocked items equal analytics.measures on a timeline built at t."""
    log, moments = board
    later = signals_at(build_timeline(log, UTC_WORKFLOW, LATER), moments, window=window)
    exact_blocks = not restarted_after_start(log)
    for moment, s in zip(moments, later, strict=True):
        timeline = build_timeline(log, UTC_WORKFLOW, moment)
        m = compute_metrics(timeline)
        assert s.wip_total == m.wip_total
        assert {st_.name: st_.wip for st_ in s.stages if st_.wip is not None} == m.wip_by_stage
        assert s.sle_days == pytest.approx(m.sle_days)
        assert sorted(s.aging.index) == sorted(m.wip_items.index)
        ages = m.wip_items["age_days"].reindex(s.aging.index)
        np.testing.assert_allclose(s.aging["age_days"].to_numpy(), ages.to_numpy(dtype=float))
        if exact_blocks:
            assert sorted(s.blocked.index) == sorted(timeline.items.index[timeline.items["blocked"]])
