"""Times given on the command line: ISO 8601 dates or instants, read in the board's time zone."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bot.errors import UsageError


def parse_instant(text: str, timezone: str, *, option: str) -> pd.Timestamp:
    """``2026-03-31`` (local midnight), ``2026-03-31T09:00`` (local) or with an offset/``Z``; aware, UTC."""
    try:
        stamp = pd.Timestamp(dt.datetime.fromisoformat(text.strip()))
    except ValueError:
        raise UsageError(
            f"{option}: '{text}' is not an ISO 8601 date or time"
            " (e.g. 2026-03-31 or 2026-03-31T09:00:00+01:00)"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("ns")


def parse_date(text: str, *, option: str) -> dt.date:
    """A calendar date ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: '{text}' is not a date YYYY-MM-DD (e.g. 2026-12-31)") from None


def now_utc() -> pd.Timestamp:
    """The wall clock, read in one place so every command agrees on "now"."""
    return pd.Timestamp.now(tz="UTC").as_unit("ns")
