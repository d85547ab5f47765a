"""Board measures over a window: WIP, throughput, cycle time, SLE and pace, flow efficiency, stage flow.

Definitions are those of ``spec/metrics.md``. Percentiles interpolate linearly between closest ranks
(numpy's default); a statistic over no items is ``None``, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.calendar import Window, days_before, to_local_iso, window_ending
from analytics.cfd import cumulative_flow
from analytics.exit_age import NO_EXITS, PROVISIONAL_BELOW, ExitAge, exit_ages_by_stage
from analytics.process_behaviour import BASELINE_WEEKS, ProcessBehaviour, process_behaviour
from analytics.timeline import NOT_SET, NS_PER_DAY, Timeline, build_timeline, utc_ns
from analytics.wip_history import daily_wip
from analytics.words import count_of
from analytics.workflow import StageKind, Workflow
from analytics.workhours import WorkCalendar, working_seconds

FloatArray = npt.NDArray[np.float64]
CYCLE_PERCENTILES = (50, 70, 85, 95)


@dataclass(frozen=True)
class CycleTimeStats:
    """Cycle-time statistics in days over a set of finished items (``None`` when there are none)."""

    count: int
    mean: float | None
    p50: float | None
    p70: float | None
    p85: float | None
    p95: float | None
    max: float | None

    @property
    def percentiles(self) -> dict[int, float | None]:
        return {50: self.p50, 70: self.p70, 85: self.p85, 95: self.p95}

    @property
    def provisional(self) -> bool:
        """Fewer than ten items: the percentiles are given, but as a first guess (``spec/coaching.md``)."""
        return self.count < PROVISIONAL_BELOW


@dataclass(frozen=True)
class StageFlow:
    """One stage's numbers: WIP now (queue/active stages only), items in it now, flow in the window."""

    name: str
    kind: StageKind
    wip: int | None
    wip_limit: int | None
    count: int
    arrivals: int
    departures: int
    time_in_stage_p50: float | None
    time_in_stage_p85: float | None
    exit_age: ExitAge = NO_EXITS  # ages at which items left it, over the SLE window (queue/active stages)

    @property
    def over_limit(self) -> bool:
        return self.wip is not None and self.wip_limit is not None and self.wip > self.wip_limit


@dataclass(frozen=True)
class BoardMetrics:
    """Every measure of one board at one instant. Frames are described on the fields that hold them.

    ``throughput_daily``: items finished per local day of the window (index ``datetime.date``, zeros kept).
    ``finished``: items finished in the window (index ``item_id``; ``finished_at``, ``started_at``,
    ``cycle_time_days`` and attributes), oldest finish first. ``wip_items``: WIP items oldest first
    (``stage`` name, ``started_at``, ``age_days``, ``pace``, ``blocked``, ``blocked_days``, attributes).
    ``cfd``: see :func:`analytics.cfd.cumulative_flow`. ``wip_daily``: WIP by stage at the end of each day
    of the window (:func:`analytics.wip_history.daily_wip`). ``sle_cycle_time``: cycle-time statistics over
    the SLE window (``sle_window_days``), the basis of ``sle_days`` and of pace. ``process_behaviour``: the
    XmR charts of weekly throughput and of cycle time (:mod:`analytics.process_behaviour`).
    """

    board: str
    timezone: str
    asof: pd.Timestamp
    window: Window
    wip_total: int
    wip_limit: int | None
    wip_by_stage: dict[str, int]
    throughput_daily: pd.Series
    cycle_time: CycleTimeStats
    sle_percentile: float
    sle_window_days: int
    sle_days: float | None
    sle_cycle_time: CycleTimeStats
    flow_efficiency: float | None
    stages: tuple[StageFlow, ...]
    wip_items: pd.DataFrame
    finished: pd.DataFrame
    cfd: pd.DataFrame
    wip_daily: pd.DataFrame
    unmapped_statuses: dict[str, int]
    warnings: tuple[str, ...]
    process_behaviour: ProcessBehaviour

    @property
    def throughput_total(self) -> int:
        return int(self.throughput_daily.sum())

    @property
    def throughput_per_week(self) -> float:
        return self.throughput_total / self.window.days * 7

    @property
    def sle_provisional(self) -> bool:
        """The SLE rests on fewer than ten finished items."""
        return self.sle_cycle_time.provisional


