"""The life of an alert (``spec/coaching.md``): detected → posted once → re-posted only when worse → resolved.

Pure: the caller loads the alerts (from the database live, from memory in replay), hands over the rule
results and the moment's policy (working time, snoozes, today's budget, stale data), and carries out the
actions this returns (post, re-post in the thread, fold into the day's overflow thread, mark resolved). The
alerts are changed in place so that the caller can store them.

Everything that becomes due at one evaluation is one message (``bot/coach/message.py`` lays it out): the
``post`` actions of one step are posted together, or, once the day's budget of messages is spent, the
``fold`` actions are, in the board's "more flow signals" thread. The budget counts messages, not alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from bot.coach.message import ITEM_ORDER, sections
from bot.coach.rules import CHANGE_RULES, Finding, RuleResult

Held = Literal["quiet_hours", "budget", "stale", "snoozed", "paced"]
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

    ``posts_today``: alert messages of this board already posted at the top of its channel on this local day
    (one more when this step posts a message). ``cooldown_over(since, now)``: whether ``cooldown`` working
    hours passed since then. ``last_message_at``: when the board's last message went to the top of its
    channel (this step's, once it posts one); item signals wait for a cooldown after it (:func:`_paced`).
    """

    working: bool
    stale: bool
    channel_snoozed_until: pd.Timestamp | None
    posts_today: int
    max_posts_per_day: int
    cooldown_over: Callable[[pd.Timestamp, pd.Timestamp], bool]
    last_message_at: pd.Timestamp | None = None


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
    due: list[Alert] = []
    reposts: list[Action] = []
    for alert in sorted(alerts.values(), key=lambda a: (a.detected_at, a.rule, a.subject)):
        if not alert.is_open:
            continue
        if alert.snoozed_until is not None and alert.snoozed_until <= now:
            alert.state, alert.snoozed_until = "open", None
        if alert.posted_at is None:
            if _due(alert, now, policy):
                due.append(alert)
        else:
            action = _repost_if_worse(alert, now, policy)
            if action is not None:
                reposts.append(action)
    return actions + _one_message(due, now, policy) + reposts


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


def _due(alert: Alert, now: pd.Timestamp, policy: Policy) -> bool:
    """Whether an alert never posted may be posted now (if not, why it waits is recorded)."""
    held = _hold_reason(alert, now, policy)
    if held is not None:
        alert.held = alert.held or held  # the first reason it waited is the one worth reporting
        return False
    return True


def _one_message(due: list[Alert], now: pd.Timestamp, policy: Policy) -> list[Action]:
    """The alerts due now, posted together as one message, or folded together once the budget is spent."""
    if not due:
        return []
    if all(_paced(alert) for alert in due) and not _gap_over(now, policy):
        for alert in due:
            alert.held = alert.held or "paced"
        return []
    over_budget = policy.posts_today >= policy.max_posts_per_day
    if not over_budget:
        policy.posts_today += 1
        policy.last_message_at = now
    actions = []
    for section in sections(due, lambda alert: alert):
        for alert in section:
            alert.posted_at = alert.last_posted_at = now
            alert.posted_severity = alert.severity
            if over_budget:
                alert.held = alert.held or "budget"
            actions.append(Action("fold" if over_budget else "post", alert))
    return actions


def _paced(alert: Alert) -> bool:
    """Whether the alert may wait for the board's next message: item signals may, unless the item is a
    working day from breaching its SLE (``urgent``: then the warning is worth a message of its own, and takes
    the waiting ones along). A stream of one-item messages a few minutes apart is what gets a coach muted;
    system signals (limits, queues, starving) are never held."""
    return alert.rule in ITEM_ORDER and not alert.facts.get("urgent")


def _gap_over(now: pd.Timestamp, policy: Policy) -> bool:
    """A cooldown of working time has passed since the board's last message (or it has none)."""
    last = policy.last_message_at
    return last is None or last >= now or policy.cooldown_over(last, now)


def _repost_if_worse(alert: Alert, now: pd.Timestamp, policy: Policy) -> Action | None:
    if alert.posted_severity is None or alert.severity <= alert.posted_severity:
        return None
    if alert.rule in ("item_aging", "item_blocked", "stage_starving"):
        return None  # these only grow with time: their message already said so
    if alert.rule == "throughput_shift":
        return None  # one nudge per shift: a further week of it is the same news, not a worse one
    if _hold_reason(alert, now, policy) is not None or alert.last_posted_at is None:
        return None
    if not policy.cooldown_over(alert.last_posted_at, now):
        return None
    alert.last_posted_at, alert.posted_severity = now, alert.severity
    if alert.state == "acknowledged":
        alert.state = "open"  # acknowledged means silent until it clears or gets worse: it got worse
    return Action("repost", alert)
