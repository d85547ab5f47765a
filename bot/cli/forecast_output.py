"""A forecast for a terminal: the JSON document of ``flowcoach forecast --format json`` and its plain text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from analytics.calendar import to_local_iso
from bot.formatting import count_of, day_label, local_time
from bot.services.forecasting import YEAR_DAYS, ForecastResult


def forecast_document(result: ForecastResult) -> dict[str, Any]:
    """The forecast as JSON-ready data: the question, its inputs, and one answer per confidence level."""
    metrics = result.metrics
    document: dict[str, Any] = {
        "board": metrics.board,
        "asof": to_local_iso(metrics.asof, metrics.timezone),
        "window": {
            "start": to_local_iso(metrics.window.start, metrics.timezone),
            "end": to_local_iso(metrics.window.end, metrics.timezone),
            "days": metrics.window.days,
        },
        "throughput": {"total": metrics.throughput_total, "per_week": round(metrics.throughput_per_week, 4)},
        "trials": result.trials,
        "seed": result.seed,
    }
    if result.when is not None:
        document["question"] = "when"
        document["items"] = result.when.items
        document["forecast"] = [
            {
                "confidence": level,
                "days": days,
                "date": (result.start_date + dt.timedelta(days=days)).isoformat(),
            }
            for level, days in result.when.within_days.items()
        ]
    elif result.how_many is not None and result.by_date is not None:
        document["question"] = "how_many"
        document["by"] = result.by_date.isoformat()
        document["days"] = result.how_many.days
        document["forecast"] = [
            {"confidence": level, "at_least": count} for level, count in result.how_many.at_least.items()
        ]
    return document


def forecast_text(result: ForecastResult) -> str:
    """The forecast in plain words, one line per confidence level."""
    metrics = result.metrics
    basis = (
        f"{result.trials:,} simulations from the daily throughput of the last "
        f"{count_of(metrics.window.days, 'day')} "
        f"({count_of(metrics.throughput_total, 'item')} finished), "
        f"as of {local_time(metrics.asof, metrics.timezone)}"
    )
    if result.when is not None:
        lines = [f"{metrics.board} — when will the next {count_of(result.when.items, 'item')} be done?"]
        for level, days in result.when.within_days.items():
            if days > YEAR_DAYS:  # that far out the simulated past says only "not this year"
                lines.append(f"  {level}% confidence: more than a year from now")
                continue
            date = result.start_date + dt.timedelta(days=days)
            lines.append(
                f"  {level}% confidence: on or before {day_label(date)}  (within {count_of(days, 'day')})"
            )
    elif result.how_many is not None and result.by_date is not None:
        lines = [f"{metrics.board} — how many items will be done by {day_label(result.by_date)}?"]
        horizon = count_of(result.how_many.days, "day")
        for level, count in result.how_many.at_least.items():
            lines.append(f"  {level}% confidence: at least {count_of(count, 'item')}  (in {horizon})")
    else:
        lines = [metrics.board]
    lines.append(f"  Based on {basis}.")
    return "\n".join(lines) + "\n"
