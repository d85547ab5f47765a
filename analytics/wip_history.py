"""WIP over time: which stays held work in progress, how much WIP each stage had at given instants.

An item holds WIP from its start (``spec/metrics.md``: its first entry into the start stage or a later one,
discards excepted, after its last backlog stay) while it sits in a queue or active stage; a reopened item
holds WIP again and keeps its start. Entering WIP from outside (a start, or a reopening) is an *arrival*;
leaving WIP into a done stage is a *departure*. Returns to the backlog and discards leave WIP without
departing, and an item that skips straight from the backlog to done never holds WIP.

WIP is a step function that changes only where a stay begins or ends, so counts at any set of instants come
from one cumulative sum over stays (as the CFD does), with no per-item work. An ``active`` stage *starves*
while it and the ``queue`` right before it are empty and an earlier started stage holds work
(``spec/coaching.md``); a queue never starves, since nobody waits there. :func:`starving_time` is that
definition, the one the nudge rule, the digest and the diagnosis share; starving time is in working hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.calendar import Window
from analytics.timeline import NS_PER_DAY, Timeline
from analytics.workflow import StageKind, Workflow
from analytics.workhours import WorkCalendar, working_seconds_many

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_INT_COLUMNS = ("item", "stage", "entered_at", "exited_at", "started_at")


def wip_stays(timeline: Timeline) -> pd.DataFrame:
    """The stays during which an item was WIP, in item and time order.

    Columns: ``item`` (row position in ``timeline.items``), ``stage`` (index into the workflow's stages),
    ``entered_at``/``exited_at`` (int64 UTC ns; ``exited_at`` is int64's maximum while the stay lasts),
    ``started_at`` (int64 UTC ns: when the item's current run in the started system began), ``arrival``
    (the stay entered WIP from outside it) and ``departure`` (the stay left WIP into a done stage).
    """
    stays = timeline.stays
    workflow = timeline.workflow
    item = stays["item"].to_numpy()
    stage = stays["stage"].to_numpy()
    kinds = np.array([s.kind for s in workflow.stages], dtype=object)[stage]
    n = len(item)
    if n == 0:
        return pd.DataFrame(
            {name: np.zeros(0, dtype=np.int64) for name in _INT_COLUMNS}
            | {name: np.zeros(0, dtype=bool) for name in ("arrival", "departure")}
        )
    position = np.arange(n)
    backlog = kinds == StageKind.BACKLOG
    new_item = np.r_[True, item[1:] != item[:-1]]
    # A run begins with each item and each backlog stay; the item starts at the run's first stay at or
    # after the start stage that is not a discard, exactly as analytics.timeline defines started_at.
    run_starts = np.flatnonzero(backlog | new_item)
    candidate = ~backlog & (stage >= workflow.start_index) & (kinds != StageKind.DISCARDED)
    first = np.minimum.reduceat(np.where(candidate, position, n), run_starts)
    first_of_row = np.repeat(first, np.diff(np.r_[run_starts, n]))
    # Looked up per stage, then gathered: one call per stage, not per stay.
    wip_stage = np.array([s.kind.is_wip for s in workflow.stages], dtype=bool)
    is_wip: BoolArray = wip_stage[stage] & (position >= first_of_row)
    entered = stays["entered_at"].to_numpy()
    previous_wip = np.r_[False, is_wip[:-1]] & ~new_item
    next_done = np.r_[kinds[1:] == StageKind.DONE, False] & ~np.r_[new_item[1:], True]
    frame = pd.DataFrame(
        {
            "item": item,
            "stage": stage,
            "entered_at": entered,
            "exited_at": stays["exited_at"].to_numpy(),
            # Rows that are not WIP may have no start (index n); they are dropped below.
            "started_at": entered[np.minimum(first_of_row, n - 1)],
            "arrival": ~previous_wip,
            "departure": next_done,
        }
    )
    return frame.loc[is_wip].reset_index(drop=True)


def daily_wip(timeline: Timeline, window: Window) -> pd.DataFrame:
    """WIP at the end of each local day of ``window``, by stage: the WIP run chart's data.

    Indexed by date (``window.dates``), one integer column per queue/active stage in flow order. "End of
    day" is the CFD's: the state just before the next local midnight (``asof`` for the last day). An item
    counts while it holds WIP as :func:`wip_stays` defines it (started, not finished, not discarded), so the
    last row's total is the board's WIP now.
    """
    workflow = timeline.workflow
    counts = wip_at(wip_stays(timeline), window.boundaries[1:], len(workflow.stages), side="right")
    indexes = list(workflow.wip_stage_indexes)
    return pd.DataFrame(
        counts[indexes].T,
        index=pd.Index(window.dates, name="date"),
        columns=[workflow.stages[i].name for i in indexes],
    )


@dataclass(frozen=True)
class Starving:
    """A stage's starving time (:func:`starving_time`): it and its queue empty while earlier started stages
    held work.

    ``share`` = ``hours`` / ``working_hours`` of the period (``None`` without working hours);
    ``constraint`` is the earlier stage that held the most work (item-hours) while it starved.
    """

    stage: str
    hours: float
    working_hours: float
    share: float | None
    constraint: str | None


def wip_at(
    wip: pd.DataFrame, instants: IntArray, n_stages: int, *, side: Literal["left", "right"] = "left"
) -> IntArray:
    """A stages × instants matrix: WIP items in each stage at each instant (int64 UTC ns, sorted).

    ``side="left"``: the state from the instant on (``entered_at <= t < exited_at``); ``side="right"``:
    the state just before it (``entered_at < t <= exited_at``, the CFD's convention for a day's end).
    ``wip`` is a frame from :func:`wip_stays`; stages that hold no WIP have rows of zeros.
    """
    first = np.searchsorted(instants, wip["entered_at"].to_numpy(), side=side)
    last = np.searchsorted(instants, wip["exited_at"].to_numpy(), side=side) - 1
    covers = first <= last
    delta = np.zeros((n_stages, len(instants) + 1), dtype=np.int64)
    stage = wip["stage"].to_numpy()[covers]
    np.add.at(delta, (stage, first[covers]), 1)
    np.add.at(delta, (stage, last[covers] + 1), -1)
    counts: IntArray = np.cumsum(delta[:, :-1], axis=1)
    return counts


def average_wip_and_age(wip: pd.DataFrame, low: int, high: int) -> tuple[float | None, float | None]:
    """Time-weighted average WIP (items) and average age of the WIP (days) over ``[low, high)`` (UTC ns).

    Average WIP is ∫ WIP dt / (high - low); average age is ∫ Σ ages dt / ∫ WIP dt, ``None`` when nothing
    was in progress. Age grows linearly within a stay, so over a stay clipped to ``[a, b)`` its integral is
    ``((b - s)² - (a - s)²) / 2`` with ``s`` the item's start. Both are ``None`` for an empty interval.
    """
    if high <= low:
        return None, None
    entered = np.maximum(wip["entered_at"].to_numpy(), low)
    exited = np.minimum(wip["exited_at"].to_numpy(), high)
    keep = exited > entered
    started = wip["started_at"].to_numpy()[keep]
    since_start_a = (entered[keep] - started) / NS_PER_DAY
    since_start_b = (exited[keep] - started) / NS_PER_DAY
    item_days = float((since_start_b - since_start_a).sum())
    age_integral = float(((since_start_b**2 - since_start_a**2) / 2).sum())
    average_age = age_integral / item_days if item_days > 0 else None
    return item_days / ((high - low) / NS_PER_DAY), average_age


@dataclass(frozen=True)
class Starvable:
    """An ``active`` started stage with started stages before it: it can starve.

    ``feeder``: the ``queue`` stage right before it (``None`` when the stage before is not a queue); while
    the feeder holds items the stage has work waiting. ``upstream``: the started WIP stages before it,
    the feeder excluded (it is empty whenever the stage starves).
    """

    stage: int
    feeder: int | None
    upstream: tuple[int, ...]


def starvable_stages(workflow: Workflow) -> tuple[Starvable, ...]:
    """The stages that can starve, in flow order (``spec/coaching.md``: only stages where people work)."""
    started = [i for i, s in enumerate(workflow.stages) if s.kind.is_wip and i >= workflow.start_index]
    result = []
    for stage in started:
        if workflow.stages[stage].kind is not StageKind.ACTIVE:
            continue
        before = stage - 1
        feeder = before if before >= 0 and workflow.stages[before].kind is StageKind.QUEUE else None
        upstream = tuple(i for i in started if i < stage and i != feeder)
        if upstream:
            result.append(Starvable(stage, feeder, upstream))
    return tuple(result)


@dataclass(frozen=True)
class StarvingTime:
    """WIP cut into pieces over which nothing changes, and which starvable stage starved in each piece.

    ``cuts``: the k + 1 piece boundaries (int64 UTC ns); piece i is ``[cuts[i], cuts[i + 1])`` and holds the
    state from ``cuts[i]`` on. ``seconds``: each piece's working seconds. ``counts``: stages × k WIP.
    ``stages``: the starvable stages; ``starving``: for each of them (rows in that order), whether it
    starved in each piece; ``waiting``: whether it or its feeder held an item (the spell ends there).
    """

    cuts: IntArray
    seconds: FloatArray
    counts: IntArray
    stages: tuple[Starvable, ...]
    starving: BoolArray
    waiting: BoolArray


def starving_time(
    workflow: Workflow, wip: pd.DataFrame, start: int, end: int, calendar: WorkCalendar
) -> StarvingTime:
    """Which starvable stage starved when in ``[start, end)`` (int64 UTC ns; ``wip`` from :func:`wip_stays`).

    The WIP step function changes only where a stay begins or ends, so the period is cut there and each
    piece's working seconds come from :func:`analytics.workhours.working_seconds_many`.
    """
    changes = np.r_[wip["entered_at"].to_numpy(), wip["exited_at"].to_numpy()]
    cuts = np.unique(np.r_[start, changes[(changes > start) & (changes < end)], end]).astype(np.int64)
    counts = wip_at(wip, cuts[:-1], len(workflow.stages))
    seconds = working_seconds_many(cuts[:-1], cuts[1:], calendar).astype(np.float64)
    stages = starvable_stages(workflow)
    waiting = np.zeros((len(stages), len(cuts) - 1), dtype=bool)
    starving = np.zeros_like(waiting)
    for row, candidate in enumerate(stages):
        fed = counts[candidate.feeder] > 0 if candidate.feeder is not None else False
        waiting[row] = (counts[candidate.stage] > 0) | fed
        starving[row] = ~waiting[row] & (counts[list(candidate.upstream)].sum(axis=0) > 0)
    return StarvingTime(cuts, seconds, counts, stages, starving, waiting)


def stage_starving(
    timeline: Timeline, wip: pd.DataFrame, start: int, end: int, calendar: WorkCalendar
) -> tuple[Starving, ...]:
    """Per stage that can starve (:func:`starvable_stages`): its starving time in ``[start, end)``.

    ``start``/``end`` are int64 UTC ns, ``wip`` a frame from :func:`wip_stays` of ``timeline``.
    """
    time = starving_time(timeline.workflow, wip, start, end, calendar)
    seconds = time.seconds
    total = float(seconds.sum())
    names = timeline.workflow.stage_names
    result = []
    for row, candidate in enumerate(time.stages):
        starving = time.starving[row]
        upstream = time.counts[list(candidate.upstream)]
        held = (upstream * np.where(starving, seconds, 0.0)).sum(axis=1)
        hours = float(seconds[starving].sum()) / 3600
        result.append(
            Starving(
                stage=names[candidate.stage],
                hours=hours,
                working_hours=total / 3600,
                share=hours * 3600 / total if total > 0 else None,
                constraint=names[candidate.upstream[int(np.argmax(held))]] if hours > 0 else None,
            )
        )
    return tuple(result)
