"""The cycle-time histogram, the throughput histogram, the WIP run chart and the CFD's options: their data
by hand, their invariants over generated logs (hypothesis), and what the drawn charts say."""

from __future__ import annotations

import datetime as dt

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from matplotlib.figure import Figure

from analytics.calendar import window_ending
from analytics.charts import (
    cycle_time_histogram_figure,
    cycle_time_histogram_png,
    throughput_histogram_figure,
    throughput_histogram_png,
    wip_run_figure,
    wip_run_png,
)
from analytics.charts.board import (
    CHART_FILES,
    CHART_KINDS,
    ChartOptions,
    _since_first_wip,
    cfd_bands,
    render_chart,
)
from analytics.charts.cycle_time_histogram import bucket_width, cycle_time_histogram_counts
from analytics.charts.throughput_histogram import throughput_histogram_counts
from analytics.charts.wip_run import wip_run_totals
from analytics.measures import board_metrics
from analytics.timeline import build_timeline
from analytics.wip_history import daily_wip
from tests.analytics.builders import metrics, timeline, workflow
from tests.analytics.test_properties import ASOF, WORKFLOW, event_logs, frame

PERCENTILES = {50: 3.0, 70: 5.0, 85: 9.8, 95: 14.0}

# Three items over 1-5 Mar 2026 (UTC), the window of 5 days before 6 Mar:
#   A: Ready on the 2nd, Development on the 3rd, Done at noon on the 4th.
#   B: Development on the 3rd, back to the backlog on the 5th (un-started: no longer WIP).
#   C: in the backlog from the 1st, Review on the 4th at 08:00, dropped the same evening (not WIP at day end).
#   D: finished on 25 Feb, before the window; E: Development on the 1st, Done on the 2nd.
ROWS = [
    ("A", "2026-03-02T10:00", "Selected"),
    ("A", "2026-03-03T10:00", "In Progress"),
    ("A", "2026-03-04T12:00", "Done"),
    ("B", "2026-03-03T09:00", "In Progress"),
    ("B", "2026-03-05T09:00", "To Do"),
    ("C", "2026-03-01T08:00", "To Do"),
    ("C", "2026-03-04T08:00", "In Review"),
    ("C", "2026-03-04T20:00", "Won't Do"),
    ("D", "2026-02-20T09:00", "In Progress"),
    ("D", "2026-02-25T09:00", "Done"),
    ("E", "2026-03-01T09:00", "In Progress"),
    ("E", "2026-03-02T10:00", "Done"),
]
AS_OF = "2026-03-06T00:00"
DATES = [dt.date(2026, 3, day) for day in range(1, 6)]


def texts(fig: Figure) -> str:
    return " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text())


# --- cycle-time histogram ---------------------------------------------------------------------------------


def test_cycle_time_histogram_counts_items_per_whole_day_of_cycle_time():
    """0.2 and 0.9 days are bucket 0, 1.0 and 1.5 bucket 1, 3.99 bucket 3, 4.0 bucket 4; bucket 2 is empty
    and kept, so a gap shows."""
    counts = cycle_time_histogram_counts([0.2, 0.9, 1.0, 1.5, 3.99, 4.0])
    assert counts.to_dict() == {0: 2, 1: 2, 2: 0, 3: 1, 4: 1}


def test_cycle_time_histogram_buckets_widen_for_a_long_tail():
    """Up to 90 one-day bars; a 200-day item needs 3-day buckets (the bucket of day 199 starts at 198)."""
    assert bucket_width(0.0) == 1 and bucket_width(89.9) == 1
    assert bucket_width(90.0) == 2 and bucket_width(200.0) == 3
    counts = cycle_time_histogram_counts([0.5, 2.9, 3.0, 200.0], width=3)
    assert counts.index[-1] == 198 and counts.loc[0] == 2 and counts.loc[3] == 1 and counts.loc[198] == 1
    assert counts.sum() == 4


