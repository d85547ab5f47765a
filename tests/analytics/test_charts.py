"""The four flow charts: valid PNGs of the agreed size, edge cases that render, and what each chart shows."""

import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import matplotlib.image
import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analytics.charts import (
    aging_wip_figure,
    aging_wip_png,
    cfd_figure,
    cfd_png,
    cycle_time_scatter_figure,
    cycle_time_scatter_png,
    throughput_run_figure,
    throughput_run_png,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = 1200, 700
PERCENTILES = {50: 3.0, 70: 5.0, 85: 9.8, 95: 14.0}
STAGES = ["Ready", "Development", "Review", "Test"]
FLOW = ["Backlog", "Ready", "Development", "Review", "Done"]


def finished_items(n: int = 30) -> pd.DataFrame:
    finished_at = pd.date_range("2026-01-05T10:00Z", periods=n, freq="19h")
    return pd.DataFrame(
        {
            "item_id": [f"PAY-{i}" for i in range(n)],
            "finished_at": finished_at,
            "cycle_time_days": np.linspace(0.5, 16.0, n),
        }
    )


def no_finished_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series([], dtype=str),
            "finished_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "cycle_time_days": pd.Series([], dtype=float),
        }
    )


def wip_items() -> pd.DataFrame:
    rows = [
        ("PAY-1", "Development", 12.5, False),
        ("PAY-2", "Development", 2.0, True),
        ("PAY-3", "Review", 2.0, False),
        ("PAY-4", "Review", 2.0, False),
        ("PAY-5", "Review", 2.01, False),
        ("PAY-6", "Test", 7.0, False),
        ("PAY-7", "Development", 4.0, False),
        ("PAY-8", "Review", 0.0, False),
    ]
    return pd.DataFrame(rows, columns=["item_id", "stage", "age_days", "blocked"])


def no_wip_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series([], dtype=str),
            "stage": pd.Series([], dtype=str),
            "age_days": pd.Series([], dtype=float),
            "blocked": pd.Series([], dtype=bool),
        }
    )


def cfd_frame(days: int = 20) -> pd.DataFrame:
    dates = [dt.date(2026, 3, 1) + dt.timedelta(days=d) for d in range(days)]
    k = np.arange(days)
    return pd.DataFrame(
        {
            "Backlog": 20 + k,
            "Ready": 3 + k % 2,
            "Development": 4 + k % 3,
            "Review": 1 + k // 2,
            "Done": 50 + 2 * k,
        },
        index=dates,
    )


def daily_throughput(days: int = 31, start: dt.date = dt.date(2026, 3, 1)) -> pd.Series:
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    return pd.Series(np.arange(days) % 4, index=dates)


def decode(png: bytes) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def texts(fig: Figure) -> list[str]:
    """Every text on the figure: titles, labels, annotations, legend entries (found without a slow draw)."""
    found = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return [t for t in found if t]


def dashed_horizontal_lines(fig: Figure) -> list[float]:
    ax = fig.axes[0]
    return sorted(
        float(line.get_ydata()[0])
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and len(set(line.get_ydata())) == 1
    )


def test_each_chart_is_a_1200_by_700_png():
    """All four charts return PNG bytes that decode to a 1200x700 image."""
    pngs = [
        cycle_time_scatter_png(finished_items(), PERCENTILES, board="Payments", timezone="Europe/Berlin"),
        aging_wip_png(wip_items(), STAGES, board="Payments", sle_days=9.8, percentiles=PERCENTILES),
        cfd_png(cfd_frame(), board="Payments"),
        throughput_run_png(daily_throughput(), board="Payments"),
    ]
    for png in pngs:
        assert png.startswith(PNG_SIGNATURE)
        assert decode(png).shape[:2] == (HEIGHT, WIDTH)


