"""The aging work-in-progress chart: each WIP item's age in its stage's column, against how old items were
when they left that stage (ActionableAgile's bands), with the SLE line across."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from analytics.charts import _style
from analytics.exit_age import PROVISIONAL_BELOW
from analytics.words import count_of

LABELLED_OLDEST = 5
MARKER_PT = 10.0
BLOCKED_PT = 13.0  # the cross needs a larger size than the dot to look as heavy
# Band fills by the percentile they run up to; above the highest band percentile the fill is red.
BAND_FILLS: Mapping[int, str] = {50: "#DDF1DA", 70: "#FFF2C2", 85: "#FDDCC4"}
ABOVE_BANDS_FILL = "#F6C9C9"
# A dot takes the colour of the band it sits in, in its own stage (strong enough to read on the fill).
DOT_COLOURS: Mapping[int, str] = {50: "#2E7D32", 70: "#B8860B", 85: "#E65100"}
ABOVE_BANDS_DOT = "#C62828"
# Rough plot-area size in pixels; only used to turn marker size into data units for the dot spreading.
PLOT_WIDTH_PX, PLOT_HEIGHT_PX = 1050.0, 500.0


def aging_wip_figure(
    wip: pd.DataFrame,
    stages: Sequence[str],
    *,
    board: str,
    sle_days: float | None,
    percentiles: Mapping[int, float | None] | None = None,
    stage_percentiles: Sequence[Mapping[int, float | None]] | None = None,
    stage_counts: Sequence[int] | None = None,
    sle_count: int | None = None,
) -> Figure:
    """Build the aging WIP chart as a ``Figure`` (see ``aging_wip_png``)."""
    fig, ax = _style.new_chart()
    column_of = {name: position for position, name in enumerate(stages)}
    mapped = wip["stage"].map(column_of).to_numpy(dtype=np.float64)
    on_board = ~np.isnan(mapped)  # items in a stage the caller did not list have no column to sit in
    ages = wip["age_days"].to_numpy(dtype=np.float64)[on_board]
    columns: npt.NDArray[np.int64] = mapped[on_board].astype(np.int64)
    blocked = wip["blocked"].to_numpy(dtype=bool)[on_board]
    item_ids = wip["item_id"].astype(str).to_numpy()[on_board]

    per_stage = stage_percentiles is not None
    if per_stage:
        column_bands = [
            [(p, d) for p, d in _style.known_percentiles(col) if p in BAND_FILLS]
            for col in stage_percentiles or ()
        ]
        bands: list[tuple[int, float]] = []
        heights = [d for col in column_bands for _, d in col]
    else:
        bands = [(p, d) for p, d in _style.known_percentiles(percentiles) if p in BAND_FILLS]
        heights = [d for _, d in bands]
    reference = [*heights, *([sle_days] if sle_days is not None else [])]
    # Room for every item and line; an empty chart with nothing to scale by shows a plausible ten days.
    top = 1.12 * max([1.0, *([float(ages.max())] if len(ages) else []), *reference])
    if not len(ages) and not reference:
        top = 10.0
    ax.set_ylim(0, top)
    ax.set_xlim(-0.5, max(len(stages), 1) - 0.5)
    if per_stage:
        _draw_column_bands(ax, column_bands, stage_counts, top=top, sle_days=sle_days)
        dot_colours = _dot_colours(ages, columns, column_bands)
    else:
        _draw_bands(ax, bands, top=top)
        dot_colours = np.full(len(ages), _style.ITEM, dtype=object)
    _right_labels(ax, bands, sle_days, percentiles, top=top)
    for boundary in np.arange(0.5, len(stages) - 1, 1.0):
        ax.axvline(boundary, color="#CCCCCC", linewidth=0.8, zorder=1)

    x = columns + _spread_offsets(columns, ages, n_columns=len(stages), top=top)
    # Not clipped: an item started moments ago sits on the x axis and should show as a whole dot.
    for colour in dict.fromkeys(dot_colours[~blocked].tolist()):  # one artist per colour, in a fixed order
        chosen = ~blocked & (dot_colours == colour)
        ax.plot(x[chosen], ages[chosen], linestyle="none", marker="o", markersize=MARKER_PT, clip_on=False,
                markerfacecolor=colour, markeredgecolor="white", markeredgewidth=1.0, zorder=4)
    ax.plot(x[blocked], ages[blocked], linestyle="none", marker="X", markersize=BLOCKED_PT, clip_on=False,
            markerfacecolor=_style.ALERT, markeredgecolor="black", markeredgewidth=0.8, zorder=5)
    _label_oldest(ax, x, ages, columns, item_ids, n_columns=len(stages), top=top)

    counts = np.bincount(columns, minlength=len(stages))
    wrap = max(8, int(110 / max(len(stages), 1)))  # narrower columns get narrower lines
    ax.set_xticks(
        range(len(stages)),
        [f"{textwrap.fill(name, wrap)}\n{count_of(count, 'item')}"
         for name, count in zip(stages, counts, strict=True)],
    )
    ax.tick_params(axis="x", length=0)

    handles: list[Artist] = [Line2D([], [], linestyle="none", marker="o", markersize=MARKER_PT,
                                    markerfacecolor=_style.ITEM, markeredgecolor="white", label="Work item")]
    if per_stage:
        handles = [
            Line2D([], [], linestyle="none", marker="o", markersize=MARKER_PT, markerfacecolor=colour,
                   markeredgecolor="white", label=label)
            for colour, label in ((DOT_COLOURS[50], "≤ 50% of exits"), (DOT_COLOURS[70], "≤ 70%"),
                                  (DOT_COLOURS[85], "≤ 85%"), (ABOVE_BANDS_DOT, "at risk: > 85%"))
        ]
    if blocked.any():
        handles.append(Line2D([], [], linestyle="none", marker="X", markersize=BLOCKED_PT,
                              markerfacecolor=_style.ALERT, markeredgecolor="black", label="Blocked"))
    if sle_days is not None:
        handles.append(Line2D([], [], color=_style.ALERT, linestyle="--", linewidth=2.0,
                              label="Service level expectation"))
    if len(ages):
        _style.legend_below(fig, handles)
    else:
        _style.note_in_plot(ax, "No work in progress")
    n_blocked = int(blocked.sum())
    if per_stage:
        band_note = " · bands: age when items left each stage"
        known = [n for n, col in zip(stage_counts or (), column_bands, strict=False) if col]
        if known and min(known) < PROVISIONAL_BELOW:
            band_note += f", provisional ({count_of(min(known), 'item')})"
    else:
        band_note = " · bands: cycle-time percentiles" if bands else ""
    sle_note = (
        f" · SLE provisional ({count_of(sle_count, 'item')})"
        if sle_days is not None and sle_count is not None and sle_count < PROVISIONAL_BELOW
        else ""
    )
    subtitle = (f"{count_of(len(ages), 'item')} in progress"
                + (f", {n_blocked} blocked" if n_blocked else "")
                + " · age = days since started" + band_note + sle_note)
    _style.set_titles(fig, ax, board=board, chart="Aging work in progress", subtitle=subtitle)
    _style.label_axes(ax, x="Stage (flow order)", y="Age (days)")
    return fig


def _draw_bands(ax: Axes, bands: list[tuple[int, float]], *, top: float) -> None:
    """Fill the plot from 0 up through each band percentile, then red above the last one."""
    if not bands:
        return
    lower = 0.0
    for percentile, days in bands:
        ax.axhspan(lower, days, color=BAND_FILLS[percentile], zorder=0, linewidth=0)
        lower = days
    ax.axhspan(lower, top, color=ABOVE_BANDS_FILL, zorder=0, linewidth=0)


def _draw_column_bands(
    ax: Axes,
    column_bands: list[list[tuple[int, float]]],
    counts: Sequence[int] | None,
    *,
    top: float,
    sle_days: float | None,
) -> None:
    """Each column's own bands, from 0 up through its exit-age percentiles, then red above the last one.

    Provisional columns (fewer than ten exits) are hatched, so a guess does not look like a measure. The
    p85 edge, where ``item_at_risk`` starts, is labelled inside its column.
    """
    for column, bands in enumerate(column_bands):
        if not bands:
            continue
        provisional = counts is not None and counts[column] < PROVISIONAL_BELOW
        hatch = "//" if provisional else None
        lower = 0.0
        for percentile, days in [*bands, (0, top)]:
            fill = BAND_FILLS.get(percentile, ABOVE_BANDS_FILL)
            edge = "white" if hatch else "none"
            ax.add_patch(Rectangle((column - 0.5, lower), 1.0, max(days - lower, 0.0), facecolor=fill,
                                   edgecolor=edge, hatch=hatch, linewidth=0, zorder=0))
            lower = max(lower, days)
        p85 = dict(bands).get(85)
        # Not where it would sit on the SLE line (the last stage's p85 is the SLE): that label says it.
        if p85 is not None and (sle_days is None or abs(p85 - sle_days) > top * 0.03):
            ax.text(column - 0.47, p85, f"85%: {_style.days_label(p85)}", ha="left", va="bottom",
                    fontsize=_style.TICK_SIZE - 1, color=_style.MUTED, zorder=2)


def _dot_colours(
    ages: npt.NDArray[np.float64], columns: npt.NDArray[np.int64], column_bands: list[list[tuple[int, float]]]
) -> npt.NDArray[np.object_]:
    """The colour of the band each item's age falls in, in its own column; the item colour without bands."""
    colours = np.full(len(ages), _style.ITEM, dtype=object)
    for column, bands in enumerate(column_bands):
        if not bands:
            continue
        here = columns == column
        edges = np.array([days for _, days in bands])
        palette = np.array([*(DOT_COLOURS[p] for p, _ in bands), ABOVE_BANDS_DOT], dtype=object)
        colours[here] = palette[np.searchsorted(edges, ages[here], side="left")]
    return colours


