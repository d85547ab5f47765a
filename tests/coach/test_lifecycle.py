"""The alert lifecycle: post once, re-post only when worse after the cooldown, resolve, hold, fold, snooze."""

from __future__ import annotations

import pandas as pd

from bot.coach.lifecycle import Alert, Policy, step
from bot.coach.rules import Finding, RuleResult

T0 = pd.Timestamp("2026-11-16 09:00", tz="UTC")


def at(minutes: int) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


def policy(**changes: object) -> Policy:
    values: dict[str, object] = {
        "working": True,
        "stale": False,
        "channel_snoozed_until": None,
        "posts_today": 0,
        "max_posts_per_day": 6,
        "cooldown_over": lambda since, now: now - since >= pd.Timedelta(hours=4),
    }
    values.update(changes)
    return Policy(**values)  # type: ignore[arg-type]


def firing(rule: str, subject: str, severity: float = 1.0) -> dict[str, RuleResult]:
    return {rule: RuleResult((Finding(rule, subject, severity),), frozenset())}


def cleared(rule: str, subject: str) -> dict[str, RuleResult]:
    return {rule: RuleResult((), frozenset({subject}))}


def kinds(actions: list) -> list[str]:
    return [action.kind for action in actions]


def test_an_alert_is_posted_once_while_it_holds():
    """The first evaluation that sees the condition posts; later ones stay silent."""
    alerts: dict[tuple[str, str], Alert] = {}
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Review"), at(0), policy())) == ["post"]
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Review"), at(15), policy())) == []
    alert = alerts[("wip_limit_exceeded", "Review")]
    assert alert.detected_at == at(0) and alert.posted_at == at(0) and alert.held is None


def test_worse_is_reposted_only_after_the_cooldown():
    """WIP rising again is re-posted in the thread, but not before 4 hours after the last post."""
    alerts: dict[tuple[str, str], Alert] = {}
    step(alerts, firing("wip_limit_exceeded", "Review", 1), at(0), policy())
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Review", 2), at(60), policy())) == []
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Review", 2), at(240), policy())) == ["repost"]
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Review", 2), at(600), policy())) == []


def test_clearing_resolves_the_posted_message():
    """When the condition clears, the alert is resolved and its message is to be updated."""
    alerts: dict[tuple[str, str], Alert] = {}
    step(alerts, firing("queue_growing", "Review"), at(0), policy())
    actions = step(alerts, cleared("queue_growing", "Review"), at(30), policy())
    assert kinds(actions) == ["resolve"]
    assert alerts[("queue_growing", "Review")].resolved_at == at(30)


def test_quiet_hours_hold_the_post_until_work_resumes():
    """Detected at night, posted at the first working evaluation, and reported as held for quiet hours."""
    alerts: dict[tuple[str, str], Alert] = {}
    assert kinds(step(alerts, firing("item_blocked", "PAY-1"), at(0), policy(working=False))) == []
    assert kinds(step(alerts, firing("item_blocked", "PAY-1"), at(15), policy())) == ["post"]
    alert = alerts[("item_blocked", "PAY-1")]
    assert alert.detected_at == at(0) and alert.posted_at == at(15) and alert.held == "quiet_hours"


def test_an_alert_that_clears_during_quiet_hours_is_never_posted():
    """Nothing is said about a condition that came and went outside working hours."""
    alerts: dict[tuple[str, str], Alert] = {}
    step(alerts, firing("item_blocked", "PAY-1"), at(0), policy(working=False))
    assert step(alerts, cleared("item_blocked", "PAY-1"), at(15), policy(working=False)) == []
    alert = alerts[("item_blocked", "PAY-1")]
    assert alert.posted_at is None and alert.resolved_at == at(15)


def test_over_the_daily_budget_alerts_fold_into_the_overflow_thread():
    """The seventh alert of the day is folded instead of posted at the top of the channel."""
    alerts: dict[tuple[str, str], Alert] = {}
    moment = policy(posts_today=6)
    actions = step(alerts, firing("item_aging", "PAY-9"), at(0), moment)
    assert kinds(actions) == ["fold"]
    assert alerts[("item_aging", "PAY-9")].held == "budget"


def test_stale_data_holds_back_rules_about_change_only():
    """On stale data a starving stage waits; an aging item is still posted."""
    alerts: dict[tuple[str, str], Alert] = {}
    results = firing("stage_starving", "Test") | firing("item_aging", "PAY-3")
    assert kinds(step(alerts, results, at(0), policy(stale=True))) == ["post"]
    assert alerts[("stage_starving", "Test")].held == "stale"
    assert kinds(step(alerts, results, at(15), policy())) == ["post"]


def test_a_snoozed_channel_holds_posts_until_the_snooze_ends():
    """`/flow snooze` holds new alerts; they are posted once it ends, if still true."""
    alerts: dict[tuple[str, str], Alert] = {}
    snoozed = policy(channel_snoozed_until=at(60))
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev"), at(0), snoozed)) == []
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev"), at(75), snoozed)) == ["post"]
    assert alerts[("wip_limit_exceeded", "Dev")].held == "snoozed"


def test_an_acknowledged_alert_speaks_again_only_when_worse():
    """Acknowledged: silent while it holds; worse after the cooldown re-posts and reopens it."""
    alerts: dict[tuple[str, str], Alert] = {}
    step(alerts, firing("wip_limit_exceeded", "Dev", 1), at(0), policy())
    alerts[("wip_limit_exceeded", "Dev")].state = "acknowledged"
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev", 1), at(300), policy())) == []
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev", 3), at(320), policy())) == ["repost"]
    assert alerts[("wip_limit_exceeded", "Dev")].state == "open"


def test_a_snoozed_alert_wakes_up_when_the_snooze_ends():
    """A snoozed alert returns to open at the end of its snooze (and is re-posted only if worse)."""
    alerts: dict[tuple[str, str], Alert] = {}
    step(alerts, firing("wip_limit_exceeded", "Dev", 1), at(0), policy())
    alert = alerts[("wip_limit_exceeded", "Dev")]
    alert.state, alert.snoozed_until = "snoozed", at(60)
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev", 2), at(30), policy())) == []
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev", 2), at(300), policy())) == ["repost"]
    assert alert.state == "open"


def test_a_resolved_subject_that_fires_again_is_a_new_alert():
    """Past the cooldown after resolution, the same subject starts a new life: detected and posted anew."""
    alerts: dict[tuple[str, str], Alert] = {}
    step(alerts, firing("item_blocked", "PAY-1"), at(0), policy())
    step(alerts, cleared("item_blocked", "PAY-1"), at(15), policy())
    assert kinds(step(alerts, firing("item_blocked", "PAY-1"), at(400), policy())) == ["post"]
    assert alerts[("item_blocked", "PAY-1")].detected_at == at(400)


def test_a_condition_that_returns_within_the_cooldown_reopens_its_alert():
    """A WIP limit flapping around its value is one alert: re-firing soon after it cleared reopens it."""
    alerts: dict[tuple[str, str], Alert] = {}
    step(alerts, firing("wip_limit_exceeded", "Dev"), at(0), policy())
    step(alerts, cleared("wip_limit_exceeded", "Dev"), at(60), policy())
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev"), at(90), policy())) == ["reopen"]
    alert = alerts[("wip_limit_exceeded", "Dev")]
    assert alert.detected_at == at(0) and alert.resolved_at is None and alert.is_open