def board_metrics(
    events: pd.DataFrame,
    workflow: Workflow,
    asof: pd.Timestamp,
    *,
    window_days: int = 30,
    warnings: Sequence[str] = (),
    stale_after_hours: float | None = None,
) -> BoardMetrics:
    """Build the timeline at ``asof`` and compute every measure over ``[asof - window_days, asof)``.

    ``warnings`` (the event log's) are followed by the data-quality warnings of :func:`data_quality_warnings`.
    """
    timeline = build_timeline(events, workflow, asof)
    window = window_ending(timeline.asof, window_days, workflow.timezone)
    found = data_quality_warnings(
        events, workflow, timeline.asof, window, stale_after_hours=stale_after_hours
    )
    return compute_metrics(timeline, window_days=window_days, warnings=(*warnings, *found))


def data_quality_warnings(
    events: pd.DataFrame,
    workflow: Workflow,
    asof: pd.Timestamp,
    window: Window,
    *,
    stale_after_hours: float | None = None,
) -> tuple[str, ...]:
    """Why the numbers may mislead, instead of letting them look sure (``spec/coaching.md``, "Guards").

    An empty log; events dated after ``asof`` (ignored, as every measure ignores them); a last event older
    than ``stale_after_hours`` of the board's *working* time (nights and weekends do not make a log stale,
    or every Monday digest would warn); a window reaching back before the first event (its early days
    count as quiet when nothing was recorded). ``None`` for ``stale_after_hours`` skips that check.
    """
    if len(events) == 0:
        return ("the event log is empty: there is nothing to measure, every number below is empty",)
    zone = workflow.timezone
    stamps = utc_ns(events["timestamp"])
    asof_ns = int(asof.value)
    future = stamps > asof_ns
    found = []
    if future.any():
        latest = pd.Timestamp(int(stamps[future].max()), tz="UTC")
        found.append(
            f"{count_of(int(future.sum()), 'event')} dated after {to_local_iso(asof, zone)} (the latest "
            f"{to_local_iso(latest, zone)}): ignored"
        )
    seen = stamps[~future]
    if len(seen) == 0:
        found.append(
            f"no event is dated at or before {to_local_iso(asof, zone)}: there is nothing to measure"
        )
        return tuple(found)
    last = pd.Timestamp(int(seen.max()), tz="UTC")
    if stale_after_hours is not None:
        idle = working_seconds(last, asof, WorkCalendar.of(workflow)) / 3600
        if idle > stale_after_hours:
            found.append(
                f"the last event is from {to_local_iso(last, zone)}, {idle:.0f} working hours before "
                f"{to_local_iso(asof, zone)} (stale after {stale_after_hours:g}): the data may be out of date"
            )
    first = int(seen.min())
    if first > window.start_ns:
        history = (asof_ns - first) / NS_PER_DAY
        since = to_local_iso(pd.Timestamp(first, tz="UTC"), zone)
        found.append(
            f"the window of {count_of(window.days, 'day')} is longer than the history ({history:.1f} days "
            f"since the first event, {since}): early days count as quiet"
        )
    return tuple(found)


