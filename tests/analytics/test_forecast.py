"""Monte Carlo forecasts: hand-computed cases, exactness, ordering, repeatability and the refusals."""

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import forecast
from analytics.forecast import (
    CONFIDENCE_LEVELS,
    CannotForecast,
    HowManyForecast,
    WhenForecast,
    how_many_by,
    when_done,
)

# Hand-computed cases use enough trials that every expected level sits at least 5 standard errors away from
# the boundary where the order statistic would flip; the seed is fixed anyway, so they never flake.
TRIALS = 10_000
PROPERTY_TRIALS = 200

seeds = st.integers(min_value=0, max_value=2**32 - 1)
# A history with at least one finished item: a random series plus a positive day somewhere.
histories = st.tuples(
    st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=20),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=0, max_value=20),
).map(lambda parts: [*parts[0][: parts[2]], parts[1], *parts[0][parts[2] :]])
level_sets = st.lists(st.integers(min_value=1, max_value=99), min_size=1, max_size=6)


def rng(seed: int = 20260101) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_how_many_two_days_of_zero_or_two_hand_computed() -> None:
    """Over 2 days of [0, 2] the sum is 0/2/4 with odds 1/4, 1/2, 1/4: P(>=2) = 75 %, P(>=4) = 25 %."""
    result = how_many_by([0, 2], 2, rng(), trials=TRIALS)
    assert result == HowManyForecast(days=2, trials=TRIALS, at_least={50: 2, 70: 2, 85: 0, 95: 0})


def test_how_many_one_day_coin_flip_hand_computed() -> None:
    """Over 1 day of [0, 2] half the trials finish 2: 2 items at 30 %, 0 items from 70 % up."""
    result = how_many_by([0, 2], 1, rng(), trials=TRIALS, confidence=[30, 70, 85, 95])
    assert result.at_least == {30: 2, 70: 0, 85: 0, 95: 0}


def test_when_two_items_from_zero_or_two_hand_computed() -> None:
    """Finishing 2 from [0, 2] takes D days, P(D <= d) = 1 - 2^-d: 50/75/87.5/93.75/96.9 % for d = 1..5."""
    result = when_done([0, 2], 2, rng(), trials=TRIALS, confidence=[40, 60, 70, 85, 95])
    assert result == WhenForecast(items=2, trials=TRIALS, within_days={40: 1, 60: 2, 70: 2, 85: 3, 95: 5})


def test_order_statistic_boundary_counts_ties_as_reached() -> None:
    """With exactly half the trials at the top value, the 50 % level is that value ("at least 50 %")."""
    assert forecast._rank(50, 2) == 1
    assert forecast._rank(85, 10_000) == 8_500
    assert forecast._rank(85, 7) == 6  # 85 % of 7 trials is 5.95 trials: round up, never claim more
    assert how_many_by([2], 1, rng(), trials=1).at_least == dict.fromkeys(CONFIDENCE_LEVELS, 2)


def test_single_day_history_of_one_item_is_exact() -> None:
    """A history of one day with one item forecasts exactly one item per day."""
    assert how_many_by([1], 7, rng(), trials=50).at_least == dict.fromkeys(CONFIDENCE_LEVELS, 7)
    assert when_done([1], 5, rng(), trials=50).within_days == dict.fromkeys(CONFIDENCE_LEVELS, 5)


@settings(max_examples=50)
@given(
    per_day=st.integers(min_value=1, max_value=7),
    length=st.integers(min_value=1, max_value=10),
    days=st.integers(min_value=0, max_value=120),
    items=st.integers(min_value=1, max_value=400),
    seed=seeds,
)
def test_constant_throughput_forecasts_are_exact(
    per_day: int, length: int, days: int, items: int, seed: int
) -> None:
    """With a constant daily throughput c: how many = c x days and when = ceil(N / c), at every level."""
    series = [per_day] * length
    how_many = how_many_by(series, days, rng(seed), trials=PROPERTY_TRIALS)
    when = when_done(series, items, rng(seed), trials=PROPERTY_TRIALS)
    assert how_many.at_least == dict.fromkeys(CONFIDENCE_LEVELS, per_day * days)
    assert when.within_days == dict.fromkeys(CONFIDENCE_LEVELS, math.ceil(items / per_day))


