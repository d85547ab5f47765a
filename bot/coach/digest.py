"""The daily digest as data: what the team reads at the start of the working day (``spec/coaching.md``).

Built from the board's 30-day metrics at the digest's time, with what the metrics do not hold passed in:
the starving stages (from the nudge rules' signals), the sync state and, for the bottleneck, the waiting
time per queue stage (:func:`analytics.diagnosis.queue_waiting_days`). No clock, no I/O: the Slack message
is arranged from this by ``bot.slack.blocks.digest``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from analytics.calendar import days_before
from analytics.measures import BoardMetrics
from bot.values import optional_number, optional_text

NEAR_SLE_PACE = 0.7  # "near the SLE": older than 70 % of the items finished in the SLE window
BottleneckRule = Literal["waiting_time", "wip_ratio"]


@dataclass(frozen=True)
class DigestItem:
    """A WIP item as the digest shows it: ``age_days`` since its start, ``pace`` (``None`` without an SLE
    basis), whether it is past the SLE, and its blocked state, ``blocked_days`` being blocked time in its
    cycle."""

    item_id: str
    title: str | None
    url: str | None
    stage: str
    age_days: float
    pace: float | None
    past_sle: bool
    blocked: bool
    blocked_days: float


@dataclass(frozen=True)
class StageLoad:
    """A queue or active stage's WIP now against its limit (``None``: no limit)."""

    name: str
    wip: int
    limit: int | None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.wip > self.limit

    @property
    def spare(self) -> int:
        """Places free under the limit; 0 at or over it, and for a stage without a limit."""
        return max(self.limit - self.wip, 0) if self.limit is not None else 0


@dataclass(frozen=True)
class Bottleneck:
    """The current bottleneck and the rule that picked it.

    ``"waiting_time"``: the queue stage holding the largest share of the time finished items spent waiting;
    ``value`` is that share (0–1). ``"wip_ratio"`` (when no waiting time is known): the stage with the
    highest WIP/limit, only at or over its limit; ``value`` is the ratio (1.25: 5 items for a limit of 4).
    """

    stage: str
    rule: BottleneckRule
    value: float


@dataclass(frozen=True)
class PullSuggestion:
    """``stage`` has ``spare`` free places; ``item`` is the oldest unblocked item in ``upstream``, the WIP
    stage just before it: the next one to move on."""

    stage: str
    spare: int
    upstream: str
    item: DigestItem


@dataclass(frozen=True)
class DigestData:
    """Everything the daily digest says, in flow order of reading.

    ``finished_yesterday``: items finished on the local calendar day before ``now``; ``finished_week``:
    in the seven local days up to ``now``; ``daily_average``: items finished per day over the metrics'
    window (``window_days``). ``aging``: WIP past the SLE or at pace ≥ 70 %, oldest first; ``blocked``:
    blocked WIP, longest blocked first. ``stale``/``last_synced_at``: the data's freshness as judged by the
    caller; ``unmapped_statuses`` and ``warnings``: data-quality problems of the event log.
    """

    board: str
    timezone: str
    now: pd.Timestamp
    yesterday: dt.date
    finished_yesterday: int
    finished_week: int
    daily_average: float
    window_days: int
    wip_total: int
    wip_limit: int | None
    stages: tuple[StageLoad, ...]
    aging: tuple[DigestItem, ...]
    blocked: tuple[DigestItem, ...]
    starving: tuple[str, ...]
    bottleneck: Bottleneck | None
    pulls: tuple[PullSuggestion, ...]
    sle_days: float | None
    sle_percentile: float
    stale: bool
    last_synced_at: dt.datetime | None
    unmapped_statuses: dict[str, int]
    warnings: tuple[str, ...]
    sle_count: int | None = None  # finished items behind the SLE: under ten, it is provisional
    due_at: dt.datetime | None = None  # when a late digest was due (set when it is posted late)
    delivery_key: str | None = None  # the slot it delivers, in the message's metadata (a scheduled digest)

    @property
    def weekly_average(self) -> float:
        """The window's daily average scaled to seven days: what ``finished_week`` compares with."""
        return self.daily_average * 7

    @property
    def over_limit(self) -> bool:
        return self.wip_limit is not None and self.wip_total > self.wip_limit


