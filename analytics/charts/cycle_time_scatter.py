"""The cycle-time scatterplot: one dot per finished item, with the percentile lines across it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analytics.charts import _style
from analytics.words import count_of

DENSE_ITEMS = 2_000  # above this many dots the cloud turns solid and lines need a halo to stay visible


def cycle_time_scatter_figure(
    finished: pd.DataFrame,
    percentiles: Mapping[int, float | None],
    *,
    board: str,
    timezone: str,
    span: tuple[dt.date, dt.date] | None = None,
) -> Figure:
    """Build the cycle-time scatterplot as a ``Figure`` (see ``cycle_time_scatter_png``)."""
    fig, ax = _style.new_chart()
    finished_at = pd.to_datetime(finished["finished_at"], utc=True)
    # Dots sit on the local calendar day the item finished, so a column of dots is one day's throughput.
    days = pd.DatetimeIndex(finished_at.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize())
    cycle_days = finished["cycle_time_days"].to_numpy(dtype=np.float64)
    lines = _style.known_percentiles(percentiles)
    count = len(cycle_days)

    # The y range holds every dot and every percentile line, and at least a day so an empty chart has a scale.
    top = max([1.0, *(value for _, value in lines), *([float(cycle_days.max())] if count else [])])
    if not count and not lines:
        top = 10.0  # nothing to scale by: a plausible range beats ticks at 0.2-day steps
    ax.set_ylim(0, top * 1.08)
    if count:
        first, last = days.min(), days.max()
        if span is not None:  # the period asked for, as the throughput chart of the same window shows it
            first, last = min(first, pd.Timestamp(span[0])), max(last, pd.Timestamp(span[1]))
        _style.date_axis(ax, first, last, origin=first)
        # Markers through ``plot`` take Agg's fast marker path (~50k dots in well under a second); alpha
        # falls with volume so dense days read as darker rather than as one solid blob. ``rasterized`` only
        # matters if a caller saves the Figure as SVG/PDF: 50k vector dots would make a huge file.
        alpha = float(np.clip(40 / np.sqrt(count), 0.12, 0.7))
        size = 7.0 if count <= 500 else 4.5 if count <= 5000 else 3.0
        ax.plot(
            _spread_same_day(_style.day_numbers(days, first)), cycle_days, linestyle="none", marker="o",
            markersize=size,
            markerfacecolor=_style.ITEM, markeredgecolor="none", alpha=alpha, rasterized=True, zorder=3,
            clip_on=False,  # a zero-day item sits on the x axis; clipping would show half a dot
        )
        subtitle = (f"{count_of(count, 'item')} finished {_style.period(first, last)}"
                    f" · days in {timezone}")
    else:
        _style.blank_x_axis(ax)
        _style.note_in_plot(ax, "No items finished in this period")
        subtitle = f"No items finished · days in {timezone}"

    # Over a dense cloud a white halo keeps the lines visible; over a few dots it would cut the dots that
    # sit right on a line, so small charts get plain lines.
    _percentile_lines(ax, lines, top=top * 1.08, halo=count > DENSE_ITEMS)
    handles: list[Artist] = [
        Line2D([], [], linestyle="none", marker="o", markersize=8, markerfacecolor=_style.ITEM,
               markeredgecolor="none", alpha=0.7, label="Finished item"),
    ]
    if lines:
        # One worked example explains every line; the values themselves are labelled on the right.
        example, example_days = next(((p, d) for p, d in lines if p == 85), lines[-1])
        handles.append(Line2D(
            [], [], color=_style.MUTED, linestyle="--", linewidth=1.8,
            label=f"Percentile line, e.g. {example}% of items finished in {_style.days_label(example_days)}"
                  " or less",
        ))
    if count or lines:
        _style.legend_below(fig, handles)
    _style.set_titles(fig, ax, board=board, chart="Cycle time scatterplot", subtitle=subtitle)
    _style.label_axes(ax, x="Finished", y="Cycle time (days)")
    return fig


SAME_DAY_SPREAD = 0.7  # of a day's width: items finished the same day sit side by side, not on one another


def _spread_same_day(day_numbers: np.ndarray) -> np.ndarray:
    """Each dot's x, items of the same day spread evenly across the middle of that day (in input order,
    so the picture is the same on every run): two items with equal cycle times stay two dots, and a busy
    day reads as a wide column rather than a single one."""
    frame = pd.DataFrame({"day": np.asarray(day_numbers, dtype=np.float64)})
    rank = frame.groupby("day").cumcount().to_numpy(dtype=np.float64)
    size = frame.groupby("day")["day"].transform("size").to_numpy(dtype=np.float64)
    offset = np.where(size > 1, (rank / np.maximum(size - 1, 1) - 0.5) * SAME_DAY_SPREAD, 0.0)
    return frame["day"].to_numpy() + offset


def _percentile_lines(ax: Axes, lines: list[tuple[int, float]], *, top: float, halo: bool) -> None:
    """Dashed horizontal lines with their labels just outside the right edge, nudged apart when close."""
    if not lines:
        return
    label_heights = _style.spread_labels([d for _, d in lines], min_gap=top * 0.045, floor=0.0)
    transform = ax.get_yaxis_transform()  # x in axes fraction, y in data: labels hug the right edge
    for (percentile, days), height in zip(lines, label_heights, strict=True):
        colour = _style.percentile_colour(percentile)
        ax.axhline(days, color=colour, linestyle="--", linewidth=1.8, zorder=4,
                   path_effects=_style.halo(4.0) if halo else None)
        ax.text(1.005, height, f"{percentile}%: {_style.days_label(days)}", transform=transform, ha="left",
                va="center", fontsize=_style.TICK_SIZE, fontweight="bold", color=colour, clip_on=False)


def cycle_time_scatter_png(
    finished: pd.DataFrame,
    percentiles: Mapping[int, float | None],
    *,
    board: str,
    timezone: str,
    span: tuple[dt.date, dt.date] | None = None,
) -> bytes:
    """Cycle-time scatterplot as 1200x700 PNG bytes.

    ``finished``: one row per finished item with ``item_id`` (str), ``finished_at`` (tz-aware; naive values
    are read as UTC) and ``cycle_time_days`` (float, days). Each item is a dot at (the local calendar date in
    ``timezone`` it finished, its cycle time). ``percentiles`` maps a percentile (50, 70, 85, 95) to cycle
    time in days, computed by the caller; each is drawn as a dashed line labelled on the right ("85%: 9.8 d"),
    and ``None`` values are skipped. With no finished items the chart says so in the plot area. ``span``
    (first and last local date) widens the x axis to the period asked for, so that it starts on the same
    day as the throughput chart of that period rather than at the first dot.
    """
    figure = cycle_time_scatter_figure(finished, percentiles, board=board, timezone=timezone, span=span)
    return _style.to_png(figure)
