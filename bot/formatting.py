"""How numbers, times and names read to a person, the same on a terminal and in Slack.

Leaf module: it imports nothing from the application (only ``analytics.words``, so that analytics' own
texts count the same way), so every edge (the CLI's reports, Slack's blocks) and the coach can share one
wording of "3.5 d", "42%", "1 item" or "synced 5 min ago".
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from analytics import words


def day_label(date: dt.date, *, year: bool = True) -> str:
    """``Wed 2 Dec 2026`` (``Wed 2 Dec`` without the year): the one date style of every text, the weekday
    because people plan by it, no leading zero on the day."""
    return f"{date:%a} {date.day} {date:%b}" + (f" {date:%Y}" if year else "")


def local_time(moment: pd.Timestamp, timezone: str, *, year: bool = True) -> str:
    """``Fri 20 Nov 2026 17:00`` (or ``Fri 20 Nov 17:00``), in the board's time zone."""
    local = pd.Timestamp(moment).tz_convert(timezone)
    return f"{day_label(local.date(), year=year)} {local:%H:%M}"


def days(value: float | None) -> str:
    """Days with one decimal, or an em dash for "no data"."""
    return "—" if value is None or math.isnan(value) else f"{value:.1f} d"


def percent(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.0%}"


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 item", "2,000 items", "3 batches": analytics' own rule, so its texts count the same way."""
    return words.count_of(count, noun, plural)


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
    """``6 working hours`` (``1 working hour``), or beyond one working day (``day_hours`` long)
    ``10.8 working days``."""
    if day_hours and hours >= day_hours:
        return f"{hours / day_hours:.1f} working days"
    return count_of(round(hours), "working hour")


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
