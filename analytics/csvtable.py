"""CSV bytes as text columns, with the physical line of each data row, for the event-log readers.

Reading knows nothing of events: :func:`read_csv_table` gives every field as ``str`` (``""`` for blank), by
header name, for the long and the wide format alike. Problems are ``(line, message)`` pairs; the caller adds
the file's name. Physical lines (a quoted field may span several) are worked out only when asked for,
because a well-formed file never needs them.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]
TextArray = npt.NDArray[np.object_]
LineFinder = Callable[[IntArray], IntArray]
LineProblem = tuple[int, str]  # (physical line from 1, message)


class CsvError(ValueError):
    """The file cannot be read as CSV text; ``problems`` holds ``(line, message)`` pairs in line order."""

    def __init__(self, problems: Sequence[LineProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(f"line {line}: {message}" for line, message in self.problems))


@dataclass(frozen=True)
class CsvTable:
    """A CSV file as text columns by header name (``""`` blank), a data-row → physical-line map, and the
    rows that could not be read (more fields than the header), already left out.

    ``line_of(positions)`` maps data rows (from 0, in ``columns`` order) to the physical line each starts
    on (the header is line 1). It may re-read the file and then raise :class:`CsvError`.
    """

    header: list[str]
    columns: dict[str, TextArray]
    n_rows: int
    line_of: LineFinder
    problems: tuple[LineProblem, ...] = ()


def read_csv_table(data: bytes) -> CsvTable | None:
    """Read CSV bytes into text columns (None for an empty file), for the long and wide formats alike.

    The fast path is one ``pandas.read_csv`` (multi-threaded in pandas 3) without NA guessing ("NA" or
    "None" may be a real status); physical lines are worked out only when a problem needs one. A file
    pandas cannot parse (rows with too many fields) is read again with the ``csv`` module. Raises
    :class:`CsvError` for a file that is not UTF-8 or has malformed quoting.
    """
    try:
        with warnings.catch_warnings():
            # index_col=False: an extra field must not silently turn the first column into the index; pandas
            # then only warns that it drops the field, so the warning is raised to report the row instead.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(data), dtype=object, na_filter=False, index_col=False)
    except pd.errors.EmptyDataError:
        return None
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        return _read_csv_slowly(data)
    except UnicodeDecodeError as exc:
        raise CsvError([(not_utf8_line(data), "not UTF-8 text")]) from exc
    header = [str(column) for column in frame.columns]
    cut = _cut_off_row(data, len(header)) if len(frame) else None
    if cut is not None:
        frame = frame.iloc[:-1]
    # With na_filter=False every field is a str (a short row's missing fields are ""), so no conversion.
    columns = {name: frame[name].to_numpy(dtype=object) for name in header}
    problems = () if cut is None else (cut,)
    return CsvTable(header, columns, len(frame), lambda positions: _csv_lines(data, positions), problems)


def _cut_off_row(data: bytes, fields: int, last: tuple[int, list[str]] | None = None) -> LineProblem | None:
    """The last row, when the file ends inside it: no newline after it and fewer fields than the header.

    A writer stopped mid-row (a full disk, a copy taken while the export ran) leaves such a row; its
    missing fields would read as blanks and store a half row, e.g. an item's status going back. A row with
    all its fields but no final newline is whole (many editors write none). ``last`` is the last record
    with its line when the caller has it; otherwise only the tail is parsed, unless a quote in it may have
    opened on an earlier line.
    """
    if data.endswith((b"\n", b"\r")):
        return None
    tail = data[data.rfind(b"\n") + 1 :]
    if not tail.strip():
        return None
    if last is None and b'"' in tail:
        last = list(_records(data))[-1]
    elif last is None:
        last = data.count(b"\n") + 1, next(csv.reader([tail.decode("utf-8", "replace")]))
    line, record = last
    if len(record) >= fields:
        return None
    return line, (
        f"the file ends in the middle of this row ({len(record)} of the header's {fields} fields, and no "
        "newline after it): was it cut off while being written?"
    )


def not_utf8_line(data: bytes) -> int:
    """The physical line (from 1) of the first byte of ``data`` that is not UTF-8; 1 if there is none."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return 1


def _records(data: bytes, *, strict: bool = False) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV records with the physical line each starts on (pandas skips blank lines too).

    ``strict`` raises :class:`CsvError` on malformed quoting, such as a quote left open to the end; text
    that is not UTF-8 is always one.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvError([(not_utf8_line(data), "not UTF-8 text")]) from exc
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle, strict=strict)
        end = 0
        try:
            for record in reader:
                start, end = end + 1, reader.line_num
                if len(record) > 1 or (record and record[0].strip()):
                    yield start, record
        except csv.Error as exc:
            message = f"not valid CSV from here on ({exc}); check the quotes"
            raise CsvError([(end + 1, message)]) from exc


def _csv_lines(data: bytes, positions: IntArray) -> IntArray:
    """Physical first lines of the given data rows, by re-reading the file up to the last one needed."""
    if len(positions) == 0:
        return positions
    last = int(positions.max())
    lines: list[int] = []
    for start, _ in _records(data):
        lines.append(start)
        if len(lines) > last + 1:  # the header plus rows 0..last
            break
    # pandas and the csv module agree on well-formed files; should they not, assume one row per line.
    known = np.asarray(lines[1:] + [0] * (last + 1 - len(lines[1:])), dtype=np.int64)
    return np.where(known[positions] > 0, known[positions], positions + 2)


def _read_csv_slowly(data: bytes) -> CsvTable:
    """Read with the ``csv`` module, reporting rows with more fields than the header. Malformed quoting is
    an error even when lenient: what follows an unclosed quote cannot be told apart from the field."""
    records = iter(_records(data, strict=True))
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[LineProblem] = []
    final: tuple[int, list[str]] | None = None  # the file's last record, when it was kept as a row
    try:
        _, header = next(records, (1, []))
        for line, record in records:
            final = None
            if len(record) > len(header):
                problems.append((line, f"{len(record)} fields, but the header has {len(header)}"))
                continue
            final = line, record
            rows.append(record + [""] * (len(header) - len(record)))
            lines.append(line)
    except CsvError as exc:
        raise CsvError(problems + list(exc.problems)) from exc
    cut = None if final is None else _cut_off_row(data, len(header), final)
    if cut is not None:
        rows.pop()
        lines.pop()
        problems.append(cut)
    columns: dict[str, TextArray] = {}
    for position, name in enumerate(header):
        columns.setdefault(name, np.array([row[position] for row in rows], dtype=object))
    known = np.asarray(lines, dtype=np.int64)
    return CsvTable(header, columns, len(rows), lambda positions: known[positions], tuple(problems))