@pytest.mark.parametrize(
    "render",
    [
        lambda: cycle_time_scatter_png(
            no_finished_items(), {50: None, 70: None, 85: None, 95: None}, board="Empty", timezone="UTC"
        ),
        lambda: aging_wip_png(no_wip_items(), STAGES, board="Empty", sle_days=None),
        lambda: cfd_png(cfd_frame().iloc[:0], board="Empty"),
        lambda: cfd_png(cfd_frame(days=1), board="One day"),
        lambda: throughput_run_png(daily_throughput() * 0, board="Zero", frequency="D"),
        lambda: throughput_run_png(daily_throughput() * 0, board="Zero", frequency="W"),
        lambda: throughput_run_png(pd.Series([], dtype="int64"), board="No days", frequency="W"),
    ],
    ids=[
        "scatter-empty",
        "aging-empty",
        "cfd-empty",
        "cfd-one-day",
        "throughput-zero-D",
        "throughput-zero-W",
        "throughput-no-days",
    ],
)
def test_empty_and_tiny_inputs_still_render(render):
    """No items, no WIP, no or one CFD day, zero throughput: each still draws a full-size PNG."""
    assert decode(render()).shape[:2] == (HEIGHT, WIDTH)


def test_charts_leave_pyplot_and_rcparams_alone():
    """Rendering creates no pyplot figures and changes no rcParams, so it is safe in a threaded server."""
    import matplotlib.pyplot as plt

    before = dict(matplotlib.rcParams)
    cycle_time_scatter_png(finished_items(), PERCENTILES, board="B", timezone="UTC")
    aging_wip_figure(wip_items(), STAGES, board="B", sle_days=9.8)
    cfd_figure(cfd_frame(), board="B")
    throughput_run_figure(daily_throughput(), board="B", frequency="W")
    assert plt.get_fignums() == []
    assert dict(matplotlib.rcParams) == before


def test_rendering_on_threads_gives_the_same_bytes():
    """Concurrent renders are byte-identical to a serial one: no shared state, no clock, no randomness."""

    def render() -> bytes:
        return aging_wip_png(wip_items(), STAGES, board="Payments", sle_days=9.8, percentiles=PERCENTILES)

    serial = render()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: render(), range(2)))
    assert results == [serial, serial]


def test_scatter_draws_one_dashed_line_per_known_percentile():
    """None percentiles are skipped; the others are dashed lines labelled like "85%: 9.8 d" on the right."""
    fig = cycle_time_scatter_figure(
        finished_items(), {50: 3.0, 70: None, 85: 9.8, 95: 14.0}, board="Payments", timezone="Europe/Berlin"
    )
    assert dashed_horizontal_lines(fig) == [3.0, 9.8, 14.0]
    shown = texts(fig)
    assert {"50%: 3.0 d", "85%: 9.8 d", "95%: 14.0 d"} <= set(shown)
    assert not any(t.startswith("70%") for t in shown)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Finished", "Cycle time (days)")
    assert "Payments" in fig.get_suptitle()
    assert "Cycle time scatterplot" in fig.get_suptitle()


def test_scatter_places_each_item_on_its_local_finish_date():
    """One dot per item, on the calendar day it finished in the board's timezone (not the UTC day)."""
    finished = pd.DataFrame(
        {
            "item_id": ["late-evening", "next-morning"],
            # 23:30 UTC on Mar 1 is already Mar 2 in Berlin; 08:00 UTC on Mar 2 is Mar 2 too.
            "finished_at": pd.to_datetime(["2026-03-01T23:30Z", "2026-03-02T08:00Z"]),
            "cycle_time_days": [1.0, 2.0],
        }
    )
    dots = cycle_time_scatter_figure(finished, {}, board="B", timezone="Europe/Berlin").axes[0].get_lines()[0]
    assert list(dots.get_xdata()) == [-0.35, 0.35]  # same local day (day 0), side by side within it
    assert list(dots.get_ydata()) == [1.0, 2.0]
    dots_utc = cycle_time_scatter_figure(finished, {}, board="B", timezone="UTC").axes[0].get_lines()[0]
    assert list(dots_utc.get_xdata()) == [0.0, 1.0]


