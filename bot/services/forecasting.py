"""Monte Carlo forecasts for a board: the questions a team asks, answered with calendar dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.forecast import HowManyForecast, WhenForecast, how_many_by, when_done
from analytics.measures import BoardMetrics, throughput_sample
from bot.errors import UsageError

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
