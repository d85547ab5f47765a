"""The throughput run chart: items finished per day with a 7-day average, or per ISO week with the median."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analytics.charts import _style
from analytics.words import count_of

ROLLING_DAYS = 7
MAX_WEEK_TICKS = 18  # past this, every n-th week's date is labelled so they do not collide


def throughput_run_figure(daily: pd.Series, *, board: str, frequency: Literal["D", "W"] = "D") -> Figure:
    """Build the throughput run chart as a ``Figure`` (see ``throughput_run_png``)."""
    fig, ax = _style.new_chart()
    counts = pd.Series(daily.to_numpy(dtype=np.float64, na_value=0.0), index=_style.as_dates(daily.index))
    counts = counts.sort_index()
    total = int(counts.sum())
    if frequency == "W":
        subtitle = _weekly(fig, ax, counts)
        _style.label_axes(ax, x="Week of (weeks start Monday)", y="Items finished")
    else:
        subtitle = _daily(fig, ax, counts)
        _style.label_axes(ax, x="Date", y="Items finished")
    if total == 0:
        _style.note_in_plot(ax, "No items finished in this period")
    if len(counts):
        period = _style.period(counts.index.min(), counts.index.max())
        subtitle = f"{count_of(total, 'item')} finished {period} · {subtitle}"
    _style.set_titles(fig, ax, board=board, chart="Throughput", subtitle=subtitle)
    return fig


def _daily(fig: Figure, ax: Axes, counts: pd.Series) -> str:
    """Bars per day and the trailing 7-day average, which starts on the seventh day (no partial averages)."""
    if not len(counts):
        _style.blank_x_axis(ax)
        ax.set_ylim(0, 1)
        return "per day"
    dates = pd.DatetimeIndex(counts.index)
    first = dates.min()
    x = _style.day_numbers(dates, first)
    ax.bar(x, counts.to_numpy(), width=0.75, color=_style.ITEM, alpha=0.85)
    handles: list[Artist] = [Patch(facecolor=_style.ITEM, alpha=0.85, label="Finished that day")]
    average = counts.rolling(ROLLING_DAYS, min_periods=ROLLING_DAYS).mean().to_numpy()
    if np.isfinite(average).any():
        handles += ax.plot(x, average, color=_style.ACCENT, linewidth=2.6, path_effects=_style.halo(5.0),
                           label=f"{ROLLING_DAYS}-day average (trailing)")
    _style.date_axis(ax, first, dates.max(), origin=first)
    ax.set_ylim(0, max(float(counts.max()), 1.0) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _style.legend_below(fig, handles)
    return "per day"


def _weekly(fig: Figure, ax: Axes, counts: pd.Series) -> str:
    """Bars per ISO week (partial first/last weeks hatched and marked) and the median of the full weeks."""
    if not len(counts):
        ax.set_xticks([])
        ax.set_ylim(0, 1)
        return "per week"
    dates = pd.DatetimeIndex(counts.index)
    week_starts = dates - pd.to_timedelta(np.asarray(dates.day_of_week), unit="D")
    weeks = counts.groupby(week_starts).agg(["sum", "size"])
    sums = weeks["sum"].to_numpy()
    full = weeks["size"].to_numpy() == 7
    positions = np.arange(len(weeks))
    bars = ax.bar(positions, sums, width=0.7, color=_style.ITEM, alpha=0.85)
    for bar, is_full in zip(bars, full, strict=True):
        if not is_full:
            bar.set_alpha(0.4)
            bar.set_hatch("//")
    for position, value, days, is_full in zip(positions, sums, weeks["size"], full, strict=True):
        note = f"{int(value)}" if is_full else f"{int(value)}\n({days} d)"
        ax.text(float(position), float(value), note, ha="center", va="bottom", fontsize=10, color=_style.INK)
    # The median is over full weeks: a three-day stub would pull it down. With no full week, all weeks count.
    median = float(np.median(sums[full] if full.any() else sums))
    ax.axhline(median, color=_style.ACCENT, linestyle="--", linewidth=2.2, zorder=3)
    median_label = f"Median{' of full weeks' if full.any() and not full.all() else ''}: {median:g} / week"
    handles: list[Artist] = [Patch(facecolor=_style.ITEM, alpha=0.85, label="Finished that week")]
    if not full.all():
        handles.append(Patch(facecolor=_style.ITEM, alpha=0.4, hatch="//", label="Partial week (days shown)"))
    handles.append(Line2D([], [], color=_style.ACCENT, linestyle="--", linewidth=2.2, label=median_label))
    _style.legend_below(fig, handles)
    every = -(-len(weeks) // MAX_WEEK_TICKS)  # a year of weeks: every third labelled
    ax.set_xticks(positions[::every], [_style.day_month(start) for start in weeks.index[::every]])
    ax.set_xlim(-0.6, len(weeks) - 0.4)
    ax.tick_params(axis="x", length=0)
    ax.set_ylim(0, max(float(sums.max()), 1.0) * 1.2)
    if len(weeks) > 2 * MAX_WEEK_TICKS:  # the counts above the bars would run into each other
        for text in ax.texts:
            text.set_fontsize(8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return "per ISO week"


def throughput_run_png(daily: pd.Series, *, board: str, frequency: Literal["D", "W"] = "D") -> bytes:
    """Throughput run chart as 1200x700 PNG bytes.

    ``daily``: items finished per calendar day (index of dates, every day present, zeros included).
    ``"D"``: one bar per day and the trailing 7-day average as a line (from the seventh day on).
    ``"W"``: one bar per ISO week (Monday to Sunday, summed); partial first/last weeks are hatched and show
    how many days they hold; the dashed line is the median weekly throughput over full weeks (over all weeks
    when none is full). All-zero or empty input renders with a note.
    """
    return _style.to_png(throughput_run_figure(daily, board=board, frequency=frequency))
