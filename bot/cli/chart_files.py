"""A board's charts written as PNG files into a folder (`flowcoach charts`, the demo)."""

from __future__ import annotations

from pathlib import Path

from analytics.charts.board import render_charts
from analytics.measures import BoardMetrics
from bot.errors import FlowcoachError


def write_charts(metrics: BoardMetrics, directory: Path) -> list[Path]:
    """Render the four charts into ``directory`` (created if needed); returns the paths written.

    A folder that cannot be made or written to is the user's to fix, so it is a one-line error naming it.
    """
    if directory.exists() and not directory.is_dir():
        raise FlowcoachError(f"{directory}: is a file, not a folder; give a folder for the charts")
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)  # before rendering, so a bad --out fails at once
        for name, png in render_charts(metrics).items():
            path = directory / name
            path.write_bytes(png)
            written.append(path)
    except OSError as error:
        where = error.filename or directory
        raise FlowcoachError(f"{where}: cannot write the charts there ({error.strerror or error})") from None
    return written
