"""A board's charts by kind: what `flowcoach charts`, `/flow <chart>` and the weekly review draw.

Adding a chart is a renderer in this package and one entry here (kind, file name, branch of ``render_chart``).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from analytics.charts.aging_wip import aging_wip_png
from analytics.charts.cumulative_flow import cfd_png
from analytics.charts.cycle_time_scatter import cycle_time_scatter_png
from analytics.charts.throughput_pbc import throughput_pbc_png
from analytics.charts.throughput_run import throughput_run_png
from analytics.measures import BoardMetrics
from analytics.workflow import StageKind

CHART_FILES = {
    "cycle": "cycle-time-scatterplot.png",
    "aging": "aging-wip.png",
    "cfd": "cumulative-flow.png",
    "throughput": "throughput.png",
    "pbc": "throughput-pbc.png",
}
DAILY_RUN_CHART_MAX_DAYS = 45  # beyond this, daily bars get too thin to read: show weeks


ChartKind = Literal["cycle", "aging", "cfd", "throughput", "pbc"]
CHART_KINDS: tuple[ChartKind, ...] = ("cycle", "aging", "cfd", "throughput", "pbc")


def render_chart(kind: ChartKind, metrics: BoardMetrics) -> bytes:
    """One chart of the board as PNG bytes."""
    if kind == "cycle":
        finished = metrics.finished.reset_index()[["item_id", "finished_at", "cycle_time_days"]]
        daily = _since_first_finish(metrics)  # the same first day as the throughput chart
        span = None
        if len(daily):
            span = (pd.Timestamp(daily.index[0]).date(), pd.Timestamp(daily.index[-1]).date())
        return cycle_time_scatter_png(
            finished, metrics.cycle_time.percentiles, board=metrics.board, timezone=metrics.timezone,
            span=span,
        )  # fmt: skip
    if kind == "aging":
        wip = metrics.wip_items.reset_index()[["item_id", "stage", "age_days", "blocked"]]
        columns = [flow for flow in metrics.stages if flow.kind.is_wip]
        # Each column against its own yardstick: the ages at which items left that stage (issue 14).
        return aging_wip_png(
            wip,
            [flow.name for flow in columns],
            board=metrics.board,
            sle_days=metrics.sle_days,
            percentiles=metrics.sle_cycle_time.percentiles,
            stage_percentiles=[flow.exit_age.percentiles for flow in columns],
            stage_counts=[flow.exit_age.count for flow in columns],
            sle_count=metrics.sle_cycle_time.count,
        )
    if kind == "cfd":
        shown_bands = [flow.name for flow in metrics.stages if flow.kind is not StageKind.DISCARDED]
        return cfd_png(metrics.cfd[shown_bands], board=metrics.board)
    if kind == "pbc":
        return throughput_pbc_png(metrics.process_behaviour.throughput, board=metrics.board)
    frequency: Literal["D", "W"] = "D" if metrics.window.days <= DAILY_RUN_CHART_MAX_DAYS else "W"
    return throughput_run_png(_since_first_finish(metrics), board=metrics.board, frequency=frequency)


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


def render_charts(metrics: BoardMetrics) -> dict[str, bytes]:
    """PNG bytes by file name: cycle-time scatterplot, aging WIP, cumulative flow, throughput run chart, and
    the throughput process behaviour chart (XmR)."""
    return {CHART_FILES[kind]: render_chart(kind, metrics) for kind in CHART_KINDS}
