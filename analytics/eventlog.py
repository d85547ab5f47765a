"""The event log: read CSV, JSON Lines and wide files into one validated, normalised frame (``spec/data.md``).

Every reader turns its input into the same text columns (object arrays of ``str``, ``""`` for missing) for
one validation step, so a row means the same whatever file it came from. All bad rows are reported at once
(or skipped as warnings when ``lenient``). A board may have millions of events, so everything is vectorised
except work on the rows being reported. CSV text comes from ``analytics.csvtable``, wide files are
reshaped by ``analytics.wide`` and timestamps parsed by ``analytics.timestamps``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.csvtable import CsvError, CsvTable, LineFinder, not_utf8_line, read_csv_table
from analytics.timestamps import MISSING, NOT_ISO_8601, OUT_OF_RANGE, PARSED, parse_iso_timestamps
from analytics.wide import WideHeaderError, is_wide_header, wide_to_events
from analytics.workflow import Workflow

EVENT_COLUMNS: tuple[str, ...] = (
    "item_id", "timestamp", "event", "from_status", "to_status", "title", "type", "url", "assignee", "reason",
)
EVENT_KINDS = ("status", "created", "blocked", "unblocked")
REQUIRED_COLUMNS = ("item_id", "timestamp")
MAX_LISTED_PROBLEMS = 20  # keeps the error message readable; `problems` has them all
_OPTIONAL_TEXT = ("from_status", "to_status", "title", "type", "url", "assignee", "reason")
_STR = pd.StringDtype("python", na_value=np.nan)  # pandas' default "str" dtype, without pyarrow

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
TextArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong in an input: ``str(problem)`` is ``path:line: message`` (physical line, from 1)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class EventLogError(ValueError):
    """The event log is invalid; ``problems`` holds every problem found, in line order."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(problems)
        shown = [str(problem) for problem in self.problems[:MAX_LISTED_PROBLEMS]]
        if len(self.problems) > MAX_LISTED_PROBLEMS:
            shown.append(f"… and {len(self.problems) - MAX_LISTED_PROBLEMS} more")
        super().__init__("\n".join(shown))


@dataclass(frozen=True)
class TextLimits:
    """What a store can keep of the text: at most ``max_chars[column]`` characters in each column named, and
    no NUL character in any column. Given to a reader, a value beyond them makes its row a bad row, reported
    at its line like any other (a database would refuse the whole log, naming no line)."""

    max_chars: Mapping[str, int]


@dataclass(frozen=True)
class EventLog:
    """A validated event log.

    ``events`` has exactly :data:`EVENT_COLUMNS`, one row per event, sorted by ``timestamp`` (ties keep input
    order), index ``0..n-1``: ``timestamp`` is ``datetime64[ns, UTC]``; every other column has pandas' ``str``
    dtype, with missing values as NaN (that dtype's missing value; test with ``isna()``). ``item_id`` and
    ``event`` are never missing. ``warnings`` lists what was skipped or ignored, as ``path:line: message``.
    """

    events: pd.DataFrame
    warnings: tuple[str, ...] = ()


def parse_event_log(
    data: bytes,
    workflow: Workflow,
    *,
    source: str,
    json_lines: bool = False,
    lenient: bool = False,
    limits: TextLimits | None = None,
) -> EventLog:
    """Parse an event log's bytes: JSON Lines (``json_lines``), else CSV, long or wide; ``source`` names
    the file in messages. Opening files is the application's job (``bot.connectors.files``).

    A CSV whose header has ``ID`` and no ``item_id`` is the wide format (``analytics.wide``). Naive timestamps
    are local times in ``workflow.timezone``. Raises :class:`EventLogError` listing every bad row with its
    physical line, unless ``lenient``, which skips bad rows into ``warnings``; header problems (a missing
    required column, an unknown wide column) always raise. An empty file is an empty log. A CSV whose last
    row has fewer fields than the header and no newline after it was cut off: that row is a bad row. With
    ``limits``, text beyond them is bad too.
    """
    if json_lines:
        return _read_json_lines(data, source, workflow.timezone, lenient, limits)
    return _read_csv(data, source, workflow, lenient, limits)


def events_from_records(
    records: Iterable[Mapping[str, object]],
    timezone: str,
    *,
    source: str = "<records>",
    lenient: bool = False,
) -> EventLog:
    """Validate and normalise events given as mappings with the event-log keys (connectors, tests).

    Record ``i`` is line ``i + 1`` of ``source``. Values may be ``str``, ``None``, numbers (as text) or, for
    ``timestamp``, ``datetime``/``date``/``pandas.Timestamp`` (naive ones are local times in ``timezone``).
    Unknown keys are ignored. Validation, output and errors as :func:`normalise_events`.
    """
    rows = list(records)
    return _from_records(rows, source, timezone, lenient, lambda positions: positions + 1)


