"""A nudge in words: what the coach sees, why it matters for flow, one next step (``spec/coaching.md``).

The words are the coach's, the same in replay, the demo and Slack; only the markup differs. A ``Markup``
says how names are escaped and items linked: ``PLAIN`` for text (replay, notifications), and the Slack
edge passes its own (mrkdwn escaping, ``<url|ID>`` links, ``*bold*`` kept).
"""

from __future__ import annotations

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
}
PULLED = " ({item} was just pulled in)"
NEXT_BOARD = "Stop starting, start finishing: finish something before pulling anything new."
WHY = {
    "wip_limit_exceeded": "More work in progress than agreed means every item waits longer.",
    "queue_growing": "A growing queue is where delivery time goes: items wait there, nobody works on them.",
    "stage_starving": "Idle capacity downstream of full stages: {upstream} is the likely constraint.",
    "item_at_risk": "It is on course to miss the SLE; now, before it does, is when swarming still helps.",
    "item_aging": "Old work gets older: each day it waits, the odds it is still needed as built go down.",
    "item_blocked": "Blocked work still counts as WIP and hides the queue behind it.",
}
NEXT = {
    "wip_limit_exceeded": "Stop starting, start finishing: who can help finish something in {subject}?",
    "queue_growing": "Find what holds items in {subject}, and pull from it before starting anything new.",
    "stage_starving": "Can people from {subject} help {upstream} finish, instead of starting new work?",
    "item_at_risk": "Who can help move it out of {stage} today? If something holds it, say what.",
    "item_aging": "Swarm on it or split it; if it cannot move, say what is in the way.",
    "item_blocked": "Who can unblock it today? Escalate the dependency if it is outside the team.",
}
TITLE = {
    "wip_limit_exceeded": "WIP limit exceeded",
    "queue_growing": "Queue growing",
    "stage_starving": "Stage starving",
    "item_at_risk": "Item at risk",
    "item_aging": "Item past the SLE",
    "item_blocked": "Item blocked",
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
    days = _number(facts.get("days"))
    if days is not None:
        facts["working_days"] = count_of(round(days), "working day")
    count = int(_number(facts.get("upstream_wip")) or 0)
    facts["upstream_items"] = count_of(count, "item")
    facts["upstream"] = markup.escape(str(facts.get("upstream") or "earlier stages"))
    facts["stage"] = markup.escape(str(facts.get("stage") or ""))
    return facts


def _number(value: object) -> float | None:
    """A fact read back as a number (facts come back from the database as JSON)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _marked(text: str, markup: Markup) -> str:
    return text if markup.bold else text.replace("*", "")


def what(alert: Alert, markup: Markup = PLAIN) -> str:
    """The one-line observation, e.g. "*Review* is at *5/3* WIP (PAY-7 was just pulled in)"."""
    board_wide = alert.rule == "wip_limit_exceeded" and alert.subject == BOARD_SUBJECT
    template = WHAT_BOARD if board_wide else WHAT[alert.rule]
    return _marked(template.format(**_fields(alert, markup)), markup)


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
