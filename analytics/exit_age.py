"""Per-stage exit ages: how old items were when they left a stage (``spec/metrics.md``: ``exit_age``).

An item's *exit age* at a stage is its age (time since ``started_at``) at the moment it last left that stage
forward (to a later stage in flow order). Over items finished in the SLE window, the percentiles of those
ages say how old an item may get in a stage before it is unusual *there*: 85 % of items left Ready by an
age of 4.3 days, so an item 12 days old still in Ready is at risk long before it passes the whole-cycle SLE.
This is the yardstick of ActionableAgile's aging chart; the metrics document, the aging chart and the
``item_at_risk`` rule all take it from here.

Percentiles from fewer than :data:`PROVISIONAL_BELOW` items are provisional: they are given, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.timeline import NS_PER_DAY

PERCENTILES = (50, 70, 85, 95)
PROVISIONAL_BELOW = 10  # fewer finished items than this: a percentile is a guess, and is labelled one

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ExitAge:
    """p50/p70/p85/p95 of one stage's exit ages in days over ``count`` items (``None`` when none)."""

    count: int
    p50: float | None = None
    p70: float | None = None
    p85: float | None = None
    p95: float | None = None

    @property
    def provisional(self) -> bool:
        return self.count < PROVISIONAL_BELOW

    @property
    def percentiles(self) -> dict[int, float | None]:
        return {50: self.p50, 70: self.p70, 85: self.p85, 95: self.p95}


NO_EXITS = ExitAge(0)


def exit_age_stats(ages_days: FloatArray) -> ExitAge:
    """The percentiles (linear interpolation, numpy's default) of one stage's exit ages."""
    if len(ages_days) == 0:
        return NO_EXITS
    p50, p70, p85, p95 = (float(v) for v in np.percentile(ages_days, PERCENTILES))
    return ExitAge(len(ages_days), p50, p70, p85, p95)


def exit_ages_by_stage(
    cycle: IntArray,
    stage: IntArray,
    exited: IntArray,
    next_stage: IntArray,
    cycle_start: IntArray,
    counted_stages: BoolArray,
) -> tuple[ExitAge, ...]:
    """Exit-age statistics per stage from stays (one row per stay, any order).

    ``cycle``: which finished cycle the stay belongs to (any id; -1: none, the stay is left out); ``stage``
    and ``exited`` (int64 UTC ns) of the stay; ``next_stage``: the stage of the item's next stay (-1 when
    there is none); ``cycle_start``: its cycle's ``started_at`` (ns). ``counted_stages`` (per stage): which
    stages get statistics; the others get :data:`NO_EXITS`. A cycle counts once per stage, with the latest
    forward exit: an item that went back and left again is judged by when it finally moved on.
    """
    n_stages = len(counted_stages)
    forward = (cycle >= 0) & (next_stage > stage) & counted_stages[np.clip(stage, 0, n_stages - 1)]
    cycle, stage, exited, start = cycle[forward], stage[forward], exited[forward], cycle_start[forward]
    # Latest exit per (cycle, stage): sort by (cycle, stage, exit), keep the last of each run.
    order = np.lexsort((exited, stage, cycle))
    cycle, stage, exited, start = cycle[order], stage[order], exited[order], start[order]
    last = np.ones(len(cycle), dtype=bool)
    last[:-1] = (cycle[1:] != cycle[:-1]) | (stage[1:] != stage[:-1])
    stage, ages = stage[last], (exited[last] - start[last]) / NS_PER_DAY
    return tuple(
        exit_age_stats(ages[stage == index]) if counted_stages[index] else NO_EXITS
        for index in range(n_stages)
    )