def _right_labels(
    ax: Axes,
    bands: list[tuple[int, float]],
    sle_days: float | None,
    percentiles: Mapping[int, float | None] | None,
    *,
    top: float,
) -> None:
    """Band edges and the SLE line, labelled just outside the right edge."""
    labels: list[tuple[float, str, str, str]] = []  # height, text, colour, font weight
    sle_percentile = _sle_percentile(sle_days, percentiles)
    for percentile, days in bands:
        if percentile != sle_percentile:  # the SLE label already names this line
            labels.append((days, f"{percentile}%: {_style.days_label(days)}", _style.MUTED, "normal"))
    if sle_days is not None:
        ax.axhline(sle_days, color=_style.ALERT, linestyle="--", linewidth=2.0, zorder=3)
        name = f"SLE {sle_percentile}%" if sle_percentile is not None else "SLE"
        labels.append((sle_days, f"{name}: {_style.days_label(sle_days)}", _style.ALERT, "bold"))
    heights = _style.spread_labels([y for y, *_ in labels], min_gap=top * 0.045, floor=0.0)
    for (_, text, colour, weight), height in zip(labels, heights, strict=True):
        ax.text(1.005, height, text, transform=ax.get_yaxis_transform(), ha="left", va="center",
                clip_on=False, fontsize=_style.TICK_SIZE, color=colour, fontweight=weight)