def compute_metrics(
    timeline: Timeline,
    *,
    window_days: int = 30,
    warnings: Sequence[str] = (),
    baseline_weeks: int = BASELINE_WEEKS,
) -> BoardMetrics:
    """Every board measure from a timeline; see the module docstring for conventions.

    ``baseline_weeks``: the length of the process-behaviour baseline (``spec/metrics.md``).
    """
    workflow = timeline.workflow
    window = window_ending(timeline.asof, window_days, workflow.timezone)
    items = timeline.items
    finished_at_ns = utc_ns(items["finished_at"])
    in_window = (
        items["finished"].to_numpy() & (finished_at_ns >= window.start_ns) & (finished_at_ns < window.end_ns)
    )
    finished = items.loc[in_window].sort_values("finished_at", kind="stable")
    cycle_times = finished["cycle_time_days"].to_numpy(dtype=np.float64)

    wip_by_stage = wip_counts(timeline)
    recent = sle_cycle_times(timeline)
    sle_days = float(np.percentile(recent, workflow.sle.percentile)) if len(recent) else None
    return BoardMetrics(
        board=workflow.name,
        timezone=workflow.timezone,
        asof=timeline.asof,
        window=window,
        wip_total=sum(wip_by_stage.values()),
        wip_limit=workflow.wip_limit,
        wip_by_stage=wip_by_stage,
        throughput_daily=daily_throughput(finished_at_ns[in_window], window),
        cycle_time=cycle_time_stats(cycle_times),
        sle_percentile=workflow.sle.percentile,
        sle_window_days=workflow.sle.window_days,
        sle_days=sle_days,
        sle_cycle_time=cycle_time_stats(recent),
        flow_efficiency=flow_efficiency(timeline, np.flatnonzero(in_window)),
        stages=stage_flows(
            timeline, window, np.flatnonzero(in_window), wip_by_stage, stage_exit_ages(timeline)
        ),
        wip_items=wip_items(timeline),
        finished=finished,
        cfd=cumulative_flow(timeline, window),
        wip_daily=daily_wip(timeline, window),
        unmapped_statuses=dict(timeline.unmapped_statuses),
        warnings=tuple(warnings),
        process_behaviour=process_behaviour(timeline, window, baseline_weeks),
    )


def wip_counts(timeline: Timeline) -> dict[str, int]:
    """WIP (started, not finished, not discarded) by current stage; every queue/active stage is listed."""
    workflow = timeline.workflow
    wip_stage = timeline.items.loc[timeline.items["wip"], "stage"].to_numpy()
    counts = np.bincount(wip_stage, minlength=len(workflow.stages))
    return {workflow.stages[i].name: int(counts[i]) for i in workflow.wip_stage_indexes}


def daily_throughput(finished_at_ns: npt.NDArray[np.int64], window: Window) -> pd.Series:
    """Items finished on each local day of the window, zeros included (instants must lie in the window)."""
    counts = np.bincount(window.day_index(finished_at_ns), minlength=len(window.dates))
    return pd.Series(counts.astype(np.int64), index=pd.Index(window.dates, name="date"), name="throughput")


def cycle_time_stats(cycle_times_days: FloatArray) -> CycleTimeStats:
    """Count, mean, p50/p70/p85/p95 (linear interpolation) and max; ``None`` statistics for no items."""
    if len(cycle_times_days) == 0:
        return CycleTimeStats(0, None, None, None, None, None, None)
    p50, p70, p85, p95 = (float(v) for v in np.percentile(cycle_times_days, CYCLE_PERCENTILES))
    return CycleTimeStats(
        count=len(cycle_times_days),
        mean=float(np.mean(cycle_times_days)),
        p50=p50,
        p70=p70,
        p85=p85,
        p95=p95,
        max=float(np.max(cycle_times_days)),
    )


def sle_cycle_times(timeline: Timeline) -> FloatArray:
    """Cycle times (days) of items finished in the SLE window ``[asof - sle.window_days, asof)``, sorted."""
    items = timeline.items
    finished_at_ns = utc_ns(items["finished_at"])
    since = days_before(timeline.asof, timeline.workflow.sle.window_days, timeline.workflow.timezone).value
    recent = items["finished"].to_numpy() & (finished_at_ns >= since) & (finished_at_ns < timeline.asof_ns)
    return np.sort(items.loc[recent, "cycle_time_days"].to_numpy(dtype=np.float64))


