"""A board's charts by kind: what `flowcoach charts`, `/flow <chart>` and the weekly review draw.

Adding a chart is a renderer in this package and one entry here (kind, file name, branch of ``render_chart``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analytics.charts.aging_wip import aging_wip_png
from analytics.charts.cumulative_flow import cfd_png
from analytics.charts.cycle_time_histogram import cycle_time_histogram_png
from analytics.charts.cycle_time_scatter import cycle_time_scatter_png
from analytics.charts.throughput_histogram import throughput_histogram_png
from analytics.charts.throughput_pbc import throughput_pbc_png
from analytics.charts.throughput_run import throughput_run_png
from analytics.charts.wip_run import wip_run_png
from analytics.measures import BoardMetrics, throughput_sample
from analytics.workflow import StageKind

CHART_FILES = {
    "cycle": "cycle-time-scatterplot.png",
    "aging": "aging-wip.png",
    "cfd": "cumulative-flow.png",
    "throughput": "throughput.png",
    "pbc": "throughput-pbc.png",
    "cycle-histogram": "cycle-time-histogram.png",
    "throughput-histogram": "throughput-histogram.png",
    "wip": "wip-run-chart.png",
}
DAILY_RUN_CHART_MAX_DAYS = 45  # beyond this, daily bars get too thin to read: show weeks


ChartKind = Literal[
    "cycle", "aging", "cfd", "throughput", "pbc", "cycle-histogram", "throughput-histogram", "wip"
]
CHART_KINDS: tuple[ChartKind, ...] = (
    "cycle", "aging", "cfd", "throughput", "pbc", "cycle-histogram", "throughput-histogram", "wip",
)  # fmt: skip
CFD_HIDEABLE = ("done", "backlog")  # the stage kinds whose bands `--cfd-hide` can leave out
CfdStart = Literal["board", "window"]


@dataclass(frozen=True)
class ChartOptions:
    """How the charts are drawn beyond the metrics: ``cfd_hide`` (stage kinds of ``CFD_HIDEABLE`` whose
    bands the CFD leaves out) and ``cfd_start``: ``board`` (the done band holds every item finished since
    the board began, as ActionableAgile draws it) or ``window`` (it starts at zero on the window's first
    day). ``subset`` names the items the metrics were computed from when not all of them (``--type``:
    "Bug"): the titles say it after the board's name, and the WIP run chart leaves out the WIP limits,
    which are the whole board's."""

    cfd_hide: frozenset[str] = frozenset()
    cfd_start: CfdStart = "board"
    subset: str | None = None


def cfd_bands(metrics: BoardMetrics, options: ChartOptions = ChartOptions()) -> pd.DataFrame:
    """The CFD's bands as drawn: every stage but the discarded ones and those of a hidden kind, in flow
    order; with ``cfd_start="window"``, each done band less its count at the end of the window's first day
    (never below zero: an item reopened since then leaves done), so it starts from zero."""
    hidden = {StageKind(kind) for kind in options.cfd_hide} | {StageKind.DISCARDED}
    shown = [flow.name for flow in metrics.stages if flow.kind not in hidden]
    bands = metrics.cfd[shown].copy()
    if options.cfd_start == "window" and len(bands):
        for flow in metrics.stages:
            if flow.kind is StageKind.DONE and flow.name in bands.columns:
                column = bands[flow.name].to_numpy(dtype=np.int64)
                bands[flow.name] = np.maximum(column - column[0], 0)
    return bands


