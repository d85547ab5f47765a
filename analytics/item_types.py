"""Item types (Bug, Story, …) and keeping only the items of some types: the ``--type`` filter.

An item's type is the last non-empty ``type`` of its events in the whole log, as ``analytics.timeline`` takes
its attributes: the type it has now, which is what a board's own filter (Jira's ``type = Bug``) matches, even
when asking about an earlier day.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class UnknownItemType(ValueError):
    """A type asked for that no item has; the message lists the types there are."""


def item_type_of(events: pd.DataFrame) -> pd.Series:
    """Each item's type (index ``item_id``), the last non-empty one of its events; items without one are
    left out."""
    if "type" not in events.columns or not len(events):
        return pd.Series([], dtype=object, name="type")
    typed = events.loc[events["type"].notna(), ["item_id", "type"]]
    typed = typed.loc[typed["type"].astype(str).str.strip() != ""]
    # Events are in time order (``EventLog``); the last row of each item is its latest type.
    latest: pd.Series = typed.groupby("item_id", sort=False)["type"].last().astype(str)
    return latest


def item_types(events: pd.DataFrame) -> dict[str, int]:
    """The types in the log with how many items have each, most items first (ties by name)."""
    return _counted(item_type_of(events))


def _counted(types: pd.Series) -> dict[str, int]:
    counts = types.value_counts()
    return dict(sorted(((str(name), int(n)) for name, n in counts.items()), key=lambda kv: (-kv[1], kv[0])))


def of_types(events: pd.DataFrame, wanted: Iterable[str]) -> pd.DataFrame:
    """The events of the items whose type is one of ``wanted`` (matched ignoring case and surrounding
    spaces), in their order and with their index renumbered ``0..n-1``; all of them when none are named.

    Raises ``UnknownItemType`` naming the types asked for that no item has, and the types there are.
    """
    asked = [name.strip() for name in wanted if name.strip()]
    if not asked:
        return events
    types = item_type_of(events)
    present = _counted(types)
    known = {name.casefold() for name in present}
    unknown = [name for name in asked if name.casefold() not in known]
    if unknown:
        listed = ", ".join(f"{name} ({count})" for name, count in present.items())
        names = ", ".join(repr(name) for name in unknown)
        there = f"the types in the data are {listed}" if present else "the events carry no item types"
        raise UnknownItemType(f"no item has the type {names}; {there}")
    keep = {name.casefold() for name in asked}
    items = types.index[types.str.strip().str.casefold().isin(keep)]
    return events.loc[events["item_id"].isin(items)].reset_index(drop=True)