def test_cycle_time_histogram_of_no_items_is_empty():
    assert cycle_time_histogram_counts([]).empty


@settings(max_examples=60, deadline=None)
@given(event_logs())
def test_cycle_time_histogram_holds_every_item_finished_in_the_window(records):
    """The bars add up to the items finished in the window, whatever the bucket width."""
    m = board_metrics(frame(records), WORKFLOW, ASOF, window_days=45)
    days = m.finished["cycle_time_days"].to_numpy(dtype=np.float64)
    for width in (1, 2, 7):
        assert int(cycle_time_histogram_counts(days, width=width).sum()) == m.throughput_total


def test_cycle_time_histogram_draws_and_labels_each_percentile():
    """One dashed vertical line per known percentile, each labelled with its days, as on the scatterplot."""
    fig = cycle_time_histogram_figure(np.linspace(0.5, 16.0, 30), PERCENTILES, board="Payments")
    lines = sorted(
        float(line.get_xdata()[0]) for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"
    )
    assert lines == [3.0, 5.0, 9.8, 14.0]
    shown = texts(fig)
    for label in ("50%: 3.0 d", "70%: 5.0 d", "85%: 9.8 d", "95%: 14.0 d"):
        assert label in shown
    assert "30 items finished" in shown and "one bar per day" in shown


def test_cycle_time_histogram_of_a_young_board_says_its_percentiles_are_rough():
    """Three items: the bars and lines are drawn, and the subtitle warns the percentiles rest on few."""
    fig = cycle_time_histogram_figure([1.2, 2.5, 2.7], {50: 2.5, 85: 2.6}, board="New")
    assert "fewer than 10 items: the percentiles are rough" in texts(fig)
    assert cycle_time_histogram_png([], {50: None}, board="Empty").startswith(b"\x89PNG")
    assert "No items finished" in texts(cycle_time_histogram_figure([], {}, board="Empty"))


# --- throughput histogram ---------------------------------------------------------------------------------


def test_throughput_histogram_counts_days_by_items_finished():
    """Days finishing 0, 2, 1, 0, 3, 2, 0 items: three days of 0, one of 1, two of 2, one of 3."""
    daily = pd.Series([0, 2, 1, 0, 3, 2, 0], index=[dt.date(2026, 3, d) for d in range(1, 8)])
    assert throughput_histogram_counts(daily).to_dict() == {0: 3, 1: 1, 2: 2, 3: 1}
    assert throughput_histogram_counts(pd.Series([], dtype="int64")).empty


@settings(max_examples=60, deadline=None)
@given(event_logs())
def test_throughput_histogram_holds_every_day_and_every_item(records):
    """The bars add up to the days of the window, and bar × items to the items finished in it."""
    m = board_metrics(frame(records), WORKFLOW, ASOF, window_days=45)
    counts = throughput_histogram_counts(m.throughput_daily)
    assert int(counts.sum()) == len(m.throughput_daily)
    assert int((counts.index.to_numpy() * counts.to_numpy()).sum()) == m.throughput_total


def test_throughput_histogram_labels_bars_with_days_and_shares_and_the_average():
    daily = pd.Series([0, 2, 1, 0, 3, 2, 0], index=[dt.date(2026, 3, d) for d in range(1, 8)])
    shown = texts(throughput_histogram_figure(daily, board="Payments"))
    assert "3\n43%" in shown and "1\n14%" in shown and "2\n29%" in shown
    assert "Average: 1.14 items / day" in shown and "7 days 1 Mar to 7 Mar 2026" in shown
    assert "8 items finished" in shown
    zero = throughput_histogram_figure(daily * 0, board="Quiet")
    assert "No items finished in this period" in texts(zero)
    assert throughput_histogram_png(pd.Series([], dtype="int64"), board="None").startswith(b"\x89PNG")


# --- WIP run chart ----------------------------------------------------------------------------------------


