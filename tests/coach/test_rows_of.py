"""``rows_of``, the rules' way through a frame of items, reads what ``DataFrame.to_dict("index")`` reads."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from bot.coach.rules import ITEM_COLUMNS, rows_of

ages = st.one_of(st.floats(min_value=0, max_value=1e4), st.just(math.nan))
texts = st.one_of(st.none(), st.text(max_size=8))
starts = st.integers(min_value=0, max_value=10**17).map(lambda ns: pd.Timestamp(ns, tz="UTC"))


def aging_frame(rows: list[tuple[str, Any, Any, float, Any]]) -> pd.DataFrame:
    """A frame shaped as ``BoardSignals.aging``: index ``item_id``, text columns ``object``."""
    index = pd.Index([row[0] for row in rows], name="item_id", dtype=object)
    return pd.DataFrame(
        {
            "stage": pd.Series([row[1] for row in rows], index=index, dtype=object),
            "started_at": pd.Series([row[2] for row in rows], index=index, dtype="datetime64[ns, UTC]"),
            "age_days": pd.Series([row[3] for row in rows], index=index, dtype=float),
            "title": pd.Series([row[4] for row in rows], index=index, dtype=object),
        },
        index=index,
    )


def same(left: list[tuple[Any, dict[Any, Any]]], right: list[tuple[Any, dict[Any, Any]]]) -> bool:
    """Equal, NaN to NaN, and of the same Python types (the rules call ``float`` and ``str`` on them)."""

    def key(value: Any) -> Any:
        return ("nan",) if isinstance(value, float) and math.isnan(value) else (type(value), value)

    return [(i, {k: key(v) for k, v in row.items()}) for i, row in left] == [
        (i, {k: key(v) for k, v in row.items()}) for i, row in right
    ]


@given(st.lists(st.tuples(st.text(min_size=1, max_size=6), texts, starts, ages, texts), max_size=20))
def test_rows_are_those_to_dict_gives(rows: list[tuple[str, Any, Any, float, Any]]) -> None:
    frame = aging_frame(rows).iloc[: len(rows)]  # a slice, as signals hands them out
    if frame.index.has_duplicates:  # to_dict("index") refuses those; item ids are unique
        return
    assert same(list(rows_of(frame)), list(frame.to_dict("index").items()))


def test_only_the_asked_columns_are_read_and_an_empty_frame_has_no_rows() -> None:
    frame = aging_frame([("PAY-1", "Review", pd.Timestamp("2026-11-02", tz="UTC"), 3.5, "Fix it")])
    assert list(rows_of(frame, ITEM_COLUMNS)) == [
        ("PAY-1", {"stage": "Review", "age_days": 3.5, "title": "Fix it"})
    ]
    assert list(rows_of(frame.iloc[:0])) == []
