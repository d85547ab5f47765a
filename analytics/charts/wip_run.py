"""The WIP run chart: work in progress at the end of each day, against the board's WIP limit."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analytics.charts import _style
from analytics.words import count_of


def wip_run_totals(wip_daily: pd.DataFrame) -> pd.Series:
    """Total WIP at the end of each day: the sum of the stages' columns, indexed by date."""
    return wip_daily.sum(axis=1).astype(np.int64).rename("wip")  # no stages: zeros


def wip_run_figure(
    wip_daily: pd.DataFrame,
    *,
    board: str,
    wip_limit: int | None = None,
    stage_limits: Mapping[str, int | None] | None = None,
) -> Figure:
    """Build the WIP run chart as a ``Figure`` (see ``wip_run_png``)."""
    fig, ax = _style.new_chart()
    totals = wip_run_totals(wip_daily.sort_index())
    dates = _style.as_dates(totals.index)
    handles: list[Artist] = []
    if len(dates):
        first, last = dates.min(), dates.max()
        x = _style.day_numbers(dates, first)
        values = totals.to_numpy(dtype=np.float64)
        ax.bar(
            x,
            values,
            width=0.8 if len(x) <= 120 else 1.0,
            color=_style.ITEM,
            alpha=0.75,
            zorder=3,
            linewidth=0,
        )
        handles.append(Patch(facecolor=_style.ITEM, alpha=0.75, label="WIP at the end of the day"))
        _style.date_axis(ax, first, last, origin=first)
        top = max(float(values.max()), float(wip_limit or 0), 1.0)
        ax.set_ylim(0, top * 1.18)
        subtitle = (
            f"Items in progress at the end of each day, {_style.period(first, last)} · now {int(values[-1])}"
        )
        if wip_limit is not None:
            over = int((values > wip_limit).sum())
            ax.axhline(wip_limit, color=_style.ALERT, linestyle="--", linewidth=2.2, zorder=4)
            ax.text(
                1.005,
                wip_limit,
                f"limit {wip_limit}",
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="center",
                fontsize=_style.TICK_SIZE,
                fontweight="bold",
                color=_style.ALERT,
                clip_on=False,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=_style.ALERT,
                    linestyle="--",
                    linewidth=2.2,
                    label=f"Board WIP limit ({wip_limit})",
                )
            )
            subtitle += f" · over the limit on {count_of(over, 'day')}" if over else " · never over the limit"
        limits = [f"{name} {limit}" for name, limit in (stage_limits or {}).items() if limit is not None]
        if limits:
            note = "Stage limits: " + ", ".join(limits)
            handles.append(Patch(facecolor="none", edgecolor="none", label=note))
        if not values.any():
            _style.note_in_plot(ax, "Nothing was in progress in this period")
    else:
        _style.blank_x_axis(ax)
        ax.set_ylim(0, 1)
        _style.note_in_plot(ax, "No days in this period")
        subtitle = "Items in progress at the end of each day"
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _style.legend_below(fig, handles)
    _style.set_titles(fig, ax, board=board, chart="WIP run chart", subtitle=subtitle)
    _style.label_axes(ax, x="Date", y="Items in progress")
    return fig


def wip_run_png(
    wip_daily: pd.DataFrame,
    *,
    board: str,
    wip_limit: int | None = None,
    stage_limits: Mapping[str, int | None] | None = None,
) -> bytes:
    """WIP run chart as 1200x700 PNG bytes (ActionableAgile's "WIP Run Chart").

    ``wip_daily``: index of calendar dates, one column per queue/active stage, values = items in progress
    in that stage at the end of the day (:func:`analytics.wip_history.daily_wip`). One bar per day of the
    total; ``wip_limit`` (the board's) is a dashed line labelled on the right, and the subtitle says on how
    many days WIP ended above it; ``stage_limits`` (name → limit, ``None`` skipped) are listed in the
    legend. No days: an empty chart with a note.
    """
    figure = wip_run_figure(wip_daily, board=board, wip_limit=wip_limit, stage_limits=stage_limits)
    return _style.to_png(figure)