def test_daily_wip_by_hand():
    """End of each day: 1 Mar E in Development; 2 Mar A in Ready (E finished); 3 Mar A and B in Development;
    4 Mar B alone (A finished, C entered Review and was dropped the same day); 5 Mar nobody (B went back to
    the backlog)."""
    board = timeline(ROWS, AS_OF)
    wip = daily_wip(board, window_ending(board.asof, 5, "UTC"))
    assert list(wip.index) == DATES
    assert list(wip.columns) == ["Ready", "Development", "Review"]
    assert wip["Ready"].tolist() == [0, 1, 0, 0, 0]
    assert wip["Development"].tolist() == [1, 0, 2, 1, 0]  # E was in Development at the end of 1 Mar
    assert wip["Review"].tolist() == [0, 0, 0, 0, 0]
    m = metrics(ROWS, AS_OF, window_days=5)
    assert m.wip_daily.equals(wip)
    assert int(wip_run_totals(m.wip_daily).iloc[-1]) == m.wip_total


@settings(max_examples=30, deadline=None)
@given(event_logs())
def test_daily_wip_equals_the_wip_of_the_timeline_at_each_day_end(records):
    """WIP at the end of each day equals the WIP items of a timeline built just before the next midnight
    (another way to count the same thing: item by item instead of by stays)."""
    events = frame(records)
    window = window_ending(ASOF, 12, "UTC")
    wip = daily_wip(build_timeline(events, WORKFLOW, ASOF), window)
    for day, end in enumerate(window.boundaries[1:]):
        then = build_timeline(events, WORKFLOW, pd.Timestamp(int(end) - 1, tz="UTC")).items
        assert int(wip.iloc[day].sum()) == int(then["wip"].sum())
        by_stage = then.loc[then["wip"], "stage"].value_counts()
        for index in WORKFLOW.wip_stage_indexes:
            assert int(wip.iloc[day][WORKFLOW.stages[index].name]) == int(by_stage.get(index, 0))


def test_wip_run_chart_draws_the_limit_and_counts_days_over_it():
    wip = pd.DataFrame({"Ready": [3, 5, 8, 2], "Development": [4, 4, 6, 1]},
                       index=[dt.date(2026, 3, d) for d in range(1, 5)])  # fmt: skip
    fig = wip_run_figure(wip, board="Payments", wip_limit=10, stage_limits={"Ready": 6, "Development": None})
    shown = texts(fig)
    assert "limit 10" in shown and "over the limit on 1 day" in shown and "now 3" in shown
    assert "Stage limits: Ready 6" in shown
    dashed = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert [float(line.get_ydata()[0]) for line in dashed] == [10.0]
    calm = wip_run_figure(wip, board="Payments", wip_limit=20)
    assert "never over the limit" in texts(calm)
    assert "limit" not in texts(wip_run_figure(wip, board="Payments")).replace("Stage limits", "")
    assert wip_run_png(wip.iloc[:0], board="Empty").startswith(b"\x89PNG")


def test_wip_run_chart_starts_at_the_first_day_with_work_in_progress():
    wip = pd.DataFrame({"Ready": [0, 0, 1, 0]}, index=[dt.date(2026, 3, d) for d in range(1, 5)])
    assert list(_since_first_wip(wip).index) == [dt.date(2026, 3, 3), dt.date(2026, 3, 4)]
    idle = wip * 0
    assert _since_first_wip(idle).equals(idle)


# --- the CFD's options and the registry -------------------------------------------------------------------


def test_cfd_bands_hide_done_and_backlog_and_can_count_done_from_the_window_start():
    """Done holds D (finished before the window) from the start, E from 2 Mar and A from 4 Mar: 1, 2, 2, 3, 3
    as the board counts; counted from the window's first day: 0, 1, 1, 2, 2."""
    m = metrics(ROWS, AS_OF, window_days=5)
    default = cfd_bands(m)
    assert list(default.columns) == ["Backlog", "Ready", "Development", "Review", "Done"]  # never Dropped
    assert default["Done"].tolist() == [1, 2, 2, 3, 3]
    assert cfd_bands(m, ChartOptions(cfd_start="window"))["Done"].tolist() == [0, 1, 1, 2, 2]
    hidden = cfd_bands(m, ChartOptions(cfd_hide=frozenset({"done", "backlog"})))
    assert list(hidden.columns) == ["Ready", "Development", "Review"]
    assert hidden.equals(default[["Ready", "Development", "Review"]])