@settings(max_examples=50)
@given(
    series=histories,
    days=st.integers(min_value=0, max_value=60),
    items=st.integers(min_value=0, max_value=50),
    levels=level_sets,
    seed=seeds,
)
def test_higher_confidence_is_never_bolder(
    series: list[int], days: int, items: int, levels: list[int], seed: int
) -> None:
    """Higher confidence gives fewer-or-equal items (how many) and more-or-equal days (when)."""
    how_many = how_many_by(series, days, rng(seed), trials=PROPERTY_TRIALS, confidence=levels)
    when = when_done(series, items, rng(seed), trials=PROPERTY_TRIALS, confidence=levels)
    assert list(how_many.at_least) == sorted(set(levels)) == list(when.within_days)
    item_counts = list(how_many.at_least.values())
    day_counts = list(when.within_days.values())
    assert item_counts == sorted(item_counts, reverse=True)
    assert day_counts == sorted(day_counts)


@settings(max_examples=50)
@given(
    series=histories,
    days=st.integers(min_value=0, max_value=60),
    items=st.integers(min_value=1, max_value=50),
    seed=seeds,
)
def test_forecasts_stay_within_what_the_history_allows(
    series: list[int], days: int, items: int, seed: int
) -> None:
    """Every level lies between the all-worst-days and all-best-days futures."""
    positive = [n for n in series if n > 0]
    how_many = how_many_by(series, days, rng(seed), trials=PROPERTY_TRIALS)
    when = when_done(series, items, rng(seed), trials=PROPERTY_TRIALS)
    assert all(min(series) * days <= n <= max(series) * days for n in how_many.at_least.values())
    assert all(d >= math.ceil(items / max(positive)) for d in when.within_days.values())


@settings(max_examples=50)
@given(series=histories, items=st.integers(min_value=1, max_value=50), levels=level_sets, seed=seeds)
def test_a_level_does_not_depend_on_the_other_levels_requested(
    series: list[int], items: int, levels: list[int], seed: int
) -> None:
    """Asking for fewer levels (which lets the simulation stop earlier) gives the same answer per level."""
    every = when_done(series, items, rng(seed), trials=PROPERTY_TRIALS, confidence=range(1, 100))
    some = when_done(series, items, rng(seed), trials=PROPERTY_TRIALS, confidence=levels)
    assert some.within_days == {c: every.within_days[c] for c in sorted(set(levels))}


def test_same_seed_gives_the_same_forecast() -> None:
    """Two generators from the same seed give identical forecasts: the generator is the only randomness."""
    series = [0, 1, 3, 0, 2, 0, 0, 1, 4, 0]
    assert how_many_by(series, 30, rng(7)) == how_many_by(series, 30, rng(7))
    assert when_done(series, 40, rng(7)) == when_done(series, 40, rng(7))


