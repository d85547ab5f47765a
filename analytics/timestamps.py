"""ISO 8601 text to UTC instants, vectorised: the event log's one timestamp parser (``spec/data.md``).

A board may have millions of events, so values are parsed by pandas in C and only values that fail pay for
Python work (telling a blank value from a bad one).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]
StateArray = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]
TextArray = npt.NDArray[np.object_]

# The state of each value after parsing.
PARSED = 0
MISSING = 1  # blank or only whitespace
NOT_ISO_8601 = 2
OUT_OF_RANGE = 3  # outside the int64 nanosecond range, the years 1677-2262
NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds, given for every value not parsed

# Bytes that can only appear after the date part of an ISO 8601 value when it carries an offset.
_OFFSET_BYTES = np.zeros(256, dtype=bool)
_OFFSET_BYTES[[ord("+"), ord("-"), ord("Z"), ord("z")]] = True
_STAMP_WIDTH = 40  # longer than any ISO 8601 value with nanoseconds and an offset
_BLOCK_ROWS = 1 << 15


def parse_iso_timestamps(text: TextArray, timezone: str) -> tuple[IntArray, StateArray]:
    """Parse ISO 8601 text into int64 UTC nanoseconds (epoch 1970-01-01), with a state per value.

    ``text`` is an object array of ``str`` (``""`` for missing); ``timezone`` an IANA name. A value with
    ``Z`` or an offset is that instant; a naive one (``2026-03-31``, ``2026-03-31 09:00``) is local time in
    ``timezone``: an ambiguous local time (clocks going back) is its first, DST occurrence; a nonexistent one
    (clocks going forward) moves forward past the gap. Returns ``(nanoseconds, state)``, both as long as
    ``text``: ``state`` is :data:`PARSED`, :data:`MISSING`, :data:`NOT_ISO_8601` or :data:`OUT_OF_RANGE`, and
    every value not parsed is :data:`NAT`. An empty array gives empty arrays.
    """
    parsed = pd.to_datetime(pd.Index(text, dtype=object), format="ISO8601", utc=True, errors="coerce")
    values = np.asarray(parsed.asi8, dtype=np.int64)
    state = np.where(values == NAT, NOT_ISO_8601, PARSED).astype(np.int8)
    if state.any():  # only rows being reported pay for a Python test
        failed = np.flatnonzero(state)
        blank = np.array([not text[i].strip() for i in failed], dtype=bool)
        state[failed[blank]] = MISSING
    per_ns = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[parsed.unit]
    if per_ns != 1:  # pandas may pick a coarser unit; values beyond the ns range cannot be represented
        limit = np.iinfo(np.int64).max // per_ns
        outside = (state == PARSED) & (np.abs(values) >= limit)
        state[outside] = OUT_OF_RANGE
        values = np.where(state == PARSED, values * per_ns, NAT)
    naive = (state == PARSED) & ~_has_offset(text) if timezone != "UTC" else np.zeros(len(text), dtype=bool)
    if naive.any():
        # Naive values were parsed as if UTC, so their nanoseconds are the local wall time.
        wall = pd.DatetimeIndex(values[naive].view("datetime64[ns]"))
        dst_first = np.ones(len(wall), dtype=bool)  # True picks the DST reading of an ambiguous time
        local = wall.tz_localize(timezone, ambiguous=dst_first, nonexistent="shift_forward")
        values[naive] = np.asarray(local.as_unit("ns").asi8, dtype=np.int64)
    return values, state


def _has_offset(text: TextArray) -> BoolArray:
    """Which values carry ``Z`` or an offset: a ``+``, ``-``, ``Z`` or ``z`` after the date's 10 characters.

    Tested on fixed-width ASCII bytes, a block of rows at a time (small blocks stay in cache), because a
    per-value Python string test costs more than the parse itself. Values are cut at ``_STAMP_WIDTH``
    characters, which only affects values that are invalid anyway.
    """
    has = np.zeros(len(text), dtype=bool)
    for start in range(0, len(text), _BLOCK_ROWS):
        block = text[start : start + _BLOCK_ROWS]
        try:
            raw = block.astype(f"S{_STAMP_WIDTH}")
        except UnicodeEncodeError:  # non-ASCII is never a valid timestamp; keep the positions of the rest
            raw = np.array([value.encode("ascii", "replace") for value in block], dtype=f"S{_STAMP_WIDTH}")
        matrix = raw.view(np.uint8).reshape(len(raw), _STAMP_WIDTH)
        has[start : start + len(raw)] = _OFFSET_BYTES[matrix[:, 10:]].any(axis=1)
    return has
