"""A nudge in words: what the coach sees, why it matters for flow, one next step (``spec/coaching.md``).

The words are the coach's, the same in replay, the demo and Slack; only the markup differs. A ``Markup``
says how names are escaped and items linked: ``PLAIN`` for text (replay, notifications), and the Slack
edge passes its own (mrkdwn escaping, ``<url|ID>`` links, ``*bold*`` kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.coach.lifecycle import Alert
from bot.coach.rules import BOARD_SUBJECT
from bot.formatting import count_of, item_title, working_time

WHAT_BOARD = "The whole board is at *{wip}/{limit}* WIP{pulled}."
WHAT = {
    "wip_limit_exceeded": "*{subject}* is at *{wip}/{limit}* WIP{pulled}.",
    "queue_growing": (
        "*{subject}* is growing: {arrivals} in, {departures} out over the last {working_days} "
        "({wip_before} → {wip} waiting)."
    ),
    "stage_starving": "*{subject}* has had nothing to pull for {duration} while {upstream} holds "
    "{upstream_items}.",
    "item_at_risk": "{item} is *{age_days:.1f} days* old and still in {stage}: 85 % of recent items had left "
    "{stage} by {p85_days:.1f} days.",
    "item_aging": "{item} has been in progress for *{age_days:.1f} days* in {stage}, past the SLE of "
    "{sle_days:.1f} days.",
    "item_blocked": "{item} has been blocked for *{duration}* in {stage}.",
    "throughput_shift": "Throughput last week ({week_span}), *{count}*, {change}.",
}
WHAT_DUE = (
    "{item} is *{age_days:.1f} days* old in {stage} and passes the SLE of {sle_days:.1f} days in *{due}*."
)
PULLED = " ({item} was just pulled in)"
NEXT_BOARD = "Stop starting, start finishing: finish something before pulling anything new."
WHY = {
    "wip_limit_exceeded": "More work in progress than agreed means every item waits longer.",
    "queue_growing": "A growing queue is where delivery time goes: items wait there, nobody works on them.",
    "stage_starving": "Idle capacity downstream of full stages: {upstream} is the likely constraint.",
    "item_at_risk": "It is on course to miss the SLE; now, before it does, is when swarming still helps.",
    "item_aging": "Old work gets older: each day it waits, the odds it is still needed as built go down.",
    "item_blocked": "Blocked work still counts as WIP and hides the queue behind it.",
    "throughput_shift": "A real change, not noise: in ordinary weeks throughput stays within these limits "
    "and keeps crossing its average.",
}
NEXT = {
    "wip_limit_exceeded": "Stop starting, start finishing: who can help finish something in {subject}?",
    "queue_growing": "Find what holds items in {subject}, and pull from it before starting anything new.",
    "stage_starving": "Can people from {subject} help {upstream} finish, instead of starting new work?",
    "item_at_risk": "Who can help move it out of {stage} today? If something holds it, say what.",
    "item_aging": "Swarm on it or split it; if it cannot move, say what is in the way.",
    "item_blocked": "Who can unblock it today? Escalate the dependency if it is outside the team.",
    "throughput_shift": "Look for its cause while it is fresh: {question}",
}
TITLE = {
    "wip_limit_exceeded": "WIP limit exceeded",
    "queue_growing": "Queue growing",
    "stage_starving": "Stage starving",
    "item_at_risk": "Item at risk",
    "item_aging": "Item past the SLE",
    "item_blocked": "Item blocked",
    "throughput_shift": "Throughput shift",
}
# throughput_shift: what changed, by the signal's rule and side, and what to ask about it.
SHIFT_CHANGE = {
    ("outside_limits", "below"): "is below the lower limit of {lower:.1f}; {basis}",
    ("outside_limits", "above"): "is above the upper limit of {upper:.1f}; {basis}",
    ("run_of_8", "below"): "makes *{run} weeks in a row* below the average; {basis}",
    ("run_of_8", "above"): "makes *{run} weeks in a row* above the average; {basis}",
}
SHIFT_BASIS = "the {weeks} weeks from {first} to {last} averaged {centre:.1f} a week"
SHIFT_QUESTION = {
    "below": "what changed last week? People away, a blocker, bigger items, more unplanned work?",
    "above": "what went differently last week, and is it worth keeping?",
}


@dataclass(frozen=True)
class Markup:
    """How names become text on one surface: escaped, items linked, ``*bold*`` kept or dropped."""

    escape: Callable[[str], str]
    link: Callable[[str, str | None], str]  # (item id, its URL or None) → the item as shown
    bold: bool


PLAIN = Markup(escape=lambda text: text, link=lambda item_id, _url: item_id, bold=False)


def _named(item_id: str, url: object, title: object, markup: Markup) -> str:
    """An item as a nudge names it: its id (linked) and its title, shortened, so readers know which it is."""
    link = markup.link(item_id, str(url) if url else None)
    short = item_title(title)
    return f"{link} “{markup.escape(short)}”" if short else link


def _fields(alert: Alert, markup: Markup) -> dict[str, object]:
    facts = dict(alert.facts)
    pulled = facts.get("pulled")
    if pulled:
        pulled = _named(str(pulled), facts.get("pulled_url"), facts.get("pulled_title"), markup)
    facts["pulled"] = PULLED.format(item=pulled) if pulled else ""
    facts["subject"] = markup.escape(alert.subject)
    facts["item"] = _named(alert.subject, facts.get("url"), facts.get("title"), markup)
    hours, day_hours = _number(facts.get("hours")), _number(facts.get("day_hours"))
    if hours is not None:
        facts["duration"] = working_time(hours, day_hours)
    due_hours = _number(facts.get("due_hours"))
    if due_hours is not None:  # within a working day: hours say how soon
        facts["due"] = count_of(max(1, round(due_hours)), "working hour")
    days = _number(facts.get("days"))
    if days is not None:
        facts["working_days"] = count_of(round(days), "working day")
    count = int(_number(facts.get("upstream_wip")) or 0)
    facts["upstream_items"] = count_of(count, "item")
    facts["upstream"] = markup.escape(str(facts.get("upstream") or "earlier stages"))
    facts["stage"] = markup.escape(str(facts.get("stage") or ""))
    if alert.rule == "throughput_shift":
        facts.update(_shift_fields(facts))
    return facts


def _shift_fields(facts: dict[str, object]) -> dict[str, object]:
    """throughput_shift's phrases from its facts (dates come back from the database as ISO text)."""
    week = dt.date.fromisoformat(str(facts["week"]))
    first, last = (dt.date.fromisoformat(str(facts[key])) for key in ("baseline_first", "baseline_last"))
    weeks = ((last - first).days + 1) // 7
    basis = SHIFT_BASIS.format(
        weeks=weeks, first=_day(first), last=_day(last), centre=_number(facts["centre"]) or 0.0
    )
    change = SHIFT_CHANGE[str(facts["rule"]), str(facts["side"])]
    return {
        "week_span": _week_span(week),
        "change": change.format(**facts, basis=basis),
        "question": SHIFT_QUESTION[str(facts["side"])],
    }


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def _week_span(monday: dt.date) -> str:
    """``16–22 Nov``, or ``28 Sep – 4 Oct`` across a month's end."""
    sunday = monday + dt.timedelta(days=6)
    if sunday.month == monday.month:
        return f"{monday.day}–{sunday.day} {sunday:%b}"
    return f"{_day(monday)} – {_day(sunday)}"


