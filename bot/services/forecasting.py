"""Monte Carlo forecasts for a board: the questions a team asks, answered with calendar dates.

A question that cannot be answered raises a :class:`ForecastRefused` carrying the facts (how many items,
which dates, the recent pace), not a sentence for one audience: the command line words it with its flags,
Slack with its `/flow` commands. ``str()`` of each is a plain fallback naming neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.forecast import (
    MIN_DAYS_WITH_THROUGHPUT,
    MIN_FINISHED_ITEMS,
    CannotForecast,
    HowManyForecast,
    WhenForecast,
    history_shortfall,
    how_many_by,
    when_done,
)
from analytics.measures import BoardMetrics, throughput_sample
from bot.errors import FlowcoachError

if TYPE_CHECKING:
    from bot.coach.shift import Shift
    from bot.services.forecast_record import TrackRecord, WindowChoice

HORIZON_DAYS = 3650  # about ten years: a date further out is no plan, and simulating it costs time
YEAR_DAYS = 365  # a forecast date further out is said as "more than a year": no plan reaches that far
SUGGESTION_DAYS = 91  # a counter-proposal of a quarter's work: far enough to plan, near enough to trust


class ForecastRefused(FlowcoachError):
    """A forecast question with no answer; subclasses carry why, as fields, for each edge to word."""


class ItemsNotPositive(ForecastRefused):
    """Asked when fewer than one item will be done."""

    def __init__(self, items: int) -> None:
        super().__init__("give the number of items to forecast, 1 or more")
        self.items = items


class DateNotAhead(ForecastRefused):
    """Asked how many by a date that is not after the day forecasts start from."""

    def __init__(self, by: dt.date, start: dt.date) -> None:
        super().__init__(f"{by.isoformat()} must be after {start.isoformat()}, the date forecasts start from")
        self.by, self.start = by, start

    @property
    def suggested_by(self) -> dt.date:
        """A date that can be asked instead: a quarter after the start."""
        return self.start + dt.timedelta(days=SUGGESTION_DAYS)


class DateBeyondYear(ForecastRefused):
    """Asked how many by a date more than ``YEAR_DAYS`` after the start: as a "when" forecast says "more than
    a year" rather than a date there, a count that far out would be a made-up number."""

    def __init__(self, by: dt.date, start: dt.date) -> None:
        super().__init__(
            f"{by.isoformat()} is more than a year after {start.isoformat()}, too far to forecast"
        )
        self.by, self.start = by, start

    @property
    def latest_by(self) -> dt.date:
        """The furthest date that can be asked about."""
        return self.start + dt.timedelta(days=YEAR_DAYS)


class NoThroughput(ForecastRefused, CannotForecast):
    """Nothing was finished in the history window, so there is no pace to draw futures from.

    Also a :class:`CannotForecast`, which callers of the analytics core already catch.
    """

    def __init__(self, reason: str, window_days: int) -> None:
        super().__init__(reason)
        self.window_days = window_days


class BeyondHorizon(ForecastRefused, CannotForecast):
    """So many items that too few simulated futures finish them within ``horizon_days`` to give a date.

    ``per_week`` is the recent pace; ``suggested_items`` (``None`` when no smaller number would do) is about
    what that pace finishes in a quarter, a question that can be answered.
    """

    def __init__(self, reason: str, items: int, horizon_days: int, per_week: float) -> None:
        super().__init__(reason)
        self.items, self.horizon_days, self.per_week = items, horizon_days, per_week
        quarter = max(1, round(per_week / 7 * SUGGESTION_DAYS))
        self.suggested_items: int | None = quarter if quarter < items else None


class TooLittleHistory(ForecastRefused, CannotForecast):
    """Some throughput, but too little to forecast from: items finished on fewer than
    ``MIN_DAYS_WITH_THROUGHPUT`` days, or fewer than ``MIN_FINISHED_ITEMS`` items, in the window."""

    def __init__(self, reason: str, window_days: int, days_with_throughput: int, finished: int) -> None:
        super().__init__(f"too little history to forecast from: {reason}")
        self.window_days, self.finished = window_days, finished
        self.days_with_throughput = days_with_throughput
        self.min_days, self.min_items = MIN_DAYS_WITH_THROUGHPUT, MIN_FINISHED_ITEMS


def _enough_history(sample: npt.NDArray[np.int64]) -> None:
    """Refuse to forecast from an empty or too thin window, with the facts of what is missing."""
    shortfall = history_shortfall(sample)
    if shortfall is None or not sample.any():  # nothing at all: the simulation says so, as NoThroughput
        return
    raise TooLittleHistory(shortfall, len(sample), int(np.count_nonzero(sample)), int(sample.sum()))


@dataclass(frozen=True)
class ForecastResult:
    """A forecast with what it was computed from, ready to print or serialise."""

    metrics: BoardMetrics
    trials: int
    seed: int | None
    when: WhenForecast | None = None
    how_many: HowManyForecast | None = None
    by_date: dt.date | None = None
    track_record: TrackRecord | None = None  # how often such forecasts came true (forecast_record)
    window_choice: WindowChoice | None = None  # set when the window was chosen by its record (``auto``)
    throughput_shift: Shift | None = None  # the newest signal of weekly throughput in the window, if any

    @property
    def start_date(self) -> dt.date:
        """Day counts are counted from the board-local date of ``asof``."""
        return forecast_start(self.metrics)


def forecast_start(metrics: BoardMetrics) -> dt.date:
    """The board-local date of ``asof``: day 1 of a forecast is the day after it."""
    return pd.Timestamp(metrics.asof).tz_convert(metrics.timezone).date()


def forecast_when(metrics: BoardMetrics, items: int, *, trials: int, seed: int | None) -> ForecastResult:
    """When will the next ``items`` items be done? Raises :class:`ForecastRefused` when it cannot say."""
    if items < 1:
        raise ItemsNotPositive(items)
    sample = throughput_sample(metrics)
    _enough_history(sample)
    try:
        forecast = when_done(sample, items, np.random.default_rng(seed), trials=trials, max_days=HORIZON_DAYS)
    except CannotForecast as error:
        if not sample.any():
            raise NoThroughput(str(error), len(sample)) from None
        raise BeyondHorizon(str(error), items, HORIZON_DAYS, float(sample.mean()) * 7) from None
    return ForecastResult(metrics, trials, seed, when=forecast)


def forecast_how_many(metrics: BoardMetrics, by: dt.date, *, trials: int, seed: int | None) -> ForecastResult:
    """How many items will be done by the end of ``by``? Counts whole days after the date of ``asof``."""
    start = forecast_start(metrics)
    days = (by - start).days
    if days < 1:
        raise DateNotAhead(by, start)
    if days > YEAR_DAYS:
        raise DateBeyondYear(by, start)
    sample = throughput_sample(metrics)
    _enough_history(sample)
    try:
        forecast = how_many_by(sample, days, np.random.default_rng(seed), trials=trials)
    except CannotForecast as error:  # over a positive number of days, only an empty history is refused
        raise NoThroughput(str(error), len(sample)) from None
    return ForecastResult(metrics, trials, seed, how_many=forecast, by_date=by)