def normalise_events(
    raw: pd.DataFrame, timezone: str, *, source: str, lines: npt.ArrayLike | None, lenient: bool
) -> EventLog:
    """Validate and normalise a raw event frame; the step every reader shares.

    ``raw`` has the event-log columns (extra columns are ignored; optional ones may be absent) holding text,
    ``None``/NaN for missing, or values as :func:`events_from_records` accepts. ``lines[i]`` is the physical
    line of row ``i`` for messages (``None``: ``i + 1``). A row is bad when ``item_id`` is missing,
    ``timestamp`` is missing, not ISO 8601 or outside 1677-2262, ``event`` is not one of :data:`EVENT_KINDS`
    (after lower-casing; blank means ``status``), or a ``status``/``created`` event has no ``to_status``.
    Exact duplicates (same item, instant, event and ``to_status``) are kept once, the first in input order.
    Returns an :class:`EventLog`; raises :class:`EventLogError` (see :func:`parse_event_log`).
    """
    missing = [name for name in REQUIRED_COLUMNS if name not in raw.columns]
    if missing:
        raise EventLogError([_missing_columns(source, missing)])
    line_numbers = None if lines is None else np.asarray(lines, dtype=np.int64)
    present = [name for name in EVENT_COLUMNS if name in raw.columns]
    # A copy, so that the result never shares memory with the caller's frame.
    columns = {name: _as_text(raw[name].to_numpy(dtype=object, copy=True)) for name in present}
    return _validated(columns, len(raw), timezone, source, lenient, _finder(line_numbers))


def _as_text(values: npt.NDArray[np.object_]) -> TextArray:
    """Values as an object array of ``str``: missing (None, NaN, NaT) → ``""``, datetimes → ISO 8601."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values  # the common case, checked in C: every value is already text
    values = values.copy()
    missing = pd.isna(values)
    values[missing] = ""
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        values = np.array([_text_of(value) for value in values], dtype=object)
    return values


def _strip(values: TextArray) -> TextArray:
    return np.asarray(np.frompyfunc(str.strip, 1, 1)(values), dtype=object)


def _text_of(value: object) -> str:
    # datetime and pandas.Timestamp are dates too; a naive one stays naive (a local time)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _validated(
    columns: Mapping[str, TextArray], n: int, timezone: str, source: str, lenient: bool, line_of: LineFinder,
    *, labels: TextArray | None = None, id_label: str = "item_id", problems: Sequence[RowProblem] = (),
    limits: TextLimits | None = None,
) -> EventLog:
    """Check every row, then raise with all problems (with ``problems`` found while reading) or build the
    frame from the good rows. ``labels`` name each row's timestamp in messages (wide: the column)."""
    blank = np.full(n, "", dtype=object)
    text = {name: columns.get(name, blank) for name in EVENT_COLUMNS}
    item_id = _strip(text["item_id"])
    event, bad_event = _event_kinds(text["event"])
    stamps, stamp_state = parse_iso_timestamps(text["timestamp"], timezone)
    no_item = item_id == ""
    no_status = ((event == "status") | (event == "created")) & (text["to_status"] == "")
    bad = no_item | bad_event | (stamp_state != PARSED) | no_status
    too_long, has_nul = _beyond(limits, text | {"item_id": item_id}, n)
    for mask in (*too_long.values(), *has_nul.values()):
        bad |= mask
    found = list(problems)

    def what_is_wrong(i: int) -> list[str]:  # all of it in one problem, so a skipped row is one warning
        label, stamp = ("timestamp" if labels is None else str(labels[i])), _shown(text["timestamp"][i])
        parts = [f"{id_label} is missing"] if no_item[i] else []
        parts += {
            MISSING: [f"{label} is missing"],
            NOT_ISO_8601: [f"{label} '{stamp}' is not ISO 8601"],
            OUT_OF_RANGE: [f"{label} '{stamp}' is outside the years 1677-2262"],
        }.get(int(stamp_state[i]), [])
        if bad_event[i]:
            parts.append(f"event '{_shown(text['event'][i])}' is not one of {', '.join(EVENT_KINDS)}")
        if no_status[i]:
            parts.append(f"to_status is missing (a {event[i]} event needs it)")
        for name, mask in too_long.items():
            if mask[i] and limits is not None:
                length = len(item_id[i] if name == "item_id" else text[name][i])
                parts.append(
                    f"{id_label if name == 'item_id' else name} is {length:,} characters long; "
                    f"at most {limits.max_chars[name]} can be stored"
                )
        parts += [
            f"{id_label if name == 'item_id' else name} contains a NUL character (a zero byte), "
            "which cannot be stored"
            for name, mask in has_nul.items()
            if mask[i]
        ]
        return parts

    if bad.any():
        positions = np.flatnonzero(bad)
        found += _by_line(source, line_of(positions), [what_is_wrong(int(i)) for i in positions])
    if found and not lenient:
        raise EventLogError(sorted(found, key=lambda problem: problem.line))
    warnings = [f"{problem} (skipped)" for problem in sorted(found, key=lambda problem: problem.line)]
    good = {"item_id": item_id, "event": event} | {name: text[name] for name in _OPTIONAL_TEXT}
    return EventLog(_frame(good, stamps, np.flatnonzero(~bad) if bad.any() else None), tuple(warnings))


