"""Forecast backtest: were our "how many in the next N days" forecasts right, and how often?

Definition (``shared/spec/metrics.md``, "Forecast backtest"): walk forward over history; at each origin ``t``
(local midnight, every ``every_days`` days from ``since`` to ``until - horizon``) make the forecast exactly
as ``flowcoach forecast`` makes it at ``asof = t``: the daily throughput of the ``window_days`` calendar days
before ``t`` (zeros included), ``horizon_days`` days drawn per trial, the same trials, and a seed derived from
``t`` (:func:`origin_seed`). Then count the items actually finished in ``[t, t + horizon)``. A level ``c`` is
a **hit** when that count is at least the forecast's "``c`` %: at least N". The hit rate of ``c`` is hits over
the origins that could be forecast; a calibrated forecast hits about ``c`` % of the time.

An origin whose window has no throughput, too few days with throughput or too few finished items (the same
guards as every forecast, :func:`~analytics.forecast.history_shortfall`) is kept with no forecast and left
out of the hit rates.

Pure: the finish instants and the board's time zone in, numbers out. Finish instants are those of the board as
known now; an item finished before ``t`` and reopened later is not counted at ``t`` (rare, and the price of
building the history once rather than once per origin).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.calendar import local_midnights
from analytics.forecast import CONFIDENCE_LEVELS, history_shortfall, how_many_by

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Origin:
    """One walk-forward step: the forecast made at local midnight of ``date`` and what really happened."""

    date: dt.date
    forecast: dict[int, int] | None  # level → "at least N" items; None when no forecast could be made
    actual: int
    refused: str | None = None  # why there is no forecast, in a few words

    def hit(self, level: int) -> bool | None:
        return None if self.forecast is None else self.actual >= self.forecast[level]


@dataclass(frozen=True)
class Backtest:
    horizon_days: int
    window_days: int
    every_days: int
    trials: int
    origins: tuple[Origin, ...]
    levels: tuple[int, ...]

    @property
    def forecast_origins(self) -> tuple[Origin, ...]:
        return tuple(origin for origin in self.origins if origin.forecast is not None)

    @property
    def count(self) -> int:
        """Origins that were forecast (the hit rates' denominator)."""
        return len(self.forecast_origins)

    @property
    def hit_rate(self) -> dict[int, float | None]:
        """Share of forecast origins that hit, per level; ``None`` when none could be forecast."""
        made = self.forecast_origins
        if not made:
            return dict.fromkeys(self.levels, None)
        return {level: sum(bool(o.hit(level)) for o in made) / len(made) for level in self.levels}


def origin_seed(date: dt.date, seed: int | None = None) -> int:
    """The seed of the forecast made at ``date`` (``flowcoach forecast --seed`` with it repeats it)."""
    return date.toordinal() + (seed or 0) * 1_000_000


def backtest(
    finished_at_ns: npt.ArrayLike,
    timezone: str,
    *,
    since: dt.date,
    until: dt.date,
    horizon_days: int = 14,
    window_days: int = 30,
    every_days: int = 1,
    trials: int = 10_000,
    seed: int | None = None,
    confidence: Sequence[int] = CONFIDENCE_LEVELS,
) -> Backtest:
    """Walk forward from ``since`` to ``until - horizon_days`` (board-local dates); see the module docstring.

    ``finished_at_ns``: the instants (int64 UTC nanoseconds) at which items finished, in any order.
    """
    if horizon_days < 1 or window_days < 1 or every_days < 1:
        raise ValueError("horizon, window and step are whole numbers of days, 1 or more")
    last_origin = until - dt.timedelta(days=horizon_days)
    origin_dates = [
        since + dt.timedelta(days=n) for n in range(0, (last_origin - since).days + 1, every_days)
    ]
    first_date = since - dt.timedelta(days=window_days)
    dates = [first_date + dt.timedelta(days=n) for n in range((until - first_date).days + 1)]
    daily = _daily_counts(np.asarray(finished_at_ns, dtype=np.int64), dates, timezone)
    cumulative = np.concatenate(([0], np.cumsum(daily)))
    origins = []
    for date in origin_dates:
        index = (date - first_date).days
        sample = daily[index - window_days : index]
        actual = int(cumulative[index + horizon_days] - cumulative[index])
        refused = history_shortfall(sample)
        if refused is not None:
            origins.append(Origin(date, None, actual, refused))
            continue
        rng = np.random.default_rng(origin_seed(date, seed))
        forecast = how_many_by(sample, horizon_days, rng, trials=trials, confidence=confidence)
        origins.append(Origin(date, dict(forecast.at_least), actual))
    return Backtest(horizon_days, window_days, every_days, trials, tuple(origins), tuple(sorted(confidence)))


def _daily_counts(finished_at_ns: IntArray, dates: list[dt.date], timezone: str) -> IntArray:
    """Items finished on each local date in ``dates`` (consecutive), from its midnight to the next."""
    boundaries = local_midnights([*dates, dates[-1] + dt.timedelta(days=1)], timezone)
    inside = (finished_at_ns >= boundaries[0]) & (finished_at_ns < boundaries[-1])
    day = np.searchsorted(boundaries, finished_at_ns[inside], side="right") - 1
    return np.bincount(day, minlength=len(dates)).astype(np.int64)
