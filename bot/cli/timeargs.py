"""Times given on the command line: ISO 8601 dates or instants, read in the board's time zone."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:  # pandas loads when a time is read, not when the parser is built
    import pandas as pd

# Ten-year windows before and ten-year forecasts after any time in these years stay inside the range pandas
# can hold (1677-2262), and no tracker's history starts earlier.
FIRST_YEAR, LAST_YEAR = 1900, 2199


def parse_instant(text: str, timezone: str, *, option: str) -> pd.Timestamp:
    """``2026-03-31`` (local midnight), ``2026-03-31T09:00`` (local) or with an offset/``Z``; aware, UTC."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option}: '{text}' is not an ISO 8601 date or time"
            " (e.g. 2026-03-31 or 2026-03-31T09:00:00+01:00)"
        ) from None
    _within_years(moment.date(), text, option)
    import pandas as pd

    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("ns")


def parse_date(text: str, *, option: str) -> dt.date:
    """A calendar date ``YYYY-MM-DD``."""
    try:
        date = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: '{text}' is not a date YYYY-MM-DD (e.g. 2026-12-31)") from None
    _within_years(date, text, option)
    return date


def _within_years(date: dt.date, text: str, option: str) -> None:
    if not FIRST_YEAR <= date.year <= LAST_YEAR:
        raise UsageError(f"{option}: '{text}' is outside the years {FIRST_YEAR} to {LAST_YEAR}")


def now_utc() -> pd.Timestamp:
    """The wall clock, read in one place so every command agrees on "now"."""
    import pandas as pd

    return pd.Timestamp.now(tz="UTC").as_unit("ns")