def render_chart(kind: ChartKind, metrics: BoardMetrics, options: ChartOptions = ChartOptions()) -> bytes:
    """One chart of the board as PNG bytes."""
    board = f"{metrics.board} ({options.subset})" if options.subset else metrics.board
    if kind == "cycle":
        finished = metrics.finished.reset_index()[["item_id", "finished_at", "cycle_time_days"]]
        daily = _since_first_finish(metrics)  # the same first day as the throughput chart
        span = None
        if len(daily):
            span = (pd.Timestamp(daily.index[0]).date(), pd.Timestamp(daily.index[-1]).date())
        return cycle_time_scatter_png(
            finished, metrics.cycle_time.percentiles, board=board, timezone=metrics.timezone,
            span=span,
        )  # fmt: skip
    if kind == "aging":
        wip = metrics.wip_items.reset_index()[["item_id", "stage", "age_days", "blocked"]]
        columns = [flow for flow in metrics.stages if flow.kind.is_wip]
        # Each column against its own yardstick: the ages at which items left that stage (issue 14).
        return aging_wip_png(
            wip,
            [flow.name for flow in columns],
            board=board,
            sle_days=metrics.sle_days,
            percentiles=metrics.sle_cycle_time.percentiles,
            stage_percentiles=[flow.exit_age.percentiles for flow in columns],
            stage_counts=[flow.exit_age.count for flow in columns],
            sle_count=metrics.sle_cycle_time.count,
        )
    if kind == "cfd":
        bands = cfd_bands(metrics, options)
        drawn = [flow.name for flow in metrics.stages if flow.kind is not StageKind.DISCARDED]
        last = drawn.index(str(bands.columns[-1])) if len(bands.columns) else len(drawn) - 1
        return cfd_png(
            bands,
            board=board,
            from_window_start=options.cfd_start == "window",
            hidden_below=len(drawn) - 1 - last,
        )
    if kind == "pbc":
        return throughput_pbc_png(metrics.process_behaviour.throughput, board=board)
    if kind == "cycle-histogram":
        return cycle_time_histogram_png(
            metrics.finished["cycle_time_days"].to_numpy(dtype=np.float64),
            metrics.cycle_time.percentiles,
            board=board,
            period=_finish_period(metrics),
        )
    if kind == "throughput-histogram":
        days = sampled_days(metrics)
        left_out = len(throughput_sample(metrics)) - len(days)
        return throughput_histogram_png(days, board=board, left_out=left_out)
    if kind == "wip":
        return wip_run_png(
            _since_first_wip(metrics.wip_daily),
            board=board,
            wip_limit=None if options.subset else metrics.wip_limit,
            stage_limits=None
            if options.subset
            else {flow.name: flow.wip_limit for flow in metrics.stages if flow.kind.is_wip},
        )
    frequency: Literal["D", "W"] = "D" if metrics.window.days <= DAILY_RUN_CHART_MAX_DAYS else "W"
    return throughput_run_png(_since_first_finish(metrics), board=board, frequency=frequency)


def _since_first_finish(metrics: BoardMetrics) -> pd.Series:
    """The window's daily throughput from the board's first finished item on (as the process behaviour
    chart counts): a window longer than the history would otherwise draw weeks of zeros before the team
    finished anything, and pull the weekly median down with them. A pause later on is kept: it happened."""
    daily = metrics.throughput_daily
    done = [flow.name for flow in metrics.stages if flow.kind is StageKind.DONE]
    if not done or metrics.cfd.empty:
        return daily
    finished = (metrics.cfd[done].sum(axis=1) > 0).to_numpy()  # cumulative: once > 0, it stays so
    if not finished.any() or finished[0]:
        return daily
    first = pd.Timestamp(metrics.cfd.index[int(finished.argmax())]).date()
    keep: pd.Series = daily[pd.Index(daily.index) >= first]  # dates compare element-wise, no loop
    return keep


def _finish_period(metrics: BoardMetrics) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last local date of the window from the board's first finish on, for subtitles: the
    period of the throughput charts."""
    dates = _since_first_finish(metrics).index
    return (pd.Timestamp(dates[0]), pd.Timestamp(dates[-1])) if len(dates) else None


def sampled_days(metrics: BoardMetrics) -> pd.Series:
    """The days the throughput histogram counts: those the forecast samples (a window that does not start
    at local midnight has its partial first and last dates summed into one day, the last), from the board's
    first finished item on, as the run chart shows them."""
    daily = _since_first_finish(metrics)
    whole = metrics.throughput_daily
    if len(whole) == metrics.window.days + 1 and len(daily) == len(whole) and len(daily) > 1:
        merged = daily.iloc[1:].copy()
        merged.iloc[-1] += daily.iloc[0]
        return merged
    return daily


def _since_first_wip(wip_daily: pd.DataFrame) -> pd.DataFrame:
    """The days from the first one that ended with work in progress: a window longer than the board's
    history would otherwise open with months of nothing. No WIP at all: every day, to say so."""
    busy = (wip_daily.sum(axis=1) > 0).to_numpy()
    if not busy.any():
        return wip_daily
    return wip_daily.iloc[int(busy.argmax()) :]


def render_charts(metrics: BoardMetrics, options: ChartOptions = ChartOptions()) -> dict[str, bytes]:
    """PNG bytes by file name: cycle-time scatterplot, aging WIP, cumulative flow, throughput run chart, the
    throughput process behaviour chart (XmR), the cycle-time and throughput histograms and the WIP run
    chart."""
    return {CHART_FILES[kind]: render_chart(kind, metrics, options) for kind in CHART_KINDS}