def finished_in_sle_window(timeline: Timeline) -> npt.NDArray[np.bool_]:
    """Per item: finished in the SLE window ``[asof - sle.window_days, asof)``."""
    items = timeline.items
    finished_at_ns = utc_ns(items["finished_at"])
    since = days_before(timeline.asof, timeline.workflow.sle.window_days, timeline.workflow.timezone).value
    return np.asarray(
        items["finished"].to_numpy() & (finished_at_ns >= since) & (finished_at_ns < timeline.asof_ns),
        dtype=bool,
    )


def stage_exit_ages(timeline: Timeline) -> tuple[ExitAge, ...]:
    """Per stage, the exit ages of items finished in the SLE window (``analytics.exit_age``).

    Only stays inside an item's last cycle count (entered at or after ``started_at``, before ``finished_at``):
    a stay before a return to the backlog belongs to a cycle that never finished.
    """
    workflow = timeline.workflow
    items, stays = timeline.items, timeline.stays
    item = stays["item"].to_numpy(dtype=np.int64)
    stage = stays["stage"].to_numpy(dtype=np.int64)
    entered = stays["entered_at"].to_numpy(dtype=np.int64)
    started = utc_ns(items["started_at"])[item]
    finished = utc_ns(items["finished_at"])[item]
    in_cycle = finished_in_sle_window(timeline)[item] & (entered >= started) & (entered < finished)
    same_item_next = np.r_[item[1:] == item[:-1], False]
    next_stage = np.where(same_item_next, np.r_[stage[1:], -1], -1)
    counted = np.array(
        [spec.kind.is_wip and index >= workflow.start_index for index, spec in enumerate(workflow.stages)],
        dtype=bool,
    )
    return exit_ages_by_stage(
        np.where(in_cycle, item, -1),
        stage,
        stays["exited_at"].to_numpy(dtype=np.int64),
        next_stage,
        started,
        counted,
    )


def wip_items(timeline: Timeline) -> pd.DataFrame:
    """WIP items oldest first, with stage name, age, pace and blocked state.

    ``pace`` is the share of items finished in the SLE window whose cycle time is ≤ the item's age (0.62:
    older than 62 % of recently finished items); ``None`` when nothing finished in the SLE window.
    """
    stage_names = np.array(timeline.workflow.stage_names, dtype=object)
    wip = timeline.items.loc[timeline.items["wip"]].copy()
    recent = sle_cycle_times(timeline)
    ages = wip["age_days"].to_numpy(dtype=np.float64)
    if len(recent):
        pace = np.searchsorted(recent, ages, side="right") / len(recent)
        wip["pace"] = pace.astype(object)
    else:
        wip["pace"] = None
    wip["stage"] = stage_names[wip["stage"].to_numpy()]
    return wip.sort_values(["started_at", "age_days"], ascending=[True, False], kind="stable")


def flow_efficiency(timeline: Timeline, finished_positions: npt.NDArray[np.intp]) -> float | None:
    """Σ time in active stages net of blocked time there, over Σ cycle time, for the given finished items.

    ``None`` when there are no items or their total cycle time is zero (nothing to divide by).
    """
    if len(finished_positions) == 0:
        return None
    total_cycle = float(timeline.items["cycle_time_days"].to_numpy()[finished_positions].sum())
    if total_cycle <= 0:
        return None
    active = np.array([stage.kind is StageKind.ACTIVE for stage in timeline.workflow.stages])
    stays = timeline.stays
    chosen = np.zeros(len(timeline.items), dtype=bool)
    chosen[finished_positions] = True
    active_stays = stays.loc[chosen[stays["item"].to_numpy()] & active[stays["stage"].to_numpy()]]
    active_days = float(active_stays["cycle_days"].sum())
    spans = timeline.blocked_spans.loc[chosen[timeline.blocked_spans["item"].to_numpy()]]
    overlap = spans.merge(active_stays[["item", "entered_at", "exited_at"]], on="item")
    low = np.maximum(overlap["start"].to_numpy(), overlap["entered_at"].to_numpy())
    high = np.minimum(overlap["end"].to_numpy(), overlap["exited_at"].to_numpy())
    blocked_active_days = float(np.clip(high - low, 0, None).sum()) / NS_PER_DAY
    return max(active_days - blocked_active_days, 0.0) / total_cycle


