"""The throughput process behaviour chart (XmR): weekly points, their average and natural limits, signals.

It answers one question at a glance: is a good or bad week news, or the ordinary ups and downs? Weeks
inside the shaded band are routine variation; points marked in vermillion are signals of a real change.
"""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analytics.charts import _style
from analytics.process_behaviour import MIN_BASELINE_POINTS, WeeklyThroughput
from analytics.xmr import Limits

TITLE = "Throughput: real change or noise?"
MAX_WEEK_TICKS = 18  # past this, every other week's date is labelled so they do not collide
RIGHT_MARGIN = 0.09  # of the weeks shown, kept right of the last one for the lines' names
BAND = "#E8F3EC"  # a pale green: "routine", without competing with the points
RULE_WORDS = {"outside_limits": "outside the limits", "run_of_8": "8+ weeks on one side"}


def throughput_pbc_figure(chart: WeeklyThroughput, *, board: str) -> Figure:
    """Build the chart as a ``Figure`` (see :func:`throughput_pbc_png`)."""
    fig, ax = _style.new_chart()
    weeks, counts = chart.weeks.mondays, chart.counts
    _style.label_axes(ax, x="Week of (weeks start Monday)", y="Items finished that week")
    if not weeks:
        _style.blank_x_axis(ax)
        ax.set_ylim(0, 1)
        _style.note_in_plot(ax, "No full week since the first item finished")
        _style.set_titles(fig, ax, board=board, chart=TITLE, subtitle="per week")
        return fig
    positions = list(range(len(weeks)))
    # Room right of the last week for the lines' names, in proportion to the weeks shown.
    right = len(weeks) - 0.4 + RIGHT_MARGIN * max(len(weeks), MAX_WEEK_TICKS // 2)
    handles: list[Artist] = [
        Line2D([], [], color=_style.ITEM, marker="o", linewidth=1.6, label="Finished per week")
    ]
    if chart.limits is not None:
        handles += _limits(ax, chart.limits, len(weeks) - 0.35)
    ax.plot(positions, counts, color=_style.ITEM, linewidth=1.6, marker="o", markersize=7, zorder=3)
    for position, count in zip(positions, counts.tolist(), strict=True):
        ax.annotate(
            f"{count}",
            (position, count),
            xytext=(0, 11),
            textcoords="offset points",
            ha="center",
            fontsize=10,
            color=_style.INK,
            zorder=5,
        )
    handles += _signals(ax, chart)
    every = 1 if len(weeks) <= MAX_WEEK_TICKS else 2
    ax.set_xticks(positions[::every], [f"{monday:%b %d}" for monday in weeks[::every]])
    ax.set_xlim(-0.6, right)
    ax.tick_params(axis="x", length=0)
    top = max([float(counts.max()), chart.limits.upper if chart.limits else 0.0, 1.0]) * 1.2
    ax.set_ylim(0, top)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _baseline(ax, chart, top)
    if chart.limits is None:
        _style.note_in_plot(ax, f"Limits need {MIN_BASELINE_POINTS} full weeks of history: not yet")
    _style.legend_below(fig, handles)
    _style.set_titles(fig, ax, board=board, chart=TITLE, subtitle=_subtitle(chart))
    return fig


def _baseline(ax: Axes, chart: WeeklyThroughput, top: float) -> None:
    """A bracket over the baseline weeks at the top of the plot: where the limits come from."""
    first, last = chart.weeks.baseline
    if last <= first:
        return
    y = top * 0.965
    ax.plot([first - 0.3, last - 0.7], [y, y], color=_style.MUTED, linewidth=1.5, zorder=4)
    for x in (first - 0.3, last - 0.7):
        ax.plot([x, x], [y, y - top * 0.02], color=_style.MUTED, linewidth=1.5, zorder=4)
    ax.text(
        (first + last - 1) / 2,
        y + top * 0.005,
        f"baseline: the limits come from these {last - first} weeks",
        ha="center",
        va="bottom",
        fontsize=10,
        color=_style.MUTED,
        zorder=4,
    )


def _limits(ax: Axes, limits: Limits, label_x: float) -> list[Artist]:
    """The band of routine variation between the limits, its edges dashed, the average solid; each line
    named at its right end, past the last week."""
    ax.axhspan(limits.lower, limits.upper, color=BAND, zorder=1)
    for value in (limits.lower, limits.upper):
        ax.axhline(value, color=_style.MUTED, linestyle="--", linewidth=1.4, zorder=2)
    ax.axhline(limits.centre, color=_style.ACCENT, linewidth=2.2, zorder=2)
    names = ((limits.upper, "upper limit"), (limits.centre, "average"), (limits.lower, "lower limit"))
    for value, name in names:
        ax.text(
            label_x,
            value,
            f"{name}\n{value:.1f}",
            ha="left",
            va="center",
            fontsize=10,
            color=_style.INK,
            path_effects=_style.halo(3.0),
            zorder=4,
        )
    return [
        Line2D([], [], color=_style.ACCENT, linewidth=2.2, label=f"Baseline average: {limits.centre:.1f}"),
        Patch(
            facecolor=BAND,
            edgecolor=_style.MUTED,
            linestyle="--",
            label=f"Routine variation: {limits.lower:.1f} to {limits.upper:.1f}",
        ),
    ]


def _signals(ax: Axes, chart: WeeklyThroughput) -> list[Artist]:
    """Signal weeks drawn over their points: filled when outside the limits, a ring when ending a run."""
    handles: list[Artist] = []
    for rule, filled in (("outside_limits", True), ("run_of_8", False)):
        chosen = [signal.index for signal in chart.signals if signal.rule == rule]
        if not chosen:
            continue
        face = _style.ALERT if filled else "white"
        ax.plot(
            chosen,
            chart.counts[chosen],
            linestyle="none",
            marker="o",
            markersize=13,
            markeredgewidth=2.5,
            markerfacecolor=face,
            markeredgecolor=_style.ALERT,
            zorder=4,
        )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=11,
                markeredgewidth=2.5,
                markerfacecolor=face,
                markeredgecolor=_style.ALERT,
                label=f"Signal: {RULE_WORDS[rule]}",
            )
        )
    return handles


def _subtitle(chart: WeeklyThroughput) -> str:
    weeks = chart.weeks.mondays
    period = _style.period(_style.as_dates([weeks[0]])[0], _style.as_dates([weeks[-1]])[0])
    text = f"Items finished per full week, weeks of {period} (XmR chart)"
    if chart.limits is None:
        return text
    found = len(chart.signals)
    verdict = (
        "no signal: the ups and downs are noise"
        if not found
        else (f"{found} signal{'s' if found != 1 else ''} of real change")
    )
    provisional = " · provisional limits (short history)" if chart.weeks.provisional else ""
    return f"{text} · {verdict}{provisional}"


def throughput_pbc_png(chart: WeeklyThroughput, *, board: str) -> bytes:
    """The XmR chart of weekly throughput as 1200x700 PNG bytes.

    One point per full local week (Monday first) with its count; the baseline weeks shaded grey; the
    baseline's average (solid) and the natural process limits (dashed, the band between them pale green:
    routine variation); signals circled in vermillion, filled for a week outside the limits, a ring for
    one that makes 8 or more weeks in a row on one side of the average. No weeks, or too few for limits,
    render with a note.
    """
    return _style.to_png(throughput_pbc_figure(chart, board=board))
