"""The forecasting service refuses with facts, not sentences: each edge words them (the CLI with its flags,
Slack with its commands), so neither speaks the other's language."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics.forecast import CannotForecast
from analytics.measures import BoardMetrics, board_metrics
from bot.connectors.files import load_workflow, read_event_log
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.services.forecasting import (
    HORIZON_DAYS,
    YEAR_DAYS,
    BeyondHorizon,
    DateBeyondYear,
    DateNotAhead,
    ItemsNotPositive,
    NoThroughput,
    forecast_how_many,
    forecast_when,
)


def sample_at(asof: dt.datetime) -> BoardMetrics:
    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    events = read_event_log(SAMPLE_EVENTS_PATH, workflow).events
    return board_metrics(events, workflow, pd.Timestamp(asof), window_days=30)


@pytest.fixture(scope="module")
def sample() -> BoardMetrics:
    return sample_at(SAMPLE_ASOF)


def test_too_many_items_carry_the_pace_and_a_number_that_can_be_answered(sample: BoardMetrics):
    with pytest.raises(BeyondHorizon) as refused:
        forecast_when(sample, 10_000, trials=1000, seed=1)
    error = refused.value
    assert error.items == 10_000 and error.horizon_days == HORIZON_DAYS and error.per_week > 0
    assert error.suggested_items is not None and error.suggested_items < 10_000
    assert isinstance(error, CannotForecast)  # callers of the analytics core still catch it
    assert "--" not in str(error)
    assert forecast_when(sample, error.suggested_items, trials=1000, seed=1).when is not None


def test_a_date_not_ahead_carries_both_dates_and_one_that_works(sample: BoardMetrics):
    with pytest.raises(DateNotAhead) as refused:
        forecast_how_many(sample, dt.date(2020, 1, 1), trials=1000, seed=1)
    error = refused.value
    assert (error.by, error.start) == (dt.date(2020, 1, 1), dt.date(2026, 11, 20))
    assert str(error) == "2020-01-01 must be after 2026-11-20, the date forecasts start from"
    assert forecast_how_many(sample, error.suggested_by, trials=1000, seed=1).how_many is not None


def test_a_date_more_than_a_year_ahead_carries_the_furthest_that_works(sample: BoardMetrics):
    """A "when" forecast beyond a year says "more than a year"; a count that far out is refused likewise."""
    with pytest.raises(DateBeyondYear) as refused:
        forecast_how_many(sample, dt.date(9999, 12, 31), trials=1000, seed=1)
    error = refused.value
    assert error.latest_by == dt.date(2026, 11, 20) + dt.timedelta(days=YEAR_DAYS) == dt.date(2027, 11, 20)
    assert str(error) == "9999-12-31 is more than a year after 2026-11-20, too far to forecast"
    assert forecast_how_many(sample, error.latest_by, trials=1000, seed=1).how_many is not None


def test_no_items_and_no_throughput_are_told_apart():
    with pytest.raises(ItemsNotPositive) as refused:
        forecast_when(sample_at(SAMPLE_ASOF), 0, trials=1000, seed=1)
    assert refused.value.items == 0
    quiet = sample_at(SAMPLE_ASOF + dt.timedelta(days=365))
    for ask in (
        lambda: forecast_when(quiet, 5, trials=1000, seed=1),
        lambda: forecast_how_many(quiet, dt.date(2028, 1, 1), trials=1000, seed=1),
    ):
        with pytest.raises(NoThroughput) as empty:
            ask()
        assert empty.value.window_days == 30 and "no throughput" in str(empty.value)
