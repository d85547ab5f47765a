"""The cumulative flow diagram: stage bands stacked with done at the bottom, arrivals along the top edge."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analytics.charts import _style

LEGEND_WRAP = 20  # characters per line of a stage name in the legend, so long names cannot squeeze the plot


def cfd_figure(
    cfd: pd.DataFrame, *, board: str, from_window_start: bool = False, hidden_below: int = 0
) -> Figure:
    """Build the cumulative flow diagram as a ``Figure`` (see ``cfd_png``)."""
    fig, ax = _style.new_chart()
    cfd = cfd.sort_index()
    stages = [str(name) for name in cfd.columns]
    dates = _style.as_dates(cfd.index)
    counts = cfd.to_numpy(dtype=np.float64, na_value=0.0)
    # Colours go by distance from done, so done is the same green on every board however many stages it has.
    palette = _style.PALETTE
    # Hidden bands below the last one shown keep their colours, so the others keep theirs too.
    colours = {
        name: palette[(depth + hidden_below) % len(palette)] for depth, name in enumerate(reversed(stages))
    }
    bottom_up = list(reversed(range(len(stages))))

    if len(dates) and stages:
        first, last = dates.min(), dates.max()
        x = _style.day_numbers(dates, first)
        if len(dates) == 1:
            # One day has no area to fill: a single stacked bar shows the same bands.
            base = 0.0
            for column in bottom_up:
                ax.bar(x, counts[:, column], bottom=base, width=0.6, color=colours[stages[column]],
                       edgecolor="white", linewidth=0.6, label=stages[column])
                base += float(counts[0, column])
        else:
            ax.stackplot(x, *(counts[:, column] for column in bottom_up),
                         colors=[colours[stages[column]] for column in bottom_up],
                         labels=[stages[column] for column in bottom_up],
                         edgecolor="white", linewidth=0.6)
        _style.date_axis(ax, first, last, origin=first)
        if len(dates) > 1:
            ax.set_xlim(float(x[0]), float(x[-1]))  # areas run edge to edge; margins would look like gaps
        ax.set_ylim(0, max(float(counts.sum(axis=1).max()), 1.0) * 1.05)
        subtitle = f"Items in each stage at the end of each day, {_style.period(first, last)}"
        if from_window_start:
            subtitle += " · done counted from the first day"
    else:
        _style.blank_x_axis(ax)
        ax.set_ylim(0, 1)
        _style.note_in_plot(ax, "No flow data for this period")
        subtitle = "Items in each stage at the end of each day"

    # Legend in flow order, top to bottom: the same order as the bands from the top of the chart down.
    latest = counts[-1] if len(counts) else np.zeros(len(stages))
    # Outside on the right: a CFD's bands usually fill the whole plot, and the list reads like the stack.
    handles = [Patch(facecolor=colours[name], edgecolor="white",
                     label=f"{textwrap.fill(name, LEGEND_WRAP)} ({int(latest[i]):,})")
               for i, name in enumerate(stages)]
    if handles:
        # Anchored to the axes rather than the figure, so constrained layout keeps it clear of the title.
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=_style.TICK_SIZE,
                  frameon=False, title="Stage (items now)", title_fontsize=_style.TICK_SIZE, alignment="left")
    _style.set_titles(fig, ax, board=board, chart="Cumulative flow", subtitle=subtitle)
    _style.label_axes(ax, x="Date", y="Items")
    return fig


def cfd_png(
    cfd: pd.DataFrame, *, board: str, from_window_start: bool = False, hidden_below: int = 0
) -> bytes:
    """Cumulative flow diagram as 1200x700 PNG bytes.

    ``cfd``: index of calendar dates (``datetime.date`` or a daily ``DatetimeIndex``), one column per stage in
    flow order (first = earliest stage, last = done), values = items in that stage at the end of the day.
    The bands are stacked with the last column at the bottom and earlier stages above, so the top edge is
    cumulative arrivals and the gap between two band edges is the work between them. The legend lists the
    stages in flow order with their count on the last day. A single day renders as one stacked bar; an empty
    frame renders an empty chart with a note. ``from_window_start``: the done band was counted from the
    period's first day (``--cfd-start window``), which the subtitle says. ``hidden_below``: how many bands
    of the board were left out below the last column (``--cfd-hide done``), so colours stay the board's.
    """
    figure = cfd_figure(cfd, board=board, from_window_start=from_window_start, hidden_below=hidden_below)
    return _style.to_png(figure)
