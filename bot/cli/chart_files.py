"""A board's charts written as PNG files into a folder (`flowcoach charts`, the demo)."""

from __future__ import annotations

from pathlib import Path

from analytics.charts.board import render_charts
from analytics.measures import BoardMetrics


def write_charts(metrics: BoardMetrics, directory: Path) -> list[Path]:
    """Render every chart kind into ``directory`` (created if needed); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in render_charts(metrics).items():
        path = directory / name
        path.write_bytes(png)
        written.append(path)
    return written
