"""The forecast backtest (spec metrics.md "Forecast backtest"): hand-computed walks, then calibration."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.backtest import backtest, origin_seed
from analytics.forecast import history_shortfall, how_many_by

ZONE = "Europe/Zurich"
DAY0 = dt.date(2026, 1, 5)


def finished_at(per_day: list[int], *, hour: int = 12) -> np.ndarray:
    """``per_day[n]`` items finished at ``hour`` local time on day ``n`` after DAY0."""
    stamps = [
        pd.Timestamp(dt.datetime.combine(DAY0 + dt.timedelta(days=n), dt.time(hour))).tz_localize(ZONE)
        for n, count in enumerate(per_day)
        for _ in range(count)
    ]
    return np.array([stamp.value for stamp in stamps], dtype=np.int64)


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def test_three_origins_by_hand():
    """One item a day for 60 days, then none. Every draw is 1, so every level forecasts 7 in 7 days.
    Origins on days 40 and 50 see 7 (hits); day 60 sees 0 (a miss at every level): 2 of 3."""
    result = backtest(
        finished_at([1] * 60), ZONE, since=day(40), until=day(70), horizon_days=7, every_days=10
    )
    assert [o.date for o in result.origins] == [day(40), day(50), day(60)]
    assert [o.forecast for o in result.origins] == [{50: 7, 70: 7, 85: 7, 95: 7}] * 3
    assert [o.actual for o in result.origins] == [7, 7, 0]
    assert result.count == 3
    assert result.hit_rate == {50: 2 / 3, 70: 2 / 3, 85: 2 / 3, 95: 2 / 3}


def test_an_origin_without_enough_history_has_no_forecast_and_no_vote():
    """Day 5's window holds 5 items on 5 days: fewer than 10 items, so no forecast; day 12's holds 12 on 12
    days, so it is forecast (from 12 ones and 18 zeros)."""
    result = backtest(finished_at([1] * 30), ZONE, since=day(5), until=day(19), horizon_days=7, every_days=7)
    first, second = result.origins
    assert first.forecast is None and first.refused == "fewer than 10 items finished in the window"
    assert first.actual == 7
    assert second.forecast is not None and second.refused is None and second.actual == 7
    assert result.count == 1 and result.hit_rate[95] == 1.0  # 7 is the most any trial of 7 draws can give


def test_guards_say_what_is_missing():
    assert history_shortfall(np.zeros(30, dtype=np.int64)) == "no items finished in the window"
    four_days = np.array([5, 5, 5, 5] + [0] * 26, dtype=np.int64)
    assert history_shortfall(four_days) == "items finished on fewer than 5 days of the window"
    assert history_shortfall(np.array([1] * 10 + [0] * 20, dtype=np.int64)) is None


def test_each_origin_is_the_forecast_flowcoach_would_have_made_then():
    """Same window, same days, same seed: the origin's numbers are how_many_by's at that date."""
    rng = np.random.default_rng(7)
    per_day = list(rng.poisson(2, 120))
    result = backtest(finished_at(per_day), ZONE, since=day(60), until=day(90), horizon_days=14, seed=3)
    origin = result.origins[5]
    window = np.array(per_day[65 - 30 : 65], dtype=np.int64)
    expected = how_many_by(window, 14, np.random.default_rng(origin_seed(day(65), 3)))
    assert origin.date == day(65) and origin.forecast == expected.at_least
    assert origin.actual == sum(per_day[65 : 65 + 14])


def test_a_steady_board_is_calibrated():
    """Steady Poisson throughput over a year: 85 % forecasts hit 75–95 % of the time, 50 % ones 35–65 %."""
    per_day = list(np.random.default_rng(11).poisson(2.0, 400))
    result = backtest(finished_at(per_day), ZONE, since=day(40), until=day(395), horizon_days=14)
    assert result.count > 300
    assert 0.75 <= result.hit_rate[85] <= 0.95
    assert 0.35 <= result.hit_rate[50] <= 0.65


def test_when_throughput_halves_the_forecasts_stop_coming_true():
    """From day 200 the team finishes half as much: origins after the change (still forecasting from the
    old pace) miss far more often than before."""
    rng = np.random.default_rng(5)
    per_day = list(rng.poisson(4.0, 200)) + list(rng.poisson(2.0, 200))
    result = backtest(finished_at(per_day), ZONE, since=day(40), until=day(395), horizon_days=14)
    before = [o for o in result.forecast_origins if o.date < day(186)]
    after = [o for o in result.forecast_origins if day(200) <= o.date < day(215)]
    assert sum(bool(o.hit(85)) for o in before) / len(before) > 0.75
    assert sum(bool(o.hit(85)) for o in after) / len(after) < 0.2


def test_days_are_local_across_a_dst_change():
    """An item finished at 00:30 local on the day the clocks go back counts on that day."""
    change = dt.date(2026, 10, 25)
    late = pd.Timestamp("2026-10-25 00:30").tz_localize(ZONE).value
    steady = finished_at([1] * 400)
    result = backtest(
        np.append(steady, late), ZONE, since=change, until=change + dt.timedelta(days=1), horizon_days=1
    )
    assert result.origins[0].actual == 2


@pytest.mark.parametrize("bad", [{"horizon_days": 0}, {"window_days": 0}, {"every_days": 0}])
def test_nonsense_steps_are_refused(bad):
    with pytest.raises(ValueError, match="1 or more"):
        backtest(finished_at([1]), ZONE, since=day(1), until=day(30), **bad)
