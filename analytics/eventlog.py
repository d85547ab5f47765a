"""The event log: read CSV, JSON Lines and wide files into one validated, normalised frame (``spec/data.md``).

Every reader turns its input into the same text columns (object arrays of ``str``, ``""`` for missing) for
one validation step, so a row means the same whatever file it came from. All bad rows are reported at once
(or skipped as warnings when ``lenient``). A board may have millions of events, so everything is vectorised
except work on the rows being reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

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
_NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds
# Bytes that can only appear after the date part of an ISO 8601 value when it carries an offset.
_OFFSET_BYTES = np.zeros(256, dtype=bool)
_OFFSET_BYTES[[ord("+"), ord("-"), ord("Z"), ord("z")]] = True
_STAMP_WIDTH = 40  # longer than any ISO 8601 value with nanoseconds and an offset
_BLOCK_ROWS = 1 << 15
_MISSING, _BAD, _OUT_OF_RANGE = 1, 2, 3  # timestamp states besides 0 (parsed)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
TextArray = npt.NDArray[np.object_]
LineFinder = Callable[[IntArray], IntArray]


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
class EventLog:
    """A validated event log.

    ``events`` has exactly :data:`EVENT_COLUMNS`, one row per event, sorted by ``timestamp`` (ties keep input
    order), index ``0..n-1``: ``timestamp`` is ``datetime64[ns, UTC]``; every other column has pandas' ``str``
    dtype, with missing values as NaN (that dtype's missing value; test with ``isna()``). ``item_id`` and
    ``event`` are never missing. ``warnings`` lists what was skipped or ignored, as ``path:line: message``.
    """

    events: pd.DataFrame
    warnings: tuple[str, ...] = ()


def read_event_log(path: str | Path, workflow: Workflow, *, lenient: bool = False) -> EventLog:
    """Read an event-log file: JSON Lines (``.jsonl``/``.ndjson``), else CSV, long or wide.

    A CSV whose header has ``ID`` and no ``item_id`` is the wide format (``analytics.wide``). Naive timestamps
    are local times in ``workflow.timezone``. Raises :class:`EventLogError` listing every bad row with its
    physical line, unless ``lenient``, which skips bad rows into ``warnings``; header problems (a missing
    required column, an unknown wide column) always raise. An empty file is an empty log. ``OSError``
    propagates.
    """
    file_path, source = Path(path), str(path)
    if file_path.suffix.lower() in (".jsonl", ".ndjson"):
        return _read_json_lines(file_path, source, workflow.timezone, lenient)
    return _read_csv(file_path, source, workflow, lenient)


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
    Returns an :class:`EventLog`; raises :class:`EventLogError` (see :func:`read_event_log`).
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
) -> EventLog:
    """Check every row, then raise with all problems (with ``problems`` found while reading) or build the
    frame from the good rows. ``labels`` name each row's timestamp in messages (wide: the column)."""
    blank = np.full(n, "", dtype=object)
    text = {name: columns.get(name, blank) for name in EVENT_COLUMNS}
    item_id = _strip(text["item_id"])
    event, bad_event = _event_kinds(text["event"])
    stamps, stamp_state = _parse_timestamps(text["timestamp"], timezone)
    no_item = item_id == ""
    no_status = ((event == "status") | (event == "created")) & (text["to_status"] == "")
    bad = no_item | bad_event | (stamp_state != 0) | no_status
    found = list(problems)

    def what_is_wrong(i: int) -> list[str]:  # all of it in one problem, so a skipped row is one warning
        label, stamp = ("timestamp" if labels is None else str(labels[i])), _shown(text["timestamp"][i])
        parts = [f"{id_label} is missing"] if no_item[i] else []
        parts += {
            _MISSING: [f"{label} is missing"],
            _BAD: [f"{label} '{stamp}' is not ISO 8601"],
            _OUT_OF_RANGE: [f"{label} '{stamp}' is outside the years 1677-2262"],
        }.get(int(stamp_state[i]), [])
        if bad_event[i]:
            parts.append(f"event '{_shown(text['event'][i])}' is not one of {', '.join(EVENT_KINDS)}")
        if no_status[i]:
            parts.append(f"to_status is missing (a {event[i]} event needs it)")
        return parts

    if bad.any():
        positions = np.flatnonzero(bad)
        found += _by_line(source, line_of(positions), [what_is_wrong(int(i)) for i in positions])
    if found and not lenient:
        raise EventLogError(sorted(found, key=lambda problem: problem.line))
    warnings = [f"{problem} (skipped)" for problem in sorted(found, key=lambda problem: problem.line)]
    good = {"item_id": item_id, "event": event} | {name: text[name] for name in _OPTIONAL_TEXT}
    return EventLog(_frame(good, stamps, np.flatnonzero(~bad) if bad.any() else None), tuple(warnings))


def _event_kinds(raw: TextArray) -> tuple[TextArray, BoolArray]:
    """Canonical event names (blank → ``status``, any case) and the mask of unknown ones."""
    odd = ~pd.Series(raw, dtype=object, copy=False).isin(EVENT_KINDS).to_numpy()
    if not odd.any():
        return raw, odd
    event = raw.copy()  # only unusual spellings pay for Python string handling
    event[odd] = [value.strip().lower() or "status" for value in event[odd]]
    return event, ~pd.Series(event, dtype=object).isin(EVENT_KINDS).to_numpy()


def _parse_timestamps(text: TextArray, timezone: str) -> tuple[IntArray, npt.NDArray[np.int8]]:
    """Parse ISO 8601 text into int64 UTC nanoseconds, with a state per value (0 ok, or why not).

    A value with ``Z`` or an offset is that instant; a naive one (``2026-03-31``, ``2026-03-31 09:00``) is
    local time in ``timezone``: an ambiguous local time (clocks going back) is its first, DST occurrence; a
    nonexistent one (clocks going forward) moves forward past the gap. States: ``_MISSING``, ``_BAD`` (not ISO
    8601), ``_OUT_OF_RANGE`` (outside the nanosecond range, years 1677-2262); those values are ``_NAT``.
    """
    parsed = pd.to_datetime(pd.Index(text, dtype=object), format="ISO8601", utc=True, errors="coerce")
    values = np.asarray(parsed.asi8, dtype=np.int64)
    state = np.where(values == _NAT, _BAD, 0).astype(np.int8)
    if state.any():  # only rows being reported pay for a Python test
        failed = np.flatnonzero(state)
        blank = np.array([not text[i].strip() for i in failed], dtype=bool)
        state[failed[blank]] = _MISSING
    per_ns = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[parsed.unit]
    if per_ns != 1:  # pandas may pick a coarser unit; values beyond the ns range cannot be represented
        limit = np.iinfo(np.int64).max // per_ns
        outside = (state == 0) & (np.abs(values) >= limit)
        state[outside] = _OUT_OF_RANGE
        values = np.where(state == 0, values * per_ns, _NAT)
    naive = (state == 0) & ~_has_offset(text) if timezone != "UTC" else np.zeros(len(text), dtype=bool)
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
    problems: Sequence[RowProblem] = (),
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
    return _validated(columns, len(rows), timezone, source, lenient, line_of, problems=problems)


def _read_json_lines(path: Path, source: str, timezone: str, lenient: bool) -> EventLog:
    """One JSON object per line; blank lines are skipped; a line that is not an object is a row problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, source) from exc
    numbered = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
    lines = [number for number, _ in numbered]
    # One parse of the whole file is about three times faster than one per line. A line holding anything but
    # one whole object makes it fail or yield another count; then a parse per line names the bad lines.
    try:
        rows = json.loads("[" + ",".join(line for _, line in numbered) + "]")
        if len(rows) == len(numbered) and all(isinstance(row, dict) for row in rows):
            return _from_records(rows, source, timezone, lenient, _finder(np.asarray(lines, dtype=np.int64)))
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
    return _from_records(rows, source, timezone, lenient, line_of, problems)


def _read_csv(path: Path, source: str, workflow: Workflow, lenient: bool) -> EventLog:
    """A long or wide CSV through header checks and row validation."""
    table = _read_csv_table(path, source)
    if table is None:  # an empty file: nothing happened
        return _from_records([], source, workflow.timezone, lenient, _finder(None))
    if is_wide_header(table.header):
        try:
            wide = wide_to_events(table.header, table.columns, workflow)
        except WideHeaderError as exc:
            raise EventLogError([RowProblem(source, 1, message) for message in exc.problems]) from exc
        return _validated(
            wide.columns, len(wide.rows), workflow.timezone, source, lenient,
            lambda positions: table.line_of(wide.rows[positions]), labels=wide.labels, id_label="ID",
            problems=table.problems,
        )
    names: dict[str, str] = {}  # headers match stripped and case-insensitively; the first one wins
    for column in table.header:
        names.setdefault(column.strip().lower(), column)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise EventLogError([_missing_columns(source, missing)])
    text = {name: table.columns[names[name]] for name in EVENT_COLUMNS if name in names}
    return _validated(
        text, table.n_rows, workflow.timezone, source, lenient, table.line_of, problems=table.problems
    )


@dataclass(frozen=True)
class _CsvTable:
    """A CSV file as text columns by header name (``""`` blank), a data-row → physical-line map, and the
    rows that could not be read (more fields than the header), already left out."""

    header: list[str]
    columns: dict[str, TextArray]
    n_rows: int
    line_of: LineFinder
    problems: tuple[RowProblem, ...] = ()


def _read_csv_table(path: Path, source: str) -> _CsvTable | None:
    """Read a CSV file into text columns (None for an empty file), for the long and wide formats alike.

    The fast path is one ``pandas.read_csv`` (multi-threaded in pandas 3) without NA guessing ("NA" or
    "None" may be a real status); physical lines are worked out only when a problem needs one. A file
    pandas cannot parse (rows with too many fields) is read again with the ``csv`` module.
    """
    try:
        # index_col=False: an extra field must not silently turn the first column into the index.
        frame = pd.read_csv(path, dtype=object, na_filter=False, index_col=False)
    except pd.errors.EmptyDataError:
        return None
    except pd.errors.ParserError:
        return _read_csv_slowly(path, source)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, source) from exc
    header = [str(column) for column in frame.columns]
    # With na_filter=False every field is a str (a short row's missing fields are ""), so no conversion.
    columns = {name: frame[name].to_numpy(dtype=object) for name in header}
    return _CsvTable(header, columns, len(frame), lambda positions: _csv_lines(path, positions))


def _not_utf8(path: Path, source: str) -> EventLogError:
    """The error for a file that is not UTF-8, at the line of its first bad byte."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return EventLogError([RowProblem(source, data.count(b"\n", 0, exc.start) + 1, "not UTF-8 text")])
    return EventLogError([RowProblem(source, 1, "not UTF-8 text")])


def _records(path: Path, source: str, *, strict: bool = False) -> Iterable[tuple[int, list[str]]]:
    """Non-blank CSV records with the physical line each starts on (pandas skips blank lines too).

    ``strict`` raises :class:`EventLogError` on malformed quoting, such as a quote left open to the end.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=strict)
        end = 0
        try:
            for record in reader:
                start, end = end + 1, reader.line_num
                if len(record) > 1 or (record and record[0].strip()):
                    yield start, record
        except csv.Error as exc:
            message = f"not valid CSV from here on ({exc}); check the quotes"
            raise EventLogError([RowProblem(source, end + 1, message)]) from exc


def _csv_lines(path: Path, positions: IntArray) -> IntArray:
    """Physical first lines of the given data rows, by re-reading the file up to the last one needed."""
    if len(positions) == 0:
        return positions
    last = int(positions.max())
    lines: list[int] = []
    for start, _ in _records(path, ""):
        lines.append(start)
        if len(lines) > last + 1:  # the header plus rows 0..last
            break
    # pandas and the csv module agree on well-formed files; should they not, assume one row per line.
    known = np.asarray(lines[1:] + [0] * (last + 1 - len(lines[1:])), dtype=np.int64)
    return np.where(known[positions] > 0, known[positions], positions + 2)


def _read_csv_slowly(path: Path, source: str) -> _CsvTable:
    """Read with the ``csv`` module, reporting rows with more fields than the header. Malformed quoting is
    an error even when lenient: what follows an unclosed quote cannot be told apart from the field."""
    records = iter(_records(path, source, strict=True))
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[RowProblem] = []
    try:
        _, header = next(records, (1, []))
        for line, record in records:
            if len(record) > len(header):
                message = f"{len(record)} fields, but the header has {len(header)}"
                problems.append(RowProblem(source, line, message))
                continue
            rows.append(record + [""] * (len(header) - len(record)))
            lines.append(line)
    except EventLogError as exc:
        raise EventLogError(problems + list(exc.problems)) from exc
    columns: dict[str, TextArray] = {}
    for position, name in enumerate(header):
        columns.setdefault(name, np.array([row[position] for row in rows], dtype=object))
    return _CsvTable(header, columns, len(rows), _finder(np.asarray(lines, dtype=np.int64)), tuple(problems))
