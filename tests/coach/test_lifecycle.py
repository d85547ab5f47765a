"""The alert lifecycle: post once, re-post only when worse after the cooldown, resolve, hold, fold, snooze."""

from __future__ import annotations

import pandas as pd

from bot.coach.lifecycle import Alert, Policy, step
from bot.coach.message import sections
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
    """The seventh message of the day is folded instead of posted at the top of the channel."""
    alerts: dict[tuple[str, str], Alert] = {}
    moment = policy(posts_today=6)
    actions = step(alerts, firing("item_aging", "PAY-9"), at(0), moment)
    assert kinds(actions) == ["fold"]
    assert alerts[("item_aging", "PAY-9")].held == "budget"


def findings(*pairs: tuple[str, str]) -> dict[str, RuleResult]:
    """Several rules firing at once, each for its subjects."""
    by_rule: dict[str, list[Finding]] = {}
    for rule, subject in pairs:
        by_rule.setdefault(rule, []).append(Finding(rule, subject, 1.0))
    return {rule: RuleResult(tuple(found), frozenset()) for rule, found in by_rule.items()}


# The first check: two WIP limits, two items both aging and blocked, one item aging.
FLOOD = findings(
    ("item_aging", "PAY-205"),
    ("item_blocked", "PAY-205"),
    ("item_aging", "PAY-237"),
    ("item_blocked", "PAY-237"),
    ("item_aging", "PAY-252"),
    ("wip_limit_exceeded", "Development"),
    ("wip_limit_exceeded", "Whole board"),
    ("queue_growing", "Review"),
)


def test_one_evaluation_is_one_message_and_counts_once_against_the_budget():
    """Eight alerts due at one evaluation are posted together (all "post"), and the day's budget counts
    one message for them, not eight: with 5 of 6 spent, they are still posted, not folded."""
    alerts: dict[tuple[str, str], Alert] = {}
    moment = policy(posts_today=5)
    actions = step(alerts, FLOOD, at(0), moment)
    assert kinds(actions) == ["post"] * 8
    assert moment.posts_today == 6
    assert {alert.posted_at for alert in alerts.values()} == {at(0)}


def test_the_message_lists_system_signals_first_then_each_item_once_with_all_its_reasons():
    """WIP limits, then queues, then items; PAY-205 and PAY-237 are one section each with aging and
    blocked together (the issue: they took two top-level slots each while the WIP limits were folded)."""
    alerts: dict[tuple[str, str], Alert] = {}
    actions = step(alerts, FLOOD, at(0), policy())
    layout = [
        [(a.alert.rule, a.alert.subject) for a in group] for group in sections(actions, lambda a: a.alert)
    ]
    assert layout[:3] == [
        [("wip_limit_exceeded", "Development")],
        [("wip_limit_exceeded", "Whole board")],
        [("queue_growing", "Review")],
    ]
    assert sorted(layout[3:]) == [
        [("item_aging", "PAY-205"), ("item_blocked", "PAY-205")],
        [("item_aging", "PAY-237"), ("item_blocked", "PAY-237")],
        [("item_aging", "PAY-252")],
    ]
    # The post actions come in that order too, so whoever delivers them reads them top to bottom.
    assert [a.alert.rule for a in actions][:3] == [
        "wip_limit_exceeded",
        "wip_limit_exceeded",
        "queue_growing",
    ]


def test_an_item_at_risk_is_listed_with_the_items_and_its_reasons_in_order():
    """A rule about an item (item_at_risk, added beside this work) goes with the items, its reasons in the
    spec's order: at risk, aging, blocked; the item past its SLE comes before one only at risk."""
    alerts: dict[tuple[str, str], Alert] = {}
    found = findings(
        ("item_blocked", "PAY-1"),
        ("item_at_risk", "PAY-2"),
        ("item_at_risk", "PAY-1"),
        ("item_aging", "PAY-3"),
    )
    actions = step(alerts, found, at(0), policy())
    layout = [
        [(a.alert.rule, a.alert.subject) for a in group] for group in sections(actions, lambda a: a.alert)
    ]
    assert layout == [
        [("item_aging", "PAY-3")],
        [("item_at_risk", "PAY-1"), ("item_blocked", "PAY-1")],
        [("item_at_risk", "PAY-2")],
    ]


def test_a_later_evaluation_is_a_new_message_and_over_the_budget_the_whole_message_folds():
    """Alerts due at different evaluations are different messages; once the day's messages are spent,
    everything due at an evaluation folds together (into the board's thread), never half of it."""
    alerts: dict[tuple[str, str], Alert] = {}
    moment = policy(max_posts_per_day=2)
    assert kinds(step(alerts, firing("wip_limit_exceeded", "Dev"), at(0), moment)) == ["post"]
    two = firing("item_aging", "PAY-1") | firing("item_blocked", "PAY-2")
    assert kinds(step(alerts, two, at(300), moment)) == ["post", "post"]  # items, after a cooldown
    assert moment.posts_today == 2
    three = two | firing("queue_growing", "Review") | firing("item_aging", "PAY-1")
    three["item_aging"] = RuleResult(
        (Finding("item_aging", "PAY-1", 1.0), Finding("item_aging", "PAY-4", 1.0)), frozenset()
    )
    assert kinds(step(alerts, three, at(315), moment)) == ["fold", "fold"]
    assert moment.posts_today == 2
    assert alerts[("queue_growing", "Review")].held == "budget"


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


def test_item_signals_wait_for_the_next_message_or_a_cooldown_after_the_last():
    """A message at 0; an item due at 15 waits (held "paced") and goes with the WIP signal at 60, one
    message; the next item, due at 75, waits for the cooldown (4 h after 60) and is posted at 300."""
    alerts: dict[tuple[str, str], Alert] = {}
    moment = policy()
    assert kinds(step(alerts, firing("queue_growing", "Review"), at(0), moment)) == ["post"]
    assert kinds(step(alerts, firing("item_aging", "PAY-1"), at(15), moment)) == []
    assert alerts[("item_aging", "PAY-1")].held == "paced"
    both = firing("item_aging", "PAY-1") | firing("wip_limit_exceeded", "Dev")
    assert kinds(step(alerts, both, at(60), moment)) == ["post", "post"]
    assert alerts[("item_aging", "PAY-1")].posted_at == at(60) and moment.posts_today == 2
    later = firing("item_blocked", "PAY-2")
    assert kinds(step(alerts, later, at(75), moment)) == []
    assert kinds(step(alerts, later, at(299), moment)) == []
    assert kinds(step(alerts, later, at(300), moment)) == ["post"]


def test_an_item_about_to_breach_its_sle_is_not_held_back():
    """An at-risk warning a working day before the SLE breach has no time to wait for the next message."""
    alerts: dict[tuple[str, str], Alert] = {}
    moment = policy()
    step(alerts, firing("queue_growing", "Review"), at(0), moment)
    warning = Finding("item_at_risk", "PAY-1", 2.0, ("PAY-1",), {"due_hours": 8.0, "urgent": True})
    due = {"item_at_risk": RuleResult((warning,), frozenset())}
    assert kinds(step(alerts, due, at(15), moment)) == ["post"]
