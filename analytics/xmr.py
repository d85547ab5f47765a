"""XmR (individuals and moving range) charts: natural process limits and the signals that a change is real.

Wheeler's process behaviour chart, as ``spec/metrics.md`` ("Process behaviour") defines it: the centre is
the mean of a baseline, the natural process limits are the centre ± 2.66 × the mean moving range of the
baseline (the moving range being the absolute difference between consecutive values), and the lower limit
is floored at 0 because nothing measured here can be negative. A value is a signal when it lies outside
the limits, or when it completes a run of 8 values in a row on one side of the centre.

Pure numpy; the caller decides what the values are (weekly throughput, cycle times in finish order) and
which of them form the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Rule = Literal["outside_limits", "run_of_8"]
Side = Literal["above", "below"]

# 3 / d2, with d2 = 1.128 the bias correction for ranges of two values: the limits sit about three
# standard deviations of routine variation from the centre, without assuming any distribution.
SCALING_FACTOR = 2.66
RUN_LENGTH = 8
MIN_BASELINE = 2  # one moving range at least; callers ask for more before they trust the limits


@dataclass(frozen=True)
class Limits:
    """The centre line and natural process limits of a baseline (same unit as its values)."""

    centre: float
    lower: float
    upper: float
    mean_moving_range: float

    def side(self, value: float) -> Side | None:
        """Which side of the centre ``value`` lies on; ``None`` exactly on it."""
        if value > self.centre:
            return "above"
        if value < self.centre:
            return "below"
        return None


@dataclass(frozen=True)
class Signal:
    """Value ``index`` is a signal by ``rule``; ``side`` says whether it is above or below the centre."""

    index: int
    rule: Rule
    side: Side


def natural_limits(baseline: FloatArray) -> Limits:
    """Centre = mean of ``baseline``; limits = centre ± 2.66 × mean moving range, the lower one floored at 0.

    ``baseline``: the values in their order (the moving ranges depend on it). Raises ``ValueError`` for
    fewer than two values, which have no moving range. A constant baseline has limits equal to its centre.
    """
    values = np.asarray(baseline, dtype=np.float64)
    if len(values) < MIN_BASELINE:
        raise ValueError(f"natural process limits need at least {MIN_BASELINE} baseline values")
    centre = float(np.mean(values))
    mean_moving_range = float(np.mean(np.abs(np.diff(values))))
    spread = SCALING_FACTOR * mean_moving_range
    return Limits(
        centre=centre,
        lower=max(centre - spread, 0.0),
        upper=centre + spread,
        mean_moving_range=mean_moving_range,
    )


def signals(values: FloatArray, limits: Limits, run_length: int = RUN_LENGTH) -> tuple[Signal, ...]:
    """The values that signal a change, in order, one signal per value at most.

    ``outside_limits``: strictly above the upper or below the lower limit (a value equal to a limit is
    inside). ``run_of_8``: the value and the ``run_length - 1`` before it all lie strictly on the same side of
    the centre; every value from the eighth of a run on is marked, so "the latest value is a signal" holds
    as long as the run lasts. A value on the centre line breaks a run. A value that is both is reported as
    ``outside_limits``, the stronger evidence. Values before the first ``run_length - 1`` can only signal by
    the limits.
    """
    data = np.asarray(values, dtype=np.float64)
    above, below = data > limits.centre, data < limits.centre
    outside = (data > limits.upper) | (data < limits.lower)
    in_run = (_run_lengths(above) >= run_length) | (_run_lengths(below) >= run_length)
    return tuple(
        Signal(
            int(index),
            "outside_limits" if outside[index] else "run_of_8",
            "above" if above[index] else "below",
        )
        for index in np.flatnonzero(outside | in_run)
    )


def _run_lengths(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """For each position, how many flags in a row are true up to and including it (0 where it is false)."""
    positions = np.arange(1, len(flags) + 1, dtype=np.int64)
    last_false = np.maximum.accumulate(np.where(flags, 0, positions))  # 1-based position of the latest false
    return np.where(flags, positions - last_false, 0)
