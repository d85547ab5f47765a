"""What the four charts share: canvas size, palette, titles, date axes, PNG encoding.

Everything works on explicit ``Figure``/``Axes`` objects and passes styles per artist instead of through
``rcParams`` or pyplot, because both are process-wide state: a web server rendering charts on several threads
must not have one request's settings leak into another's.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patheffects import AbstractPathEffect, withStroke

# 1200 x 700 px: wide enough for three months of daily data, and Slack previews it without cropping.
WIDTH_IN, HEIGHT_IN, DPI = 12.0, 7.0, 100

INK = "#222222"
MUTED = "#666666"
GRID = "#E4E4E4"
ITEM = "#0072B2"  # Okabe-Ito blue: the colour of "an item" on every chart
ACCENT = "#E69F00"  # Okabe-Ito orange: averages and medians drawn over bars
ALERT = "#D55E00"  # Okabe-Ito vermillion: blocked items, the SLE

# Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies, then Paul Tol's muted
# scheme so a workflow with many stages still gets distinct colours before any repeat.
PALETTE = (
    "#009E73", "#56B4E9", "#E69F00", "#CC79A7", "#0072B2", "#D55E00", "#F0E442",
    "#332288", "#88CCEE", "#44AA99", "#999933", "#AA4499", "#DDCC77", "#882255",
)

# Percentile lines and aging bands go from calm to alarming as the percentile rises; the labels always carry
# the number too, so colour is never the only cue.
PERCENTILE_COLOURS: Mapping[int, str] = {50: "#1B9E77", 70: "#B8860B", 85: "#E66100", 95: "#B2182B"}

TITLE_SIZE = 17
TITLE_WIDTH_CHARS = 72
SUBTITLE_SIZE = 12
LABEL_SIZE = 13
TICK_SIZE = 11
NOTE_SIZE = 15


def percentile_colour(percentile: int) -> str:
    """The colour for a percentile line: the nearest of the four standard ones."""
    nearest = min(PERCENTILE_COLOURS, key=lambda known: abs(known - percentile))
    return PERCENTILE_COLOURS[nearest]


def known_percentiles(percentiles: Mapping[int, float | None] | None) -> list[tuple[int, float]]:
    """The (percentile, days) pairs that have a value, in ascending percentile order."""
    if not percentiles:
        return []
    return sorted((int(p), float(days)) for p, days in percentiles.items() if days is not None)


def new_chart() -> tuple[Figure, Axes]:
    """A white 1200x700 figure with one axes: light horizontal grid, no top/right frame."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("white")
    ax.set_axisbelow(True)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#BBBBBB")
    ax.tick_params(labelsize=TICK_SIZE, colors=MUTED, labelcolor=INK)
    return fig, ax


def set_titles(fig: Figure, ax: Axes, *, board: str, chart: str, subtitle: str) -> None:
    """Title naming the board and the chart (wrapped when the board name is long), and a grey subtitle."""
    # ~72 bold characters fill the 1200 px width. A long board name wraps onto a second line and is then
    # shortened, never the chart's name: that is what tells the reader which of the four charts this is.
    room = 2 * TITLE_WIDTH_CHARS - len(chart) - 12
    name = textwrap.shorten(board, width=room, placeholder=" …") if len(board) > room else board
    lines = textwrap.wrap(f"{name} · {chart}", width=TITLE_WIDTH_CHARS, max_lines=2, placeholder=" …")
    title = "\n".join(lines)
    fig.suptitle(title, x=0.01, ha="left", fontsize=TITLE_SIZE, fontweight="bold", color=INK)
    ax.set_title(subtitle, loc="left", fontsize=SUBTITLE_SIZE, color=MUTED, pad=10)


def legend_below(fig: Figure, handles: Sequence[Artist]) -> None:
    """One row of legend entries under the x axis, where it can never cover data points."""
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=TICK_SIZE,
                   frameon=False, handletextpad=0.5, columnspacing=1.8)


def halo(width: float) -> list[AbstractPathEffect]:
    """A white outline that keeps a line or label legible where it crosses dense dots or bars."""
    return [withStroke(linewidth=width, foreground="white")]


def label_axes(ax: Axes, *, x: str, y: str) -> None:
    """Axis labels in the shared size and colour."""
    ax.set_xlabel(x, fontsize=LABEL_SIZE, color=INK, labelpad=8)
    ax.set_ylabel(y, fontsize=LABEL_SIZE, color=INK, labelpad=8)


