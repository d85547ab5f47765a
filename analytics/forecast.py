"""Monte Carlo forecasts over historical daily throughput ("how many by a date", "when will N be done").

Definitions are in ``shared/spec/metrics.md`` (section "Forecasts (Monte Carlo)"). Each trial is one possible
future built by drawing days, with replacement, from the window's daily throughput series (every calendar day,
zeros included). Results are read as order statistics of the trials, so every reported number is a value some
trial actually produced and each level's claim ("with 85 % confidence ...") holds for at least that share of
the trials.

Pure: no I/O, no clock, no global random state. Randomness comes from the ``numpy.random.Generator`` the
caller passes in, so the same seed gives the same forecast. Day counts are returned; turning them into
calendar dates (``asof`` date + days) is the caller's job.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.words import count_of

__all__ = [
    "CONFIDENCE_LEVELS",
    "CannotForecast",
    "HowManyForecast",
    "WhenForecast",
    "history_shortfall",
    "how_many_by",
    "when_done",
]

CONFIDENCE_LEVELS: tuple[int, ...] = (50, 70, 85, 95)
# The least history a forecast is made from: fewer days or items than this is a guess, not a forecast.
MIN_DAYS_WITH_THROUGHPUT = 5
MIN_FINISHED_ITEMS = 10

# Upper bound on the (active trials x days) block drawn at once by `when_done`: about 16 MB per int64 matrix,
# so a large item count or a sparse series costs more iterations instead of memory.
_MAX_BLOCK_ELEMENTS = 2**21

_IntArray = npt.NDArray[np.int64]


# The name reads as the answer a user gets ("cannot forecast"), which the CLI and Slack code rely on.
class CannotForecast(ValueError):
    """The history cannot support the requested forecast; the message says why in a team lead's words."""


@dataclass(frozen=True)
class HowManyForecast:
    """How many items will be finished in the next ``days`` days.

    ``at_least[c]`` is an item count: in at least ``c`` % of the trials, ``at_least[c]`` or more items were
    finished. Keys are the requested confidence levels in ascending order; values never increase with them.
    """

    days: int
    trials: int
    at_least: dict[int, int]


@dataclass(frozen=True)
class WhenForecast:
    """How many days until ``items`` more items are finished.

    ``within_days[c]`` is a number of days from the forecast's start: at least ``c`` % of the trials had
    finished ``items`` items within that many days. Keys are the requested confidence levels in ascending
    order; values never decrease with them.
    """

    items: int
    trials: int
    within_days: dict[int, int]


def how_many_by(
    daily_throughput: npt.ArrayLike,
    days: int,
    rng: np.random.Generator,
    *,
    trials: int = 10_000,
    confidence: Sequence[int] = CONFIDENCE_LEVELS,
) -> HowManyForecast:
    """Forecast how many items will be finished in the next ``days`` calendar days.

    Definition: each trial sums ``days`` days drawn with replacement from ``daily_throughput``. The level
    ``c`` answer is the largest item count N such that at least ``c`` % of the trials finished N or more
    (the order statistic at rank ceil(c % x trials) from the top; no interpolation). "85 %: at least N" is
    therefore the cautious, 15th-percentile side of the trial sums.

    Inputs: ``daily_throughput`` is items finished per calendar day, one entry per day of the history window,
    zeros included (non-negative integers, 1-D, non-empty). ``days`` is the number of future calendar days
    (e.g. ``(by_date - asof_date).days``). ``trials`` is the number of simulated futures; ``confidence`` holds
    percentages strictly between 0 and 100.

    Output: a :class:`HowManyForecast`; ``at_least`` maps each confidence level to a count of items.

    Edge cases: ``days == 0`` gives 0 items at every level (even for an all-zero history). A history with no
    finished items raises :class:`CannotForecast`. Malformed arguments (negative ``days``, ``trials < 1``,
    negative or fractional throughput, an empty series, a level outside 1..99) raise ``ValueError``.
    """
    series = _validated_series(daily_throughput)
    days = _non_negative_int(days, "days")
    trials = _positive_int(trials, "trials")
    levels = _validated_levels(confidence)
    if days == 0:
        return HowManyForecast(days=0, trials=trials, at_least=dict.fromkeys(levels, 0))
    _require_throughput(series)

    # Summing `days` draws from the series equals weighting its distinct values by multinomial counts, which
    # costs trials x distinct values instead of trials x days and is the same distribution exactly.
    values, occurrences = np.unique(series, return_counts=True)
    counts = rng.multinomial(days, occurrences / series.size, size=trials)
    sums = np.sort(counts @ values)
    at_least = {c: int(sums[trials - _rank(c, trials)]) for c in levels}
    return HowManyForecast(days=days, trials=trials, at_least=at_least)