def _beyond(
    limits: TextLimits | None, text: Mapping[str, TextArray], n: int
) -> tuple[dict[str, BoolArray], dict[str, BoolArray]]:
    """The rows of each column longer than its limit, and those holding a NUL character (only columns that
    have any). Whole columns are tested in C (``max(map(len, …))``, ``"".join``), rows only where one fails:
    a board may have millions of events."""
    too_long: dict[str, BoolArray] = {}
    has_nul: dict[str, BoolArray] = {}
    if limits is None:
        return too_long, has_nul
    for name in ("item_id", *_OPTIONAL_TEXT):  # a NUL in a timestamp or event kind is reported as invalid
        values, limit = text[name], limits.max_chars.get(name)
        if limit is not None and max(map(len, values), default=0) > limit:
            too_long[name] = np.fromiter(map(len, values), dtype=np.int64, count=n) > limit
        if "\x00" in "".join(values):
            has_nul[name] = np.fromiter(("\x00" in value for value in values), dtype=np.bool_, count=n)
    return too_long, has_nul


def _event_kinds(raw: TextArray) -> tuple[TextArray, BoolArray]:
    """Canonical event names (blank → ``status``, any case) and the mask of unknown ones."""
    odd = ~pd.Series(raw, dtype=object, copy=False).isin(EVENT_KINDS).to_numpy()
    if not odd.any():
        return raw, odd
    event = raw.copy()  # only unusual spellings pay for Python string handling
    event[odd] = [value.strip().lower() or "status" for value in event[odd]]
    return event, ~pd.Series(event, dtype=object).isin(EVENT_KINDS).to_numpy()


def _frame(text: Mapping[str, TextArray], stamps: IntArray, rows: IntArray | None) -> pd.DataFrame:
    """The typed frame of ``rows`` (None: all), sorted by time (stable), without exact duplicates.

    Selection, sort and de-duplication compose into one index, so each text column is gathered only once.
    """
    if rows is not None:
        stamps = stamps[rows]
    if len(stamps) > 1 and not bool(np.all(stamps[1:] >= stamps[:-1])):
        order = np.argsort(stamps, kind="stable")
        stamps, rows = stamps[order], (order if rows is None else rows[order])
    # Duplicates share an instant, so only rows in a run of equal timestamps need hashing.
    tied = np.zeros(len(stamps), dtype=bool)
    if len(stamps) > 1:
        same = stamps[1:] == stamps[:-1]
        tied[1:] |= same
        tied[:-1] |= same
    if tied.any():
        at = np.flatnonzero(tied)
        source_rows = at if rows is None else rows[at]
        keys = pd.DataFrame({name: text[name][source_rows] for name in ("item_id", "event", "to_status")})
        duplicate = np.zeros(len(stamps), dtype=bool)
        duplicate[at] = keys.assign(timestamp=stamps[at]).duplicated(keep="first").to_numpy()
        if duplicate.any():
            stamps = stamps[~duplicate]
            rows = np.flatnonzero(~duplicate) if rows is None else rows[~duplicate]
    timestamp = pd.DatetimeIndex(stamps.view("datetime64[ns]")).tz_localize("UTC")
    data: dict[str, object] = {"timestamp": timestamp}
    for name, values in text.items():
        # Whatever reads the strings themselves (the blank test, pandas' check that they are str) runs in
        # input order, where the parser laid them out one after another in memory; only the gather follows
        # the sort, so it alone pays for jumping around memory.
        strings = pd.arrays.StringArray(values, dtype=_STR)  # type: ignore[call-arg]  # stubs lack dtype
        missing = values == "" if name in _OPTIONAL_TEXT else None
        if missing is not None and missing.any():
            strings = strings.copy() if rows is None else strings.take(rows)
            strings[missing if rows is None else missing[rows]] = np.nan
        elif rows is not None:
            strings = strings.take(rows)
        data[name] = pd.Series(strings, copy=False)
    return pd.DataFrame(data, columns=list(EVENT_COLUMNS), copy=False)


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "..."


