"""Push / starved pull / flow diagnosis and weekly trends on hand-computed boards (``spec/coaching.md``).

The boards use the builders' workflow (Ready ≤ 6, Development ≤ 4, Review ≤ 3, board ≤ 12) in UTC with the
default calendar (Mon–Fri 09:00–18:00). The period is February 2026: Mon 2 Feb 00:00 to Mon 2 Mar 00:00,
20 working days, 180 working hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.diagnosis import Diagnosis, diagnose, weekly_trends
from analytics.eventlog import events_from_records
from analytics.timeline import build_timeline
from analytics.wip_history import wip_at, wip_stays
from analytics.workflow import Workflow, parse_workflow
from analytics.workhours import WorkCalendar
from tests.analytics.builders import WORKFLOW_YAML, at, events, timeline, workflow

ASOF = "2026-03-02T00:00Z"
CALENDAR = WorkCalendar.of(workflow())


def with_test(timezone: str = "UTC") -> Workflow:
    """The builders' board with a Test stage (active) after Review (its queue): a stage that can starve."""
    review = "  - {{name: Review, statuses: [In Review], kind: queue, wip_limit: 3}}\n"
    test = "  - {{name: Test, statuses: [In Test], kind: active}}\n"
    return parse_workflow(WORKFLOW_YAML.replace(review, review + test).format(timezone=timezone))


def run(rows: list[tuple[str, ...]], asof: str = ASOF, board: Workflow | None = None) -> Diagnosis:
    line = timeline(rows, asof) if board is None else build_timeline(events(rows), board, at(asof))
    return diagnose(line, asof=at(asof), calendar=CALENDAR)


def evidence(diagnosis: Diagnosis, name: str, stage: str | None = None):
    [found] = [e for e in diagnosis.evidence if e.name == name and e.stage == stage]
    return found


def moves(item: str, *steps: tuple[str, str]) -> list[tuple[str, ...]]:
    return [(item, when, status) for when, status in steps]


def push_board() -> list[tuple[str, ...]]:
    """Five items in Development all month (limit 4), six more pulled into Ready, one finished."""
    rows: list[tuple[str, ...]] = []
    for n in range(5):
        rows += moves(f"D{n}", ("2026-01-26T10:00", "Selected"), ("2026-01-26T11:00", "In Progress"))
    for n in range(6):
        rows += moves(f"A{n}", ("2026-02-10T10:00", "Selected"))
    rows += moves(
        "F1",
        ("2026-02-03T10:00", "Selected"),
        ("2026-02-03T12:00", "In Progress"),
        ("2026-02-05T10:00", "Done"),
    )
    return rows


def starved_board() -> list[tuple[str, ...]]:
    """One item a week (``with_test``): Ready Mon 09-10, Development until Fri 15:00, Review one hour,
    Test one hour, Done Fri 17:00."""
    rows: list[tuple[str, ...]] = []
    for week, monday in enumerate(pd.date_range("2026-01-26", periods=5, freq="7D")):
        friday = monday + pd.Timedelta(days=4)
        rows += moves(
            f"W{week}",
            (f"{monday:%Y-%m-%d}T09:00", "Selected"),
            (f"{monday:%Y-%m-%d}T10:00", "In Progress"),
            (f"{friday:%Y-%m-%d}T15:00", "In Review"),
            (f"{friday:%Y-%m-%d}T16:00", "In Test"),
            (f"{friday:%Y-%m-%d}T17:00", "Done"),
        )
    return rows


def flow_board(first: str = "2026-01-20T09:00") -> list[tuple[str, ...]]:
    """Every day at 09:00 an item starts; it spends exactly one day each in Ready, Development and Review."""
    rows: list[tuple[str, ...]] = []
    for k, start in enumerate(pd.date_range(first, periods=45, freq="D")):
        stamps = [f"{start + pd.Timedelta(days=d):%Y-%m-%dT%H:%M}" for d in range(4)]
        statuses = ("Selected", "In Progress", "In Review", "Done")
        rows += moves(f"S{k:02d}", *zip(stamps, statuses, strict=True))
    return rows


def test_push_board_arrivals_far_above_departures_and_limits_exceeded_every_day():
    """7 arrivals against 1 departure, Development over its limit at the end of all 20 working days."""
    result = run(push_board())
    assert result.verdict == "push"
    assert (result.arrivals, result.departures, result.finished) == (7, 1, 1)
    assert evidence(result, "arrival_ratio").value == pytest.approx(7.0)
    assert evidence(result, "arrival_ratio").holds
    assert (result.days_over_limit, result.working_days) == (20, 20)
    assert evidence(result, "days_over_limit").value == pytest.approx(1.0)
    # F1: 48 h of cycle, 46 of them in Development (active).
    assert result.flow_efficiency == pytest.approx(46 / 48)
    assert not evidence(result, "flow_efficiency").holds
    # Review never had an item, but it is a queue: nobody waits there, so nothing starves.
    assert result.starving == ()
    assert not evidence(result, "balance").holds


