"""A board's charts written as PNG files into a folder (`flowcoach charts`, the demo)."""

from __future__ import annotations

from pathlib import Path

from analytics.charts.board import ChartOptions, render_charts
from analytics.measures import BoardMetrics
from bot.errors import FlowcoachError


def write_charts(
    metrics: BoardMetrics, directory: Path, options: ChartOptions = ChartOptions()
) -> list[Path]:
    """Render every chart kind into ``directory`` (created if needed); returns the paths written."""
    chart_folder(directory)  # before rendering, so a bad --out fails at once
    written = []
    for name, png in render_charts(metrics, options).items():
        path = directory / name
        try:
            path.write_bytes(png)
        except OSError as error:
            raise _unwritable(path, error) from None
        written.append(path)
    return written


def chart_folder(directory: Path) -> Path:
    """``directory``, created if needed; a folder that cannot be is the user's to fix: a one-line error."""
    if directory.exists() and not directory.is_dir():
        raise FlowcoachError(f"{directory}: is a file, not a folder; give a folder for the charts")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(directory, error) from None
    return directory


def _unwritable(path: Path, error: OSError) -> FlowcoachError:
    return FlowcoachError(f"{path}: cannot write the charts there ({error.strerror or error})")