def _by_line(source: str, lines: IntArray, messages: Sequence[list[str]]) -> list[RowProblem]:
    """One problem per line: a wide row yields several events, but it is one row to the user."""
    merged: dict[int, list[str]] = {}
    for line, parts in zip(lines.tolist(), messages, strict=True):
        seen = merged.setdefault(int(line), [])
        seen.extend(part for part in parts if part not in seen)
    return [RowProblem(source, line, "; ".join(parts)) for line, parts in merged.items()]


def _finder(lines: IntArray | None) -> LineFinder:
    known = lines
    return (lambda positions: positions + 1) if known is None else (lambda positions: known[positions])


def _missing_columns(source: str, missing: Sequence[str]) -> RowProblem:
    names = ", ".join(f"'{name}'" for name in missing)
    return RowProblem(source, 1, f"missing required column{'s' if len(missing) > 1 else ''} {names}")


def _from_records(
    rows: Sequence[Mapping[str, object]], source: str, timezone: str, lenient: bool, line_of: LineFinder,
    problems: Sequence[RowProblem] = (), limits: TextLimits | None = None,
) -> EventLog:
    """Records → text columns → validation; a required key that no record has is a line-1 error."""
    frame = pd.DataFrame(list(rows), columns=list(EVENT_COLUMNS), dtype=object)  # absent keys → NaN
    columns = {name: _as_text(frame[name].to_numpy(dtype=object)) for name in EVENT_COLUMNS}
    missing = [
        name for name in REQUIRED_COLUMNS
        if rows and not (columns[name] != "").any() and not any(name in row for row in rows)
    ]
    if missing:
        raise EventLogError([_missing_columns(source, missing)])
    return _validated(
        columns, len(rows), timezone, source, lenient, line_of, problems=problems, limits=limits
    )


def _read_json_lines(
    data: bytes, source: str, timezone: str, lenient: bool, limits: TextLimits | None
) -> EventLog:
    """One JSON object per line; blank lines are skipped; a line that is not an object is a row problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EventLogError([RowProblem(source, not_utf8_line(data), "not UTF-8 text")]) from exc
    numbered = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
    lines = [number for number, _ in numbered]
    # One parse of the whole file is about three times faster than one per line. A line holding anything but
    # one whole object makes it fail or yield another count; then a parse per line names the bad lines.
    try:
        rows = json.loads("[" + ",".join(line for _, line in numbered) + "]")
        if len(rows) == len(numbered) and all(isinstance(row, dict) for row in rows):
            line_of = _finder(np.asarray(lines, dtype=np.int64))
            return _from_records(rows, source, timezone, lenient, line_of, limits=limits)
    except json.JSONDecodeError:
        pass  # some line is bad: find which, line by line
    rows, lines, problems = [], [], []
    for number, line in numbered:
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(RowProblem(source, number, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(row, dict):
            kind = type(row).__name__
            problems.append(RowProblem(source, number, f"expected a JSON object, got {kind}"))
            continue
        rows.append(row)
        lines.append(number)
    line_of = _finder(np.asarray(lines, dtype=np.int64))
    return _from_records(rows, source, timezone, lenient, line_of, problems, limits)


def _read_csv(
    data: bytes, source: str, workflow: Workflow, lenient: bool, limits: TextLimits | None
) -> EventLog:
    """A long or wide CSV through header checks and row validation."""
    try:
        table = read_csv_table(data)
        if table is None:  # an empty file: nothing happened
            return _from_records([], source, workflow.timezone, lenient, _finder(None))
        return _events_of_table(table, source, workflow, lenient, limits)
    except CsvError as exc:  # also from `table.line_of`, which may re-read the file while validating
        raise EventLogError([RowProblem(source, line, message) for line, message in exc.problems]) from exc


def _events_of_table(
    table: CsvTable, source: str, workflow: Workflow, lenient: bool, limits: TextLimits | None
) -> EventLog:
    """The events of a CSV table: the wide format by its header, else the long one."""
    problems = [RowProblem(source, line, message) for line, message in table.problems]
    if is_wide_header(table.header):
        try:
            wide = wide_to_events(table.header, table.columns, workflow)
        except WideHeaderError as exc:
            raise EventLogError([RowProblem(source, 1, message) for message in exc.problems]) from exc
        return _validated(
            wide.columns, len(wide.rows), workflow.timezone, source, lenient,
            lambda positions: table.line_of(wide.rows[positions]), labels=wide.labels, id_label="ID",
            problems=problems, limits=limits,
        )
    names: dict[str, str] = {}  # headers match stripped and case-insensitively; the first one wins
    for column in table.header:
        names.setdefault(column.strip().lower(), column)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise EventLogError([_missing_columns(source, missing)])
    text = {name: table.columns[names[name]] for name in EVENT_COLUMNS if name in names}
    return _validated(
        text, table.n_rows, workflow.timezone, source, lenient, table.line_of,
        problems=problems, limits=limits,
    )
