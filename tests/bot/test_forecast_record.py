"""Forecasts with their track record, and ``auto`` choosing the window whose record is best calibrated."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bot.services.forecast_record import (
    AUTO_WINDOWS,
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    FinishHistory,
    TrackRecord,
    track_record,
)

ZONE = "Europe/Zurich"
DAY0 = dt.date(2026, 1, 5)


def finished_at(per_day: list[int]) -> np.ndarray:
    """``per_day[n]`` items finished at noon local time on day ``n`` after DAY0."""
    noon = [
        pd.Timestamp(dt.datetime.combine(DAY0 + dt.timedelta(days=n), dt.time(12))).tz_localize(ZONE).value
        for n in range(len(per_day))
    ]
    return np.repeat(np.array(noon, dtype=np.int64), per_day)


def history(per_day: list[int], until_day: int) -> FinishHistory:
    midnight = dt.datetime.combine(DAY0 + dt.timedelta(days=until_day), dt.time(0))
    return FinishHistory(finished_at(per_day), ZONE, pd.Timestamp(midnight).tz_localize(ZONE))


def test_one_a_day_always_comes_true():
    """One item a day for 200 days, as of day 200. The last 26 weeks start on day 18; every window of 30
    days (from day 18 on: at least 10 items on 5 days) forecasts "at least 7 in 7 days" and sees 7, so all
    176 origins (days 18..193) hit, spanning 26 weeks."""
    record = track_record(history([1] * 200, 200), window_days=30, horizon_days=7)
    assert record == TrackRecord(85, 1.0, 176, 26, 30, 7)
    assert record.known and not record.poor and record.miss == pytest.approx(0.15)


def test_the_horizon_is_a_week_to_a_quarter():
    board = history([1] * 400, 400)
    assert track_record(board, window_days=30, horizon_days=2).horizon_days == MIN_HORIZON_DAYS
    assert track_record(board, window_days=30, horizon_days=900).horizon_days == MAX_HORIZON_DAYS


def test_a_young_board_has_no_record_to_judge_by():
    """30 days of history: the first origin with 10 items is day 10, the last day 23 (horizon 7): 14 past
    forecasts, fewer than 20, over 3 weeks."""
    record = track_record(history([1] * 30, 30), window_days=30, horizon_days=7)
    assert record.forecasts == 14 and record.weeks == 3
    assert not record.known and not record.poor


def test_a_board_without_throughput_has_no_rate():
    record = track_record(history([0] * 100, 100), window_days=30, horizon_days=14)
    assert record.hit_rate is None and record.forecasts == 0 and not record.known
    assert record.miss == float("inf")


def test_after_throughput_halves_the_record_turns_poor():
    """Four a day for 300 days, then two: 45 days later the 90-day window's 85 % forecasts (still counting
    on the old pace for weeks) came true far less than 85 % of the time."""
    rng = np.random.default_rng(5)
    per_day = list(rng.poisson(4.0, 300)) + list(rng.poisson(2.0, 60))
    steady = track_record(history(per_day, 300), window_days=90, horizon_days=14)
    changed = track_record(history(per_day, 360), window_days=90, horizon_days=14)
    assert steady.known and not steady.poor
    assert changed.known and changed.poor and changed.hit_rate is not None and changed.hit_rate < 0.65


def best_window(board: FinishHistory) -> int:
    records = [track_record(board, window_days=days, horizon_days=14) for days in AUTO_WINDOWS]
    return min(records, key=lambda record: record.miss).window_days


def test_auto_switches_to_the_shortest_window_after_throughput_halves():
    """Steady Poisson throughput of 3 a day for 300 days, then 1.5. Before the change the best calibrated
    window varies with the draw (some boards' is 60 or 90 days); 45 days after it, every board's is 30 days:
    the short window has forgotten the old pace first."""
    before, after = [], []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        per_day = list(rng.poisson(3.0, 300)) + list(rng.poisson(1.5, 100))
        before.append(best_window(history(per_day, 300)))
        after.append(best_window(history(per_day, 345)))
    assert any(days > 30 for days in before)
    assert after == [30] * 8