def test_small_blocks_give_the_same_hand_computed_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawing a few days at a time (many blocks) still yields the hand-computed and exact answers."""
    monkeypatch.setattr(forecast, "_MAX_BLOCK_ELEMENTS", 3 * TRIALS)
    result = when_done([0, 2], 2, rng(), trials=TRIALS, confidence=[40, 60, 70, 85, 95])
    assert result.within_days == {40: 1, 60: 2, 70: 2, 85: 3, 95: 5}
    assert when_done([3, 3], 100, rng(), trials=TRIALS).within_days == dict.fromkeys(CONFIDENCE_LEVELS, 34)


@pytest.mark.parametrize("series", [[0], [0] * 30, np.zeros(90, dtype=np.int64)])
def test_a_history_without_finished_items_cannot_forecast(series: list[int]) -> None:
    """With no throughput in the window both forecasts refuse, saying why, rather than give a number."""
    with pytest.raises(CannotForecast, match="no items were finished"):
        how_many_by(series, 10, rng())
    with pytest.raises(CannotForecast, match="no throughput to forecast from"):
        when_done(series, 5, rng())


def test_cannot_forecast_is_a_value_error() -> None:
    """Callers catching ValueError also catch CannotForecast."""
    assert issubclass(CannotForecast, ValueError)


def test_zero_days_and_zero_items_answer_zero_even_without_history() -> None:
    """0 future days means 0 items, and 0 (or fewer) items means 0 days, at every level."""
    assert how_many_by([0, 0], 0, rng()) == HowManyForecast(
        days=0, trials=10_000, at_least=dict.fromkeys(CONFIDENCE_LEVELS, 0)
    )
    assert when_done([0, 0], 0, rng()).within_days == dict.fromkeys(CONFIDENCE_LEVELS, 0)
    assert when_done([1, 2], -3, rng()) == WhenForecast(
        items=0, trials=10_000, within_days=dict.fromkeys(CONFIDENCE_LEVELS, 0)
    )


def test_levels_beyond_the_horizon_refuse_instead_of_inventing_a_date() -> None:
    """Finishing 1 item from [0, 1] within 3 days happens 87.5 % of the time: 85 % is answered, 95 % not."""
    answered = when_done([0, 1], 1, rng(), trials=TRIALS, confidence=[40, 85], max_days=3)
    assert answered.within_days == {40: 1, 85: 3}
    with pytest.raises(CannotForecast, match=r"fewer than 95 % .* within 3 days.* for 95 % confidence"):
        when_done([0, 1], 1, rng(), trials=TRIALS, confidence=[40, 85, 95], max_days=3)


def test_far_out_forecasts_refuse_at_every_level() -> None:
    """One item in 100 days of history cannot finish 100 items within ten years."""
    with pytest.raises(CannotForecast, match="50 %, 70 %, 85 % and 95 % confidence"):
        when_done([0] * 99 + [1], 100, rng(), trials=500)


def test_pandas_and_whole_float_series_are_accepted() -> None:
    """A pandas Series, or floats that are whole numbers, forecast exactly like the integer list."""
    series = [0, 1, 3, 0, 2]
    expected = when_done(series, 12, rng(3)), how_many_by(series, 9, rng(3))
    for same in (pd.Series(series), np.asarray(series, dtype=np.float64), pd.Series(series, dtype="Int64")):
        assert (when_done(same, 12, rng(3)), how_many_by(same, 9, rng(3))) == expected


def test_numpy_integer_arguments_are_accepted() -> None:
    """Counts given as numpy integers behave like Python ints."""
    # Typed as int for callers, but sums and lengths computed with numpy arrive as numpy integers.
    three: Any = np.int64(3)
    assert how_many_by([2], three, rng(), trials=np.int32(5)).at_least[85] == 6  # type: ignore[arg-type]
    assert when_done([2], three, rng(), max_days=np.int64(10)).within_days[85] == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("series", "kwargs", "message"),
    [
        ([], {}, "empty"),
        ([[1, 2], [3, 4]], {}, "1-D"),
        ([1, -1, 2], {}, "cannot be negative"),
        ([1.5, 2.0], {}, "whole numbers"),
        ([1.0, float("nan")], {}, "whole numbers"),
        (["a", "b"], {}, "whole numbers"),
        ([True, False], {}, "not booleans"),
        ([1, 2], {"trials": 0}, "trials must be at least 1"),
        ([1, 2], {"confidence": []}, "at least one confidence level"),
        ([1, 2], {"confidence": [0, 50]}, "from 1 to 99"),
        ([1, 2], {"confidence": [50, 100]}, "from 1 to 99"),
        ([1, 2], {"confidence": [-5]}, "cannot be negative"),
    ],
)
def test_invalid_arguments_raise_value_error(series: Any, kwargs: dict[str, Any], message: str) -> None:
    """Malformed history, trial counts and confidence levels are rejected, naming the problem."""
    with pytest.raises(ValueError, match=message):
        how_many_by(series, 5, rng(), **kwargs)
    with pytest.raises(ValueError, match=message):
        when_done(series, 5, rng(), **kwargs)


def test_negative_days_and_a_zero_horizon_raise_value_error() -> None:
    """Negative future days and a horizon under one day are rejected."""
    with pytest.raises(ValueError, match="days cannot be negative"):
        how_many_by([1, 2], -1, rng())
    with pytest.raises(ValueError, match="max_days must be at least 1"):
        when_done([1, 2], 5, rng(), max_days=0)


def test_non_integer_counts_raise_type_error() -> None:
    """Fractional or boolean day and item counts are a caller's bug, reported as TypeError."""
    with pytest.raises(TypeError):
        how_many_by([1, 2], 1.5, rng())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a boolean"):
        when_done([1, 2], True, rng())