def _sle_percentile(sle_days: float | None, percentiles: Mapping[int, float | None] | None) -> int | None:
    """Which percentile the SLE is, when the caller's percentiles (same items, same window) contain it."""
    if sle_days is None:
        return None
    for percentile, days in _style.known_percentiles(percentiles):
        if np.isclose(days, sle_days, rtol=1e-9, atol=1e-9):
            return percentile
    return None


def _dot_spacing(n_columns: int, top: float) -> tuple[float, float]:
    """(age difference at which two dots in a column touch, one dot width in column units)."""
    dot_px = BLOCKED_PT * _style.DPI / 72  # marker sizes are in points; the widest marker sets the spacing
    close = dot_px / PLOT_HEIGHT_PX * top
    step = 1.1 * dot_px / (PLOT_WIDTH_PX / max(n_columns, 1))
    return close, step


def _spread_offsets(
    columns: npt.NDArray[np.int64], ages: npt.NDArray[np.float64], *, n_columns: int, top: float
) -> npt.NDArray[np.float64]:
    """Horizontal offsets within a column, so items of near-equal age sit side by side instead of stacking.

    Items are sorted by (column, age); a run of items each closer than a dot's height to the previous one is
    a cluster, and its members take slots 0, +1, -1, +2, -2, ... (one dot width apart) in age order, wrapping
    when the column is full. Deterministic, and vectorised so a board with hundreds of WIP items stays fast.
    """
    if not len(ages):
        return np.zeros(0)
    close, step = _dot_spacing(n_columns, top)
    slots = max(1, int(0.8 / step) // 2 * 2 + 1)  # odd, so the slots are symmetric around the centre
    order = np.lexsort((ages, columns))
    sorted_ages, sorted_columns = ages[order], columns[order]
    starts = np.ones(len(ages), dtype=bool)
    starts[1:] = (np.diff(sorted_columns) != 0) | (np.diff(sorted_ages) > close)
    positions = np.arange(len(ages))
    rank = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    slot = rank % slots
    signed = np.where(slot % 2 == 1, (slot + 1) // 2, -(slot // 2))
    offsets = np.empty(len(ages))
    offsets[order] = signed * step
    return offsets


def _label_oldest(
    ax: Axes,
    x: npt.NDArray[np.float64],
    ages: npt.NDArray[np.float64],
    columns: npt.NDArray[np.int64],
    item_ids: npt.NDArray[np.object_],
    *,
    n_columns: int,
    top: float,
) -> None:
    """Name the oldest few items, labels fanned out vertically where they would overlap in one column."""
    close, step = _dot_spacing(n_columns, top)
    oldest = np.argsort(-ages, kind="stable")[:LABELLED_OLDEST]
    for column in np.unique(columns[oldest]):
        chosen = oldest[columns[oldest] == column]
        heights = _style.spread_labels(ages[chosen].tolist(), min_gap=top * 0.04, floor=0.0)
        # Labels start one dot right of every dot at their height (labelled or not), aligned in one column.
        in_column = columns == column
        label_x = step + max(
            float(x[in_column & (np.abs(ages - ages[item]) <= close)].max()) for item in chosen
        )
        for item, height in zip(chosen, heights, strict=True):
            # A leader line only where the label had to move away from its dot; otherwise it is clutter.
            moved = abs(height - ages[item]) > close / 2 or label_x - x[item] > 1.5 * step
            ax.annotate(
                str(item_ids[item]), xy=(x[item], ages[item]), xytext=(label_x, height),
                textcoords="data", va="center", ha="left", fontsize=10, color=_style.INK, zorder=6,
                # patchA=None: clipping the leader at the label's box costs more than drawing the chart.
                arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.7, "shrinkA": 4,
                            "shrinkB": 6, "patchA": None} if moved else None,
            )


def aging_wip_png(
    wip: pd.DataFrame,
    stages: Sequence[str],
    *,
    board: str,
    sle_days: float | None,
    percentiles: Mapping[int, float | None] | None = None,
    stage_percentiles: Sequence[Mapping[int, float | None]] | None = None,
    stage_counts: Sequence[int] | None = None,
    sle_count: int | None = None,
) -> bytes:
    """Aging work-in-progress chart as 1200x700 PNG bytes.

    ``wip``: one row per WIP item with ``item_id`` (str), ``stage`` (str), ``age_days`` (float, days since
    started) and ``blocked`` (bool). ``stages``: the WIP stages in flow order; each is a column, empty ones
    included, and items in a stage not listed are left out. Blocked items are drawn as red crosses; the
    oldest five items are labelled with their ``item_id``. ``percentiles`` (cycle time in days by percentile,
    ``None`` values skipped) colours the background: green below p50, yellow to p70, orange to p85, red above.
    ``sle_days`` draws a dashed SLE line, named after its percentile when ``percentiles`` holds the same value
    ("SLE 85%: 9.8 d"). With no WIP the columns are drawn empty with a note.

    ``stage_percentiles`` (one mapping per column, the ages at which items left that stage) replaces the
    whole-board bands with each column's own, as ActionableAgile draws them, and colours each dot by the
    band it sits in within its column (red: older than 85 % of exits, ``item_at_risk``). ``stage_counts``
    (exits per column) hatches columns from fewer than ten items and the subtitle says "provisional";
    ``sle_count`` (items behind the SLE) does the same for the SLE.
    """
    figure = aging_wip_figure(
        wip,
        stages,
        board=board,
        sle_days=sle_days,
        percentiles=percentiles,
        stage_percentiles=stage_percentiles,
        stage_counts=stage_counts,
        sle_count=sle_count,
    )
    return _style.to_png(figure)