def test_scatter_without_items_says_so():
    """With nothing finished, the plot area says "No items finished in this period"."""
    fig = cycle_time_scatter_figure(no_finished_items(), PERCENTILES, board="B", timezone="UTC")
    assert "No items finished in this period" in texts(fig)


def test_aging_chart_has_every_stage_as_a_column_and_marks_blocked_items():
    """Every WIP stage is a column in flow order (even empty ones); blocked items get their own marker."""
    fig = aging_wip_figure(
        wip_items(), ["Ready", *STAGES[1:]], board="Payments", sle_days=9.8, percentiles=PERCENTILES
    )
    ax = fig.axes[0]
    ticks = [label.get_text() for label in ax.get_xticklabels()]
    assert [t.split("\n")[0] for t in ticks] == ["Ready", "Development", "Review", "Test"]
    assert ticks[0].endswith("0 items")
    normal, blocked = (line for line in ax.get_lines() if line.get_linestyle() == "None")
    assert len(normal.get_xdata()) == 7
    assert len(blocked.get_xdata()) == 1
    assert blocked.get_marker() != normal.get_marker()
    assert "Blocked" in texts(fig)


def test_aging_chart_spreads_items_of_equal_age_side_by_side():
    """Items of (nearly) the same age in one column get different x positions, the same on every render."""

    def review_positions() -> list[float]:
        ax = aging_wip_figure(wip_items(), STAGES, board="B", sle_days=None).axes[0]
        normal = next(line for line in ax.get_lines() if line.get_marker() == "o")
        xs, ys = np.asarray(normal.get_xdata()), np.asarray(normal.get_ydata())
        in_review = (np.abs(xs - 2) < 0.5) & (np.abs(ys - 2.0) < 0.05)
        return sorted(xs[in_review].tolist())

    positions = review_positions()
    assert len(positions) == 3
    assert len(set(positions)) == 3
    assert all(1.5 < x < 2.5 for x in positions)  # still inside the Review column
    assert review_positions() == positions


def test_aging_chart_labels_the_sle_and_the_oldest_items():
    """The SLE line is labelled with its percentile; the oldest five items are named."""
    fig = aging_wip_figure(wip_items(), STAGES, board="Payments", sle_days=9.8, percentiles=PERCENTILES)
    shown = texts(fig)
    assert "SLE 85%: 9.8 d" in shown
    assert {"PAY-1", "PAY-6", "PAY-7"} <= set(shown)
    assert "PAY-8" not in shown  # the youngest is not among the oldest five
    assert 9.8 in dashed_horizontal_lines(fig)


def test_aging_chart_without_percentiles_or_wip_draws_empty_columns_and_a_note():
    """No WIP and no percentiles: the columns are still there, with a note and a plain SLE label."""
    fig = aging_wip_figure(no_wip_items(), STAGES, board="B", sle_days=7.5)
    shown = texts(fig)
    assert "No work in progress" in shown
    assert "SLE: 7.5 d" in shown
    assert len(fig.axes[0].get_xticklabels()) == len(STAGES)


def test_cfd_stacks_done_at_the_bottom_with_the_legend_in_flow_order():
    """The last column (done) is the bottom band, earlier stages above it; the legend lists flow order."""
    cfd = cfd_frame()
    ax = cfd_figure(cfd, board="Payments").axes[0]
    assert [band.get_label() for band in ax.collections] == list(reversed(FLOW))
    bottom = ax.collections[0].get_paths()[0].vertices
    assert bottom[:, 1].min() == 0
    assert bottom[:, 1].max() == cfd["Done"].max()
    top = ax.collections[-1].get_paths()[0].vertices
    assert top[:, 1].max() == cfd.sum(axis=1).max()  # the top edge is cumulative arrivals
    legend = [t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()]
    assert legend == FLOW
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Date", "Items")


def test_cfd_of_one_day_is_a_stacked_bar_with_done_at_the_bottom():
    """A single day cannot make an area, so it becomes one stacked bar, done first."""
    ax = cfd_figure(cfd_frame(days=1), board="B").axes[0]
    assert [bars.get_label() for bars in ax.containers] == list(reversed(FLOW))


