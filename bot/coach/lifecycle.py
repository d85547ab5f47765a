"""The life of an alert (``spec/coaching.md``): detected → posted once → re-posted only when worse → resolved.

Pure: the caller loads the alerts (from the database live, from memory in replay), hands over the rule
results and the moment's policy (working time, snoozes, today's budget, stale data), and carries out the
actions this returns (post, re-post in the thread, fold into the day's overflow thread, mark resolved). The
alerts are changed in place so that the caller can store them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from bot.coach.rules import CHANGE_RULES, Finding, RuleResult

Held = Literal["quiet_hours", "budget", "stale", "snoozed"]
ActionKind = Literal["post", "repost", "fold", "resolve", "reopen"]
OPEN_STATES = ("open", "snoozed", "acknowledged")


@dataclass
class Alert:
    """One alert, keyed by (rule, subject) within its board."""

    rule: str
    subject: str
    detected_at: pd.Timestamp
    severity: float
    items: tuple[str, ...] = ()
    facts: dict[str, object] = field(default_factory=dict)
    state: str = "open"  # open | snoozed | acknowledged | resolved
    posted_at: pd.Timestamp | None = None
    last_posted_at: pd.Timestamp | None = None
    posted_severity: float | None = None
    resolved_at: pd.Timestamp | None = None
    snoozed_until: pd.Timestamp | None = None
    acted_by: str | None = None
    held: Held | None = None  # why it was not posted when first due (replay reports it)
    first_due_at: pd.Timestamp | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.rule, self.subject

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    alert: Alert


@dataclass
class Policy:
    """The moment's circumstances, beyond the rules.

    ``posts_today``: alert messages already posted in the board's channel on this local day (updated as
    this step posts). ``cooldown_over(since, now)``: whether ``cooldown`` working hours passed since then.
    """

    working: bool
    stale: bool
    channel_snoozed_until: pd.Timestamp | None
    posts_today: int
    max_posts_per_day: int
    cooldown_over: Callable[[pd.Timestamp, pd.Timestamp], bool]


def step(
    alerts: MutableMapping[tuple[str, str], Alert],
    results: Mapping[str, RuleResult],
    now: pd.Timestamp,
    policy: Policy,
) -> list[Action]:
    """Apply one evaluation's results to the alerts; the actions to carry out, in order."""
    actions: list[Action] = []
    for result in results.values():
        for finding in result.firing:
            reopened = _observe(alerts, finding, now, policy)
            if reopened is not None:
                actions.append(reopened)
    for rule, result in results.items():
        for subject in result.cleared:
            alert = alerts.get((rule, subject))
            if alert is not None and alert.is_open:
                alert.state, alert.resolved_at = "resolved", now
                if alert.posted_at is not None:
                    actions.append(Action("resolve", alert))
    for alert in sorted(alerts.values(), key=lambda a: (a.detected_at, a.rule, a.subject)):
        if not alert.is_open:
            continue
        if alert.snoozed_until is not None and alert.snoozed_until <= now:
            alert.state, alert.snoozed_until = "open", None
        if alert.posted_at is None:
            action = _first_post(alert, now, policy)
        else:
            action = _repost_if_worse(alert, now, policy)
        if action is not None:
            actions.append(action)
    return actions


def _observe(
    alerts: MutableMapping[tuple[str, str], Alert], finding: Finding, now: pd.Timestamp, policy: Policy
) -> Action | None:
    """Record a firing finding: a new alert, an update of an open one, or the reopening of one that cleared
    less than a cooldown ago (a WIP limit flapping around its value is one alert, not one a hour)."""
    alert = alerts.get(finding.key)
    recently_resolved = (
        alert is not None
        and alert.state == "resolved"
        and alert.resolved_at is not None
        and not policy.cooldown_over(alert.resolved_at, now)
    )
    if alert is not None and recently_resolved:
        alert.state, alert.resolved_at = "open", None
        alert.severity, alert.items, alert.facts = finding.severity, finding.items, dict(finding.facts)
        return Action("reopen", alert) if alert.posted_at is not None else None
    if alert is None or not alert.is_open:
        alerts[finding.key] = Alert(
            finding.rule, finding.subject, now, finding.severity, finding.items, dict(finding.facts)
        )
        return None
    alert.severity, alert.items, alert.facts = finding.severity, finding.items, dict(finding.facts)
    return None


def _hold_reason(alert: Alert, now: pd.Timestamp, policy: Policy) -> Held | None:
    if policy.channel_snoozed_until is not None and policy.channel_snoozed_until > now:
        return "snoozed"
    if alert.state == "snoozed":
        return "snoozed"
    if policy.stale and alert.rule in CHANGE_RULES:
        return "stale"
    if not policy.working:
        return "quiet_hours"
    return None


def _first_post(alert: Alert, now: pd.Timestamp, policy: Policy) -> Action | None:
    held = _hold_reason(alert, now, policy)
    if held is not None:
        alert.held = alert.held or held  # the first reason it waited is the one worth reporting
        return None
    alert.posted_at = alert.last_posted_at = now
    alert.posted_severity = alert.severity
    if policy.posts_today >= policy.max_posts_per_day:
        alert.held = alert.held or "budget"
        return Action("fold", alert)
    policy.posts_today += 1
    return Action("post", alert)


def _repost_if_worse(alert: Alert, now: pd.Timestamp, policy: Policy) -> Action | None:
    if alert.posted_severity is None or alert.severity <= alert.posted_severity:
        return None
    if alert.rule in ("item_aging", "item_blocked", "stage_starving"):
        return None  # these only grow with time: their message already said so
    if _hold_reason(alert, now, policy) is not None or alert.last_posted_at is None:
        return None
    if not policy.cooldown_over(alert.last_posted_at, now):
        return None
    alert.last_posted_at, alert.posted_severity = now, alert.severity
    if alert.state == "acknowledged":
        alert.state = "open"  # acknowledged means silent until it clears or gets worse: it got worse
    return Action("repost", alert)
