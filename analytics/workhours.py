"""Working time in a board's calendar: its working days and hours, in its time zone (``spec/coaching.md``).

Thresholds such as "blocked for 16 working hours" or "the last 5 working days" count only time inside the
working hours of working days. A working day is the interval [local date + start, local date + end),
converted to UTC with the zone's rules (zoneinfo), so:

- days are local calendar days, and a DST change outside the hours changes nothing: 09:00–18:00 local is
  9 h on every working day, the change days included;
- a change inside the hours counts the real elapsed time: 01:00–04:00 local is 2 h on the spring change day
  and 4 h on the autumn one;
- a wall time that does not exist (clocks going forward) moves forward to the first that does; one that
  happens twice (clocks going back) is its first, summer-time occurrence.

Everything is answered from a table of working periods (UTC nanoseconds) with the working time before
each. ``W(x)``, the working time from the table's start to ``x``, is a ``searchsorted`` and a clip, so
``working_seconds(a, b) = W(b) - W(a)`` costs the same for one span of a minute or a million spans of years.
Tables cover whole calendar years and are cached per calendar and range of years.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.workflow import WEEKDAYS

if TYPE_CHECKING:
    from analytics.workflow import Workflow

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
NS_PER_SECOND = 1_000_000_000
_NS_PER_DAY = 86_400 * NS_PER_SECOND
# Years whose every instant fits int64 nanoseconds (pandas' range is 1677-09-21 … 2262-04-11).
_FIRST_YEAR, _LAST_YEAR = 1678, 2261


@dataclass(frozen=True)
class WorkCalendar:
    """When a team works: ``working_days`` ("mon" … "sun") and ``working_hours`` (local start, end) in
    ``timezone`` (an IANA name). Build it from a board with :meth:`of`."""

    timezone: str
    working_days: tuple[str, ...]
    working_hours: tuple[dt.time, dt.time]

    def __post_init__(self) -> None:
        zoneinfo.ZoneInfo(self.timezone)  # an unknown zone fails here, not at the first question
        unknown = [day for day in self.working_days if day not in WEEKDAYS]
        if unknown or not self.working_days:
            raise ValueError(f"working_days: expected some of {', '.join(WEEKDAYS)}, got {self.working_days}")
        start, end = self.working_hours
        if start >= end:
            raise ValueError("working_hours: the start must be before the end")

    @classmethod
    def of(cls, workflow: Workflow) -> WorkCalendar:
        """The calendar of a board's workflow."""
        return cls(workflow.timezone, workflow.working_days, workflow.working_hours)

    @property
    def day_seconds(self) -> float:
        """The nominal length of a working day in seconds: end − start on the wall clock (9 h = 32,400)."""
        return _day_ns(self) / NS_PER_SECOND


def working_seconds(start: pd.Timestamp, end: pd.Timestamp, calendar: WorkCalendar) -> float:
    """Seconds of working time in ``[start, end)``; 0 when ``end <= start``.

    Both instants must be timezone-aware. Additive (``ws(a, b) + ws(b, c) == ws(a, c)`` for a ≤ b ≤ c) and
    never more than the elapsed time. Fri 17:00 → Mon 10:00 with 09:00–18:00 Mon–Fri is 7,200 s (2 h).
    """
    a, b = _ns(start), _ns(end)
    if b <= a:
        return 0.0
    periods = _periods_covering(calendar, a, b)
    return (periods.worked_at(b) - periods.worked_at(a)) / NS_PER_SECOND


def working_seconds_many(start_ns: IntArray, end_ns: IntArray, calendar: WorkCalendar) -> FloatArray:
    """:func:`working_seconds` element-wise over int64 UTC nanosecond arrays of equal length.

    Spans with ``end <= start`` give 0. Empty arrays give an empty array.
    """
    start_ns = np.asarray(start_ns, dtype=np.int64)
    end_ns = np.asarray(end_ns, dtype=np.int64)
    if start_ns.shape != end_ns.shape:
        raise ValueError("start_ns and end_ns must have the same length")
    if start_ns.size == 0:
        return np.zeros(0, dtype=np.float64)
    periods = _periods_covering(calendar, min(int(start_ns.min()), int(end_ns.min())), int(end_ns.max()))
    worked = periods.worked(end_ns) - periods.worked(start_ns)
    return np.where(end_ns > start_ns, np.maximum(worked, 0), 0) / NS_PER_SECOND


def is_working_time(moment: pd.Timestamp, calendar: WorkCalendar) -> bool:
    """Whether ``moment`` (aware) lies in working hours: start inclusive, end exclusive (18:00 is not)."""
    x = _ns(moment)
    periods = _periods_covering(calendar, x, x)
    i = int(np.searchsorted(periods.opens, x, side="right")) - 1
    return i >= 0 and x < int(periods.opens[i] + periods.lengths[i])


def next_working_time(moment: pd.Timestamp, calendar: WorkCalendar) -> pd.Timestamp:
    """``moment`` itself if it is working time, else the start of the next working period.

    The result is in ``moment``'s time zone. Sat 10:00 → Mon 09:00; Tue 18:00 → Wed 09:00.
    """
    if is_working_time(moment, calendar):
        return pd.Timestamp(moment)
    x = _ns(moment)
    periods = _periods_covering(calendar, x, x)
    i = int(np.searchsorted(periods.opens, x, side="right"))
    return _timestamp(int(periods.opens[i]), moment)


