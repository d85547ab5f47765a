"""The wide (ActionableAgile-style) import: one row per item, one date column per stage (``spec/data.md``).

A wide file has ``ID``, optional ``Link``, ``Name`` (or ``Title``) and ``Type`` columns, then one column per
stage in flow order holding the date the item entered that stage. :func:`wide_to_events` turns it into the
raw text columns of the event log (one ``status`` event per non-blank date) so that the event-log reader
validates, parses and sorts it like any other input. This module only reshapes; it reads no files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analytics.workflow import Stage, Workflow

IntArray = npt.NDArray[np.int64]
TextArray = npt.NDArray[np.object_]

# Header (stripped, lower-cased) → event-log column. `Title` is accepted for `Name` because trackers
# export either.
WIDE_ATTRIBUTES: Mapping[str, str] = {
    "id": "item_id", "link": "url", "name": "title", "title": "title", "type": "type",
}


@dataclass(frozen=True)
class WideEvents:
    """A wide table reshaped into event-log text columns (``""`` where a value is missing).

    ``columns`` holds ``item_id``, ``timestamp``, ``event``, ``to_status``, ``title``, ``type`` and ``url``,
    one entry per non-blank stage date, ordered by source row and then by column (flow) order, so a stable
    sort by time keeps same-instant stages in flow order. ``rows`` is the source data row (from 0) of each
    event and ``labels`` names its column, for messages.
    """

    columns: dict[str, TextArray]
    rows: IntArray
    labels: TextArray


class WideHeaderError(ValueError):
    """The wide header has columns that are neither attributes nor stages; ``problems`` names each one."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def is_wide_header(names: Sequence[str]) -> bool:
    """True when a CSV header is the wide format: it has an ``ID`` column and no ``item_id`` column.

    Names are compared stripped and case-insensitively.
    """
    lowered = {name.strip().lower() for name in names}
    return "id" in lowered and "item_id" not in lowered


def stage_for_column(name: str, workflow: Workflow) -> Stage | None:
    """The workflow stage a wide date column stands for, or None.

    A column matches the stage whose name equals it (case-insensitive, stripped); failing that, the stage
    that lists it as a tracker status (exact first, then case-insensitive), since some exports name columns
    after statuses.
    """
    key = name.strip()
    for stage in workflow.stages:
        if stage.name.strip().lower() == key.lower():
            return stage
    for stage in workflow.stages:
        if key in stage.statuses:
            return stage
    for stage in workflow.stages:
        if key.lower() in (status.lower() for status in stage.statuses):
            return stage
    return None


def wide_to_events(header: Sequence[str], values: Mapping[str, TextArray], workflow: Workflow) -> WideEvents:
    """Reshape a wide table into event-log columns, one ``status`` event per non-blank stage date.

    ``header`` lists the column names in file order and ``values`` maps each name to its column as an object
    array of ``str`` (``""`` for blank); all columns have the same length (the number of data rows).
    Each date column maps to a workflow stage (:func:`stage_for_column`); its event's ``to_status`` is that
    stage's first listed status, so the ordinary status → stage mapping places it. ``Link`` → ``url``,
    ``Name``/``Title`` → ``title``, ``Type`` → ``type``, copied onto every event of the item so the
    attributes are known from the item's first event whatever ``asof`` is.

    Edge cases: a row with dates but no ``ID`` still yields its events, which the reader reports as bad
    rows; a row without dates yields nothing (an item that never entered a stage has no history, and
    spreadsheets leave blank rows). Dates are not parsed here: the event-log reader parses them and names
    the column when one is invalid.

    Raises :class:`WideHeaderError` listing every column that is neither an attribute nor a stage.
    """
    attributes: dict[str, str] = {}
    stage_columns: list[tuple[str, Stage]] = []
    unknown: list[str] = []
    for name in header:
        attribute = WIDE_ATTRIBUTES.get(name.strip().lower())
        stage = stage_for_column(name, workflow) if attribute is None else None
        if attribute is not None:
            attributes.setdefault(attribute, name)
        elif stage is not None:
            stage_columns.append((name, stage))
        else:
            unknown.append(name)
    if unknown:
        stages = ", ".join(workflow.stage_names)
        raise WideHeaderError(
            [f"column '{name}' is neither ID, Link, Name, Type nor a stage ({stages})" for name in unknown]
        )

    n_rows = len(next(iter(values.values()))) if values else 0
    blank = np.full(n_rows, "", dtype=object)

    def attribute_values(column: str) -> TextArray:
        name = attributes.get(column)
        return _strip(values[name]) if name is not None else blank

    ids = attribute_values("item_id")
    dates = np.empty((n_rows, len(stage_columns)), dtype=object)
    for position, (name, _) in enumerate(stage_columns):
        dates[:, position] = _strip(values[name])
    has_date = dates != ""

    # np.nonzero walks the matrix row-major: events come out by item, then in column (flow) order.
    row_index, column_index = np.nonzero(has_date)
    first_status = np.array([stage.statuses[0] for _, stage in stage_columns], dtype=object)
    labels = np.array([f"column '{name}': date" for name, _ in stage_columns], dtype=object)
    columns = {
        "item_id": ids[row_index],
        "timestamp": dates[row_index, column_index],
        "event": np.full(len(row_index), "status", dtype=object),
        "to_status": first_status[column_index],
        "title": attribute_values("title")[row_index],
        "type": attribute_values("type")[row_index],
        "url": attribute_values("url")[row_index],
    }
    return WideEvents(columns, row_index.astype(np.int64), labels[column_index])


def _strip(values: TextArray) -> TextArray:
    # Spreadsheet cells often carry stray spaces; a wide table is one row per item, so this is cheap.
    stripped: TextArray = np.asarray(np.frompyfunc(str.strip, 1, 1)(values), dtype=object)
    return stripped
