"""Plain-text rendering of metrics for a terminal: what a team lead reads in five seconds."""

from __future__ import annotations

import pandas as pd

from analytics.measures import BoardMetrics, StageFlow
from bot.formatting import count_of, days, local_time, percent, shorten

BAR_WIDTH = 20
MAX_AGING_ROWS = 10
TITLE_WIDTH = 48


def metrics_text(metrics: BoardMetrics, *, aging_rows: int = MAX_AGING_ROWS) -> str:
    """The metrics as a readable report: WIP vs limits, throughput, cycle time, SLE, stages, aging items."""
    sections = [
        _heading(metrics),
        wip_text(metrics),
        _flow_numbers(metrics),
        _stage_table(metrics.stages, metrics.window.days),
        aging_text(metrics, limit=aging_rows),
        _data_quality(metrics),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _heading(metrics: BoardMetrics) -> str:
    when = local_time(metrics.asof, metrics.timezone)
    return (
        f"{metrics.board} — flow as of {when} ({metrics.timezone});"
        f" window: last {count_of(metrics.window.days, 'day')}"
    )


def wip_text(metrics: BoardMetrics) -> str:
    """WIP per stage as bars against the limits, then the board total."""
    wip_stages = [flow for flow in metrics.stages if flow.wip is not None]
    scale = max([*(flow.wip or 0 for flow in wip_stages), *(flow.wip_limit or 0 for flow in wip_stages), 1])
    width = max(len(flow.name) for flow in wip_stages)
    limit = f" / {metrics.wip_limit} limit" if metrics.wip_limit is not None else ""
    over_board = metrics.wip_limit is not None and metrics.wip_total > metrics.wip_limit
    lines = [
        f"Work in progress: {metrics.wip_total}{limit}{'  ▲ over the board limit' if over_board else ''}"
    ]
    for flow in wip_stages:
        lines.append(f"  {flow.name:<{width}}  {_bar(flow, scale)}  {_against_limit(flow)}")
    return "\n".join(lines)


def _bar(flow: StageFlow, scale: int) -> str:
    wip = flow.wip or 0
    cells = round(wip / scale * BAR_WIDTH)
    limit_cell = round(flow.wip_limit / scale * BAR_WIDTH) if flow.wip_limit else None
    chars = []
    for cell in range(BAR_WIDTH):
        filled = cell < cells
        if limit_cell is not None and cell >= limit_cell:
            chars.append("▓" if filled else " ")
        else:
            chars.append("█" if filled else "·" if limit_cell is not None and cell < limit_cell else " ")
    return "".join(chars)


def _against_limit(flow: StageFlow) -> str:
    if flow.wip_limit is None:
        return f"{flow.wip}"
    note = "  ▲ over limit" if flow.over_limit else ""
    return f"{flow.wip} / {flow.wip_limit}{note}"


def _flow_numbers(metrics: BoardMetrics) -> str:
    cycle = metrics.cycle_time
    throughput = (
        f"Throughput:       {metrics.throughput_total:,} finished in {count_of(metrics.window.days, 'day')}"
        f" ({metrics.throughput_per_week:.1f} per week)"
    )
    if cycle.count:
        spread = " · ".join(f"{p}% ≤ {days(v)}" for p, v in cycle.percentiles.items())
        counted = count_of(cycle.count, "item") + (", provisional" if cycle.provisional else "")
        cycle_line = f"Cycle time:       {spread} · max {days(cycle.max)}  ({counted})"
    else:
        cycle_line = "Cycle time:       no items finished in the window"
    pct = f"{metrics.sle_percentile:g}%"
    if metrics.sle_days is None:
        sle = f"SLE:              nothing finished in the last {count_of(metrics.sle_window_days, 'day')}"
    else:
        sle = (
            f"SLE:              {pct} of items finish within {days(metrics.sle_days)}"
            f" (last {count_of(metrics.sle_window_days, 'day')})"
        )
        if metrics.sle_provisional:
            sle += f" · provisional ({count_of(metrics.sle_cycle_time.count, 'item')})"
    efficiency = f"Flow efficiency:  {percent(metrics.flow_efficiency)} of cycle time spent actively worked"
    return "\n".join([throughput, cycle_line, sle, efficiency])


def _stage_table(stages: tuple[StageFlow, ...], window_days: int) -> str:
    width = max(len(flow.name) for flow in stages)
    header = (
        f"  {'stage':<{width}}  {'now':>4}  {'in':>4}  {'out':>4}  time in stage p50 / p85"
        "   left at age p50 / p85"
    )
    lines = [f"Stages (in/out: last {count_of(window_days, 'day')})", header]
    for flow in stages:
        time = (
            f"{days(flow.time_in_stage_p50)} / {days(flow.time_in_stage_p85)}"
            if flow.time_in_stage_p50 is not None
            else "—"
        )
        exit_age = flow.exit_age
        left = (
            f"{days(exit_age.p50)} / {days(exit_age.p85)}"
            + (f" · provisional ({count_of(exit_age.count, 'item')})" if exit_age.provisional else "")
            if exit_age.count
            else "—"
        )
        lines.append(
            f"  {flow.name:<{width}}  {flow.count:>4}  {flow.arrivals:>4}  {flow.departures:>4}  {time:<23}"
            f"  {left}"
        )
    return "\n".join(lines)


def aging_text(metrics: BoardMetrics, *, limit: int = MAX_AGING_ROWS) -> str:
    """The oldest WIP items with age, pace against recent cycle times, and blocked state."""
    items = metrics.wip_items
    if items.empty:
        return "Aging work in progress: none, nothing is in progress."
    shown = items.head(limit)
    id_width = max(len(str(item_id)) for item_id in shown.index)
    stage_width = max(len(str(stage)) for stage in shown["stage"])
    title = f"Aging work in progress (oldest {len(shown)} of {len(items)}; pace = share of recent items that "
    lines = [title + "finished faster)"]
    for item_id, item in shown.iterrows():
        flag = "  BLOCKED" if item["blocked"] else ""
        sle_flag = (
            "  past SLE" if metrics.sle_days is not None and item["age_days"] > metrics.sle_days else ""
        )
        label = "" if pd.isna(item["title"]) else f"  {shorten(str(item['title']), TITLE_WIDTH)}"
        lines.append(
            f"  {item_id!s:<{id_width}}  {item['stage']:<{stage_width}}  age {item['age_days']:5.1f} d"
            f"  pace {percent(item['pace']):>4}{sle_flag}{flag}{label}"
        )
    return "\n".join(lines)


def _data_quality(metrics: BoardMetrics) -> str:
    lines = []
    if metrics.unmapped_statuses:
        listed = ", ".join(
            f"{status} ({count_of(count, 'item')})" for status, count in metrics.unmapped_statuses.items()
        )
        lines.append(f"  statuses no stage lists (items stay where they were): {listed}")
    lines.extend(f"  {warning}" for warning in metrics.warnings)
    return "Data quality:\n" + "\n".join(lines) if lines else ""
