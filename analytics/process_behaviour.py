"""Process behaviour of a board (``spec/metrics.md``): is a change in throughput or cycle time real, or noise?

Two XmR charts (``analytics.xmr``): weekly throughput (full local weeks, Monday first) and cycle time by
finished item, in finish order. Both share one **baseline**, a run of full weeks:

- the first ``baseline_weeks`` (default 12) full weeks of the window, when it holds that many;
- otherwise the ``baseline_weeks`` full weeks right before the window's first full week;
- otherwise, on a board with less history than that, its first ``baseline_weeks`` full weeks (running into
  the window). Such a baseline is ``provisional``, and with fewer than :data:`MIN_BASELINE_POINTS` values
  there are no limits at all.

History begins with the board's first finish: the weeks before it, when the board was filling up and
nothing could finish yet, are a start-up the limits should not take for normal.

The points judged are the baseline's and every later full week up to the window's end (for cycle time:
every item finished from the baseline's start, or the window's if earlier, to the window's end). Baseline
points are judged too: one outside its own limits says the baseline itself was not stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.calendar import Window, full_weeks, local_midnights
from analytics.exit_age import PROVISIONAL_BELOW
from analytics.timeline import Timeline, utc_ns
from analytics.workflow import StageKind
from analytics.xmr import Limits, Signal, natural_limits, signals

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

BASELINE_WEEKS = 12
# The weeks the coach judges at any instant: the last four full ones, as Monday's weekly review sees them
# (its 30-day window then holds four full weeks), with the baseline the twelve before them. Tied to the
# calendar week, not to the instant, so the verdict on a week cannot change between Monday and Friday.
RECENT_WEEKS = 4
MIN_BASELINE_POINTS = 6  # Wheeler: limits from five or six values are already useful; fewer are guesses
WEEK_DAYS = 7


@dataclass(frozen=True)
class Weeks:
    """The full weeks a throughput chart shows: Mondays, ``len + 1`` boundaries (UTC ns; empty when there
    are no weeks), and the positions ``[first, last)`` of the baseline among them. ``window_first`` is the
    position of the first week inside the window (``len(mondays)`` when none is). ``provisional``: the
    baseline has fewer weeks than asked for, or had to reach into a window shorter than a baseline."""

    mondays: tuple[dt.date, ...]
    boundaries: IntArray
    baseline: tuple[int, int]
    window_first: int
    provisional: bool

    @property
    def baseline_dates(self) -> tuple[dt.date, dt.date] | None:
        """The baseline's first Monday and last Sunday, ``None`` without baseline weeks."""
        first, last = self.baseline
        if last <= first:
            return None
        return self.mondays[first], self.mondays[last - 1] + dt.timedelta(days=WEEK_DAYS - 1)


@dataclass(frozen=True)
class WeeklyThroughput:
    """The XmR chart of weekly throughput: items finished per week of ``weeks``, limits, signals.

    ``limits`` is ``None`` when the baseline holds fewer than :data:`MIN_BASELINE_POINTS` weeks; there are
    no signals then.
    """

    weeks: Weeks
    counts: IntArray
    limits: Limits | None
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class CycleTimeBehaviour:
    """The XmR chart of cycle time by finished item: ``item_ids``, ``finished_at`` (UTC ns) and
    ``cycle_time_days`` in finish order, the baseline's positions ``[first, last)`` among them, limits and
    signals (``limits`` ``None`` below :data:`MIN_BASELINE_POINTS` baseline items)."""

    item_ids: tuple[str, ...]
    finished_at: IntArray
    cycle_time_days: FloatArray
    baseline: tuple[int, int]
    limits: Limits | None
    signals: tuple[Signal, ...]
    provisional: bool


@dataclass(frozen=True)
class ProcessBehaviour:
    """Both charts over one baseline of ``baseline_weeks`` full weeks asked for."""

    baseline_weeks: int
    throughput: WeeklyThroughput
    cycle_time: CycleTimeBehaviour


