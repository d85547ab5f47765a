"""Calendar days in the workflow's time zone: "a day" is a local calendar day (``spec/metrics.md``).

Days are handled as UTC nanosecond boundaries (local midnights), so binning instants into days is a
``searchsorted`` and DST days of 23 or 25 hours come out right without special cases.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Window:
    """The half-open window ``[start, end)`` and the local calendar days it touches.

    ``dates`` runs from the local date of ``start`` to the local date of the last instant before ``end``, so a
    window that starts and ends at local midnight has exactly ``days`` dates, and one that starts at noon has
    ``days + 1`` (the first and last partial, together covering one day's hours). Days are local calendar
    days, so across a DST change the window is an hour shorter or longer than ``days × 24 h``.
    ``boundaries`` holds ``len(dates) + 1`` local midnights as
    int64 UTC nanoseconds: day ``i`` is ``[boundaries[i], boundaries[i + 1])``.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    days: int
    timezone: str
    dates: tuple[dt.date, ...]
    boundaries: IntArray

    @property
    def start_ns(self) -> int:
        return int(self.start.value)

    @property
    def end_ns(self) -> int:
        return int(self.end.value)

    def day_index(self, instants_ns: IntArray) -> IntArray:
        """Index into ``dates`` of each instant (callers keep only instants inside the window)."""
        return np.searchsorted(self.boundaries, instants_ns, side="right").astype(np.int64) - 1


def days_before(moment: pd.Timestamp, days: int, timezone: str) -> pd.Timestamp:
    """The same local wall-clock time ``days`` calendar days earlier, in UTC.

    Calendar days, not multiples of 24 hours: a week back from local midnight is local midnight, even across
    a DST change. A wall time that does not exist on the earlier day moves forward to the first that does.
    """
    local = pd.Timestamp(moment).tz_convert(timezone)
    earlier = local.tz_localize(None) - pd.Timedelta(days=days)
    return (
        earlier.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
        .tz_convert("UTC")
        .as_unit("ns")
    )


def window_ending(end: pd.Timestamp, days: int, timezone: str) -> Window:
    """The window of ``days`` local calendar days that ends at ``end`` (aware)."""
    if days < 1:
        raise ValueError("a window is at least one day long")
    end_utc = pd.Timestamp(end).tz_convert("UTC").as_unit("ns")
    start_utc = days_before(end_utc, days, timezone)
    first = start_utc.tz_convert(timezone).date()
    last = (end_utc - pd.Timedelta(1, "ns")).tz_convert(timezone).date()
    dates = tuple(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    boundaries = local_midnights([*dates, last + dt.timedelta(days=1)], timezone)
    return Window(start_utc, end_utc, days, timezone, dates, boundaries)


def full_weeks(
    since: pd.Timestamp, until: pd.Timestamp, timezone: str
) -> tuple[tuple[dt.date, ...], IntArray]:
    """The local Monday-to-Sunday weeks lying wholly in ``[since, until)`` (aware instants), oldest first.

    Returns each week's Monday and ``len + 1`` boundaries (local Monday midnights as int64 UTC nanoseconds):
    week ``i`` is ``[boundaries[i], boundaries[i + 1])``. A week begun before ``since`` or not over by
    ``until`` is left out; across a DST change a week is an hour shorter or longer than 168 hours.
    """
    first_day = pd.Timestamp(since).tz_convert(timezone).date()
    first = first_day + dt.timedelta(days=(7 - first_day.weekday()) % 7)
    if local_midnights([first], timezone)[0] < pd.Timestamp(since).value:
        first += dt.timedelta(days=7)  # ``since`` is later on that Monday: its week has begun
    last_day = pd.Timestamp(until).tz_convert(timezone).date()
    end = last_day - dt.timedelta(days=last_day.weekday())  # the week ``until`` falls in is not over
    count = max((end - first).days // 7, 0)
    mondays = tuple(first + dt.timedelta(days=7 * week) for week in range(count))
    return mondays, local_midnights([*mondays, first + dt.timedelta(days=7 * count)], timezone)


def local_midnights(dates: list[dt.date], timezone: str) -> IntArray:
    """The instant each local date begins, as int64 UTC nanoseconds.

    Where a zone skips midnight (a DST jump at 00:00) the day begins at the first existing instant; where
    midnight happens twice, at the first occurrence.
    """
    naive = pd.DatetimeIndex(pd.to_datetime(list(dates))).as_unit("ns")
    aware = naive.tz_localize(
        timezone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return np.asarray(aware.tz_convert("UTC").asi8, dtype=np.int64)


def day_start(date: dt.date, timezone: str) -> pd.Timestamp:
    """The instant the local ``date`` begins, in UTC (see :func:`local_midnights` for skipped midnights).

    ``Timestamp.normalize()`` or ``tz_localize`` with their defaults raise where a zone's clocks change at
    midnight; this never does.
    """
    return pd.Timestamp(int(local_midnights([date], timezone)[0]), tz="UTC")


def to_local_iso(moment: pd.Timestamp | dt.datetime, timezone: str) -> str:
    """ISO 8601 text with the local offset, to the second (``2026-01-31T12:00:00+01:00``).

    Truncated in UTC, then converted: truncating a local time in the hour that repeats when clocks go back
    makes pandas ask which of its two readings is meant, and it raises. Every zone's offset is a whole number
    of seconds, so the local text is the same. The standard library converts, a tenth of pandas' time per
    call: a metrics document writes hundreds of these.
    """
    instant = pd.Timestamp(moment)
    if instant.tz is None:
        raise TypeError(f"to_local_iso needs an aware instant, got {moment!r}")
    return dt.datetime.fromtimestamp(instant.value // 1_000_000_000, zoneinfo.ZoneInfo(timezone)).isoformat()
