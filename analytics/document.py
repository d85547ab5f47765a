"""The metrics document: :class:`BoardMetrics` as the JSON object of ``spec/metrics.md``.

Durations are days as floats rounded to 4 decimals (about 9 seconds), shares to 4 decimals; times are
ISO 8601 with the offset of the workflow's time zone; statistics over nothing are ``null``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analytics.calendar import to_local_iso
from analytics.exit_age import ExitAge
from analytics.measures import BoardMetrics, StageFlow
from analytics.process_behaviour import CycleTimeBehaviour, ProcessBehaviour, WeeklyThroughput
from analytics.xmr import Limits

DECIMALS = 4


def metrics_document(metrics: BoardMetrics) -> dict[str, Any]:
    """Render every measure as the spec's JSON-ready document (only built-in types inside)."""
    tz = metrics.timezone
    cycle = metrics.cycle_time
    return {
        "board": metrics.board,
        "asof": to_local_iso(metrics.asof, tz),
        "window": {
            "start": to_local_iso(metrics.window.start, tz),
            "end": to_local_iso(metrics.window.end, tz),
            "days": metrics.window.days,
        },
        "wip": {
            "total": metrics.wip_total,
            "limit": metrics.wip_limit,
            "by_stage": dict(metrics.wip_by_stage),
        },
        "throughput": {
            "total": metrics.throughput_total,
            "per_week": _num(metrics.throughput_per_week),
            "daily": [
                {"date": day.isoformat(), "count": int(count)}
                for day, count in zip(metrics.window.dates, metrics.throughput_daily.tolist(), strict=True)
            ],
        },
        "cycle_time": {
            "count": cycle.count,
            "mean": _num(cycle.mean),
            "p50": _num(cycle.p50),
            "p70": _num(cycle.p70),
            "p85": _num(cycle.p85),
            "p95": _num(cycle.p95),
            "max": _num(cycle.max),
            # Percentiles of fewer than ten items are a first guess (spec/coaching.md, "Guards").
            "provisional": cycle.provisional,
        },
        "sle": {
            "percentile": _whole_if_integral(metrics.sle_percentile),
            "days": _num(metrics.sle_days),
            "window_days": metrics.sle_window_days,
            "count": metrics.sle_cycle_time.count,
            "provisional": metrics.sle_provisional,
        },
        "flow_efficiency": _num(metrics.flow_efficiency),
        "stages": [_stage(flow) for flow in metrics.stages],
        "items": _wip_items(metrics),
        "cfd": [
            {"date": day.isoformat(), **{stage: int(count) for stage, count in row.items()}}
            for day, row in zip(metrics.window.dates, metrics.cfd.to_dict("records"), strict=True)
        ],
        "data_quality": {
            "unmapped_statuses": dict(metrics.unmapped_statuses),
            "warnings": list(metrics.warnings),
        },
        "process_behaviour": _process_behaviour(metrics.process_behaviour, tz),
    }


def _process_behaviour(behaviour: ProcessBehaviour, tz: str) -> dict[str, Any]:
    """Both XmR charts. Throughput signals name their week (its Monday); cycle-time signals their item."""
    dates = behaviour.throughput.weeks.baseline_dates
    baseline = [day.isoformat() for day in dates] if dates is not None else None
    return {
        "baseline_weeks": behaviour.baseline_weeks,
        "throughput": _weekly(behaviour.throughput, baseline),
        "cycle_time": _by_item(behaviour.cycle_time, baseline, tz),
    }


def _limits(limits: Limits | None, baseline: list[str] | None) -> dict[str, Any]:
    return {
        "centre": _num(limits.centre) if limits else None,
        "lower": _num(limits.lower) if limits else None,
        "upper": _num(limits.upper) if limits else None,
        "mean_moving_range": _num(limits.mean_moving_range) if limits else None,
        "baseline": baseline,
    }


def _weekly(chart: WeeklyThroughput, baseline: list[str] | None) -> dict[str, Any]:
    weeks = chart.weeks.mondays
    counts = chart.counts.tolist()
    return {
        **_limits(chart.limits, baseline),
        "provisional": chart.weeks.provisional,
        "weeks": [
            {"week": week.isoformat(), "count": count} for week, count in zip(weeks, counts, strict=True)
        ],
        "signals": [
            {"week": weeks[s.index].isoformat(), "rule": s.rule, "side": s.side, "count": counts[s.index]}
            for s in chart.signals
        ],
    }


def _by_item(chart: CycleTimeBehaviour, baseline: list[str] | None, tz: str) -> dict[str, Any]:
    first, last = chart.baseline
    return {
        **_limits(chart.limits, baseline),
        "provisional": chart.provisional,
        "count": len(chart.item_ids),
        "baseline_count": last - first,
        "signals": [
            {
                "item": chart.item_ids[s.index],
                "finished": to_local_iso(pd.Timestamp(int(chart.finished_at[s.index]), tz="UTC"), tz),
                "rule": s.rule,
                "side": s.side,
                "days": _num(chart.cycle_time_days[s.index]),
            }
            for s in chart.signals
        ],
    }


def _stage(flow: StageFlow) -> dict[str, Any]:
    return {
        "name": flow.name,
        "kind": flow.kind.value,
        "wip": flow.wip,
        "wip_limit": flow.wip_limit,
        "count": flow.count,
        "arrivals": flow.arrivals,
        "departures": flow.departures,
        "time_in_stage": {"p50": _num(flow.time_in_stage_p50), "p85": _num(flow.time_in_stage_p85)},
        "exit_age": _exit_age(flow.exit_age),
    }


def _exit_age(stats: ExitAge) -> dict[str, Any]:
    return {
        "p50": _num(stats.p50),
        "p70": _num(stats.p70),
        "p85": _num(stats.p85),
        "p95": _num(stats.p95),
        "count": stats.count,
        "provisional": stats.provisional,
    }


def _wip_items(metrics: BoardMetrics) -> list[dict[str, Any]]:
    tz = metrics.timezone
    frame = metrics.wip_items
    names = (
        "title",
        "type",
        "url",
        "assignee",
        "stage",
        "started_at",
        "age_days",
        "pace",
        "blocked",
        "blocked_days",
    )
    # Column by column (a list each), not a Series per row: the same values, a fraction of the time.
    columns = [frame.index.tolist(), *(frame[name].tolist() for name in names)]
    rows: list[dict[str, Any]] = []
    for item_id, title, type_, url, assignee, stage, started_at, age, pace, blocked, blocked_days in zip(
        *columns, strict=True
    ):  # bounded by WIP, which is small by nature
        rows.append(
            {
                "item_id": str(item_id),
                "title": _text(title),
                "type": _text(type_),
                "url": _text(url),
                "assignee": _text(assignee),
                "stage": str(stage),
                "started_at": to_local_iso(started_at, tz),
                "age": _num(age),
                "pace": _num(pace),
                "blocked": bool(blocked),
                "blocked_days": _num(blocked_days),
            }
        )
    return rows


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else round(number, DECIMALS)


def _whole_if_integral(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _text(value: object) -> str | None:
    return (
        None
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
        else str(value)
    )
