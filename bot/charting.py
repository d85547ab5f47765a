"""The four flow charts of a board, as PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from analytics.charts import aging_wip_png, cfd_png, cycle_time_scatter_png, throughput_run_png
from analytics.measures import BoardMetrics
from analytics.workflow import StageKind

CHART_FILES = ("cycle-time-scatterplot.png", "aging-wip.png", "cumulative-flow.png", "throughput.png")
DAILY_RUN_CHART_MAX_DAYS = 45  # beyond this, daily bars get too thin to read: show weeks


def render_charts(metrics: BoardMetrics) -> dict[str, bytes]:
    """PNG bytes by file name: cycle-time scatterplot, aging WIP, cumulative flow, throughput run chart."""
    wip_stage_names = [flow.name for flow in metrics.stages if flow.kind.is_wip]
    finished = metrics.finished.reset_index()[["item_id", "finished_at", "cycle_time_days"]]
    wip = metrics.wip_items.reset_index()[["item_id", "stage", "age_days", "blocked"]]
    shown_bands = [flow.name for flow in metrics.stages if flow.kind is not StageKind.DISCARDED]
    frequency: Literal["D", "W"] = "D" if metrics.window.days <= DAILY_RUN_CHART_MAX_DAYS else "W"
    return {
        CHART_FILES[0]: cycle_time_scatter_png(
            finished, metrics.cycle_time.percentiles, board=metrics.board, timezone=metrics.timezone
        ),
        CHART_FILES[1]: aging_wip_png(
            wip,
            wip_stage_names,
            board=metrics.board,
            sle_days=metrics.sle_days,
            percentiles=metrics.sle_cycle_time.percentiles,
        ),
        CHART_FILES[2]: cfd_png(metrics.cfd[shown_bands], board=metrics.board),
        CHART_FILES[3]: throughput_run_png(
            metrics.throughput_daily, board=metrics.board, frequency=frequency
        ),
    }


def write_charts(metrics: BoardMetrics, directory: Path) -> list[Path]:
    """Render the four charts into ``directory`` (created if needed); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in render_charts(metrics).items():
        path = directory / name
        path.write_bytes(png)
        written.append(path)
    return written
