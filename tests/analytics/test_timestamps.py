"""The ISO 8601 timestamp parser behind the event log: instants, local times, and why a value failed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.timestamps import (
    MISSING,
    NAT,
    NOT_ISO_8601,
    OUT_OF_RANGE,
    PARSED,
    parse_iso_timestamps,
)


def text(*values):
    return np.array(values, dtype=object)


def ns(value):
    return pd.Timestamp(value).value


def test_an_empty_array_gives_empty_arrays():
    """No values, no work: both results are empty."""
    values, state = parse_iso_timestamps(text(), "Europe/Zurich")
    assert len(values) == 0 and len(state) == 0


def test_offsets_and_z_are_instants_and_naive_values_are_local():
    """A value with Z or an offset is that instant; a naive one is local time in the zone."""
    values, state = parse_iso_timestamps(
        text("2026-03-02T09:00:00+01:00", "2026-03-02T08:00:00Z", "2026-03-02T09:00:00", "2026-03-02"),
        "Europe/Zurich",
    )
    assert list(state) == [PARSED] * 4
    assert list(values) == [
        ns("2026-03-02T08:00:00Z"),
        ns("2026-03-02T08:00:00Z"),
        ns("2026-03-02T08:00:00Z"),
        ns("2026-03-01T23:00:00Z"),
    ]


def test_naive_values_are_utc_in_a_utc_zone():
    """With timezone UTC a naive value is read as UTC."""
    values, _ = parse_iso_timestamps(text("2026-07-01T12:00:00"), "UTC")
    assert list(values) == [ns("2026-07-01T12:00:00Z")]


def test_ambiguous_times_take_dst_and_nonexistent_ones_shift_forward():
    """Clocks going back: the first (DST) occurrence; clocks going forward: past the gap."""
    values, _ = parse_iso_timestamps(text("2026-10-25T02:30:00", "2026-03-29T02:30:00"), "Europe/Zurich")
    assert list(values) == [ns("2026-10-25T00:30:00Z"), ns("2026-03-29T01:00:00Z")]


def test_each_failure_has_its_state_and_nat():
    """Blank, not ISO 8601 and out-of-range values are told apart, and their value is NaT."""
    values, state = parse_iso_timestamps(
        text("", "  ", "next tuesday", "3000-01-01", "2026-03-02T09:00:00Z"), "Europe/Zurich"
    )
    assert list(state) == [MISSING, MISSING, NOT_ISO_8601, OUT_OF_RANGE, PARSED]
    assert list(values[:4]) == [NAT] * 4
    assert values[4] == ns("2026-03-02T09:00:00Z")


def test_non_ascii_values_do_not_shift_the_others():
    """A non-ASCII value fails alone; the offset test still lines up with the values around it."""
    values, state = parse_iso_timestamps(
        text("2026-03-02T09:00:00", "2026-03-02T09:00:00é", "2026-03-02T09:00:00+02:00"), "Europe/Zurich"
    )
    assert list(state) == [PARSED, NOT_ISO_8601, PARSED]
    assert values[0] == ns("2026-03-02T08:00:00Z") and values[2] == ns("2026-03-02T07:00:00Z")


def test_offsets_are_found_across_blocks():
    """The offset test works in blocks of rows; values after the first block are still told apart."""
    many = text(*(["2026-03-02T09:00:00"] * 40_000 + ["2026-03-02T09:00:00Z"] * 40_000))
    values, state = parse_iso_timestamps(many, "Europe/Zurich")
    assert (state == PARSED).all()
    assert set(values[:40_000]) == {ns("2026-03-02T08:00:00Z")}
    assert set(values[40_000:]) == {ns("2026-03-02T09:00:00Z")}
