"""throughput_shift stays quiet on boards whose process does not change: a year of steady Poisson finishes,
and the benchmarks' synthetic board (two years of evenly arriving items)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.eventlog import events_from_records
from analytics.signals import signals_at
from analytics.timeline import build_timeline
from analytics.workflow import Workflow, parse_workflow
from benchmarks.synthetic import DEFAULT_END, make_board
from bot.coach.rules import Context, throughput_shift
from bot.store.board_settings import Thresholds
from tests.analytics.builders import events, finishing_board, workflow

ZONE = "Europe/Zurich"
# XmR limits from 12 weeks are themselves a little uncertain: on steady Poisson weeks about one week a
# year still lands outside them (simulated over many seeds: 1.0 a year on average). A rule that spoke
# on every second or third week, or on every slow week, would be far above this.
MAX_SHIFTS_A_YEAR = 3


def shifts(frame: pd.DataFrame, board: Workflow, mondays: list[pd.Timestamp]) -> tuple[int, int]:
    """(nudges, weeks firing) over the weeks of ``mondays``: the rule's verdict is about the last full week,
    so it only changes when a week ends, and one evaluation a week sees every change. A nudge is a week
    that fires after one that did not (the alert stays open, unposted again, while it keeps firing)."""
    timeline = build_timeline(frame, board, mondays[-1])
    context = Context(Thresholds(), lambda _since, _now: 0.0)
    nudged, firing, before = 0, 0, False
    for signals in signals_at(timeline, mondays, window=lambda moment: moment):
        now = bool(throughput_shift(signals, context, ()).firing)
        nudged += now and not before
        firing += now
        before = now
    return nudged, firing


def test_a_year_of_steady_poisson_finishes_draws_few_shifts():
    """Finishes on each weekday drawn from Poisson(4) (20 a week) from September; over the 52 weeks of
    2026, at most three nudges, and no more than three weeks firing."""
    rng = np.random.default_rng(0)
    rows = finishing_board(lambda _day: int(rng.poisson(4)), "2025-09-01", "2026-12-31")
    mondays = [pd.Timestamp("2026-01-05T10:00").tz_localize(ZONE) + pd.Timedelta(weeks=k) for k in range(52)]
    nudged, firing = shifts(events(rows, ZONE), workflow(ZONE), mondays)
    assert nudged <= MAX_SHIFTS_A_YEAR and firing <= MAX_SHIFTS_A_YEAR


def test_the_synthetic_benchmark_board_draws_few_shifts():
    """3,000 items arriving evenly over two years (benchmarks/synthetic.py): its last year is steady."""
    frame, yaml_text = make_board(3_000, seed=0)
    board = parse_workflow(yaml_text)
    log = events_from_records(frame.to_dict("records"), board.timezone).events
    end = pd.Timestamp(DEFAULT_END)
    monday = end.normalize() - pd.Timedelta(days=end.weekday()) + pd.Timedelta(hours=10)
    mondays = [monday - pd.Timedelta(weeks=k) for k in range(52, 0, -1)]
    nudged, _firing = shifts(log, board, mondays)
    assert nudged <= MAX_SHIFTS_A_YEAR


def test_a_board_too_young_for_a_baseline_draws_nothing():
    """Ten weeks of history: the twelve weeks before the last four do not exist yet, so even a collapse
    from 20 to 2 a week says nothing (limits from a young board are a guess)."""
    rows = finishing_board(
        lambda day: 4 if day.month < 3 else int(day.weekday() < 2), "2026-01-05", "2026-03-15"
    )
    mondays = [pd.Timestamp("2026-03-16T10:00").tz_localize(ZONE)]
    assert shifts(events(rows, ZONE), workflow(ZONE), mondays) == (0, 0)