def when_done(
    daily_throughput: npt.ArrayLike,
    items: int,
    rng: np.random.Generator,
    *,
    trials: int = 10_000,
    confidence: Sequence[int] = CONFIDENCE_LEVELS,
    max_days: int = 3650,
) -> WhenForecast:
    """Forecast how many calendar days it takes to finish ``items`` more items.

    Definition: each trial draws days with replacement from ``daily_throughput`` until the running sum
    reaches ``items``; its duration is the number of days drawn. The level ``c`` answer is the smallest
    duration D such that at least ``c`` % of the trials finished within D days (the order statistic at rank
    ceil(c % x trials); no interpolation), i.e. the ``c``-th percentile of durations. The finish date is the
    start date plus D days (day 1 is the first future day).

    Inputs: ``daily_throughput`` is items finished per calendar day, one entry per day of the history window,
    zeros included (non-negative integers, 1-D, non-empty). ``items`` is a count of items. ``trials`` is the
    number of simulated futures; ``confidence`` holds percentages strictly between 0 and 100; ``max_days`` is
    the simulation horizon in days (the default is about ten years).

    Output: a :class:`WhenForecast`; ``within_days`` maps each confidence level to a number of days.

    Edge cases: ``items <= 0`` gives 0 days at every level (even for an all-zero history). A history with no
    finished items raises :class:`CannotForecast`. If fewer than ``c`` % of the trials finish within
    ``max_days`` for any requested level, the whole call raises :class:`CannotForecast` naming those levels:
    no date is ever invented. Ask again with lower levels to get the ones that can be answered; the answered
    levels do not depend on which other levels were requested. Malformed arguments raise ``ValueError``.
    """
    series = _validated_series(daily_throughput)
    items = _as_int(items, "items")
    trials = _positive_int(trials, "trials")
    levels = _validated_levels(confidence)
    max_days = _positive_int(max_days, "max_days")
    if items <= 0:
        return WhenForecast(items=max(items, 0), trials=trials, within_days=dict.fromkeys(levels, 0))
    _require_throughput(series)

    durations = _durations(series, items, rng, trials, max_days, needed=_rank(levels[-1], trials))
    # Unfinished trials (marked -1) took longer than any finished one, so they sort last.
    ordered = np.sort(np.where(durations < 0, np.iinfo(np.int64).max, durations))
    within_days = {c: int(ordered[_rank(c, trials) - 1]) for c in levels}
    beyond = [c for c, d in within_days.items() if d > max_days]
    if beyond:
        raise CannotForecast(
            f"at the recent throughput, fewer than {beyond[0]} % of {trials:,} simulated futures finished "
            f"{count_of(items, 'item')} within {count_of(max_days, 'day')}, so there is no date to give "
            f"for {_join_levels(beyond)} confidence"
        )
    return WhenForecast(items=items, trials=trials, within_days=within_days)


