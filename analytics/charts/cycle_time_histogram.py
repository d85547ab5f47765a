"""The cycle-time histogram: how many finished items took each number of days, with the percentile lines."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analytics.charts import _style
from analytics.words import count_of

MAX_BUCKETS = 90  # past this many one-day bars they turn to slivers: buckets widen to a few days
BUCKET_WIDTHS = (1, 2, 3, 5, 7, 14, 30, 60, 90)
LABEL_TOP, LABEL_STEP = 0.99, 0.065  # percentile labels: the first at the top of the plot, each next lower
FEW_ITEMS = 10  # below this the percentile lines rest on too few items to trust (the SLE's provisional)
HEADROOM = 1.45  # the y range over the tallest bar: room for the four stepped labels above the bars


def bucket_width(longest_days: float) -> int:
    """Days per bar: one, unless the longest cycle time needs more than ``MAX_BUCKETS`` bars."""
    for width in BUCKET_WIDTHS:
        if longest_days < width * MAX_BUCKETS:
            return width
    return int(np.ceil((longest_days + 1) / MAX_BUCKETS))


def cycle_time_histogram_counts(cycle_days: npt.ArrayLike, *, width: int = 1) -> pd.Series:
    """Finished items per cycle-time bucket: bucket ``k`` holds the items with ``k·width ≤ days <
    (k+1)·width``, indexed by the bucket's first day (0, width, 2·width, …) up to the longest item's,
    empty buckets included (a gap in the histogram is information). No items: an empty series."""
    days = np.asarray(cycle_days, dtype=np.float64)
    days = days[np.isfinite(days)]
    if not len(days):
        return pd.Series([], index=pd.Index([], dtype=np.int64, name="days"), dtype=np.int64, name="items")
    bucket = np.floor(np.maximum(days, 0.0) / width).astype(np.int64)
    counts = np.bincount(bucket).astype(np.int64)
    starts = np.arange(len(counts), dtype=np.int64) * width
    return pd.Series(counts, index=pd.Index(starts, name="days"), name="items")


def cycle_time_histogram_figure(
    cycle_days: npt.ArrayLike,
    percentiles: Mapping[int, float | None],
    *,
    board: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> Figure:
    """Build the cycle-time histogram as a ``Figure`` (see ``cycle_time_histogram_png``)."""
    fig, ax = _style.new_chart()
    days = np.asarray(cycle_days, dtype=np.float64)
    lines = _style.known_percentiles(percentiles)
    longest = max([float(days.max()) if len(days) else 0.0, *(value for _, value in lines)])
    width = bucket_width(longest)
    counts = cycle_time_histogram_counts(days, width=width)
    when = f" {_style.period(*period)}" if period is not None else ""
    if len(counts):
        starts = counts.index.to_numpy(dtype=np.float64)
        ax.bar(starts, counts.to_numpy(), width=width * 0.9, align="edge", color=_style.ITEM, alpha=0.85,
               zorder=3)
        right = max(float(starts[-1]) + width, longest * 1.04, 5.0)
        ax.set_xlim(0, right)
        top = float(counts.max())
        ax.set_ylim(0, max(top, 1.0) * HEADROOM)
        if len(counts) <= 40:  # few bars: the count over each one reads faster than the axis
            for start, count in zip(starts, counts.to_numpy(), strict=True):
                if count:
                    ax.text(start + width * 0.45, float(count), f"{int(count)}", ha="center", va="bottom",
                            fontsize=10, color=_style.INK, zorder=4)
        bucket = "day" if width == 1 else f"{width} days"
        subtitle = f"{count_of(len(days), 'item')} finished{when} · one bar per {bucket} of cycle time"
        if len(days) < FEW_ITEMS and lines:
            subtitle += f" · fewer than {FEW_ITEMS} items: the percentiles are rough"
    else:
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 1)
        _style.note_in_plot(ax, "No items finished in this period")
        subtitle = f"No items finished{when}"
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    handles: list[Artist] = [
        Patch(facecolor=_style.ITEM, alpha=0.85, label="Items finished in that many days"),
    ]
    if lines:
        _percentile_lines(ax, lines)
        example, example_days = next(((p, d) for p, d in lines if p == 85), lines[-1])
        handles.append(Line2D(
            [], [], color=_style.MUTED, linestyle="--", linewidth=1.8,
            label=f"Percentile line, e.g. {example}% of items finished in {_style.days_label(example_days)}"
                  " or less",
        ))
    if len(counts):
        _style.legend_below(fig, handles)
    _style.set_titles(fig, ax, board=board, chart="Cycle time histogram", subtitle=subtitle)
    _style.label_axes(ax, x="Cycle time (days)", y="Items finished")
    return fig


def _percentile_lines(ax: Axes, lines: list[tuple[int, float]]) -> None:
    """Dashed vertical lines, each labelled beside its top, the labels stepping down from left to right so
    that close lines (50 % and 70 % are often a day apart) never print over each other."""
    left, right = ax.get_xlim()
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for rank, (percentile, days) in enumerate(lines):
        colour = _style.percentile_colour(percentile)
        ax.axvline(days, color=colour, linestyle="--", linewidth=1.8, zorder=5)
        # Right of its line, unless that would run off the plot: then to its left.
        near_edge = days > left + (right - left) * 0.85
        ax.text(days, LABEL_TOP - rank * LABEL_STEP, f" {percentile}%: {_style.days_label(days)} ",
                transform=transform, ha="right" if near_edge else "left", va="top",
                fontsize=_style.TICK_SIZE, fontweight="bold", color=colour, zorder=6,
                path_effects=_style.halo(3.0))


def cycle_time_histogram_png(
    cycle_days: npt.ArrayLike,
    percentiles: Mapping[int, float | None],
    *,
    board: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> bytes:
    """Cycle-time histogram as 1200x700 PNG bytes (ActionableAgile's "Cycle Time Histogram").

    ``cycle_days``: the cycle time of each item finished in the period, in days. One bar per day of cycle
    time (``k`` to ``k+1`` days), or per few days when the longest needs more than ``MAX_BUCKETS`` bars;
    ``percentiles`` (50, 70, 85, 95 → days, ``None`` skipped) are dashed vertical lines labelled along the
    top, as on the scatterplot. ``period`` (first and last local date) goes into the subtitle. No items:
    an empty chart with a note.
    """
    return _style.to_png(cycle_time_histogram_figure(cycle_days, percentiles, board=board, period=period))
