"""Starving (``spec/coaching.md``): only ``active`` stages starve, and only time when the stage and the queue
right before it were empty while earlier started stages held work counts. Hand-made boards, evaluated through
replay as the worker would, with the starving hours read from the signals; and a property over random boards.

The boards run in Zurich with the default calendar (Mon–Fri 09:00–18:00). 2026-11-16 is a Monday.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.eventlog import events_from_records
from analytics.signals import BoardSignals, board_signals
from analytics.timeline import build_timeline
from analytics.wip_history import starvable_stages, wip_stays
from analytics.workflow import Workflow, parse_workflow
from analytics.workhours import WorkCalendar, working_seconds
from bot.coach.replay import Nudge, replay
from bot.store.board_settings import Thresholds
from tests.analytics.builders import events
from tests.analytics.builders import workflow as review_last_workflow

ZONE = "Europe/Zurich"
# The builders' board with a Test stage (active) after Review (its queue), as the sample board has.
WITH_TEST = parse_workflow(
    f"""
name: Payments
timezone: {ZONE}
stages:
  - {{name: Backlog, statuses: [Backlog, To Do], kind: backlog}}
  - {{name: Ready, statuses: [Selected], kind: queue}}
  - {{name: Development, statuses: [In Progress], kind: active}}
  - {{name: Review, statuses: [In Review], kind: queue}}
  - {{name: Test, statuses: [In Test], kind: active}}
  - {{name: Done, statuses: [Done], kind: done}}
  - {{name: Dropped, statuses: [Won't Do], kind: discarded}}
"""
)


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(ZONE)


def starving(rows: list[tuple[str, ...]], since: str, until: str, board: Workflow = WITH_TEST) -> list[Nudge]:
    result = replay(events(rows, ZONE), board, Thresholds(), since=local(since), until=local(until))
    return [nudge for nudge in result.nudges if nudge.alert.rule == "stage_starving"]


def signals(rows: list[tuple[str, ...]], moment: str, board: Workflow = WITH_TEST) -> BoardSignals:
    t = local(moment)
    return board_signals(build_timeline(events(rows, ZONE), board, t), t, t - pd.Timedelta(days=7))


def test_only_active_stages_with_started_work_before_them_can_starve():
    """Development's only earlier stage is its own queue (Ready, the start): it cannot starve; Test can."""
    [test] = starvable_stages(WITH_TEST)
    names = WITH_TEST.stage_names
    assert (names[test.stage], names[test.feeder or 0]) == ("Test", "Review")
    assert [names[i] for i in test.upstream] == ["Ready", "Development"]
    assert starvable_stages(review_last_workflow(ZONE)) == ()  # Review is a queue: nobody waits there


def test_a_fresh_board_does_not_starve_before_eight_working_hours_of_upstream_work():
    """The first work enters Development Monday 12:00: at Tuesday 00:00 Test has starved 6 working hours
    (12:00–18:00), not since the window's start; it fires at Tuesday 11:00, at 8."""
    rows = [(f"PAY-{n}", "2026-11-16T12:00", "In Progress") for n in range(1, 4)]
    assert starving(rows, "2026-11-16T09:00", "2026-11-17T00:00") == []
    assert signals(rows, "2026-11-17T00:00").stage("Test").starving_hours == 6.0
    assert signals(rows, "2026-11-16T12:02").stage("Test").starving_hours == 2 / 60
    [nudge] = starving(rows, "2026-11-16T09:00", "2026-11-17T12:00")
    assert nudge.alert.subject == "Test" and nudge.alert.detected_at == local("2026-11-17T11:00")
    assert "Development" in (nudge.text or "")


def test_an_empty_queue_never_starves():
    """Review (a queue) stays empty for a week while Development holds work: no nudge, no starving hours."""
    rows = [("PAY-1", "2026-11-16T09:00", "In Progress"), ("PAY-2", "2026-11-16T09:00", "Selected")]
    board = review_last_workflow(ZONE)
    assert starving(rows, "2026-11-16T09:00", "2026-11-23T12:00", board) == []
    assert signals(rows, "2026-11-23T12:00", board).stage("Review").starving_hours is None


def test_an_active_stage_whose_queue_holds_work_does_not_starve():
    """Test stays empty all week, but PAY-1 waits in Review (its queue): Test has work to pull."""
    rows = [("PAY-1", "2026-11-16T09:00", "In Review"), ("PAY-2", "2026-11-16T09:00", "In Progress")]
    assert starving(rows, "2026-11-16T09:00", "2026-11-23T12:00") == []
    assert signals(rows, "2026-11-23T12:00").stage("Test").starving_hours is None


def test_starving_counts_only_the_time_work_sat_upstream():
    """Test empties Monday 10:00 (PAY-1 done). Development holds PAY-2 until it is dropped at 12:00 and
    PAY-3 from 15:00: 2 h + 3 h on Monday, then 3 h on Tuesday morning, so 8 working hours at Tuesday 12:00
    (the 3 h with nothing upstream do not count). PAY-3 reaches Review at 14:00: Test has work again."""
    rows = [("PAY-1", "2026-11-13T09:00", "In Test"), ("PAY-1", "2026-11-16T10:00", "Done")]
    rows += [("PAY-2", "2026-11-16T09:00", "In Progress"), ("PAY-2", "2026-11-16T12:00", "Won't Do")]
    rows += [("PAY-3", "2026-11-16T15:00", "In Progress"), ("PAY-3", "2026-11-17T14:00", "In Review")]
    assert signals(rows, "2026-11-16T14:00").stage("Test").starving_hours == 2.0
    assert signals(rows, "2026-11-17T11:00").stage("Test").starving_hours == 7.0
    assert signals(rows, "2026-11-17T14:00").stage("Test").starving_hours is None
    [nudge] = starving(rows, "2026-11-16T09:00", "2026-11-17T18:00")
    assert nudge.alert.subject == "Test"
    assert nudge.alert.detected_at == local("2026-11-17T12:00")
    assert nudge.alert.resolved_at == local("2026-11-17T14:00")  # its queue received an item
    assert nudge.text is not None and "8 working hours" in nudge.text and "Development" in nudge.text


STATUSES = ["To Do", "Selected", "In Progress", "In Review", "In Test", "Done", "Won't Do"]
BASE = pd.Timestamp("2026-11-02T00:00", tz=ZONE)


@st.composite
def boards(draw):
    """Up to six items, each moving to random statuses at increasing random minutes over three weeks."""
    records = []
    for number in range(draw(st.integers(0, 6))):
        minutes = draw(st.lists(st.integers(1, 4 * 24 * 60), min_size=1, max_size=6))
        times = BASE + pd.to_timedelta(np.cumsum(minutes), unit="min")
        statuses = draw(st.lists(st.sampled_from(STATUSES), min_size=len(times), max_size=len(times)))
        for time, status in zip(times, statuses, strict=True):
            records.append({"item_id": f"I-{number}", "timestamp": time.isoformat(), "to_status": status})
    return records


@settings(max_examples=60, deadline=None)
@given(boards(), st.integers(0, 21 * 24 * 60))
def test_starving_never_exceeds_the_working_hours_since_work_first_sat_upstream(records, minute):
    """Starving hours at t ≤ working hours from the first entry of started work into the stage's upstream."""
    t = BASE + pd.Timedelta(minutes=minute)
    timeline = build_timeline(events_from_records(records, ZONE).events, WITH_TEST, t)
    found = board_signals(timeline, t, t - pd.Timedelta(days=7))
    wip = wip_stays(timeline)
    calendar = WorkCalendar.of(WITH_TEST)
    for candidate in starvable_stages(WITH_TEST):
        hours = found.stages[candidate.stage].starving_hours
        if hours is None:
            continue
        upstream = wip.loc[wip["stage"].isin(candidate.upstream), "entered_at"]
        if upstream.empty:
            assert hours == 0
            continue
        first = pd.Timestamp(int(upstream.min()), tz="UTC")
        assert hours <= working_seconds(first, t, calendar) / 3600 + 1e-9
