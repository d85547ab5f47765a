"""The throughput histogram: how many days finished 0, 1, 2, … items, the days the forecast samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analytics.charts import _style
from analytics.words import count_of


def throughput_histogram_counts(daily: pd.Series) -> pd.Series:
    """Days by throughput: index 0, 1, 2, … up to the busiest day's count, value = how many days of
    ``daily`` (items finished per day, zeros included) finished that many items; counts of 0 kept. The
    values sum to the number of days, and index × value sums to the items finished. No days: empty."""
    values = daily.to_numpy(dtype=np.float64, na_value=0.0)
    if not len(values):
        return pd.Series([], index=pd.Index([], dtype=np.int64, name="items"), dtype=np.int64, name="days")
    counts = np.bincount(np.maximum(values, 0).astype(np.int64)).astype(np.int64)
    index = pd.Index(np.arange(len(counts), dtype=np.int64), name="items")
    return pd.Series(counts, index=index, name="days")


def throughput_histogram_figure(daily: pd.Series, *, board: str, left_out: int = 0) -> Figure:
    """Build the throughput histogram as a ``Figure`` (see ``throughput_histogram_png``)."""
    fig, ax = _style.new_chart()
    counts = throughput_histogram_counts(daily)
    n_days = int(counts.sum())
    total = int((counts.index.to_numpy() * counts.to_numpy()).sum())
    if n_days:
        x = counts.index.to_numpy(dtype=np.float64)
        days = counts.to_numpy()
        ax.bar(x, days, width=0.7, color=_style.ITEM, alpha=0.85, zorder=3)
        for position, value in zip(x, days, strict=True):
            if value:
                share = 100 * value / n_days
                percent = "<1" if share < 0.5 else f"{share:.0f}"
                ax.text(position, float(value), f"{int(value)}\n{percent}%", ha="center", va="bottom",
                        fontsize=10, color=_style.INK, zorder=4)
        ax.set_xlim(-0.6, max(len(counts), 5) - 0.4)
        ax.set_ylim(0, max(float(days.max()), 1.0) * 1.25)
        mean = total / n_days
        ax.axvline(mean, color=_style.ACCENT, linestyle="--", linewidth=2.2, zorder=4)
        dates = _style.as_dates(daily.index)
        subtitle = (f"{count_of(n_days, 'day')} {_style.period(dates.min(), dates.max())}, weekends included"
                    f" · {count_of(total, 'item')} finished")
        if left_out:
            subtitle += f" · the forecast also draws the {count_of(left_out, 'day')} before, as zeros"
        handles: list[Artist] = [
            Patch(facecolor=_style.ITEM, alpha=0.85, label="Days that finished that many items (share)"),
            Line2D([], [], color=_style.ACCENT, linestyle="--", linewidth=2.2,
                   label=f"Average: {mean:.2f} items / day"),
        ]
        _style.legend_below(fig, handles)
        if total == 0:
            _style.note_in_plot(ax, "No items finished in this period")
    else:
        ax.set_xlim(-0.6, 4.6)
        ax.set_ylim(0, 1)
        _style.note_in_plot(ax, "No days in this period")
        subtitle = "No days"
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", length=0)
    _style.set_titles(fig, ax, board=board, chart="Throughput histogram", subtitle=subtitle)
    _style.label_axes(ax, x="Items finished in a day", y="Days")
    return fig


def throughput_histogram_png(daily: pd.Series, *, board: str, left_out: int = 0) -> bytes:
    """Throughput histogram as 1200x700 PNG bytes (ActionableAgile's "Throughput Histogram", by day).

    ``daily``: items finished per calendar day (index of dates, every day present, zeros included): the
    days the Monte Carlo forecast draws from. One bar per throughput 0, 1, 2, …, its height the number of
    days with that throughput, labelled with the count and its share of the days; the dashed line is the
    average per day. ``left_out``: days of the window before the board's first finish, not drawn (the
    subtitle says the forecast samples them as zeros). No days: an empty chart with a note.
    """
    return _style.to_png(throughput_histogram_figure(daily, board=board, left_out=left_out))
