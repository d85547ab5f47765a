"""How numbers, times and names read to a person, the same on a terminal and in Slack.

Leaf module: it imports nothing from the application, so every edge (the CLI's reports, Slack's blocks)
and the coach can share one wording of "3.5 d", "42%" or "synced 5 min ago".
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd


def local_time(moment: pd.Timestamp, timezone: str) -> str:
    """``Fri 20 Nov 2026 17:00``, in the board's time zone."""
    return pd.Timestamp(moment).tz_convert(timezone).strftime("%a %d %b %Y %H:%M")


def days(value: float | None) -> str:
    """Days with one decimal, or an em dash for "no data"."""
    return "—" if value is None or math.isnan(value) else f"{value:.1f} d"


def percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.0%}"


def count_of(count: int, noun: str) -> str:
    """ "1 item", "2,000 items": thousands separated, the noun in the plural unless there is one."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:-") + "…"


TITLE_WIDTH = 60  # an item's title next to its id: enough to recognise it, short enough for one line


def item_title(title: object) -> str | None:
    """An item's title shortened to ``TITLE_WIDTH`` characters (``None`` when it has none)."""
    if not isinstance(title, str) or not title.strip():
        return None
    return shorten(title, TITLE_WIDTH)


def working_time(hours: float, day_hours: float | None) -> str:
    """``6 working hours``, or beyond one working day (``day_hours`` long) ``10.8 working days``."""
    if day_hours and hours >= day_hours:
        return f"{hours / day_hours:.1f} working days"
    return f"{hours:.0f} working hours"


def freshness(last_synced_at: dt.datetime | None, now: dt.datetime) -> str:
    """``never synced``, ``synced 5 min ago``, ``synced 3 h ago``, ``synced 2 days ago``."""
    return "never synced" if last_synced_at is None else f"synced {ago(last_synced_at, now)}"


def ago(moment: dt.datetime, now: dt.datetime) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago``: how long before ``now``."""
    minutes = max(0, int((now - moment).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"