def test_starved_board_test_starves_most_working_hours_while_development_holds_work():
    """Test and its queue (Review) are empty Mon 09:00 – Fri 15:00 while the week's item sits in Ready or
    Development: 42 of every 45 working hours, 4 weeks, 168 of 180. Friday 17-18 (nothing upstream) does not
    count. Development cannot starve: the only stage before it is its own queue."""
    result = run(starved_board(), board=with_test())
    assert result.verdict == "starved_pull"
    assert (result.arrivals, result.departures) == (4, 4)
    assert evidence(result, "arrival_ratio").value == pytest.approx(1.0)
    assert (result.days_over_limit, result.working_days) == (0, 20)
    # 104 calendar hours of cycle: 101 in Development (Mon 10:00 – Fri 15:00) and 1 in Test are active.
    assert result.flow_efficiency == pytest.approx(102 / 104)
    [test] = result.starving
    assert test.stage == "Test"
    assert test.hours == pytest.approx(168.0)
    assert test.share == pytest.approx(168 / 180)
    assert test.constraint == "Development"
    assert evidence(result, "starving", "Test").holds
    assert [e.name for e in result.evidence if e.supports == "push" and e.holds] == []


def test_flow_board_balanced_stable_and_littles_law_holds():
    """One in, one out every day, three in progress at every instant, average age 1.5 days."""
    result = run(flow_board())
    assert result.verdict == "flow"
    assert (result.arrivals, result.departures, result.finished) == (28, 28, 28)
    assert (result.days_over_limit, result.working_days) == (0, 20)
    assert result.flow_efficiency == pytest.approx(1 / 3)
    assert result.average_wip == pytest.approx(3.0)
    assert result.throughput_per_day == pytest.approx(1.0)
    assert result.average_cycle_days == pytest.approx(3.0)
    assert (result.wip_first_week, result.wip_last_week) == (pytest.approx(3.0), pytest.approx(3.0))
    assert (result.age_first_week, result.age_last_week) == (pytest.approx(1.5), pytest.approx(1.5))
    assert all(s.hours == 0 for s in result.starving)
    for name in ("balance", "littles_law", "wip_stable", "age_stable"):
        assert evidence(result, name).value == pytest.approx(1.0)
        assert evidence(result, name).holds
    # Each finished item waited one day in Ready and one in Review: an even split, Ready first.
    assert result.waiting_days == {"Ready": pytest.approx(28.0), "Review": pytest.approx(28.0)}
    assert result.bottleneck == "Ready"


def test_days_and_working_hours_follow_the_board_time_zone_across_dst():
    """Zurich over the spring change: 28 local days, 20 working days of 9 h, WIP still 3 at every instant."""
    asof = "2026-04-06T00:00+02:00"
    line = build_timeline(
        events(flow_board("2026-02-25T09:00"), "Europe/Zurich"), with_test("Europe/Zurich"), at(asof)
    )
    result = diagnose(line, asof=at(asof), calendar=WorkCalendar.of(workflow("Europe/Zurich")))
    assert result.verdict == "flow"
    assert (result.start, result.end) == (at("2026-03-09T00:00+01:00"), at(asof))
    assert (result.working_days, result.days_over_limit) == (20, 0)
    assert {s.working_hours for s in result.starving} == {180.0}
    assert result.average_wip == pytest.approx(3.0)
    assert (result.arrivals, result.departures) == (28, 28)
    # The period is one hour short of 28 days, and the three items living through the change lost an hour.
    assert result.throughput_per_day == pytest.approx(28 / (28 - 1 / 24))
    assert result.average_cycle_days == pytest.approx(3 - 3 / 24 / 28)


def test_empty_log_is_mixed_with_no_numbers():
    """No events: nothing arrives or departs, statistics are None and no criterion holds."""
    result = run([])
    assert result.verdict == "mixed"
    assert (result.arrivals, result.departures, result.finished, result.days_over_limit) == (0, 0, 0, 0)
    assert result.working_days == 20
    assert result.flow_efficiency is None and result.average_cycle_days is None
    assert result.average_wip == 0.0 and result.age_first_week is None
    assert not any(e.holds for e in result.evidence)
    assert result.bottleneck is None
    trends = weekly_trends(timeline([], ASOF), asof=at(ASOF))
    assert trends.throughput.last_week is None and trends.cycle_p85.baseline is None


def test_single_item_counts_one_arrival_and_one_departure():
    """One item started and finished in the period: ratio 1, cycle 2 days, its time in Ready is waiting."""
    rows = moves(
        "ONE",
        ("2026-02-09T09:00", "Selected"),
        ("2026-02-10T09:00", "In Progress"),
        ("2026-02-11T09:00", "Done"),
    )
    result = run(rows)
    assert (result.arrivals, result.departures, result.finished) == (1, 1, 1)
    assert result.average_cycle_days == pytest.approx(2.0)
    assert result.flow_efficiency == pytest.approx(0.5)
    assert result.waiting_days == {"Ready": pytest.approx(1.0), "Review": 0.0}
    assert result.bottleneck == "Ready"


