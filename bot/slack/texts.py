"""Every word flowcoach shows in Slack, in one module, so the wording stays consistent and reviewable.

The Block Kit builders in ``bot.slack.blocks`` arrange blocks; the words, units and markers come from here.
Arguments that end up in mrkdwn arrive already escaped (names, titles, links): these functions only put words
and numbers in order. Numbers arrive formatted with ``bot.report``'s helpers (``7.1 d``, ``85%``) so the
terminal and Slack read alike.
"""

from __future__ import annotations

import datetime as dt

# --- Shared: markers, lists, sync state -------------------------------------------------------------------

OVER_LIMIT = "▲ over limit"  # the same triangle as the terminal report, so the two read alike
PILING_UP = "▲"
SEPARATOR = " · "
NO_CHANNEL = "no channel yet"


def more(count: int) -> str:
    """The last line of a list cut short."""
    return f"… and {count} more"


def stale_warning(freshness: str) -> str:
    return f":warning: These numbers may be out of date: {freshness}."


def sync_failed(error: str, freshness: str) -> str:
    return f":warning: The last sync failed: {error}. Numbers shown: {freshness}."


def short_date(date: dt.date) -> str:
    """``Tue 15 Dec 2026``: the weekday helps people plan, no leading zero on the day."""
    return f"{date:%a} {date.day} {date:%b %Y}"


# --- /flow status -------------------------------------------------------------------------------------------


def status_header(board: str) -> str:
    return f"{board} — flow status"


def wip_total(total: int, limit: int | None) -> str:
    if limit is None:
        return f"*{total} items in progress* (no board limit)"
    over = f"  *▲ {total - limit} over the limit*" if total > limit else ""
    return f"*{total} items in progress* (board limit {limit}){over}"


NOTHING_IN_PROGRESS = "*Nothing in progress.* No started item is waiting or being worked on."
NOTHING_STUCK = "Nothing blocked, nothing aging."


def stage_field(name: str, bar: str, wip: int, limit: int | None, *, over: bool) -> str:
    """One stage in the WIP grid: name (with the over-limit marker), then the bar and the count."""
    marker = f"  *{OVER_LIMIT}*" if over else ""
    count = f"{wip} / {limit}" if limit is not None else f"{wip} (no limit)"
    return f"*{name}*{marker}\n" + (f"{bar} {count}" if bar else count)


def blocked_heading(count: int) -> str:
    return f"*Blocked ({count})*"


def blocked_line(link: str, stage: str, blocked_for: str, title: str | None) -> str:
    label = f" {title}" if title else ""
    return f"• {link}{label} — {stage}, blocked {blocked_for}"


def aging_heading(count: int, sle: str | None) -> str:
    past = f" or past the SLE ({sle})" if sle else ""
    return f"*Aging ({count})* — older than 70% of recently finished items{past}"


def aging_line(
    link: str, stage: str, age: str, pace: str, *, past_sle: bool, blocked: bool, title: str | None
) -> str:
    flags = "".join([" · *past SLE*" if past_sle else "", " · blocked" if blocked else ""])
    label = f" — {title}" if title else ""
    return f"• {link} {stage} · *{age}* old · pace {pace}{flags}{label}"


def sle_summary(percentile: float, sle_days: str | None, window_days: int) -> str:
    if sle_days is None:
        return f"SLE: nothing finished in the last {window_days} days"
    return f"SLE: {percentile:g}% within {sle_days}"


def throughput_summary(total: int, window_days: int, per_week: float) -> str:
    return f"Throughput: {total} items in {window_days} days ({per_week:.1f} per week)"


def status_fallback(
    board: str, wip: int, limit: int | None, over_stages: list[str], blocked: int, aging: int
) -> str:
    """The notification line: what a phone's lock screen shows."""
    parts = [f"{wip} in progress" + (f" (limit {limit})" if limit is not None else "")]
    if over_stages:
        parts.append("over limit: " + ", ".join(over_stages))
    parts.extend([f"{blocked} blocked", f"{aging} aging"])
    return f"{board}: " + "; ".join(parts)


# --- Charts (/flow aging, cycle, throughput, cfd): the words that go with each image ---------------------

CHART_NAMES = {
    "aging": "aging work in progress",
    "cycle": "cycle time",
    "throughput": "throughput",
    "cfd": "cumulative flow",
}


def chart_title(board: str, kind: str, asof: dt.date) -> str:
    return f"{board} — {CHART_NAMES[kind]}, {short_date(asof)}"


def aging_chart_heading(count: int) -> str:
    return f"*{count} items past 70% pace* (older than 70% of recently finished items), oldest first"


def aging_comment(count: int, oldest: str | None, oldest_age: str | None) -> str:
    if count == 0 or oldest is None:
        return "No item is past 70% pace."
    return f"{count} items past 70% pace; the oldest, {oldest}, is {oldest_age} old."


NO_AGING = "No item in progress is past 70% pace."
NO_PACE = "No pace yet: nothing finished in the last {days} days to compare ages with."
PACE_EXPLAINED = "Pace: the share of items finished in the last {days} days that took less time."