def note_in_plot(ax: Axes, text: str) -> None:
    """A centred message in the plot area, for charts with nothing to show."""
    ax.text(
        0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=NOTE_SIZE, color=MUTED,
        bbox={"boxstyle": "round,pad=0.6", "facecolor": "white", "edgecolor": GRID},
    )


def day_numbers(dates: pd.DatetimeIndex, origin: pd.Timestamp) -> npt.NDArray[np.float64]:
    """Dates as float days since ``origin``: the charts' own x scale.

    Plain numbers with ticks placed by hand, rather than matplotlib's date units, keep the axis independent
    of the process-wide ``date.epoch`` setting and fully typed.
    """
    return np.asarray((dates - origin) / pd.Timedelta(days=1), dtype=np.float64)


def date_axis(ax: Axes, first: pd.Timestamp, last: pd.Timestamp, *, origin: pd.Timestamp) -> None:
    """Show the naive local dates ``[first, last]`` (x in days since ``origin``) with ticks a reader can scan.

    Half a day of margin on each side, so the first and last day's dots or bars are not cut off. Weekly
    ticks fall on Mondays, so they line up with the ISO weeks of the throughput chart.
    """
    span_days = max((last - first).days, 0)
    if span_days < 6:
        # Pad short spans to a week so a single day gets a readable axis rather than one lonely tick.
        first -= pd.Timedelta(days=(6 - span_days) // 2)
        last += pd.Timedelta(days=6 - span_days - (6 - span_days) // 2)
        span_days = 6
    label = day_month
    if span_days <= 16:
        frequency = "D" if span_days <= 9 else "2D"
    elif span_days <= 130:
        frequency = "W-MON" if span_days <= 75 else "2W-MON"
    else:
        frequency, label = ("MS" if span_days <= 400 else "3MS"), month_year
    ticks = pd.date_range(first.normalize(), last.normalize(), freq=frequency)
    labels = [label(tick) for tick in ticks]
    if label is month_year:
        # "Jan 2026" on every tick of a year runs the labels into each other on a narrow plot (the CFD's,
        # beside its legend): the year only on the first tick and on each January.
        labels = [text if n == 0 or tick.month == 1 else f"{tick:%b}" for n, (tick, text) in
                  enumerate(zip(ticks, labels, strict=True))]
    ax.set_xticks(day_numbers(ticks, origin).tolist(), labels)
    ax.set_xlim(float((first - origin).days) - 0.5, float((last - origin).days) + 0.5)


def blank_x_axis(ax: Axes) -> None:
    """An x axis with no ticks, for charts with no data to place along it."""
    ax.set_xticks([])
    ax.set_xlim(0.0, 1.0)


def as_dates(index: pd.Index | Sequence[object]) -> pd.DatetimeIndex:
    """Calendar dates (``datetime.date``, strings or timestamps) as naive midnight timestamps."""
    dates = pd.DatetimeIndex(pd.to_datetime(pd.Index(index)))
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    return dates.normalize()


def spread_labels(positions: Sequence[float], *, min_gap: float, floor: float) -> npt.NDArray[np.float64]:
    """Label heights near ``positions`` (any order) that are at least ``min_gap`` apart and ≥ ``floor``.

    Labels are pushed upwards in ascending order: the lowest stays put, close neighbours fan out above it.
    """
    values = np.asarray(positions, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    placed = np.empty_like(values)
    previous = floor - min_gap
    for rank in order:  # a handful of labels per chart, never per item
        previous = max(float(values[rank]), previous + min_gap)
        placed[rank] = previous
    return placed


def period(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """A date range for subtitles: ``4 Mar to 1 Jun 2026``, ``20 Nov 2025 to 20 Nov 2026`` across a year's
    end, or ``on 4 Mar 2026`` for a single day."""
    if first.normalize() == last.normalize():
        return f"on {day_month(last)} {last:%Y}"
    start = day_month(first) if first.year == last.year else f"{day_month(first)} {first:%Y}"
    return f"{start} to {day_month(last)} {last:%Y}"


def day_month(date: pd.Timestamp) -> str:
    """``4 Mar``: the date style of every flowcoach text (``Wed 4 Mar 2026``), short enough for a tick."""
    return f"{date.day} {date:%b}"


def month_year(date: pd.Timestamp) -> str:
    return f"{date:%b %Y}"


def days_label(days: float) -> str:
    """Days with one decimal, or none past 100 where the decimal is noise: ``9.8 d``, ``143 d``."""
    return f"{days:.0f} d" if days >= 100 else f"{days:.1f} d"


def to_png(fig: Figure) -> bytes:
    """Encode the figure as PNG at its own size (1200x700 px); metadata is fixed so output is reproducible."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()
