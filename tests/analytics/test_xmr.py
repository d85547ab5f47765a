"""XmR limits and signals: hand-computed examples, the edge cases, and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.xmr import Limits, Signal, natural_limits, signals

# Baseline 10 12 11 13 9 11: mean 66 / 6 = 11; moving ranges 2 1 2 4 2, mean 11 / 5 = 2.2;
# limits 11 ± 2.66 × 2.2 = 11 ± 5.852.
BASELINE = [10.0, 12.0, 11.0, 13.0, 9.0, 11.0]
BASELINE_LIMITS = Limits(centre=11.0, lower=5.148, upper=16.852, mean_moving_range=2.2)


def values(*numbers: float) -> np.ndarray:
    return np.array(numbers, dtype=np.float64)


def test_limits_computed_by_hand():
    """Centre is the mean; the limits sit 2.66 mean moving ranges either side."""
    limits = natural_limits(values(*BASELINE))
    assert limits.centre == pytest.approx(11.0)
    assert limits.mean_moving_range == pytest.approx(2.2)
    assert limits.lower == pytest.approx(5.148)
    assert limits.upper == pytest.approx(16.852)


def test_the_lower_limit_is_floored_at_zero():
    """4 6 5 7 3 5: centre 5, mean moving range 2.2, so 5 − 5.852 < 0 becomes 0; the upper is 10.852."""
    limits = natural_limits(values(4, 6, 5, 7, 3, 5))
    assert limits.lower == 0.0
    assert limits.upper == pytest.approx(10.852)


def test_the_order_of_the_baseline_matters_through_the_moving_ranges():
    """The same values sorted have smaller moving ranges (9 10 11 11 12 13: 1 1 0 1 1, mean 0.8)."""
    limits = natural_limits(values(*sorted(BASELINE)))
    assert limits.centre == pytest.approx(11.0)
    assert limits.mean_moving_range == pytest.approx(0.8)


def test_a_baseline_of_one_value_has_no_limits():
    """One value has no moving range: asking for limits is an error, not a zero spread."""
    with pytest.raises(ValueError, match="at least 2"):
        natural_limits(values(5))


def test_points_outside_the_limits_signal_and_points_on_them_do_not():
    """17 is above 16.852 and 5 below 5.148; 16.852 itself and 5.148 itself are inside."""
    found = signals(values(*BASELINE, 17, 5, 16.852, 5.148), BASELINE_LIMITS)
    assert found == (Signal(6, "outside_limits", "above"), Signal(7, "outside_limits", "below"))


def test_eight_in_a_row_on_one_side_signal_from_the_eighth_on():
    """Eight weeks at 12 (above 11, inside the limits): the eighth and ninth are signals, not the seventh."""
    found = signals(values(*[12.0] * 9), BASELINE_LIMITS)
    assert found == (Signal(7, "run_of_8", "above"), Signal(8, "run_of_8", "above"))


def test_a_point_on_the_centre_breaks_a_run():
    """Seven below, one exactly on the centre, seven below: no run of eight."""
    assert signals(values(*[10.0] * 7, 11.0, *[10.0] * 7), BASELINE_LIMITS) == ()


def test_a_run_below_and_an_outside_point_within_it():
    """Eight below the centre, the last one also below the lower limit: reported once, as outside_limits."""
    found = signals(values(*[10.0] * 7, 4.0, 10.0), BASELINE_LIMITS)
    assert found == (Signal(7, "outside_limits", "below"), Signal(8, "run_of_8", "below"))


def test_empty_values_have_no_signal():
    assert signals(values(), BASELINE_LIMITS) == ()


def test_a_constant_baseline_has_zero_width_limits():
    """Nothing varied in the baseline: any other value lies outside, the same value is no signal."""
    limits = natural_limits(values(*[4.0] * 6))
    assert (limits.lower, limits.centre, limits.upper) == (4.0, 4.0, 4.0)
    assert signals(values(*[4.0] * 20), limits) == ()
    assert signals(values(4, 4, 5), limits) == (Signal(2, "outside_limits", "above"),)


series = st.lists(st.integers(0, 60).map(float), min_size=2, max_size=40)


@settings(max_examples=150, deadline=None)
@given(series)
def test_limits_contain_the_centre_and_the_lower_is_never_negative(numbers):
    """lower ≤ centre ≤ upper, lower ≥ 0, and the centre lies between the baseline's extremes."""
    limits = natural_limits(values(*numbers))
    assert 0.0 <= limits.lower <= limits.centre <= limits.upper
    assert min(numbers) - 1e-9 <= limits.centre <= max(numbers) + 1e-9


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 50), st.integers(2, 30), st.integers(0, 30))
def test_a_constant_series_has_no_signal(level, baseline, more):
    """A series that never changes has nothing to signal, whatever its baseline."""
    constant = values(*[level] * (baseline + more))
    assert signals(constant, natural_limits(constant[:baseline])) == ()


@settings(max_examples=100, deadline=None)
@given(series, st.integers(2, 12), st.sampled_from([0.25, 0.5, 2.0, 4.0]))
def test_signals_do_not_depend_on_the_unit(numbers, baseline, factor):
    """Counting in pairs or in halves moves no point across a limit or the centre (powers of two keep the
    arithmetic exact, so a point on a limit stays on it)."""
    data = values(*numbers)
    base = data[: min(baseline, len(data))]
    found = signals(data, natural_limits(base))
    assert signals(data * factor, natural_limits(base * factor)) == found


@settings(max_examples=100, deadline=None)
@given(series)
def test_every_signal_is_outside_the_limits_or_ends_a_run_of_eight(numbers):
    """Each signal can be checked by hand against the two rules."""
    data = values(*numbers)
    limits = natural_limits(data[:6] if len(data) >= 6 else data)
    for signal in signals(data, limits):
        value = data[signal.index]
        if signal.rule == "outside_limits":
            assert value > limits.upper or value < limits.lower
        else:
            run = data[signal.index - 7 : signal.index + 1]
            assert signal.index >= 7 and len(run) == 8
            assert (run > limits.centre).all() or (run < limits.centre).all()
