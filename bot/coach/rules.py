"""The coach's rules (``spec/coaching.md``): what each one sees in a board's signals, and when it clears.

Every rule is a function of the signals at one instant, the board's thresholds and the subjects it already
has open alerts for; it returns the subjects it fires for (with how bad it is, to tell "materially worse"
later) and the open subjects that cleared. A subject that is in neither keeps its state: a queue that grew
by 3 fires, and clears only when its net flow is back to 0, not as soon as it is 2.

The same functions run live (after each sync and every 15 minutes) and in replay.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analytics.exit_age import PROVISIONAL_BELOW
from analytics.signals import BoardSignals, StageSignal
from analytics.workflow import StageKind
from bot.coach.shift import newest_shift
from bot.store.board_settings import Thresholds
from bot.values import optional_text

BOARD_SUBJECT = "Whole board"  # the subject of the board-wide WIP limit
THROUGHPUT_SUBJECT = "Throughput"  # the subject of throughput_shift: one per board
RULES = (
    "wip_limit_exceeded",
    "queue_growing",
    "stage_starving",
    "throughput_shift",
    "item_at_risk",
    "item_aging",
    "item_blocked",
)
AT_RISK_MIN_EXITS = 10  # fewer items left the stage: its p85 is provisional, too shaky to nudge on
SLE_MIN_ITEMS = PROVISIONAL_BELOW  # an SLE from fewer finished items is provisional: no nudge against it
# What an item finding reads of an aging or blocked item: its measure, where it is, what it is.
ITEM_COLUMNS = frozenset({"age_days", "blocked_working_hours", "stage", "title", "url"})
EVALUATION_HOURS = 0.25  # the worker's evaluation interval, 15 minutes
# Warnings ahead of the SLE are found this long before they must go, so that several due about the same time
# wait for each other (``urgent`` marks the one that cannot wait) and make one message, not one each.
SLE_WARNING_GATHER_HOURS = 1.0
# How far before the breach an item may be found within a working day of it: a day plus weekends and holidays.
SLE_LEAD_SCAN_DAYS = 14.0
# Held back while the data is stale: they read change, and a week missing its last syncs looks like a drop.
CHANGE_RULES = frozenset({"queue_growing", "stage_starving", "throughput_shift"})
STAGE_RULES = frozenset({"wip_limit_exceeded", "queue_growing", "stage_starving"})
JUST_PULLED_FALLBACK = pd.Timedelta(minutes=15)  # the worker's evaluation interval


@dataclass(frozen=True)
class Finding:
    """A rule holding for a subject: ``severity`` grows as it gets worse; ``facts`` feed the message."""

    rule: str
    subject: str
    severity: float
    items: tuple[str, ...] = ()
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.rule, self.subject


@dataclass(frozen=True)
class RuleResult:
    firing: tuple[Finding, ...]
    cleared: frozenset[str]  # subjects of the rule's open alerts that no longer hold


@dataclass(frozen=True)
class Context:
    """What the rules need besides the signals: thresholds, working time since an instant, and the previous
    evaluation's instant (``None`` when unknown: then only an arrival within one evaluation interval, 15
    minutes, counts as "just pulled in")."""

    thresholds: Thresholds
    working_hours_since: Callable[[pd.Timestamp, pd.Timestamp], float]  # (since, now) → hours
    previous_evaluation: pd.Timestamp | None = None
    day_hours: float | None = None  # a working day's length, to say "10.8 working days", not "97 hours"

    def since_previous(self, now: pd.Timestamp) -> pd.Timestamp:
        """Where "since the previous evaluation" begins at ``now``."""
        if self.previous_evaluation is not None and self.previous_evaluation < now:
            return pd.Timestamp(self.previous_evaluation)
        return pd.Timestamp(now) - JUST_PULLED_FALLBACK


def wip_limit_exceeded(signals: BoardSignals, context: Context, open_subjects: Collection[str]) -> RuleResult:
    """A WIP stage (or the whole board) above its limit; clears at or under the limit."""
    firing, holding = [], set()
    for stage in _wip_stages(signals):
        if stage.wip_limit is None or stage.wip is None:
            continue
        if stage.wip > stage.wip_limit:
            holding.add(stage.name)
            pulled = _just_pulled(signals, stage, context.since_previous(signals.asof))
            firing.append(
                Finding(
                    "wip_limit_exceeded",
                    stage.name,
                    float(stage.wip - stage.wip_limit),
                    pulled,
                    {
                        "wip": stage.wip,
                        "limit": stage.wip_limit,
                        "pulled": pulled[0] if pulled else None,
                        "pulled_url": optional_text(signals.aging.loc[pulled[0]].get("url"))
                        if pulled
                        else None,
                        "pulled_title": optional_text(signals.aging.loc[pulled[0]].get("title"))
                        if pulled
                        else None,
                    },
                )
            )
    if signals.wip_limit is not None and signals.wip_total > signals.wip_limit:
        holding.add(BOARD_SUBJECT)
        firing.append(
            Finding(
                "wip_limit_exceeded",
                BOARD_SUBJECT,
                float(signals.wip_total - signals.wip_limit),
                facts={"wip": signals.wip_total, "limit": signals.wip_limit, "pulled": None},
            )
        )
    return RuleResult(tuple(firing), frozenset(set(open_subjects) - holding))


def queue_growing(signals: BoardSignals, context: Context, open_subjects: Collection[str]) -> RuleResult:
    """A queue that took in ``queue_min_net`` more than it released over the window and holds more than at
    its start; clears when the net flow over the window is back to zero or below."""
    firing, cleared = [], set()
    minimum = context.thresholds.queue_min_net
    for stage in _wip_stages(signals):
        if stage.kind is not StageKind.QUEUE:
            continue
        net = stage.arrivals - stage.departures
        if net >= minimum and (stage.wip or 0) > stage.wip_at_window_start:
            firing.append(
                Finding(
                    "queue_growing",
                    stage.name,
                    float(net),
                    facts={
                        "arrivals": stage.arrivals,
                        "departures": stage.departures,
                        "wip": stage.wip,
                        "wip_before": stage.wip_at_window_start,
                        "days": context.thresholds.queue_window_days,
                    },
                )
            )
        elif net <= 0 and stage.name in open_subjects:
            cleared.add(stage.name)
    return RuleResult(tuple(firing), frozenset(cleared))


def stage_starving(signals: BoardSignals, context: Context, open_subjects: Collection[str]) -> RuleResult:
    """An ``active`` stage that starved for ``starving_after`` working hours (``StageSignal.starving_hours``:
    it and its queue empty while earlier started stages held work) and still has work upstream to name;
    clears when the stage or its queue receives an item. Names the upstream stage holding most work."""
    firing, cleared = [], set()
    for stage in _wip_stages(signals):
        hours = stage.starving_hours
        if hours is None:
            if stage.name in open_subjects:
                cleared.add(stage.name)  # it or its queue holds an item (or the stage can no longer starve)
            continue
        if stage.upstream_heaviest is None:
            continue  # nothing upstream now: no constraint to name, and nothing it could be given
        if hours >= context.thresholds.starving_after_hours:
            firing.append(
                Finding(
                    "stage_starving",
                    stage.name,
                    hours,
                    facts={
                        "hours": hours,
                        "day_hours": context.day_hours,
                        "upstream": stage.upstream_heaviest,
                        "upstream_wip": stage.upstream_heaviest_wip,
                    },
                )
            )
    return RuleResult(tuple(firing), frozenset(cleared))


def throughput_shift(signals: BoardSignals, context: Context, open_subjects: Collection[str]) -> RuleResult:
    """The last full week's throughput is a signal on the XmR chart (``analytics.process_behaviour``):
    outside the natural process limits of the twelve weeks before the last four, or the eighth week in a
    row on one side of their centre. A real change, not noise, so the team should look for its cause.

    Judged only against a full baseline of earlier weeks (a young board's provisional limits stay quiet).
    The verdict is about a calendar week, so it can change only when a week ends: the alert is posted once
    (the lifecycle never re-posts it as "worse"), stays open while each new week is still a signal, and
    clears at the first week that is not. One subject per board, so at most one such nudge a week.
    """
    chart = signals.weekly_throughput
    shift = newest_shift(chart, since=len(chart.counts) - 1)  # the last full week, or nothing
    if shift is None or shift.provisional:
        return RuleResult((), frozenset(open_subjects) & {THROUGHPUT_SUBJECT})
    severity = abs(shift.count - shift.limits.centre)
    finding = Finding("throughput_shift", THROUGHPUT_SUBJECT, severity, facts=shift.facts())
    return RuleResult((finding,), frozenset())


def item_aging(signals: BoardSignals, context: Context, open_subjects: Collection[str]) -> RuleResult:
    """A WIP item older than the SLE; once per item, cleared when it finishes or is discarded.

    Silent while the SLE is provisional (fewer than ``SLE_MIN_ITEMS`` finished items): on a young board
    the first items to finish are the quick ones, so an SLE from them flags most work as late.
    """
    aging = signals.aging
    in_progress = set(map(str, aging.index))
    cleared = frozenset(subject for subject in open_subjects if subject not in in_progress)
    if signals.sle_days is None or signals.sle_count < SLE_MIN_ITEMS or aging.empty:
        return RuleResult((), cleared)
    sle_days = signals.sle_days
    past = [(item, row) for item, row in rows_of(aging, ITEM_COLUMNS) if row["age_days"] > sle_days]
    firing = _item_findings(
        "item_aging", past, "age_days", lambda row: {"age_days": float(row["age_days"]), "sle_days": sle_days}
    )
    return RuleResult(firing, cleared)


def item_at_risk(signals: BoardSignals, context: Context, open_subjects: Collection[str]) -> RuleResult:
    """A WIP item older than 85 % of the items that left its current stage were when they left it, or within
    a working day of breaching the SLE.

    Judged per stage (``stages[].exit_age.p85``, at least :data:`AT_RISK_MIN_EXITS` exits in the SLE window),
    so an item stuck early in the flow is seen while swarming still helps, before it breaches the SLE; past
    the SLE, ``item_aging`` speaks instead. In the last stages the age items leave at is close to the SLE
    itself (in the last one, the same thing), so a warning at the stage's p85 would come with the breach: an
    item already older than 70 % of the stage's leavers and a working day (plus one evaluation) from the SLE
    is at risk too, so the team hears a working day ahead. (Items that usually leave the stage about when they
    reach the SLE are not: on a steady board that is every item.) Clears when the item finishes, is discarded,
    or moves on to a stage where it is not at risk. The severity is the stage's place in flow order: an item
    that moves on and is at risk again there got "materially worse", so the lifecycle re-posts it in the
    thread (the message then names the new stage) rather than staying silent — once per item and stage.
    """
    aging = signals.aging
    stages = {stage.name: stage for stage in signals.stages}
    sle_days = signals.sle_days if signals.sle_count >= SLE_MIN_ITEMS else None
    # Posted a working day (plus one evaluation) before the breach at the latest: then it is urgent.
    urgent_hours = None if context.day_hours is None else context.day_hours + EVALUATION_HOURS
    firing, at_risk = [], set()
    for item_id, row in rows_of(aging):
        stage = stages.get(str(row["stage"]))
        if stage is None:
            continue
        age = float(row["age_days"])
        if sle_days is not None and age > sle_days:
            at_risk.add(str(item_id))
            continue  # the breach itself is item_aging's; an alert already open stays open
        facts: dict[str, object] = {"age_days": age, "sle_days": sle_days, "stage": stage.name}
        if (
            stage.exit_age_count < AT_RISK_MIN_EXITS
            or stage.exit_age_p85 is None
            or stage.exit_age_p70 is None
        ):
            continue
        if age > stage.exit_age_p85:
            facts |= {"p85_days": stage.exit_age_p85, "exits": stage.exit_age_count}
        elif (
            sle_days is not None
            and urgent_hours is not None
            and age > max(stage.exit_age_p70, sle_days - SLE_LEAD_SCAN_DAYS)
        ):
            breach = pd.Timestamp(row["started_at"]) + pd.Timedelta(days=sle_days)
            left = context.working_hours_since(signals.asof, breach)
            if left > urgent_hours + SLE_WARNING_GATHER_HOURS:
                continue
            facts |= {"due_hours": left, "day_hours": context.day_hours, "urgent": left <= urgent_hours}
        else:
            continue
        at_risk.add(str(item_id))
        facts |= {"title": optional_text(row.get("title")), "url": optional_text(row.get("url"))}
        firing.append(Finding("item_at_risk", str(item_id), float(stage.index), (str(item_id),), facts))
    cleared = frozenset(subject for subject in open_subjects if subject not in at_risk)
    return RuleResult(tuple(firing), cleared)


def item_blocked(signals: BoardSignals, context: Context, open_subjects: Collection[str]) -> RuleResult:
    """An item blocked for ``blocked_after`` working hours; cleared when it is unblocked (or leaves)."""
    blocked = signals.blocked
    still = set(map(str, blocked.index))
    cleared = frozenset(subject for subject in open_subjects if subject not in still)
    after = context.thresholds.blocked_after_hours
    long_blocked = [
        (item, row) for item, row in rows_of(blocked, ITEM_COLUMNS) if row["blocked_working_hours"] >= after
    ]
    firing = _item_findings(
        "item_blocked",
        long_blocked,
        "blocked_working_hours",
        lambda row: {"hours": float(row["blocked_working_hours"]), "day_hours": context.day_hours},
    )
    return RuleResult(firing, cleared)


def _item_findings(
    rule: str,
    items: Iterable[tuple[Hashable, Mapping[Hashable, Any]]],
    severity: str,
    facts: Callable[[Mapping[Hashable, Any]], dict[str, object]],
) -> tuple[Finding, ...]:
    """One finding per item (row) of ``items``, with its stage, title and link besides the rule's facts."""
    return tuple(
        Finding(
            rule,
            str(item_id),
            float(row[severity]),
            (str(item_id),),
            facts(row)
            | {
                "stage": row["stage"],
                "title": optional_text(row.get("title")),
                "url": optional_text(row.get("url")),
            },
        )
        for item_id, row in items
    )


def rows_of(
    frame: pd.DataFrame, only: Collection[str] | None = None
) -> Iterator[tuple[Hashable, dict[Hashable, Any]]]:
    """Each row of ``frame`` (its columns in ``only``, those it has) as (its index label, {column: value}),
    as ``to_dict("index").items()`` gives them: Python scalars, timestamps as ``Timestamp``. Every
    evaluation walks a few small frames; ``to_dict`` and boolean ``.loc`` filters, for their fixed cost per
    call, took two thirds of a replay's time."""
    if frame.empty:
        return
    names = [name for name in frame.columns if only is None or name in only]
    columns = [(name, frame[name].tolist()) for name in names]
    for position, label in enumerate(frame.index):
        yield label, {name: values[position] for name, values in columns}


Rule = Callable[[BoardSignals, Context, Collection[str]], RuleResult]
RULE_FUNCTIONS: dict[str, Rule] = {
    "wip_limit_exceeded": wip_limit_exceeded,
    "queue_growing": queue_growing,
    "stage_starving": stage_starving,
    "throughput_shift": throughput_shift,
    "item_at_risk": item_at_risk,
    "item_aging": item_aging,
    "item_blocked": item_blocked,
}


def evaluate(
    signals: BoardSignals, context: Context, open_alerts: Collection[tuple[str, str]]
) -> dict[str, RuleResult]:
    """Every rule's result at this instant (stale data is the lifecycle's concern: it holds posts back)."""
    results = {}
    for rule, function in RULE_FUNCTIONS.items():
        subjects = [subject for open_rule, subject in open_alerts if open_rule == rule]
        results[rule] = function(signals, context, subjects)
    return results


def _just_pulled(signals: BoardSignals, stage: StageSignal, since: pd.Timestamp) -> tuple[str, ...]:
    """The stage's newest arrival, if it entered after ``since`` (the previous evaluation) and is still
    there: naming a move days old as "just pulled in" blames the wrong item (``spec/coaching.md``)."""
    newest, at = stage.newest_arrival, stage.newest_arrival_at
    if newest is None or at is None or at <= since or not _still_in(signals, newest, stage.name):
        return ()
    return (newest,)


def _still_in(signals: BoardSignals, item: str | None, stage: str) -> bool:
    """Whether ``item`` is in ``stage`` now (the newest arrival may have moved on since)."""
    aging = signals.aging
    return item is not None and item in aging.index and bool(aging.loc[item, "stage"] == stage)


def _wip_stages(signals: BoardSignals) -> list[StageSignal]:
    return [stage for stage in signals.stages if stage.wip is not None]