def digest_data(
    metrics_30d: BoardMetrics,
    *,
    now: dt.datetime | pd.Timestamp,
    starving: Sequence[str],
    stale: bool,
    last_synced_at: dt.datetime | None,
    waiting_days: Mapping[str, float] | None = None,
) -> DigestData:
    """The digest of ``metrics_30d`` (measured at ``now``, normally over 30 days) as data.

    ``waiting_days`` (Σ time in each queue stage over recently finished items) lets the bottleneck be the
    stage where finished work waited most; without it, or when nothing waited, the highest WIP/limit ratio
    at or over the limit decides, and with neither there is no bottleneck.
    """
    metrics = metrics_30d
    moment = pd.Timestamp(now)
    local_now = moment.tz_convert(metrics.timezone)
    yesterday = local_now.date() - dt.timedelta(days=1)
    finished_at = pd.DatetimeIndex(metrics.finished["finished_at"]).tz_convert(metrics.timezone)
    week_start = days_before(moment, 7, metrics.timezone)
    stages = tuple(
        StageLoad(flow.name, flow.wip or 0, flow.wip_limit) for flow in metrics.stages if flow.kind.is_wip
    )
    items = _items(metrics)
    return DigestData(
        board=metrics.board,
        timezone=metrics.timezone,
        now=moment,
        yesterday=yesterday,
        finished_yesterday=int((finished_at.date == yesterday).sum()),
        finished_week=int(((finished_at >= week_start) & (finished_at < moment)).sum()),
        daily_average=metrics.throughput_total / metrics.window.days,
        window_days=metrics.window.days,
        wip_total=metrics.wip_total,
        wip_limit=metrics.wip_limit,
        stages=stages,
        aging=tuple(
            sorted(
                (item for item in items if item.past_sle or (item.pace or 0.0) >= NEAR_SLE_PACE),
                key=lambda item: -item.age_days,
            )
        ),
        blocked=tuple(sorted((item for item in items if item.blocked), key=lambda item: -item.blocked_days)),
        starving=tuple(starving),
        bottleneck=bottleneck(stages, waiting_days),
        pulls=pull_suggestions(stages, items),
        sle_days=metrics.sle_days,
        sle_percentile=metrics.sle_percentile,
        stale=stale,
        last_synced_at=last_synced_at,
        unmapped_statuses=dict(metrics.unmapped_statuses),
        warnings=tuple(metrics.warnings),
        sle_count=metrics.sle_cycle_time.count,
    )


def bottleneck(stages: Sequence[StageLoad], waiting_days: Mapping[str, float] | None) -> Bottleneck | None:
    """The waiting-time rule when there is waiting time, else the WIP/limit rule (see :class:`Bottleneck`).

    Ties go to the stage earliest in flow order.
    """
    waiting = {name: days for name, days in (waiting_days or {}).items() if days > 0}
    total = sum(waiting.values())
    if total > 0:
        stage = max(waiting, key=waiting.__getitem__)
        return Bottleneck(stage, "waiting_time", waiting[stage] / total)
    ratios = [(stage.wip / stage.limit, stage.name) for stage in stages if stage.limit and stage.wip]
    full = [(ratio, name) for ratio, name in ratios if ratio >= 1]
    if not full:
        return None
    best = max(ratio for ratio, _ in full)
    return Bottleneck(next(name for ratio, name in full if ratio == best), "wip_ratio", best)


def pull_suggestions(stages: Sequence[StageLoad], items: Sequence[DigestItem]) -> tuple[PullSuggestion, ...]:
    """For each stage with free places under its limit, the oldest unblocked item in the stage before it.

    The first WIP stage is left out (what to start is a replenishment decision, not a pull), and so is a
    stage whose upstream stage holds no unblocked item.
    """
    suggestions = []
    for upstream, stage in itertools.pairwise(stages):
        waiting = [item for item in items if item.stage == upstream.name and not item.blocked]
        if stage.spare and waiting:
            oldest = max(waiting, key=lambda item: item.age_days)
            suggestions.append(PullSuggestion(stage.name, stage.spare, upstream.name, oldest))
    return tuple(suggestions)


def _items(metrics: BoardMetrics) -> list[DigestItem]:
    sle = metrics.sle_days
    rows = metrics.wip_items.reset_index().to_dict("records")
    return [
        DigestItem(
            item_id=str(row["item_id"]),
            title=optional_text(row.get("title")),
            url=optional_text(row.get("url")),
            stage=str(row["stage"]),
            age_days=float(row["age_days"]),
            pace=optional_number(row.get("pace")),
            past_sle=sle is not None and float(row["age_days"]) > sle,
            blocked=bool(row.get("blocked", False)),
            blocked_days=optional_number(row.get("blocked_days")) or 0.0,
        )
        for row in rows
    ]