def working_days_back(moment: pd.Timestamp, days: int, calendar: WorkCalendar) -> pd.Timestamp:
    """The instant ``days`` working days of working time before ``moment``, in working hours.

    The result ``r`` is the one instant in working hours with ``working_seconds(r, moment) == days ×
    calendar.day_seconds``: from Mon 10:00, one working day back is Fri 10:00; from Fri
    18:00 (or any time that weekend), five working days back is that week's Mon 09:00, not the previous
    Fri 18:00. In ``moment``'s time zone; ``days`` must be ≥ 0, and 0 gives ``moment`` itself.
    """
    if days < 0:
        raise ValueError("days must be ≥ 0")
    x = _ns(moment)
    if days == 0:
        return pd.Timestamp(moment)
    # Enough calendar days to hold ``days`` working days, with slack for short DST days and partial weeks.
    calendar_days = days * 7 // len(calendar.working_days) + 14
    periods = _periods_covering(calendar, x - calendar_days * _NS_PER_DAY, x)
    target = periods.worked_at(x) - days * _day_ns(calendar)
    ends = periods.before[1:]  # working time up to the end of each period
    i = int(np.searchsorted(ends, target, side="right"))
    return _timestamp(int(periods.opens[i]) + target - int(periods.before[i]), moment)


@dataclass(frozen=True)
class _Periods:
    """Working periods of whole local years, in time order: ``opens`` and ``lengths`` (ns), ``before``
    (working ns before each period; one longer, ending with the total), and the instants covered."""

    opens: IntArray
    lengths: IntArray
    before: IntArray
    low: int
    high: int

    def worked_at(self, instant_ns: int) -> int:
        """:meth:`worked` for one instant, without array overhead."""
        x = min(max(instant_ns, self.low), self.high)
        i = int(np.searchsorted(self.opens, x, side="right")) - 1
        if i < 0:
            return 0
        return int(self.before[i]) + min(max(x - int(self.opens[i]), 0), int(self.lengths[i]))

    def worked(self, instants_ns: IntArray) -> IntArray:
        """Working ns from ``low`` to each instant (instants outside the table are clipped into it)."""
        x = np.clip(instants_ns, self.low, self.high)
        i = np.searchsorted(self.opens, x, side="right").astype(np.int64) - 1
        j = np.maximum(i, 0)
        inside = np.clip(x - self.opens[j], 0, self.lengths[j])
        return np.where(i >= 0, self.before[j] + inside, 0).astype(np.int64)


def _periods_covering(calendar: WorkCalendar, low_ns: int, high_ns: int) -> _Periods:
    """A cached table whose years include every local date of [low_ns, high_ns], with a year to spare."""
    instants = np.array([low_ns, high_ns], dtype="datetime64[ns]")
    years = instants.astype("datetime64[Y]").astype(np.int64) + 1970
    first = min(max(int(years[0]) - 1, _FIRST_YEAR), _LAST_YEAR)
    last = min(max(int(years[1]) + 1, first), _LAST_YEAR)
    return _periods(calendar, first, last)


@functools.lru_cache(maxsize=128)
def _periods(calendar: WorkCalendar, first_year: int, last_year: int) -> _Periods:
    dates = pd.date_range(dt.date(first_year, 1, 1), dt.date(last_year + 1, 1, 1), freq="D").as_unit("ns")
    working = np.isin(dates.day_of_week, [WEEKDAYS.index(day) for day in calendar.working_days])
    days = dates[:-1][working[:-1]]
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    opens = _utc_ns(days + _wall_offset(calendar.working_hours[0]), zone)
    closes = _utc_ns(days + _wall_offset(calendar.working_hours[1]), zone)
    lengths = closes - opens
    keep = lengths > 0  # a day whose hours fall wholly into a DST gap has none
    opens, lengths = opens[keep], lengths[keep]
    bounds = _utc_ns(dates[[0, -1]], zone)
    before = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return _Periods(opens, lengths, before, int(bounds[0]), int(bounds[1]))


def _utc_ns(local: pd.DatetimeIndex, zone: zoneinfo.ZoneInfo) -> IntArray:
    """Naive local wall times as UTC ns: ambiguous → the first (DST) occurrence, nonexistent → forward."""
    aware = local.tz_localize(zone, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_forward")
    return np.asarray(aware.as_unit("ns").asi8, dtype=np.int64)


def _day_ns(calendar: WorkCalendar) -> int:
    start, end = calendar.working_hours
    return _time_ns(end) - _time_ns(start)


def _time_ns(time: dt.time) -> int:
    seconds = time.hour * 3600 + time.minute * 60 + time.second
    return seconds * NS_PER_SECOND + time.microsecond * 1000


def _wall_offset(time: dt.time) -> pd.Timedelta:
    return pd.Timedelta(
        hours=time.hour, minutes=time.minute, seconds=time.second, microseconds=time.microsecond
    )


def _ns(moment: pd.Timestamp) -> int:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return int(stamp.value)


def _timestamp(ns: int, like: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(ns, tz="UTC").tz_convert(pd.Timestamp(like).tz)
