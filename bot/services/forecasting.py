"""Monte Carlo forecasts for a board: the questions a team asks, answered with calendar dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.calendar import to_local_iso
from analytics.forecast import HowManyForecast, WhenForecast, how_many_by, when_done
from analytics.measures import BoardMetrics, throughput_sample
from bot.errors import UsageError
from bot.formatting import local_time

DEFAULT_TRIALS = 10_000


@dataclass(frozen=True)
class ForecastResult:
    """A forecast with what it was computed from, ready to print or serialise."""

    metrics: BoardMetrics
    trials: int
    seed: int | None
    when: WhenForecast | None = None
    how_many: HowManyForecast | None = None
    by_date: dt.date | None = None

    @property
    def start_date(self) -> dt.date:
        """Day counts are counted from the board-local date of ``asof``."""
        return pd.Timestamp(self.metrics.asof).tz_convert(self.metrics.timezone).date()


def forecast_when(metrics: BoardMetrics, items: int, *, trials: int, seed: int | None) -> ForecastResult:
    """When will the next ``items`` items be done? Raises ``CannotForecast`` with no throughput."""
    if items < 1:
        raise UsageError("--items: give the number of items to forecast, 1 or more")
    forecast = when_done(throughput_sample(metrics), items, np.random.default_rng(seed), trials=trials)
    return ForecastResult(metrics, trials, seed, when=forecast)


def forecast_how_many(metrics: BoardMetrics, by: dt.date, *, trials: int, seed: int | None) -> ForecastResult:
    """How many items will be done by the end of ``by``? Counts whole days after the date of ``asof``."""
    start = pd.Timestamp(metrics.asof).tz_convert(metrics.timezone).date()
    days = (by - start).days
    if days < 1:
        raise UsageError(
            f"--by: {by.isoformat()} must be after {start.isoformat()}, the date forecasts start from"
        )
    forecast = how_many_by(throughput_sample(metrics), days, np.random.default_rng(seed), trials=trials)
    return ForecastResult(metrics, trials, seed, how_many=forecast, by_date=by)


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
        f"{result.trials:,} simulations from the daily throughput of the last {metrics.window.days} days "
        f"({metrics.throughput_total} items finished), as of {local_time(metrics.asof, metrics.timezone)}"
    )
    if result.when is not None:
        lines = [f"{metrics.board} — when will the next {result.when.items} items be done?"]
        for level, days in result.when.within_days.items():
            date = result.start_date + dt.timedelta(days=days)
            lines.append(f"  {level}% confidence: on or before {date:%a %d %b %Y}  (within {days} days)")
    elif result.how_many is not None and result.by_date is not None:
        lines = [f"{metrics.board} — how many items will be done by {result.by_date:%a %d %b %Y}?"]
        for level, count in result.how_many.at_least.items():
            lines.append(f"  {level}% confidence: at least {count} items  (in {result.how_many.days} days)")
    else:
        lines = [metrics.board]
    lines.append(f"  Based on {basis}.")
    return "\n".join(lines) + "\n"