def stage_flows(
    timeline: Timeline,
    window: Window,
    finished_positions: npt.NDArray[np.intp],
    wip_by_stage: dict[str, int],
    exit_ages: Sequence[ExitAge] | None = None,
) -> tuple[StageFlow, ...]:
    """Per stage: WIP and limit, items in it now, arrivals/departures in the window, time-in-stage p50/p85.

    Arrivals and departures count every entry and exit in the window, re-entries included. Time in stage
    (queue and active stages only; ``None`` for the others) is over items finished in the window that visited
    the stage during their cycle.
    """
    workflow = timeline.workflow
    n_stages = len(workflow.stages)
    stays = timeline.stays
    stage = stays["stage"].to_numpy()
    entered = stays["entered_at"].to_numpy()
    exited = stays["exited_at"].to_numpy()
    arrivals = np.bincount(
        stage[(entered >= window.start_ns) & (entered < window.end_ns)], minlength=n_stages
    )
    departures = np.bincount(
        stage[(exited >= window.start_ns) & (exited < window.end_ns)], minlength=n_stages
    )
    present = timeline.items["stage"].to_numpy()
    now = np.bincount(present[present >= 0], minlength=n_stages)

    items = timeline.items
    started_ns = utc_ns(items["started_at"])
    finished_ns = utc_ns(items["finished_at"])
    item = stays["item"].to_numpy()
    in_cycle = (entered >= started_ns[item]) & (entered < finished_ns[item]) & (started_ns[item] != NOT_SET)
    chosen = np.zeros(len(items), dtype=bool)
    chosen[finished_positions] = True
    visited = np.zeros((len(items), n_stages), dtype=bool)
    visits = chosen[item] & in_cycle
    visited[item[visits], stage[visits]] = True

    flows = []
    for index, spec in enumerate(workflow.stages):
        # Only started, unfinished stages have a meaningful time in stage; a "time in done" would only be
        # the stay of reopened items before they were reopened.
        times = timeline.time_in_stage_days[visited[:, index], index] if spec.kind.is_wip else np.zeros(0)
        p50, p85 = (float(v) for v in np.percentile(times, (50, 85))) if len(times) else (None, None)
        flows.append(
            StageFlow(
                name=spec.name,
                kind=spec.kind,
                wip=wip_by_stage.get(spec.name),
                wip_limit=spec.wip_limit,
                count=int(now[index]),
                arrivals=int(arrivals[index]),
                departures=int(departures[index]),
                time_in_stage_p50=p50,
                time_in_stage_p85=p85,
                exit_age=exit_ages[index] if exit_ages is not None else NO_EXITS,
            )
        )
    return tuple(flows)


def throughput_sample(metrics: BoardMetrics) -> npt.NDArray[np.int64]:
    """Daily throughput of the window as forecast input: one value per full 24 hours.

    A window that does not start at local midnight touches ``days + 1`` dates, the first and the last only in
    part; together those two parts cover one day's hours, so they are summed into one sample. Otherwise two
    half-days would each pose as a full day and bias the forecast low.
    """
    counts: npt.NDArray[np.int64] = metrics.throughput_daily.to_numpy(dtype=np.int64)
    if len(counts) == metrics.window.days + 1:
        merged = np.concatenate(([counts[0] + counts[-1]], counts[1:-1]))
        return merged.astype(np.int64)
    return counts