def _durations(
    series: _IntArray, items: int, rng: np.random.Generator, trials: int, max_days: int, needed: int
) -> _IntArray:
    """Days each trial took to reach ``items``; -1 for trials stopped before reaching it.

    Draws in blocks for the trials still running, so memory is bounded by ``_MAX_BLOCK_ELEMENTS`` rather than
    trials x max_days. Stops at ``max_days``, when every trial is done, or as soon as ``needed`` trials are
    done: every running trial already took longer than every finished one, so the ``needed`` smallest
    durations can no longer change.
    """
    mean = float(series.mean())
    durations = np.full(trials, -1, dtype=np.int64)
    remaining = np.full(trials, items, dtype=np.int64)  # items each trial still has to finish
    running = np.arange(trials)
    elapsed = 0  # every running trial has drawn exactly this many days
    finished = 0
    while running.size and elapsed < max_days and finished < needed:
        # Sized so that most running trials finish in this block (25 % over the expected need, plus a few days
        # for small counts); the stragglers get a further, much smaller block.
        wanted = math.ceil(1.25 * int(remaining[running].max()) / mean) + 8
        block = min(wanted, max_days - elapsed, max(1, _MAX_BLOCK_ELEMENTS // running.size))
        cumulative = np.cumsum(series[rng.integers(0, series.size, size=(running.size, block))], axis=1)
        reached = cumulative >= remaining[running, None]
        # Running sums never decrease: a trial reached its target in this block iff it had by the last day.
        done = reached[:, -1]
        durations[running[done]] = elapsed + reached[done].argmax(axis=1) + 1
        remaining[running[~done]] -= cumulative[~done, -1]
        running = running[~done]
        elapsed += block
        finished += int(done.sum())
    return durations


def history_shortfall(daily_throughput: npt.ArrayLike) -> str | None:
    """Why a window's daily throughput is too little to forecast from (in a few words); ``None`` if enough.

    A forecast needs items finished on at least ``MIN_DAYS_WITH_THROUGHPUT`` days and at least
    ``MIN_FINISHED_ITEMS`` items: with less, the simulation only replays a handful of days.
    """
    series = _validated_series(daily_throughput)
    if not series.any():
        return "no items finished in the window"
    if int(np.count_nonzero(series)) < MIN_DAYS_WITH_THROUGHPUT:
        return f"items finished on fewer than {MIN_DAYS_WITH_THROUGHPUT} days of the window"
    if int(series.sum()) < MIN_FINISHED_ITEMS:
        return f"fewer than {MIN_FINISHED_ITEMS} items finished in the window"
    return None


def _rank(level: int, trials: int) -> int:
    """How many trials make up ``level`` % of ``trials``, rounded up (integer arithmetic, no float error)."""
    return -(-level * trials // 100)


def _validated_series(daily_throughput: npt.ArrayLike) -> _IntArray:
    array = np.asarray(daily_throughput)
    if array.ndim != 1:
        raise ValueError(
            f"daily throughput must be a 1-D series of daily counts, got {array.ndim} dimensions"
        )
    if array.size == 0:
        raise ValueError("daily throughput is empty: the history window must contain at least one day")
    if array.dtype.kind == "b":
        raise ValueError("daily throughput must hold item counts, not booleans")
    if array.dtype.kind not in "iu":
        # Counts may arrive as floats (e.g. a pandas column that once held NaN); accept them only when whole.
        try:
            as_float = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError("daily throughput must hold whole numbers of items per day") from error
        if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.round(as_float)):
            raise ValueError("daily throughput must hold whole numbers of items per day")
        array = as_float
    if np.any(array < 0):
        raise ValueError("daily throughput cannot be negative: it counts items finished each day")
    return array.astype(np.int64)


def _require_throughput(series: _IntArray) -> None:
    if not series.any():
        raise CannotForecast(
            f"no items were finished in the {count_of(series.size, 'day')} of history, "
            "so there is no throughput to forecast from"
        )


def _validated_levels(confidence: Sequence[int]) -> list[int]:
    levels = sorted({_non_negative_int(c, "confidence level") for c in confidence})
    if not levels:
        raise ValueError("at least one confidence level is needed")
    # 0 % says nothing and "100 %" would claim certainty that a finite sample of the past cannot give. (What
    # the product states stops at 95 %: CONFIDENCE_LEVELS.)
    if levels[0] < 1 or levels[-1] > 99:
        raise ValueError(f"confidence levels are percentages from 1 to 99, got {levels}")
    return levels


def _as_int(value: int, name: str) -> int:
    # operator.index accepts numpy integers and rejects floats; a bool is an int to Python but a caller's bug.
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not a boolean")
    return operator.index(value)


def _non_negative_int(value: int, name: str) -> int:
    number = _as_int(value, name)
    if number < 0:
        raise ValueError(f"{name} cannot be negative, got {number}")
    return number


def _positive_int(value: int, name: str) -> int:
    number = _non_negative_int(value, name)
    if number < 1:
        raise ValueError(f"{name} must be at least 1, got {number}")
    return number


def _join_levels(levels: Sequence[int]) -> str:
    named = [f"{c} %" for c in levels]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
