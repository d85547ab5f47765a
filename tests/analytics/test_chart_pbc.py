"""The throughput process behaviour chart: a point per week, the average and limits where the numbers
say, signals marked and named in the legend, and notes where there is nothing to judge yet."""

from __future__ import annotations

import datetime as dt
import io

import matplotlib.image
import matplotlib.text
import numpy as np
import pytest
from matplotlib.figure import Figure

from analytics.charts import throughput_pbc_figure, throughput_pbc_png
from analytics.process_behaviour import WeeklyThroughput, Weeks, weekly_throughput

FIRST = dt.date(2026, 8, 3)
# Baseline 10 12 11 13 9 11 (centre 11, limits 5.148 and 16.852), then 17 and 5: two signals.
COUNTS = (10, 12, 11, 13, 9, 11, 17, 5)


def chart(counts: tuple[int, ...] = COUNTS, baseline: tuple[int, int] = (0, 6)) -> WeeklyThroughput:
    mondays = tuple(FIRST + dt.timedelta(weeks=week) for week in range(len(counts)))
    bounds = np.zeros(len(counts) + 1, dtype=np.int64)  # the chart draws weeks by their Mondays only
    weeks = Weeks(mondays, bounds, baseline, baseline[1], provisional=baseline[1] - baseline[0] < 12)
    return weekly_throughput(weeks, np.array(counts, dtype=np.int64))


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def legend_labels(fig: Figure) -> list[str]:
    return [text.get_text() for legend in fig.legends for text in legend.get_texts()]


def horizontal_lines(fig: Figure, style: str) -> list[float]:
    return sorted(
        round(float(line.get_ydata()[0]), 3)
        for line in fig.axes[0].get_lines()
        if line.get_linestyle() == style and len(set(line.get_ydata())) == 1 and len(line.get_ydata()) == 2
        and line.get_xdata()[0] == 0 and line.get_xdata()[1] == 1
    )  # fmt: skip


def test_the_chart_is_a_1200_by_700_png():
    png = throughput_pbc_png(chart(), board="Payments")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert matplotlib.image.imread(io.BytesIO(png), format="png").shape[:2] == (700, 1200)


def test_limits_dashed_and_average_solid_at_the_computed_values():
    """Dashed lines at 5.148 and 16.852, the solid average at 11, each named with its value at the right."""
    fig = throughput_pbc_figure(chart(), board="Payments")
    assert horizontal_lines(fig, "--") == [5.148, 16.852]
    assert horizontal_lines(fig, "-") == [11.0]
    shown = texts(fig)
    assert {"upper limit\n16.9", "average\n11.0", "lower limit\n5.1"} <= set(shown)


def test_every_week_is_a_point_with_its_count_and_signals_are_marked():
    """Eight points labelled with their counts; the two weeks outside the limits are circled in the signal
    colour, and the legend and subtitle say so."""
    fig = throughput_pbc_figure(chart(), board="Payments")
    ax = fig.axes[0]
    [points] = [line for line in ax.get_lines() if len(line.get_xdata()) == len(COUNTS)]
    assert list(points.get_ydata()) == list(COUNTS)
    [marked] = [line for line in ax.get_lines() if line.get_markerfacecolor() == "#D55E00"]
    assert list(marked.get_xdata()) == [6, 7]
    assert [label for label in legend_labels(fig) if label.startswith("Signal")] == [
        "Signal: outside the limits"
    ]
    assert any("2 signals of real change" in text for text in texts(fig))
    assert "baseline: the limits come from these 6 weeks" in texts(fig)


def test_a_run_is_marked_as_a_ring_and_named_differently():
    """Eight weeks at 12 after the baseline: the eighth is a signal by the run rule, drawn as a ring."""
    fig = throughput_pbc_figure(chart((*COUNTS[:6], *([12] * 8))), board="Payments")
    assert "Signal: 8+ weeks on one side" in legend_labels(fig)
    [ring] = [line for line in fig.axes[0].get_lines() if line.get_markerfacecolor() == "white"]
    assert list(ring.get_xdata()) == [13]


def test_steady_weeks_say_the_ups_and_downs_are_noise():
    fig = throughput_pbc_figure(chart(COUNTS[:6]), board="Payments")
    assert any("no signal: the ups and downs are noise" in text for text in texts(fig))
    assert not [label for label in legend_labels(fig) if label.startswith("Signal")]


@pytest.mark.parametrize(
    ("counts", "baseline", "note"),
    [
        ((), (0, 0), "No full week since the first item finished"),
        ((4, 6, 5), (0, 3), "Limits need 6 full weeks of history: not yet"),
    ],
)
def test_nothing_to_judge_yet_renders_with_a_note(counts, baseline, note):
    fig = throughput_pbc_figure(chart(counts, baseline), board="Young")
    assert note in texts(fig)
    assert throughput_pbc_png(chart(counts, baseline), board="Young").startswith(b"\x89PNG")