def _number(value: object) -> float | None:
    """A fact read back as a number (facts come back from the database as JSON)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _marked(text: str, markup: Markup) -> str:
    return text if markup.bold else text.replace("*", "")


def what(alert: Alert, markup: Markup = PLAIN, *, item_named: bool = True) -> str:
    """The one-line observation, e.g. "*Review* is at *5/3* WIP (PAY-7 was just pulled in)". With
    ``item_named=False`` an item is "It": a section headed by the item need not name it in every reason."""
    board_wide = alert.rule == "wip_limit_exceeded" and alert.subject == BOARD_SUBJECT
    due = alert.rule == "item_at_risk" and alert.facts.get("due_hours") is not None
    template = WHAT_BOARD if board_wide else WHAT_DUE if due else WHAT[alert.rule]
    fields = _fields(alert, markup)
    if not item_named:
        fields["item"] = "It"
    return _marked(template.format(**fields), markup)


def named_item(alert: Alert, markup: Markup = PLAIN) -> str:
    """The alert's item as messages name it: its id (linked) and shortened title."""
    return _named(alert.subject, alert.facts.get("url"), alert.facts.get("title"), markup)


def why(alert: Alert, markup: Markup = PLAIN) -> str:
    """Why it matters for flow, in one sentence."""
    return WHY[alert.rule].format(**_fields(alert, markup))


def next_step(alert: Alert, markup: Markup = PLAIN) -> str:
    """The one next step the team can take."""
    if alert.rule == "wip_limit_exceeded" and alert.subject == BOARD_SUBJECT:
        return NEXT_BOARD
    return NEXT[alert.rule].format(**_fields(alert, markup))


def title(alert: Alert) -> str:
    return TITLE[alert.rule]


def nudge_text(alert: Alert) -> str:
    """What, why and next step in plain text (replay, notifications)."""
    return " ".join([what(alert), why(alert), next_step(alert)])
