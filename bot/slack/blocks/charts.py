"""The words that go with each chart (``/flow aging``, ``cycle``, ``throughput``, ``cfd``).

An image alone says nothing to a screen reader, a notification or a reader in a hurry, so each chart comes
with its numbers: a one-line comment and file title for the upload, and blocks listing what the chart shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from slack_sdk.models.blocks import Block

from analytics.measures import BoardMetrics, StageFlow
from bot.formatting import days
from bot.slack import texts
from bot.slack.blocks.common import (
    PACE_AGING,
    WipItem,
    aging_items,
    aging_line,
    context,
    escape,
    field_sections,
    header,
    listing,
    scaled_bar,
    section,
    sle_summary,
)
from bot.store.board_settings import Thresholds

if TYPE_CHECKING:  # only the name: importing the charts at run time would load matplotlib
    from analytics.charts.board import ChartKind

MAX_WEEKS_SHOWN = 26  # half a year of weeks; longer windows show the most recent ones
WEEK_DAYS = 7


@dataclass(frozen=True)
class WeekCount:
    """Items finished over a run of local dates (seven, except a partial run at the window's start)."""

    first: dt.date
    last: dt.date
    count: int
    dates: int

    @property
    def partial(self) -> bool:
        return self.dates < WEEK_DAYS


def chart_title(kind: ChartKind, metrics: BoardMetrics) -> str:
    """The uploaded file's title (plain text): board, chart and date."""
    asof = pd.Timestamp(metrics.asof).tz_convert(metrics.timezone).date()
    return texts.chart_title(metrics.board, kind, asof)


def chart_comment(kind: ChartKind, metrics: BoardMetrics) -> str:
    """The one line posted with the chart: the number that matters most in it."""
    window = metrics.window.days
    if kind == "aging":
        aging = _past_pace(metrics)
        oldest = aging[0] if aging else None
        return texts.aging_comment(
            len(aging),
            escape(oldest.item_id) if oldest else None,
            days(oldest.age_days) if oldest else None,
        )
    if kind == "cycle":
        p85 = days(metrics.cycle_time.p85) if metrics.cycle_time.p85 is not None else None
        return texts.cycle_comment(p85, metrics.cycle_time.count, window)
    if kind == "throughput":
        return texts.throughput_comment(metrics.throughput_total, window, metrics.throughput_per_week)
    piling = [(escape(flow.name), flow.arrivals, flow.departures) for flow in _piling_up(metrics)]
    return texts.cfd_comment(piling, window)


def aging_blocks(metrics: BoardMetrics) -> list[Block]:
    """The items past 70 % pace, oldest first, with stage, age and pace."""
    blocks: list[Block] = [header(chart_title("aging", metrics))]
    aging = _past_pace(metrics)
    if metrics.wip_total == 0:
        blocks.append(section(texts.NOTHING_IN_PROGRESS))
    elif metrics.sle_cycle_time.count == 0:
        blocks.append(section(texts.NO_PACE.format(days=metrics.sle_window_days)))
    elif not aging:
        blocks.append(section(texts.NO_AGING))
    else:
        lines = [aging_line(item, metrics) for item in aging]
        blocks.append(section(listing(texts.aging_chart_heading(len(aging)), lines)))
    blocks.append(context(texts.PACE_EXPLAINED.format(days=metrics.sle_window_days), sle_summary(metrics)))
    return blocks


def cycle_blocks(metrics: BoardMetrics) -> list[Block]:
    """Cycle-time percentiles 50/70/85/95 over the window, the item count and the SLE."""
    blocks: list[Block] = [header(chart_title("cycle", metrics))]
    cycle = metrics.cycle_time
    window = metrics.window.days
    if cycle.count == 0:
        blocks.append(section(texts.no_cycle(window)))
        blocks.append(context(sle_summary(metrics)))
        return blocks
    fields = [texts.percentile_field(level, days(value)) for level, value in cycle.percentiles.items()]
    blocks.extend(field_sections(fields))
    blocks.append(context(texts.cycle_basis(cycle.count, window, days(cycle.max)), sle_summary(metrics)))
    return blocks


def throughput_blocks(metrics: BoardMetrics) -> list[Block]:
    """Items finished per local week of the window, newest week first, and the weekly average."""
    blocks: list[Block] = [header(chart_title("throughput", metrics))]
    window = metrics.window.days
    if metrics.throughput_total == 0:
        blocks.append(section(texts.throughput_comment(0, window, 0.0)))
        return blocks
    weeks = weekly_throughput(metrics)
    most = max(week.count for week in weeks)
    lines = [
        texts.week_line(
            texts.week_label(week.first, week.last, partial=week.partial),
            scaled_bar(week.count, most),
            week.count,
        )
        for week in reversed(weeks)  # newest first: this week is what the team asks about
    ]
    blocks.append(section(listing(texts.throughput_heading(window), lines, max_items=MAX_WEEKS_SHOWN)))
    blocks.append(context(texts.throughput_average(metrics.throughput_total, metrics.throughput_per_week)))
    return blocks


def cfd_blocks(metrics: BoardMetrics) -> list[Block]:
    """Arrivals and departures of each WIP stage over the window; stages taking in more are flagged."""
    blocks: list[Block] = [header(chart_title("cfd", metrics))]
    piling = {flow.name for flow in _piling_up(metrics)}
    fields = [
        texts.cfd_field(escape(flow.name), flow.arrivals, flow.departures, piling=flow.name in piling)
        for flow in metrics.stages
        if flow.kind.is_wip
    ]
    blocks.extend(field_sections(fields, text=texts.cfd_heading(metrics.window.days)))
    if piling:
        blocks.append(context(texts.cfd_explained()))
    return blocks


def weekly_throughput(metrics: BoardMetrics) -> list[WeekCount]:
    """Items finished per run of seven local dates, oldest first, the runs ending at the window's end.

    Weeks end on the window's last date (today, for a status asked now) rather than on a Sunday, so the
    latest week is always a whole one; the dates left over at the window's start form a partial run.
    """
    dates: list[dt.date] = list(metrics.throughput_daily.index)
    counts = [int(count) for count in metrics.throughput_daily.to_numpy()]
    weeks: list[WeekCount] = []
    end = len(dates)
    while end > 0:
        start = max(0, end - WEEK_DAYS)
        weeks.append(WeekCount(dates[start], dates[end - 1], sum(counts[start:end]), end - start))
        end = start
    return weeks[::-1]


def _past_pace(metrics: BoardMetrics) -> list[WipItem]:
    return [item for item in aging_items(metrics) if item.pace is not None and item.pace >= PACE_AGING]


# "Piling up" needs a real difference: 35 in and 34 out is noise, not a queue growing. The coach's default
# queue_min_net: a queue that took in that many more than it let out is one it would nudge about.
PILING_MIN_NET = Thresholds().queue_min_net


def _piling_up(metrics: BoardMetrics) -> list[StageFlow]:
    return [flow for flow in metrics.stages if flow.kind.is_wip and piling_up(flow.arrivals, flow.departures)]


def piling_up(arrivals: int, departures: int) -> bool:
    """Whether a stage took in clearly more than it let out (see ``PILING_MIN_NET``)."""
    return arrivals - departures >= PILING_MIN_NET