def chart_weeks(
    first_finish_ns: int | None,
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    timezone: str,
    baseline_weeks: int = BASELINE_WEEKS,
) -> Weeks:
    """The weeks of the throughput chart of ``[window_start, window_end)`` and its baseline (see above).

    ``first_finish_ns``: when the board first finished an item (``None``: never, so there are no weeks).
    Weeks of history before the window are looked at only as far back as a baseline can reach.
    """
    if baseline_weeks < MIN_BASELINE_POINTS:
        raise ValueError(f"a baseline needs at least {MIN_BASELINE_POINTS} weeks")
    end = pd.Timestamp(window_end)
    if first_finish_ns is None or first_finish_ns >= end.value:
        return Weeks((), np.zeros(0, dtype=np.int64), (0, 0), 0, provisional=True)
    in_window, _ = full_weeks(window_start, end, timezone)
    # One week more than a baseline can reach back: a DST change makes "7 x 12 days" an hour short.
    reach = pd.Timestamp(window_start) - pd.Timedelta(days=WEEK_DAYS * (baseline_weeks + 1))
    mondays, boundaries = full_weeks(max(pd.Timestamp(first_finish_ns, tz="UTC"), reach), end, timezone)
    before = sum(monday < in_window[0] for monday in mondays) if in_window else len(mondays)
    inside = len(mondays) - before
    if inside >= baseline_weeks:
        first, last = before, before + baseline_weeks
    elif before >= baseline_weeks:
        first, last = before - baseline_weeks, before
    else:  # a young board: its first weeks, whatever they are
        first, last = 0, min(baseline_weeks, before + inside)
    provisional = last - first < baseline_weeks or (inside < baseline_weeks and last > before)
    # Nothing before the baseline is drawn or judged.
    return Weeks(mondays[first:], boundaries[first:], (0, last - first), before - first, provisional)


def recent_weeks(
    moments: Sequence[pd.Timestamp], timezone: str, weeks: int = RECENT_WEEKS
) -> tuple[IntArray, IntArray]:
    """For each aware instant, ``[start, end)`` of the last ``weeks`` full local weeks before it (UTC ns):
    ``end`` is the local midnight that began its week (Monday), ``start`` that of ``weeks`` Mondays earlier.
    Vectorised: replay asks for thousands of instants."""
    if not len(moments):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    local = pd.DatetimeIndex(list(moments)).tz_convert(timezone).tz_localize(None).normalize()
    mondays = local - pd.to_timedelta(np.asarray(local.day_of_week), unit="D")
    unique, position = np.unique(mondays.to_numpy(), return_inverse=True)
    dates = [pd.Timestamp(monday).date() for monday in unique]
    ends = local_midnights(dates, timezone)
    starts = local_midnights([day - dt.timedelta(days=WEEK_DAYS * weeks) for day in dates], timezone)
    return starts[position], ends[position]


def week_counts(weeks: Weeks, finished_at_ns: IntArray) -> IntArray:
    """Items finished in each of the weeks (finish instants in UTC ns, any order; others are ignored)."""
    bounds = weeks.boundaries
    if not len(weeks.mondays):
        return np.zeros(0, dtype=np.int64)
    inside = finished_at_ns[(finished_at_ns >= bounds[0]) & (finished_at_ns < bounds[-1])]
    week = np.searchsorted(bounds, inside, side="right") - 1
    return np.bincount(week, minlength=len(weeks.mondays)).astype(np.int64)


def weekly_throughput(weeks: Weeks, counts: IntArray) -> WeeklyThroughput:
    """The XmR chart of the weeks' counts (:func:`week_counts`) over their baseline."""
    limits, found = _chart(counts.astype(np.float64), weeks.baseline)
    return WeeklyThroughput(weeks, counts, limits, found)


