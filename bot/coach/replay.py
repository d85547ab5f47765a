"""Replay: every nudge the current rules would have sent over a period, evaluated as the worker would.

The timeline is built once, as of ``until``; signals at each quarter hour only see what happened by then.
Alerts live in memory; the budget is counted per local day; data is never stale (a replay has all of it).
The nudges one evaluation posts together are one message (``spec/coaching.md``): each nudge names its
message by a number shared by the nudges posted with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.calendar import to_local_iso
from analytics.signals import signals_at
from analytics.timeline import build_timeline
from analytics.workflow import Workflow
from bot.coach.engine import Coach, evaluate_at, evaluation_moments
from bot.coach.lifecycle import Alert
from bot.coach.wording import nudge_text
from bot.formatting import count_of, local_time
from bot.store.board_settings import Thresholds


@dataclass
class Nudge:
    """One alert as replay reports it (``spec/coaching.md``)."""

    alert: Alert
    text: str | None = None  # as it read when posted (or when last seen, if never posted)
    items: tuple[str, ...] = ()  # the items that text names; the alert's own move on with later findings
    message: int | None = None  # the message it was posted in (1, 2, … in order), None if never posted


@dataclass(frozen=True)
class Replay:
    board: str
    timezone: str
    since: pd.Timestamp
    until: pd.Timestamp
    nudges: tuple[Nudge, ...]


def replay(
    events: pd.DataFrame,
    workflow: Workflow,
    thresholds: Thresholds,
    *,
    since: pd.Timestamp,
    until: pd.Timestamp,
) -> Replay:
    """Evaluate every 15 minutes from ``since`` to ``until``; every alert that was detected, in order."""
    coach = Coach.of(workflow, thresholds)
    timeline = build_timeline(events, workflow, pd.Timestamp(until))
    moments = evaluation_moments(since, until)
    alerts: dict[tuple[str, str], Alert] = {}
    nudges: dict[int, Nudge] = {}
    posts: dict[object, int] = {}
    previous: pd.Timestamp | None = None
    last_message: pd.Timestamp | None = None
    messages = 0
    for signals in signals_at(timeline, moments, window=coach.window_start):
        now = pd.Timestamp(signals.asof)
        day = coach.local_date(now)
        policy = coach.policy(now, stale=False, posts_today=posts.get(day, 0), last_message_at=last_message)
        actions = evaluate_at(coach, signals, alerts, policy, previous)
        previous, last_message = now, policy.last_message_at
        posts[day] = policy.posts_today
        for alert in alerts.values():
            nudge = nudges.setdefault(id(alert), Nudge(alert))
            if nudge.text is None or alert.posted_at is None:
                nudge.text, nudge.items = nudge_text(alert), alert.items
        posted = [action for action in actions if action.kind in ("post", "fold")]
        messages += 1 if posted else 0
        for action in posted:
            nudge = nudges[id(action.alert)]
            nudge.text, nudge.items = nudge_text(action.alert), action.alert.items
            nudge.message = messages
    ordered = sorted(nudges.values(), key=lambda n: (n.alert.detected_at, n.alert.rule, n.alert.subject))
    return Replay(workflow.name, workflow.timezone, pd.Timestamp(since), pd.Timestamp(until), tuple(ordered))


def replay_document(result: Replay) -> dict[str, Any]:
    """The ``--format json`` document of ``spec/coaching.md``."""
    zone = result.timezone

    def when(moment: pd.Timestamp | None) -> str | None:
        return None if moment is None else to_local_iso(moment, zone)

    return {
        "board": result.board,
        "since": when(result.since),
        "until": when(result.until),
        "nudges": [
            {
                "rule": nudge.alert.rule,
                "subject": nudge.alert.subject,
                "items": list(nudge.items),
                "detected_at": when(nudge.alert.detected_at),
                "posted_at": when(nudge.alert.posted_at),
                "resolved_at": when(nudge.alert.resolved_at),
                "held": nudge.alert.held,
                "message": nudge.message,
                "text": nudge.text,
            }
            for nudge in result.nudges
        ],
    }


def replay_text(result: Replay) -> str:
    """One block per nudge: when it was detected, posted (or why not), resolved; then what it said."""
    zone = result.timezone

    def when(moment: pd.Timestamp | None) -> str:
        return "—" if moment is None else local_time(moment, zone, year=False)

    period = f"from {when(result.since)} to {when(result.until)} ({zone})"
    lines = [f"{result.board}: {count_of(len(result.nudges), 'nudge')} {period}"]
    for nudge in result.nudges:
        alert = nudge.alert
        held = f" (held: {alert.held})" if alert.held else ""
        posted = when(alert.posted_at) if alert.posted_at is not None else "never"
        message = f" · message {nudge.message}" if nudge.message is not None else ""
        lines.append(
            f"\n{when(alert.detected_at)}  {alert.rule}  {alert.subject}"
            f"\n  posted {posted}{held} · resolved {when(alert.resolved_at)}{message}"
            f"\n  {nudge.text}"
        )
    return "\n".join(lines) + "\n"