def test_every_chart_kind_has_a_file_and_renders():
    """The three new charts are registered with their own files; the weekly review keeps its four."""
    from bot.slack.blocks.review import REVIEW_CHARTS

    assert CHART_FILES["cycle-histogram"] == "cycle-time-histogram.png"
    assert CHART_FILES["throughput-histogram"] == "throughput-histogram.png"
    assert CHART_FILES["wip"] == "wip-run-chart.png"
    assert set(CHART_KINDS) == set(CHART_FILES) and len(set(CHART_FILES.values())) == len(CHART_FILES)
    assert REVIEW_CHARTS == ("cfd", "cycle", "aging", "throughput")
    m = metrics(ROWS, AS_OF, window_days=5)
    for kind in ("cycle-histogram", "throughput-histogram", "wip"):
        assert render_chart(kind, m).startswith(b"\x89PNG")


@pytest.mark.parametrize("hide", [frozenset(), frozenset({"done"}), frozenset({"done", "backlog"})])
def test_cfd_renders_with_its_options(hide):
    m = metrics(ROWS, AS_OF, window_days=5)
    png = render_chart("cfd", m, ChartOptions(cfd_hide=hide, cfd_start="window"))
    assert png.startswith(b"\x89PNG")


def test_builders_workflow_is_the_one_the_fixtures_assume():
    names = [stage.name for stage in workflow().stages]
    assert names == ["Backlog", "Ready", "Development", "Review", "Done", "Dropped"]


def test_throughput_histogram_counts_the_days_the_forecast_samples():
    """At 17:00 the 30-day window touches 31 dates; the forecast sums the partial first and last into one
    day, and so does the histogram: 30 days, the same multiset of daily counts."""
    from analytics.charts.board import sampled_days
    from analytics.measures import throughput_sample
    from bot.connectors.files import load_workflow, read_event_log
    from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH

    sample_workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    events = read_event_log(SAMPLE_EVENTS_PATH, sample_workflow).events
    m = board_metrics(events, sample_workflow, pd.Timestamp(SAMPLE_ASOF), window_days=30)
    assert len(m.throughput_daily) == 31
    days = sampled_days(m)
    assert len(days) == 30
    assert sorted(days.tolist()) == sorted(throughput_sample(m).tolist())


def test_charts_of_a_subset_name_it_and_leave_the_board_limits_off_the_wip_run_chart(monkeypatch):
    """`--type Bug`: "Payments (Bug)" in every title; the board's WIP limits are not the bugs' own."""
    import analytics.charts.board as board_module

    seen = {}

    def spy(wip_daily, **kwargs):
        seen.update(kwargs)
        return b""

    monkeypatch.setattr(board_module, "wip_run_png", spy)
    m = metrics(ROWS, AS_OF, window_days=5)
    render_chart("wip", m, ChartOptions(subset="Bug"))
    assert seen == {"board": "Payments (Bug)", "wip_limit": None, "stage_limits": None}
    render_chart("wip", m)
    assert seen["board"] == "Payments" and seen["wip_limit"] == 12
    assert seen["stage_limits"] == {"Ready": 6, "Development": 4, "Review": 3}


def test_throughput_histogram_of_a_young_board_says_what_it_left_out():
    daily = pd.Series([1, 2, 2], index=[dt.date(2026, 5, d) for d in (20, 21, 22)])
    shown = texts(throughput_histogram_figure(daily, board="New", left_out=27))
    assert "3 days 20 May to 22 May 2026" in shown
    assert "the forecast also draws the 27 days before, as zeros" in shown