def test_cfd_accepts_a_datetime_index():
    """A DatetimeIndex works as well as datetime.date values."""
    cfd = cfd_frame()
    by_timestamp = cfd.set_axis(pd.DatetimeIndex(pd.to_datetime(cfd.index)))
    assert len(cfd_figure(by_timestamp, board="B").axes[0].collections) == len(FLOW)


def test_daily_throughput_has_a_bar_per_day_and_a_7_day_average():
    """Daily: one bar per day and a trailing 7-day average starting on the seventh day."""
    daily = daily_throughput(days=10)
    ax = throughput_run_figure(daily, board="B", frequency="D").axes[0]
    assert len(ax.patches) == 10
    average = next(line for line in ax.get_lines() if line.get_linestyle() == "-")
    values = np.asarray(average.get_ydata(), dtype=float)
    assert np.isnan(values[:6]).all()
    assert values[6] == pytest.approx(daily.iloc[:7].mean())
    assert ax.get_ylabel() == "Items finished"


def test_weekly_throughput_sums_iso_weeks_and_draws_the_median_of_full_weeks():
    """Weekly: bars per Monday-started week, partial weeks marked, dashed median over full weeks only."""
    # Wed Mar 4 to Sun Mar 22, 2026: a 5-day partial week, then two full weeks.
    daily = pd.Series(
        [1] * 5 + [2] * 7 + [4] * 7, index=[dt.date(2026, 3, 4) + dt.timedelta(days=d) for d in range(19)]
    )
    fig = throughput_run_figure(daily, board="B", frequency="W")
    ax = fig.axes[0]
    assert [bar.get_height() for bar in ax.patches] == [5, 14, 28]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["2 Mar", "9 Mar", "16 Mar"]
    assert dashed_horizontal_lines(fig) == [21.0]
    assert "5\n(5 d)" in texts(fig)


def test_zero_throughput_says_nothing_finished():
    """All-zero throughput renders with a note instead of an empty-looking chart."""
    fig = throughput_run_figure(daily_throughput() * 0, board="B", frequency="D")
    assert "No items finished in this period" in texts(fig)


def test_long_board_names_and_many_stages_stay_readable():
    """A very long board name wraps to two lines and keeps the chart name; 8 stage names are wrapped."""
    board = "Payments Platform: Checkout, Refunds and Merchant Onboarding (EMEA) with a very long name indeed"
    stages = [f"Stage number {i} with a long name" for i in range(8)]
    wip = pd.DataFrame({"item_id": ["A"], "stage": [stages[3]], "age_days": [2.0], "blocked": [False]})
    fig = aging_wip_figure(wip, stages, board=board, sle_days=None)
    title = fig.get_suptitle()
    assert title.count("\n") <= 1
    assert title.endswith("Aging work in progress")
    assert all("\n" in label.get_text().rsplit("\n", 1)[0] for label in fig.axes[0].get_xticklabels())


def test_aging_chart_judges_each_item_by_its_own_stage_bands():
    """Per-stage bands (ages at which items left each stage): 4 days in Development is past its 3-day p85
    (red), 7 days in Test is under its 9-day p50 (green); a column of 4 exits is provisional, and says so."""
    from analytics.charts.aging_wip import ABOVE_BANDS_DOT, DOT_COLOURS

    bands = [
        {50: 1.0, 70: 1.5, 85: 2.0},
        {50: 1.5, 70: 2.0, 85: 3.0},
        {50: 2.5, 70: 3.0, 85: 4.0},
        {50: 9.0, 70: 10.0, 85: 11.0},
    ]
    wip = wip_items()
    fig = aging_wip_figure(
        wip,
        STAGES,
        board="B",
        sle_days=11.0,
        stage_percentiles=bands,
        stage_counts=[20, 20, 20, 4],
        sle_count=20,
    )
    colour_of = {}
    for line in fig.axes[0].get_lines():
        for y in line.get_ydata():
            colour_of.setdefault(float(y), line.get_markerfacecolor())
    assert colour_of[4.0] == ABOVE_BANDS_DOT  # PAY-7, Development
    assert colour_of[7.0] == DOT_COLOURS[50]  # PAY-6, Test
    assert colour_of[12.5] == ABOVE_BANDS_DOT  # PAY-1
    subtitle = fig.axes[0].get_title(loc="left")
    assert "age when items left each stage" in subtitle and "provisional (4 items)" in subtitle