class RecentThroughput:
    """The throughput chart the coach reads at any instant (``analytics.signals``), remembered: its weeks
    change once a week, and their counts rarely within one (only when a finished item is reopened)."""

    def __init__(self, first_finish_ns: int | None, timezone: str) -> None:
        self.first_finish, self.timezone = first_finish_ns, timezone
        self.weeks: dict[tuple[int, bool], Weeks] = {}
        self.charts: dict[tuple[int, bool, bytes], WeeklyThroughput] = {}

    def at(self, now: int, judged: tuple[np.int64, np.int64], finishes: IntArray) -> WeeklyThroughput:
        """The chart at ``now`` (UTC ns) judging the weeks ``[start, end)`` (UTC ns, :func:`recent_weeks`),
        from the finish instants of the items done at ``now``."""
        started = self.first_finish is not None and self.first_finish <= now
        key = (int(judged[1]), started)
        weeks = self.weeks.get(key)
        if weeks is None:
            start, end = (pd.Timestamp(int(edge), tz="UTC") for edge in judged)
            first = self.first_finish if started else None
            weeks = self.weeks[key] = chart_weeks(first, start, end, self.timezone)
        counts = week_counts(weeks, finishes)
        chart_key = (*key, counts.tobytes())
        if chart_key not in self.charts:
            self.charts[chart_key] = weekly_throughput(weeks, counts)
        return self.charts[chart_key]


def process_behaviour(
    timeline: Timeline, window: Window, baseline_weeks: int = BASELINE_WEEKS
) -> ProcessBehaviour:
    """Both XmR charts of the board as of its timeline's ``asof``, for the window (module docstring)."""
    items = timeline.items
    finished = items["finished"].to_numpy(dtype=bool)
    finished_at = utc_ns(items["finished_at"])[finished]
    weeks = chart_weeks(first_finish(timeline), window.start, window.end, window.timezone, baseline_weeks)
    throughput = weekly_throughput(weeks, week_counts(weeks, finished_at))

    start = min(int(weeks.boundaries[0]), window.start_ns) if len(weeks.mondays) else window.start_ns
    chosen = (finished_at >= start) & (finished_at < window.end_ns)
    order = np.argsort(finished_at[chosen], kind="stable")
    ids = np.asarray(items.index[finished], dtype=object)[chosen][order]
    stamps = finished_at[chosen][order]
    days = items["cycle_time_days"].to_numpy(dtype=np.float64)[finished][chosen][order]
    first, last = weeks.baseline
    span = (0, 0)
    if last > first:
        lo, hi = weeks.boundaries[first], weeks.boundaries[last]
        span = (int(np.searchsorted(stamps, lo, side="left")), int(np.searchsorted(stamps, hi, side="left")))
    limits, found = _chart(days, span)
    cycle_time = CycleTimeBehaviour(
        item_ids=tuple(str(item) for item in ids),
        finished_at=stamps,
        cycle_time_days=days,
        baseline=span,
        limits=limits,
        signals=found,
        provisional=weeks.provisional or span[1] - span[0] < PROVISIONAL_BELOW,
    )
    return ProcessBehaviour(baseline_weeks, throughput, cycle_time)


def first_finish(timeline: Timeline) -> int | None:
    """When an item first entered a ``done`` stage (UTC ns), reopened ones included; ``None`` if never."""
    done = np.array([stage.kind is StageKind.DONE for stage in timeline.workflow.stages], dtype=bool)
    stays = timeline.stays
    entered = stays["entered_at"].to_numpy(dtype=np.int64)[done[stays["stage"].to_numpy(dtype=np.int64)]]
    return int(entered.min()) if len(entered) else None


def _chart(values: FloatArray, baseline: tuple[int, int]) -> tuple[Limits | None, tuple[Signal, ...]]:
    first, last = baseline
    if last - first < MIN_BASELINE_POINTS:
        return None, ()
    limits = natural_limits(values[first:last])
    return limits, signals(values, limits)
