"""Push, starved pull or flow: the weekly review's diagnosis of how work moves (``spec/coaching.md``).

Everything is measured over the period ``[asof - weeks × 7 local days, asof)``. Arrivals, departures and
who holds WIP when are defined in :mod:`analytics.wip_history`; working time comes from
:mod:`analytics.workhours`. Also here: the review's trends, last week against the weeks before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.calendar import days_before, window_ending
from analytics.measures import flow_efficiency
from analytics.timeline import NS_PER_DAY, Timeline, utc_ns
from analytics.wip_history import Starving, average_wip_and_age, stage_starving, wip_at, wip_stays
from analytics.workflow import StageKind
from analytics.workhours import WorkCalendar, working_seconds_many

Verdict = Literal["push", "starved_pull", "flow", "mixed"]
Criterion = Literal["push", "starved_pull", "flow"]
FloatArray = npt.NDArray[np.float64]

PUSH_ARRIVAL_RATIO = 1.2  # push: arrivals exceed departures by more than 20 %
PUSH_DAYS_OVER_LIMIT = 0.5  # push: limits exceeded at the end of more than half the working days
PUSH_FLOW_EFFICIENCY = 0.15  # push: flow efficiency below 15 %
STARVING_SHARE = 0.2  # starved pull: a stage starving for more than 20 % of working hours
FLOW_BALANCE = 0.1  # flow: arrivals within ±10 % of departures
FLOW_STABLE = 0.2  # flow: Little's Law, WIP and average age each within ±20 %


@dataclass(frozen=True)
class Evidence:
    """One criterion of the diagnosis and whether it holds.

    ``value`` is in ``unit`` (``"ratio"`` or ``"share"``), ``None`` when there is no data (the criterion
    then does not hold). ``supports`` is the verdict it argues for; ``stage`` names the stage of per-stage
    criteria. Push criteria hold above their ``threshold`` (flow efficiency: below it); starving holds above
    it; flow criteria hold when ``|value - 1| <= threshold``.
    """

    name: str
    value: float | None
    threshold: float
    holds: bool
    unit: str
    supports: Criterion
    stage: str | None = None


@dataclass(frozen=True)
class Diagnosis:
    """The verdict and the numbers behind it.

    ``verdict``: ``"push"`` when any push criterion holds (it wins: a pushed system starves the stages
    behind its bottleneck too); else ``"starved_pull"`` when some stage starved for more than 20 % of the
    working hours; else ``"flow"`` when every flow criterion holds; else ``"mixed"`` — no pattern is clear,
    which includes a period with too little data to judge (an empty log is ``"mixed"``).

    The period is ``[start, end)`` (UTC), ``weeks`` long. Counts: ``arrivals``/``departures`` (see
    :mod:`analytics.wip_history`); ``finished``: items whose current ``finished_at`` is in the period;
    ``days_over_limit`` of ``working_days``: working days at whose end (local midnight; only days ending in
    the period) any stage's WIP or the board's exceeded its limit. Averages are time-weighted over calendar
    time: ``average_wip`` (items), ``throughput_per_day`` (``finished`` / period days),
    ``average_cycle_days``; ``wip_first_week`` … ``age_last_week``: average WIP and average WIP age (days)
    over the period's first and last seven days. ``waiting_days``: Σ time in each queue stage over the
    items finished in the period; ``bottleneck``: the queue stage with the largest
    share of it (``None`` when nobody waited).
    """

    verdict: Verdict
    evidence: tuple[Evidence, ...]
    weeks: int
    start: pd.Timestamp
    end: pd.Timestamp
    arrivals: int
    departures: int
    finished: int
    working_days: int
    days_over_limit: int
    flow_efficiency: float | None
    average_wip: float | None
    throughput_per_day: float
    average_cycle_days: float | None
    wip_first_week: float | None
    wip_last_week: float | None
    age_first_week: float | None
    age_last_week: float | None
    starving: tuple[Starving, ...]
    waiting_days: dict[str, float]
    bottleneck: str | None


@dataclass(frozen=True)
class Trend:
    """A measure over the last seven days against its weekly baseline; ``None`` where there is no data."""

    last_week: float | None
    baseline: float | None

    @property
    def change(self) -> float | None:
        """Relative change (``0.25``: 25 % up); ``None`` without both values or with a zero baseline."""
        if self.last_week is None or self.baseline is None or self.baseline == 0:
            return None
        return self.last_week / self.baseline - 1


@dataclass(frozen=True)
class Trends:
    """Last seven days vs the ``weeks`` before: throughput (items per week), cycle-time p50/p85 (days)."""

    weeks: int
    finished_last_week: int
    finished_before: int
    throughput: Trend
    cycle_p50: Trend
    cycle_p85: Trend


def diagnose(timeline: Timeline, *, asof: pd.Timestamp, weeks: int = 4, calendar: WorkCalendar) -> Diagnosis:
    """Diagnose the last ``weeks`` weeks up to ``asof`` (the instant the timeline was built at).

    Row order of the event log does not matter (the timeline sorts). Raises ``ValueError`` when ``asof``
    is not the timeline's instant or ``weeks`` < 2 (stability compares a first and a last week).
    """
    _check(timeline, asof, weeks)
    workflow = timeline.workflow
    window = window_ending(timeline.asof, weeks * 7, workflow.timezone)
    start, end = window.start_ns, window.end_ns
    wip = wip_stays(timeline)
    entered, exited = wip["entered_at"].to_numpy(), wip["exited_at"].to_numpy()
    arrivals = int(np.count_nonzero(wip["arrival"].to_numpy() & (entered >= start) & (entered < end)))
    departures = int(np.count_nonzero(wip["departure"].to_numpy() & (exited >= start) & (exited < end)))

    ends = window.boundaries[1:]
    in_period = (ends > start) & (ends <= end)
    working = working_seconds_many(window.boundaries[:-1], ends, calendar) > 0
    day_ends = ends[in_period & working]
    counts = wip_at(wip, day_ends, len(workflow.stages), side="right")
    limits = np.array([s.wip_limit or np.iinfo(np.int64).max for s in workflow.stages], dtype=np.int64)
    over = (counts > limits[:, None]).any(axis=0)
    if workflow.wip_limit is not None:
        over |= counts.sum(axis=0) > workflow.wip_limit
    days_over = int(np.count_nonzero(over))

    items = timeline.items
    finished_ns = utc_ns(items["finished_at"])
    finished = np.flatnonzero(items["finished"].to_numpy() & (finished_ns >= start) & (finished_ns < end))
    efficiency = flow_efficiency(timeline, finished)
    period_days = (end - start) / NS_PER_DAY
    cycle = items["cycle_time_days"].to_numpy(dtype=np.float64)[finished]
    mean_cycle = float(cycle.mean()) if len(cycle) else None
    throughput = len(finished) / period_days
    average_wip, _ = average_wip_and_age(wip, start, end)
    week = 7 * NS_PER_DAY
    wip_first, age_first = average_wip_and_age(wip, start, start + week)
    wip_last, age_last = average_wip_and_age(wip, end - week, end)
    waiting = _waiting_days(timeline, finished)
    starving = stage_starving(timeline, wip, start, end, calendar)

    ratio = arrivals / departures if departures else None
    little = throughput * mean_cycle / average_wip if mean_cycle is not None and average_wip else None
    over_share = days_over / len(day_ends) if len(day_ends) else None
    evidence = (
        _push(
            "arrival_ratio", ratio, PUSH_ARRIVAL_RATIO, arrivals > PUSH_ARRIVAL_RATIO * departures, "ratio"
        ),
        _push("days_over_limit", over_share, PUSH_DAYS_OVER_LIMIT, _above(over_share, PUSH_DAYS_OVER_LIMIT)),
        _push("flow_efficiency", efficiency, PUSH_FLOW_EFFICIENCY, _above(PUSH_FLOW_EFFICIENCY, efficiency)),
        *(_starved(stage) for stage in starving),
        _near_one("balance", ratio, FLOW_BALANCE),
        _near_one("littles_law", little, FLOW_STABLE),
        _near_one("wip_stable", _ratio(wip_last, wip_first), FLOW_STABLE),
        _near_one("age_stable", _ratio(age_last, age_first), FLOW_STABLE),
    )
    return Diagnosis(
        verdict=_verdict(evidence),
        evidence=evidence,
        weeks=weeks,
        start=window.start,
        end=window.end,
        arrivals=arrivals,
        departures=departures,
        finished=len(finished),
        working_days=len(day_ends),
        days_over_limit=days_over,
        flow_efficiency=efficiency,
        average_wip=average_wip,
        throughput_per_day=throughput,
        average_cycle_days=mean_cycle,
        wip_first_week=wip_first,
        wip_last_week=wip_last,
        age_first_week=age_first,
        age_last_week=age_last,
        starving=starving,
        waiting_days=waiting,
        bottleneck=max(waiting, key=waiting.__getitem__) if sum(waiting.values()) > 0 else None,
    )


def weekly_trends(timeline: Timeline, *, asof: pd.Timestamp, weeks: int = 4) -> Trends:
    """Throughput and cycle-time p50/p85 of the last seven local days vs the ``weeks`` weeks before.

    Throughput is items finished (current ``finished_at``) per week: the last seven days' count against
    the earlier count divided by ``weeks``. Cycle-time percentiles pool the items finished in each span (a
    percentile of all of them, steadier than an average of weekly percentiles). A span the log does not
    reach back to (no stay began before it) has ``None`` throughput; a span with no finished item has
    ``None`` percentiles. ``asof`` must be the timeline's instant and ``weeks`` ≥ 1.
    """
    _check(timeline, asof, weeks, least=1)
    timezone = timeline.workflow.timezone
    split = days_before(timeline.asof, 7, timezone).value
    since = days_before(timeline.asof, 7 * (weeks + 1), timezone).value
    items = timeline.items
    finished_ns = np.where(items["finished"].to_numpy(), utc_ns(items["finished_at"]), np.iinfo(np.int64).min)
    cycle = items["cycle_time_days"].to_numpy(dtype=np.float64)
    recent = cycle[(finished_ns >= split) & (finished_ns < timeline.asof_ns)]
    before = cycle[(finished_ns >= since) & (finished_ns < split)]
    entered = timeline.stays["entered_at"].to_numpy()
    first_ns = int(entered.min()) if len(entered) else None

    def percentile(values: FloatArray, level: int) -> float | None:
        return float(np.percentile(values, level)) if len(values) else None

    return Trends(
        weeks=weeks,
        finished_last_week=len(recent),
        finished_before=len(before),
        throughput=Trend(
            float(len(recent)) if first_ns is not None and first_ns < split else None,
            len(before) / weeks if first_ns is not None and first_ns < since else None,
        ),
        cycle_p50=Trend(percentile(recent, 50), percentile(before, 50)),
        cycle_p85=Trend(percentile(recent, 85), percentile(before, 85)),
    )


def queue_waiting_days(timeline: Timeline, *, days: int = 30) -> dict[str, float]:
    """Σ time in each queue stage (days) over the items finished in the last ``days`` local days.

    The waiting time the daily digest's bottleneck rule weighs; every queue stage is listed, 0 when unused.
    """
    window = window_ending(timeline.asof, days, timeline.workflow.timezone)
    finished_ns = utc_ns(timeline.items["finished_at"])
    chosen = timeline.items["finished"].to_numpy() & (finished_ns >= window.start_ns)
    return _waiting_days(timeline, np.flatnonzero(chosen & (finished_ns < window.end_ns)))


def _check(timeline: Timeline, asof: pd.Timestamp, weeks: int, *, least: int = 2) -> None:
    if pd.Timestamp(asof).value != timeline.asof_ns:
        raise ValueError("asof must be the instant the timeline was built at")
    if weeks < least:
        raise ValueError(f"weeks must be at least {least}")


def _waiting_days(timeline: Timeline, finished: npt.NDArray[np.intp]) -> dict[str, float]:
    queues = [i for i, s in enumerate(timeline.workflow.stages) if s.kind is StageKind.QUEUE]
    totals = timeline.time_in_stage_days[finished][:, queues].sum(axis=0)
    return {timeline.workflow.stages[i].name: float(t) for i, t in zip(queues, totals, strict=True)}


def _push(name: str, value: float | None, threshold: float, holds: bool, unit: str = "share") -> Evidence:
    return Evidence(name, value, threshold, holds, unit, "push")


def _above(value: float | None, threshold: float | None) -> bool:
    return value is not None and threshold is not None and value > threshold


def _starved(stage: Starving) -> Evidence:
    holds = _above(stage.share, STARVING_SHARE)
    return Evidence("starving", stage.share, STARVING_SHARE, holds, "share", "starved_pull", stage.stage)


def _near_one(name: str, value: float | None, tolerance: float) -> Evidence:
    holds = value is not None and abs(value - 1) <= tolerance
    return Evidence(name, value, tolerance, holds, "ratio", "flow")


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def _verdict(evidence: tuple[Evidence, ...]) -> Verdict:
    if any(e.holds for e in evidence if e.supports == "push"):
        return "push"
    if any(e.holds for e in evidence if e.supports == "starved_pull"):
        return "starved_pull"
    if all(e.holds for e in evidence if e.supports == "flow"):
        return "flow"
    return "mixed"