def test_a_year_of_weeks_labels_every_third_and_the_subtitle_names_both_years():
    """53 weeks from Thu 20 Nov 2025: at most 18 week labels (every third), and the period reads
    "20 Nov 2025 to 20 Nov 2026", not "20 Nov to 20 Nov 2026"."""
    start = dt.date(2025, 11, 20)
    daily = pd.Series([1] * 366, index=[start + dt.timedelta(days=d) for d in range(366)])
    fig = throughput_run_figure(daily, board="B", frequency="W")
    labels = [label.get_text() for label in fig.axes[0].get_xticklabels()]
    assert len(labels) == 18 and labels[:2] == ["17 Nov", "8 Dec"]
    shown = " ".join(text.get_text() for text in fig.findobj(matplotlib.text.Text))
    assert "366 items finished 20 Nov 2025 to 20 Nov 2026" in shown


def test_a_window_longer_than_the_history_starts_the_run_chart_at_the_first_finish():
    """The sample over 365 days: weeks before the team finished anything (it started in May) are not drawn,
    so the weekly median is the team's, 10, not 8 or 4 with months of zeros in it."""
    from analytics.charts.board import _since_first_finish
    from analytics.measures import board_metrics
    from bot.connectors.files import load_workflow, read_event_log
    from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH

    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    events = read_event_log(SAMPLE_EVENTS_PATH, workflow).events
    metrics = board_metrics(events, workflow, pd.Timestamp(SAMPLE_ASOF), window_days=365)
    daily = _since_first_finish(metrics)
    assert daily.index[0] == dt.date(2026, 5, 20) and daily.iloc[0] > 0
    assert int(daily.sum()) == metrics.throughput_total
    fig = throughput_run_figure(daily, board="Payments", frequency="W")
    assert dashed_horizontal_lines(fig) == [10.0]
    short = board_metrics(events, workflow, pd.Timestamp(SAMPLE_ASOF), window_days=30)
    assert _since_first_finish(short).equals(short.throughput_daily)  # nothing to cut


def test_scatter_spreads_items_of_the_same_day_across_it():
    """Three items finished on one day with the same cycle time stay three dots, spread over the middle of
    their day in input order; a lone item sits on its day."""
    finished = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "finished_at": pd.to_datetime(
                ["2026-03-02T09:00Z", "2026-03-02T10:00Z", "2026-03-02T11:00Z", "2026-03-04T09:00Z"]
            ),
            "cycle_time_days": [3.0, 3.0, 3.0, 1.0],
        }
    )
    dots = cycle_time_scatter_figure(finished, {}, board="B", timezone="UTC").axes[0].get_lines()[0]
    assert list(dots.get_xdata()) == pytest.approx([-0.35, 0.0, 0.35, 2.0])


def test_scatter_spans_the_period_asked_for_like_the_throughput_chart():
    """Items finished from 5 Jan; asked for 1 Jan to 31 Jan, the axis and the subtitle start on 1 Jan."""
    fig = cycle_time_scatter_figure(
        finished_items(10),
        PERCENTILES,
        board="B",
        timezone="UTC",
        span=(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    )
    shown = " ".join(text.get_text() for text in fig.findobj(matplotlib.text.Text))
    assert "10 items finished 1 Jan to 31 Jan 2026" in shown
    left, right = fig.axes[0].get_xlim()
    assert (left, right) == (-0.5, 30.5)  # day 0 is 1 Jan, the dots start on day 4
