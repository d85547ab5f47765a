"""Forecasts that show their own track record, and the history window that has earned the most trust.

A forecast alone asks to be believed. Beside it, the team sees how often forecasts of the same kind came true
over the last ``BACKTEST_WEEKS`` weeks (the walk-forward backtest of ``spec/metrics.md``), and
``--window auto`` picks, among 30, 60 and 90 days, the history window whose 85 % forecasts came true closest
to 85 % of the time (ties go to the shorter: it follows change sooner).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy.orm import Session

from analytics.backtest import Backtest, backtest
from analytics.measures import BoardMetrics
from analytics.timeline import build_timeline, utc_ns
from analytics.workflow import Workflow
from bot.coach.shift import Shift, newest_shift
from bot.formatting import count_of
from bot.services.forecast_defaults import DEFAULT_TRIALS
from bot.services.forecasting import (
    ForecastRefused,
    ForecastResult,
    forecast_how_many,
    forecast_when,
)
from bot.services.metrics import metrics_now
from bot.services.metrics_cache import MetricsCache
from bot.store.boards import board_workflow
from bot.store.eventstore import load_events
from bot.store.models import Board

BACKTEST_WEEKS = 26  # the track record a team lead is shown: half a year of forecasts
TRACK_RECORD_LEVEL = 85  # the level people commit with, so the one whose record they need
POOR_HIT_RATE = 0.70  # an 85 % forecast that came true less often than this is not to be trusted
MIN_TRACK_RECORD = 20  # published practice: about 20 data points before a rate means anything
TRACK_RECORD_TRIALS = 2_000  # per past forecast: ample to place its 85th percentile, cheap over 182 origins
MIN_HORIZON_DAYS, MAX_HORIZON_DAYS = 7, 91  # a record of week-to-quarter forecasts; beyond, too few origins
AUTO_WINDOWS = (30, 60, 90)


@dataclass(frozen=True)
class FinishHistory:
    """When each item finished, as known at ``until``: what every past forecast is checked against."""

    finished_at_ns: npt.NDArray[np.int64]
    timezone: str
    until: pd.Timestamp


def finish_history(events: pd.DataFrame, workflow: Workflow, until: pd.Timestamp) -> FinishHistory:
    timeline = build_timeline(events, workflow, until)
    items = timeline.items
    finished = utc_ns(items["finished_at"])[items["finished"].to_numpy()]
    return FinishHistory(finished, workflow.timezone, pd.Timestamp(until))


def forecast_backtest(
    events: pd.DataFrame,
    workflow: Workflow,
    *,
    until: pd.Timestamp,
    since: dt.date | None = None,
    horizon_days: int = 14,
    window_days: int = 30,
    every_days: int = 1,
    trials: int = DEFAULT_TRIALS,
    seed: int | None = None,
) -> Backtest:
    """How often the board's "how many in ``horizon_days`` days" forecasts came true, walking forward from
    ``since`` (default: ``BACKTEST_WEEKS`` before ``until``) to ``until`` (``spec/metrics.md``)."""
    history = finish_history(events, workflow, until)
    last = history.until.tz_convert(workflow.timezone).date()
    first = since if since is not None else last - dt.timedelta(weeks=BACKTEST_WEEKS)
    if (last - first).days <= horizon_days:
        raise BacktestTooShort(first, last, horizon_days)
    return backtest(
        history.finished_at_ns,
        workflow.timezone,
        since=first,
        until=last,
        horizon_days=horizon_days,
        window_days=window_days,
        every_days=every_days,
        trials=trials,
        seed=seed,
    )


class BacktestTooShort(ForecastRefused):
    """The period holds no origin: it must be longer than the horizon."""

    def __init__(self, since: dt.date, until: dt.date, horizon_days: int) -> None:
        super().__init__(
            f"from {since.isoformat()} to {until.isoformat()} there is no day whose {horizon_days}-day "
            "outcome is known yet"
        )
        self.since, self.until, self.horizon_days = since, until, horizon_days


@dataclass(frozen=True)
class TrackRecord:
    """How often past ``level`` % forecasts of ``horizon_days`` days from a ``window_days`` window came true.

    ``hit_rate`` is ``None`` when no past forecast could be checked; below ``MIN_TRACK_RECORD`` checked
    forecasts the rate is shown as too young to judge (:attr:`known`).
    """

    level: int
    hit_rate: float | None
    forecasts: int
    weeks: int
    window_days: int
    horizon_days: int

    @property
    def known(self) -> bool:
        return self.hit_rate is not None and self.forecasts >= MIN_TRACK_RECORD

    @property
    def poor(self) -> bool:
        return self.known and self.hit_rate is not None and self.hit_rate < POOR_HIT_RATE

    @property
    def miss(self) -> float:
        """How far the record is from the level it claims (0 is perfectly calibrated)."""
        return float("inf") if self.hit_rate is None else abs(round(self.hit_rate, 2) - self.level / 100)


def review_sentence(record: TrackRecord) -> str:
    """The weekly review's words on the forecasts, without markup or end: "Forecast track record: 85%
    forecasts of the next 14 days came true 81% of the time over the last 26 weeks", or too young to judge.
    Every edge says this one sentence and adds its own markup and next step."""
    if record.hit_rate is None or not record.known:
        return f"Forecast track record: too young to judge ({count_of(record.forecasts, 'past forecast')})"
    return (
        f"Forecast track record: {record.level}% forecasts of the next "
        f"{count_of(record.horizon_days, 'day')} came true {record.hit_rate:.0%} of the time over the last "
        f"{count_of(record.weeks, 'week')}"
    )


def track_record(
    history: FinishHistory, *, window_days: int, horizon_days: int, level: int = TRACK_RECORD_LEVEL
) -> TrackRecord:
    """Backtest the last ``BACKTEST_WEEKS`` weeks: one forecast per day, ``horizon_days`` ahead (clamped to a
    week..a quarter), from the ``window_days`` days before it; the share at ``level`` % that came true."""
    horizon = min(max(horizon_days, MIN_HORIZON_DAYS), MAX_HORIZON_DAYS)
    last = history.until.tz_convert(history.timezone).date()
    first = last - dt.timedelta(weeks=BACKTEST_WEEKS)
    result = backtest(
        history.finished_at_ns,
        history.timezone,
        since=first,
        until=last,
        horizon_days=horizon,
        window_days=window_days,
        trials=TRACK_RECORD_TRIALS,
        confidence=(level,),
    )
    made = result.forecast_origins
    # The weeks the checked forecasts span (start of the first to the outcome of the last), not the weeks
    # looked at: on a young board most origins have no history yet and say nothing.
    span = (made[-1].date - made[0].date).days + horizon if made else 0
    weeks = min(BACKTEST_WEEKS, max(1, round(span / 7)))
    return TrackRecord(level, result.hit_rate[level], result.count, weeks, window_days, horizon)


@dataclass(frozen=True)
class WindowChoice:
    """Which window ``auto`` chose, and the records of all the candidates it compared."""

    window_days: int
    records: tuple[TrackRecord, ...]  # one per candidate that could forecast, shortest window first

    @property
    def chosen(self) -> TrackRecord | None:
        return next((r for r in self.records if r.window_days == self.window_days), None)

    @property
    def compared(self) -> bool:
        """Whether a record decided it; if not, the shortest window that could forecast was taken."""
        return any(record.known for record in self.records)


# The question as the edges ask it: given the metrics of a window, the forecast (or ForecastRefused).
Question = Callable[[BoardMetrics], ForecastResult]


def when_question(items: int, *, trials: int, seed: int | None) -> Question:
    return lambda metrics: forecast_when(metrics, items, trials=trials, seed=seed)


def how_many_question(by: dt.date, *, trials: int, seed: int | None) -> Question:
    return lambda metrics: forecast_how_many(metrics, by, trials=trials, seed=seed)


def forecast_with_record(
    question: Question,
    metrics_for: Callable[[int], BoardMetrics],
    history: FinishHistory,
    window_days: int | None,
) -> ForecastResult:
    """The forecast from ``window_days`` (``None``: the best calibrated of ``AUTO_WINDOWS``) with its track
    record. Raises :class:`ForecastRefused` when the question cannot be answered from any candidate window
    (the shortest window's reason)."""
    if window_days is not None:
        result = question(metrics_for(window_days))
        record = track_record(history, window_days=window_days, horizon_days=_horizon(result))
        return dataclasses.replace(result, track_record=record, throughput_shift=_shift(result.metrics))
    answers: list[tuple[ForecastResult, TrackRecord]] = []
    first_refusal: ForecastRefused | None = None
    for candidate in AUTO_WINDOWS:
        try:
            result = question(metrics_for(candidate))
        except ForecastRefused as refused:
            first_refusal = first_refusal or refused
            continue
        record = track_record(history, window_days=candidate, horizon_days=_horizon(result))
        answers.append((result, record))
    if not answers:
        assert first_refusal is not None
        raise first_refusal
    known = [answer for answer in answers if answer[1].known]
    # min() keeps the first of equals: candidates run shortest first, so ties go to the shorter window.
    result, record = min(known, key=lambda answer: answer[1].miss) if known else answers[0]
    choice = WindowChoice(record.window_days, tuple(answer[1] for answer in answers))
    return dataclasses.replace(
        result, track_record=record, window_choice=choice, throughput_shift=_shift(result.metrics)
    )


def _shift(metrics: BoardMetrics) -> Shift | None:
    """Why a poor record may be poor: a real change of weekly throughput within the forecast's window (a
    signal on the process behaviour chart), rather than a window too short for ordinary variation."""
    chart = metrics.process_behaviour.throughput
    return newest_shift(chart, since=chart.weeks.window_first)


def _horizon(result: ForecastResult) -> int:
    """The days the forecast looks ahead: to the date asked, or to its 85 % date."""
    if result.how_many is not None:
        return result.how_many.days
    if result.when is not None:
        return result.when.within_days.get(TRACK_RECORD_LEVEL, max(result.when.within_days.values()))
    return MIN_HORIZON_DAYS


def stored_board_forecast(
    session: Session,
    board: Board,
    now: dt.datetime,
    question: Question,
    window_days: int | None,
    cache: MetricsCache | None = None,
) -> ForecastResult:
    """:func:`forecast_with_record` for a stored board as of ``now`` (its events read once, or cached)."""
    workflow = board_workflow(board)
    events = cache.events(session, board) if cache is not None else load_events(session, board.id, workflow)
    return forecast_with_record(
        question,
        lambda days: metrics_now(session, board, now, days, cache),
        finish_history(events, workflow, pd.Timestamp(now)),
        window_days,
    )