def test_backlog_returns_reopens_and_skips_count_as_the_started_system_sees_them():
    """A restart after the backlog arrives again, a reopened item departs twice, a skip to done is neither."""
    rows = [
        *moves(
            "BACK",
            ("2026-02-03T09:00", "Selected"),
            ("2026-02-04T09:00", "To Do"),
            ("2026-02-05T09:00", "Selected"),
        ),
        *moves(
            "REOPEN",
            ("2026-02-03T09:00", "In Progress"),
            ("2026-02-04T09:00", "Done"),
            ("2026-02-05T09:00", "In Progress"),
            ("2026-02-06T09:00", "Done"),
        ),
        *moves("SKIP", ("2026-02-03T09:00", "To Do"), ("2026-02-04T09:00", "Done")),
    ]
    result = run(rows)
    assert result.arrivals == 4  # BACK twice, REOPEN twice
    assert result.departures == 2  # REOPEN twice; SKIP never held WIP
    assert result.finished == 2  # REOPEN and SKIP are done now


def test_wip_at_day_ends_counts_the_state_just_before_midnight():
    """An item entering exactly at a day's end counts from the next day on; one leaving then still counts."""
    rows = moves("X", ("2026-02-03T00:00", "Selected"), ("2026-02-04T00:00", "In Progress"))
    line = timeline(rows, ASOF)
    wip = wip_stays(line)
    ends = np.array([at(t).value for t in ("2026-02-03T00:00", "2026-02-04T00:00", "2026-02-05T00:00")])
    counts = wip_at(wip, ends, len(line.workflow.stages), side="right")
    assert counts[1].tolist() == [0, 1, 0]  # Ready
    assert counts[2].tolist() == [0, 0, 1]  # Development


def test_weekly_trends_compare_the_last_seven_days_with_the_weekly_average_before():
    """On the steady board the last week matches the four before: 7 a week, cycle time 3 days."""
    line = timeline(flow_board(), ASOF)
    trends = weekly_trends(line, asof=at(ASOF))
    assert (trends.finished_last_week, trends.finished_before) == (7, 28)
    assert trends.throughput.last_week == 7.0 and trends.throughput.baseline == 7.0
    assert trends.throughput.change == 0.0
    assert trends.cycle_p50.last_week == pytest.approx(3.0) and trends.cycle_p85.baseline == pytest.approx(
        3.0
    )


def test_weekly_trends_have_no_baseline_before_the_log_begins():
    """A log that starts inside the baseline weeks has no baseline throughput (not a misleading 0)."""
    rows = moves("NEW", ("2026-02-20T09:00", "Selected"), ("2026-02-25T09:00", "Done"))
    trends = weekly_trends(timeline(rows, ASOF), asof=at(ASOF))
    assert trends.throughput.last_week == 1.0 and trends.throughput.baseline is None
    assert trends.throughput.change is None
    assert trends.cycle_p50.last_week == pytest.approx(5.0) and trends.cycle_p50.baseline is None


def test_asof_must_be_the_timelines_instant():
    """Asking about another instant than the timeline's is an error, not a silent mix of two instants."""
    line = timeline(flow_board(), ASOF)
    with pytest.raises(ValueError, match="asof"):
        diagnose(line, asof=at("2026-03-01T00:00Z"), calendar=CALENDAR)
    with pytest.raises(ValueError, match="weeks"):
        diagnose(line, asof=at(ASOF), weeks=1, calendar=CALENDAR)


STATUSES = ["To Do", "Selected", "In Progress", "In Review", "Done", "Won't Do"]


@st.composite
def shuffled_logs(draw):
    """A random log (strictly increasing times per item, blocks included) and a permutation of its rows."""
    records = []
    for number in range(draw(st.integers(1, 8))):
        minutes = draw(st.lists(st.integers(1, 5 * 24 * 60), min_size=1, max_size=7))
        times = at("2026-01-20T00:00") + pd.to_timedelta(np.cumsum(minutes), unit="min")
        for time in times:
            status = draw(st.sampled_from(STATUSES))
            records.append({"item_id": f"I-{number}", "timestamp": time.isoformat(), "to_status": status})
        if draw(st.booleans()):
            blocked = times[0] + pd.Timedelta(seconds=30)
            records.append({"item_id": f"I-{number}", "timestamp": blocked.isoformat(), "event": "blocked"})
    order = draw(st.permutations(range(len(records))))
    return records, [records[i] for i in order]


@settings(max_examples=40, deadline=None)
@given(shuffled_logs())
def test_diagnosis_does_not_depend_on_event_row_order(logs):
    """The same events in any row order give the same verdict and the same evidence."""
    ordered, shuffled = logs
    results = [
        diagnose(
            build_timeline(events_from_records(rows, "UTC").events, workflow(), at(ASOF)),
            asof=at(ASOF),
            calendar=CALENDAR,
        )
        for rows in (ordered, shuffled)
    ]
    assert results[0].verdict == results[1].verdict
    assert results[0].evidence == results[1].evidence
    assert results[0] == results[1]


def test_builders_events_accept_the_boards():
    """The hand-made boards are valid event logs (guards the fixtures themselves)."""
    for rows in (push_board(), starved_board(), flow_board()):
        assert len(events(rows)) == len(rows)