def percentile_field(level: int, value: str) -> str:
    return f"*{level}%* of items\nwithin *{value}*"


def cycle_basis(count: int, window_days: int, largest: str) -> str:
    return f"{count} items finished in the last {window_days} days; the longest took {largest}."


def no_cycle(window_days: int) -> str:
    return f"No item finished in the last {window_days} days, so there is no cycle time yet."


def cycle_comment(p85: str | None, count: int, window_days: int) -> str:
    if p85 is None:
        return no_cycle(window_days)
    return f"85% of items finished within {p85} over the last {window_days} days ({count} items)."


def week_label(first: dt.date, last: dt.date, *, partial: bool) -> str:
    span = (
        f"{first.day}–{last.day} {last:%b}"
        if (first.year, first.month) == (last.year, last.month)
        else f"{first.day} {first:%b} – {last.day} {last:%b}"
    )
    return f"{span} (partial week)" if partial else span


def week_line(label: str, bar: str, count: int) -> str:
    return f"{label}  {bar} *{count}*"


def throughput_heading(window_days: int) -> str:
    return f"*Items finished per week*, last {window_days} days"


def throughput_average(total: int, per_week: float) -> str:
    return f"{total} items in all: *{per_week:.1f} per week* on average."


def throughput_comment(total: int, window_days: int, per_week: float) -> str:
    if total == 0:
        return f"Nothing finished in the last {window_days} days."
    return f"{total} items finished in the last {window_days} days: {per_week:.1f} per week."


def cfd_field(name: str, arrivals: int, departures: int, *, piling: bool) -> str:
    marker = f"  *{PILING_UP} +{arrivals - departures}*" if piling else ""
    return f"*{name}*{marker}\n{arrivals} in · {departures} out"


def cfd_heading(window_days: int) -> str:
    return f"*Arrivals and departures per stage*, last {window_days} days"


def cfd_explained() -> str:
    return f"{PILING_UP}: more items arrived than left, so work is piling up there."


def cfd_comment(piling: list[tuple[str, int, int]], window_days: int) -> str:
    if not piling:
        return f"No stage took in more than it let out over the last {window_days} days."
    listed = ", ".join(f"{name} ({arrived} in, {left} out)" for name, arrived, left in piling)
    return f"Work is piling up in {listed} over the last {window_days} days."


# --- /flow forecast -----------------------------------------------------------------------------------------


def forecast_when_question(board: str, items: int) -> str:
    return f"{board}: when will the next {items} items be done?"


def forecast_how_many_question(board: str, by: dt.date) -> str:
    return f"{board}: how many items will be done by {short_date(by)}?"


def forecast_when_line(level: int, date: dt.date, days: int) -> str:
    return f"*{level}%* chance: on or before *{short_date(date)}* (within {days} days)"


def forecast_how_many_line(level: int, count: int, days: int) -> str:
    return f"*{level}%* chance: at least *{count} items* (in {days} days)"


def forecast_basis(trials: int, window_days: int, finished: int, asof: str) -> str:
    return (
        f"Based on {trials:,} simulations of the daily throughput of the last {window_days} days "
        f"({finished} items finished), as of {asof}."
    )


# --- App Home -----------------------------------------------------------------------------------------------

HOME_HEADER = "flowcoach"
HOME_INTRO = "Work in progress against limits on every board of this workspace."
HOME_EMPTY = (
    "*flowcoach keeps your team's work flowing.*\n"
    "Connect a board and it posts WIP against limits, blocked and aging items and forecasts in your channel, "
    "and nudges the team when work piles up."
)
HOME_CANNOT_CONNECT = "Ask a workspace admin to connect a board."
HOME_NO_DATA = "No data yet."
BUTTON_CONNECT = "Connect a board"
BUTTON_CONNECT_ANOTHER = "Connect another board"
BUTTON_SETTINGS = "Settings"
BUTTON_POST_STATUS = "Post status in channel"


def home_board_title(name: str, channel: str) -> str:
    return f"*{name}*{SEPARATOR}{channel}"


def home_stage(name: str, wip: int, limit: int | None, *, over: bool) -> str:
    count = f"{name} {wip}/{limit}" if limit is not None else f"{name} {wip}"
    return f"*{count} ▲*" if over else count


def home_wip(total: int, limit: int | None, *, over: bool) -> str:
    text = f"WIP {total}/{limit}" if limit is not None else f"WIP {total}"
    return f"*{text} ▲*" if over else f"*{text}*"


def home_stuck(blocked: int, aging: int) -> str:
    return f"{blocked} blocked{SEPARATOR}{aging} aging"


def home_problem(problem: str) -> str:
    return f":warning: {problem}"


def home_more_boards(count: int) -> str:
    return f"*{count} more boards*"


def home_summary_line(name: str, wip: str | None) -> str:
    return f"• *{name}*{SEPARATOR}{wip}" if wip else f"• *{name}*"


HOME_MORE_BOARDS_HINT = "For these boards, use `/flow [board] status`."
