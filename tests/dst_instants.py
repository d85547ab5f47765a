"""Random instants in zones with DST, often within two hours of a clock change (hypothesis strategies).

Shared by the property tests of every local-time conversion: the analytics helpers, the command line's
parsing and the coach's local days. The standard library's ``zoneinfo`` serves as the oracle.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import numpy as np
import pandas as pd
from hypothesis import strategies as st

ZONES = ("Europe/Berlin", "America/New_York", "America/Havana", "America/Santiago", "Australia/Lord_Howe")
FIRST_YEAR, LAST_YEAR = 2000, 2037
NS = 1_000_000_000
HOUR_NS = 3600 * NS


@functools.cache
def transitions(zone: str) -> tuple[int, ...]:
    """Every UTC instant (ns) at which the zone's offset changes, found on an hourly grid then refined."""
    hours = pd.date_range(f"{FIRST_YEAR}-01-01", f"{LAST_YEAR + 1}-01-01", freq="h", tz="UTC")
    offsets = np.asarray((hours.tz_convert(zone).tz_localize(None) - hours.tz_localize(None)).asi8)
    changed = np.flatnonzero(np.diff(offsets)) + 1
    found = []
    for index in changed:  # transitions fall on whole minutes: find the minute the offset changes
        minutes = pd.date_range(hours[index - 1], hours[index], freq="min")
        local = np.asarray((minutes.tz_convert(zone).tz_localize(None) - minutes.tz_localize(None)).asi8)
        found.append(int(minutes[int(np.flatnonzero(local != local[0])[0])].value))
    return tuple(found)


@st.composite
def instants(draw: st.DrawFn) -> tuple[pd.Timestamp, str]:
    """A zone and an instant in it: half the time anywhere in 2000-2037, half within 2 h of a DST change."""
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        low = pd.Timestamp(f"{FIRST_YEAR}-01-01", tz="UTC").value
        high = pd.Timestamp(f"{LAST_YEAR}-12-31", tz="UTC").value
        ns = draw(st.integers(low, high))
    else:
        change = draw(st.sampled_from(transitions(zone)))
        ns = change + draw(st.integers(-2 * HOUR_NS, 2 * HOUR_NS))
    return pd.Timestamp(ns, tz="UTC"), zone


def stdlib_local(moment: pd.Timestamp, zone: str) -> dt.datetime:
    """The instant (to the second, floored) as the standard library reads it in ``zone``."""
    return dt.datetime.fromtimestamp(moment.value // NS, tz=zoneinfo.ZoneInfo(zone))
