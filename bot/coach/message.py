"""One message per evaluation (``spec/coaching.md``): how the alerts posted together are laid out.

Everything that becomes due for one board at one evaluation is one message: the system signals first (WIP
limits, queues, starving stages, a shift in throughput), then the items, each item once with all its
reasons (at risk, aging, blocked). Pure: the live notifier, the demo and replay share this order; Slack
draws it (``bot/slack/blocks/nudges.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from bot.coach.rules import STAGE_RULES

if TYPE_CHECKING:  # the lifecycle lays out its messages with this module
    from bot.coach.lifecycle import Alert

T = TypeVar("T")

SYSTEM_ORDER = ("wip_limit_exceeded", "queue_growing", "stage_starving", "throughput_shift")
ITEM_ORDER = ("item_at_risk", "item_aging", "item_blocked")  # the order an item's reasons are listed in


def is_system(alert: Alert) -> bool:
    """A signal about the system (a stage or the whole board) rather than about one item."""
    return alert.rule in STAGE_RULES or alert.rule in SYSTEM_ORDER


def _rank(rule: str, order: tuple[str, ...]) -> int:
    return order.index(rule) if rule in order else len(order)  # a rule added later goes last, not nowhere


def sections(entries: Iterable[T], alert_of: Callable[[T], Alert]) -> list[list[T]]:
    """The message's sections in order: one per system signal, then one per item with all its reasons.

    ``entries`` are alerts or anything carrying one (``alert_of`` finds it), so a caller keeps its ids.
    """
    system: list[T] = []
    items: dict[str, list[T]] = {}
    for entry in entries:
        alert = alert_of(entry)
        if is_system(alert):
            system.append(entry)
        else:
            items.setdefault(alert.subject, []).append(entry)
    system.sort(
        key=lambda e: (_rank(alert_of(e).rule, SYSTEM_ORDER), -alert_of(e).severity, alert_of(e).subject)
    )
    grouped = [[entry] for entry in system]
    reasons = [sorted(group, key=lambda e: _rank(alert_of(e).rule, ITEM_ORDER)) for group in items.values()]
    # The item with the most pressing reason first (past the SLE before blocked before at risk), then the
    # one with more reasons, then by id, so the same alerts always read the same way.
    reasons.sort(key=lambda group: (_item_urgency(group, alert_of), -len(group), alert_of(group[0]).subject))
    return grouped + reasons


def _item_urgency(group: list[T], alert_of: Callable[[T], Alert]) -> int:
    urgency = ("item_aging", "item_blocked", "item_at_risk")
    return min(_rank(alert_of(entry).rule, urgency) for entry in group)
