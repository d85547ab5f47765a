"""The event-log readers: CSV and JSON Lines files, records, validation and normalisation (spec/data.md)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.eventlog import (
    EVENT_COLUMNS,
    EventLogError,
    RowProblem,
    events_from_records,
    normalise_events,
    parse_event_log,
)
from bot.connectors.files import read_event_log
from tests.analytics import builders
from tests.analytics.builders import workflow

ZURICH = workflow("Europe/Zurich")
UTC = workflow("UTC")
HEADER = ",".join(EVENT_COLUMNS)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def utc(text):
    return pd.Timestamp(text).tz_convert("UTC")


def stamps(frame):
    return list(frame["timestamp"])


def read_stamps(tmp_path, values, wf=ZURICH):
    """Timestamps read back from a CSV with one status event per value, in file order."""
    rows = [f"A{i},{value},status,,Selected" for i, value in enumerate(values)]
    path = write(
        tmp_path, "events.csv", "item_id,timestamp,event,from_status,to_status\n" + "\n".join(rows) + "\n"
    )
    events = read_event_log(path, wf).events
    return list(events.sort_values("item_id", key=lambda ids: ids.str[1:].astype(int))["timestamp"])


RECORDS = [
    {
        "item_id": "PAY-1",
        "timestamp": "2026-03-02T09:00:00+01:00",
        "event": "created",
        "to_status": "To Do",
        "title": "Pay, now",
        "type": "Story",
        "url": "https://x/PAY-1",
        "assignee": "ana",
    },
    {
        "item_id": "PAY-1",
        "timestamp": "2026-03-03T10:00:00+01:00",
        "event": "status",
        "from_status": "To Do",
        "to_status": "In Progress",
        "assignee": "ben",
    },
    {"item_id": "PAY-2", "timestamp": "2026-03-02T12:00:00Z", "event": "created", "to_status": "To Do"},
    {"item_id": "PAY-1", "timestamp": "2026-03-04T08:00:00+01:00", "event": "blocked", "reason": "waiting"},
]


def test_csv_is_read_into_the_normalised_frame(tmp_path):
    """A CSV becomes the contract's frame: its columns in order, UTC ns timestamps, str text, NaN missing."""
    path = tmp_path / "events.csv"
    pd.DataFrame(RECORDS).assign(extra="ignored").to_csv(path, index=False)
    events = read_event_log(path, ZURICH).events
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert str(events["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert all(events[name].dtype == "str" for name in EVENT_COLUMNS if name != "timestamp")
    assert list(events.index) == [0, 1, 2, 3]
    assert list(events["item_id"]) == ["PAY-1", "PAY-2", "PAY-1", "PAY-1"]
    assert stamps(events) == [
        utc("2026-03-02T08:00Z"),
        utc("2026-03-02T12:00Z"),
        utc("2026-03-03T09:00Z"),
        utc("2026-03-04T07:00Z"),
    ]
    assert list(events["event"]) == ["created", "created", "status", "blocked"]
    assert events.loc[0, "title"] == "Pay, now"
    assert events["title"].isna().tolist() == [False, True, True, True]
    assert events.loc[3, "reason"] == "waiting"
    assert pd.isna(events.loc[3, "to_status"])


def test_json_lines_and_records_give_the_same_frame_as_csv(tmp_path):
    """The same events as CSV, JSON Lines and records normalise to identical frames."""
    csv_path = tmp_path / "events.csv"
    pd.DataFrame(RECORDS).to_csv(csv_path, index=False)
    jsonl_path = write(tmp_path, "events.jsonl", "\n".join(json.dumps(record) for record in RECORDS) + "\n")
    from_csv = read_event_log(csv_path, ZURICH).events
    pd.testing.assert_frame_equal(read_event_log(jsonl_path, ZURICH).events, from_csv)
    pd.testing.assert_frame_equal(events_from_records(RECORDS, "Europe/Zurich").events, from_csv)


def test_headers_match_stripped_and_case_insensitively(tmp_path):
    """CSV headers like ' Item_ID ' and 'Timestamp' name the contract's columns."""
    path = write(tmp_path, "events.csv", " Item_ID ,Timestamp,To_Status\nA,2026-03-02T09:00Z,Selected\n")
    events = read_event_log(path, UTC).events
    assert list(events["item_id"]) == ["A"]
    assert list(events["to_status"]) == ["Selected"]


def test_text_like_na_stays_text_and_item_ids_are_stripped(tmp_path):
    """'NA' and 'None' are real values, not missing; item ids lose surrounding spaces; '' is missing."""
    path = write(
        tmp_path, "events.csv", "item_id,timestamp,to_status,title\n A1 ,2026-03-02T09:00Z,NA,None\n"
    )
    row = read_event_log(path, UTC).events.iloc[0]
    assert (row["item_id"], row["to_status"], row["title"]) == ("A1", "NA", "None")
    assert pd.isna(row["url"])


def test_offsets_and_z_are_instants(tmp_path):
    """A value with Z or an offset (±HH:MM, ±HHMM, ±HH) is that instant, whatever the workflow's zone."""
    values = [
        "2026-03-31T09:00:00Z",
        "2026-03-31T09:00:00+02:00",
        "2026-03-31T09:00-0530",
        "2026-03-31T09:00+01",
    ]
    assert read_stamps(tmp_path, values) == [
        utc("2026-03-31T09:00Z"),
        utc("2026-03-31T07:00Z"),
        utc("2026-03-31T14:30Z"),
        utc("2026-03-31T08:00Z"),
    ]


def test_naive_values_are_local_time_in_the_workflow_zone(tmp_path):
    """Naive values are Zurich wall time: +01:00 in winter, +02:00 in summer; mixing with offsets is fine."""
    values = ["2026-01-15T09:00", "2026-07-15 09:00:00", "2026-07-15T09:00:00+00:00"]
    assert read_stamps(tmp_path, values) == [
        utc("2026-01-15T08:00Z"),
        utc("2026-07-15T07:00Z"),
        utc("2026-07-15T09:00Z"),
    ]


def test_date_only_values_are_local_midnight(tmp_path):
    """'2026-03-31' is midnight in Zurich (22:00 UTC the day before, summer time)."""
    assert read_stamps(tmp_path, ["2026-03-31", "2026-01-10"]) == [
        utc("2026-03-30T22:00Z"),
        utc("2026-01-09T23:00Z"),
    ]


def test_fractional_seconds_are_kept_to_the_nanosecond(tmp_path):
    """Fractional seconds survive, naive or with an offset."""
    values = ["2026-03-31T09:00:00.5", "2026-03-31T09:00:00.123456789Z"]
    assert read_stamps(tmp_path, values) == [
        utc("2026-03-31T07:00:00.5Z"),
        utc("2026-03-31T09:00:00.123456789Z"),
    ]


def test_ambiguous_local_time_takes_the_first_dst_occurrence(tmp_path):
    """02:30 on 25 Oct 2026 happens twice in Zurich; the reader takes the first (CEST, 00:30 UTC)."""
    assert read_stamps(tmp_path, ["2026-10-25T02:30"]) == [utc("2026-10-25T00:30Z")]


def test_nonexistent_local_time_shifts_forward(tmp_path):
    """02:30 on 29 Mar 2026 does not exist in Zurich; it moves forward to 03:00 CEST (01:00 UTC)."""
    assert read_stamps(tmp_path, ["2026-03-29T02:30"]) == [utc("2026-03-29T01:00Z")]


def test_utc_workflow_reads_naive_values_as_utc(tmp_path):
    """With timezone UTC, a naive value is a UTC wall time."""
    assert read_stamps(tmp_path, ["2026-03-29T02:30"], wf=UTC) == [utc("2026-03-29T02:30Z")]


BAD_CSV = (
    "item_id,timestamp,event,to_status,title\n"  # 1
    'A,2026-03-02T09:00Z,created,To Do,"A title\n'  # 2
    'over two lines"\n'  # 3
    ",2026-03-02T10:00Z,status,Selected,\n"  # 4
    "B,yesterday,status,Selected,\n"  # 5
    "\n"  # 6
    "C,2026-03-02T11:00Z,moved,Selected,\n"  # 7
    "D,2026-03-02T12:00Z,status,,\n"  # 8
    "E,,blocked,,\n"  # 9
    "F,2026-03-02T13:00Z,blocked,,\n"  # 10
    " ,soon,created,,\n"  # 11
)
BAD_MESSAGES = [
    (4, "item_id is missing"),
    (5, "timestamp 'yesterday' is not ISO 8601"),
    (7, "event 'moved' is not one of status, created, blocked, unblocked"),
    (8, "to_status is missing (a status event needs it)"),
    (9, "timestamp is missing"),
    (
        11,
        "item_id is missing; timestamp 'soon' is not ISO 8601; "
        "to_status is missing (a created event needs it)",
    ),
]


def test_every_bad_row_is_reported_with_its_physical_line(tmp_path):
    """All bad rows are reported together, at their physical lines even after a two-line quoted title."""
    path = write(tmp_path, "events.csv", BAD_CSV)
    with pytest.raises(EventLogError) as caught:
        read_event_log(path, UTC)
    assert caught.value.problems == tuple(RowProblem(str(path), line, text) for line, text in BAD_MESSAGES)
    assert str(caught.value).splitlines() == [f"{path}:{line}: {text}" for line, text in BAD_MESSAGES]


def test_lenient_skips_bad_rows_and_warns_about_each(tmp_path):
    """lenient=True keeps the good rows and turns each bad row into a 'file:line: … (skipped)' warning."""
    path = write(tmp_path, "events.csv", BAD_CSV)
    log = read_event_log(path, UTC, lenient=True)
    assert list(log.events["item_id"]) == ["A", "F"]
    assert log.events.loc[0, "title"] == "A title\nover two lines"
    assert log.warnings == tuple(f"{path}:{line}: {text} (skipped)" for line, text in BAD_MESSAGES)


def test_error_message_is_capped_but_problems_are_complete(tmp_path):
    """str(error) lists 20 problems and '… and N more'; .problems keeps all of them."""
    rows = "".join(f"A{i},not a time,status,Selected\n" for i in range(25))
    path = write(tmp_path, "events.csv", "item_id,timestamp,event,to_status\n" + rows)
    with pytest.raises(EventLogError) as caught:
        read_event_log(path, UTC)
    assert len(caught.value.problems) == 25
    lines = str(caught.value).splitlines()
    assert len(lines) == 21
    assert lines[0] == f"{path}:2: timestamp 'not a time' is not ISO 8601"
    assert lines[-1] == "… and 5 more"


def test_timestamps_outside_the_nanosecond_range_are_errors():
    """Year 3000 cannot be held as nanoseconds and is reported, not wrapped around."""
    with pytest.raises(
        EventLogError, match=r"<records>:1: timestamp '3000-01-01' is outside the years 1677-2262"
    ):
        events_from_records([{"item_id": "A", "timestamp": "3000-01-01", "to_status": "To Do"}], "UTC")


def test_events_are_case_insensitive_and_blank_means_status(tmp_path):
    """'Blocked' is blocked and an empty event column means a status change."""
    path = write(
        tmp_path,
        "events.csv",
        "item_id,timestamp,event,to_status\nA,2026-03-02,,To Do\nA,2026-03-03,Blocked,\n",
    )
    assert list(read_event_log(path, UTC).events["event"]) == ["status", "blocked"]


def test_exact_duplicates_count_once_keeping_the_first(tmp_path):
    """Rows with the same item, instant, event and to_status are one event; the first row's attributes win."""
    rows = [
        {"item_id": "A", "timestamp": "2026-03-02T09:00+01:00", "to_status": "To Do", "title": "first"},
        {"item_id": "A", "timestamp": "2026-03-02T08:00Z", "to_status": "To Do", "title": "second"},
        {"item_id": "A", "timestamp": "2026-03-02T08:00Z", "to_status": "Selected"},
        {"item_id": "B", "timestamp": "2026-03-02T08:00Z", "to_status": "To Do"},
        {"item_id": "A", "timestamp": "2026-03-02T08:00Z", "event": "blocked"},
        {"item_id": "A", "timestamp": "2026-03-02T08:00Z", "event": "blocked", "reason": "again"},
    ]
    events = events_from_records(rows, "UTC").events
    assert list(zip(events["item_id"], events["event"], events["to_status"].fillna("-"), strict=True)) == [
        ("A", "status", "To Do"),
        ("A", "status", "Selected"),
        ("B", "status", "To Do"),
        ("A", "blocked", "-"),
    ]
    assert events.loc[0, "title"] == "first"


def test_equal_timestamps_keep_file_order(tmp_path):
    """Sorting by time is stable: events at the same instant stay in the order of the file."""
    rows = "".join(f"{item},2026-03-02T09:00Z,status,Selected\n" for item in "QZAMB")
    path = write(
        tmp_path, "events.csv", f"item_id,timestamp,event,to_status\nY,2026-03-03,status,Done\n{rows}"
    )
    assert list(read_event_log(path, UTC).events["item_id"]) == ["Q", "Z", "A", "M", "B", "Y"]


@pytest.mark.parametrize(
    ("name", "text"),
    [("events.csv", HEADER + "\n"), ("events.csv", ""), ("events.jsonl", ""), ("events.ndjson", "\n\n")],
)
def test_an_empty_file_is_an_empty_log(tmp_path, name, text):
    """A header-only or empty file is a valid empty log with the contract's columns and dtypes."""
    log = read_event_log(write(tmp_path, name, text), UTC)
    assert log.events.empty
    assert log.warnings == ()
    assert list(log.events.columns) == list(EVENT_COLUMNS)
    assert str(log.events["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert all(log.events[name].dtype == "str" for name in EVENT_COLUMNS if name != "timestamp")


def test_a_missing_required_column_is_an_error_at_line_1(tmp_path):
    """Without item_id or timestamp there is nothing to read: one error at line 1, even when lenient."""
    path = write(tmp_path, "events.csv", "key,when,to_status\nA,2026-03-02,To Do\n")
    with pytest.raises(EventLogError) as caught:
        read_event_log(path, UTC, lenient=True)
    assert str(caught.value) == f"{path}:1: missing required columns 'item_id', 'timestamp'"


def test_rows_with_too_many_fields_are_reported(tmp_path):
    """A row with more fields than the header is reported at its line; lenient reads the rest."""
    text = "item_id,timestamp,to_status\nA,2026-03-02,To Do\nB,2026-03-02,To Do,oops\nC,2026-03-03,To Do\n"
    path = write(tmp_path, "events.csv", text)
    with pytest.raises(EventLogError, match=r"events\.csv:3: 4 fields, but the header has 3$"):
        read_event_log(path, UTC)
    assert list(read_event_log(path, UTC, lenient=True).events["item_id"]) == ["A", "C"]


def test_a_quote_left_open_is_an_error_even_when_lenient(tmp_path):
    """An unclosed quote swallows the rest of the file, so it is reported instead of guessed at."""
    path = write(tmp_path, "events.csv", 'item_id,timestamp,title\nA,2026-03-02,"open\nB,2026-03-03,x\n')
    with pytest.raises(EventLogError, match=r"events\.csv:2: not valid CSV from here on"):
        read_event_log(path, UTC, lenient=True)


def test_text_that_is_not_utf8_is_reported_at_its_line(tmp_path):
    """A Latin-1 file, CSV or JSON Lines, is an error naming the first line that is not UTF-8."""
    path = tmp_path / "events.csv"
    path.write_bytes("item_id,timestamp,title\nA,2026-03-02,ok\nB,2026-03-02,Zürich\n".encode("latin-1"))
    with pytest.raises(EventLogError, match=r"events\.csv:3: not UTF-8 text$"):
        read_event_log(path, UTC)
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_bytes('{"item_id": "A"}\n{"item_id": "Zürich"}\n'.encode("latin-1"))
    with pytest.raises(EventLogError, match=r"events\.jsonl:2: not UTF-8 text$"):
        read_event_log(jsonl, UTC)


def test_a_row_with_too_many_fields_then_text_that_is_not_utf8_is_reported_not_a_crash():
    """The slow CSV path (a row with extra fields) meets a byte that is not UTF-8: a row error, not an
    internal UnicodeDecodeError."""
    data = b"item_id,timestamp,to_status\nA,2026-03-02,Doing,extra\nB,2026-03-02,Z\xfcrich\n"
    with pytest.raises(EventLogError, match=r"events\.csv:3: not UTF-8 text"):
        parse_event_log(data, UTC, source="events.csv")

def test_json_lines_report_bad_lines_and_skip_blank_ones(tmp_path):
    """Invalid JSON and non-objects are errors at their line; blank lines are neither rows nor errors."""
    text = (
        '{"item_id": "A", "timestamp": "2026-03-02", "to_status": "To Do"}\n\n{oops\n[1, 2]\n'
        '{"item_id": "B", "timestamp": "bad", "to_status": "To Do"}\n'
    )
    path = write(tmp_path, "events.jsonl", text)
    with pytest.raises(EventLogError) as caught:
        read_event_log(path, UTC)
    assert [(problem.line, problem.message) for problem in caught.value.problems] == [
        (3, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (4, "expected a JSON object, got list"),
        (5, "timestamp 'bad' is not ISO 8601"),
    ]
    log = read_event_log(path, UTC, lenient=True)
    assert list(log.events["item_id"]) == ["A"]
    assert len(log.warnings) == 3


def test_two_objects_on_one_json_line_are_an_error(tmp_path):
    """Each line holds exactly one object: a second one on the same line is reported, not read."""
    line = '{"item_id": "A", "timestamp": "2026-03-02", "to_status": "To Do"}'
    path = write(tmp_path, "events.jsonl", f"{line}\n{line}, {line}\n{line}\n")
    with pytest.raises(EventLogError, match=r"events\.jsonl:2: not valid JSON \(Extra data\)$"):
        read_event_log(path, UTC)


def test_records_accept_numbers_none_and_datetimes():
    """Record values may be ints (ids), None (missing) and aware or naive datetimes (local time)."""
    records = [
        {
            "item_id": 123,
            "timestamp": dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC),
            "to_status": "To Do",
            "title": None,
        },
        {"item_id": "X", "timestamp": dt.datetime(2026, 7, 1, 9, 0), "to_status": "To Do"},
        {
            "item_id": "Y",
            "timestamp": pd.Timestamp("2026-07-01T12:00", tz="Asia/Tokyo"),
            "to_status": "To Do",
        },
        {"item_id": "Z", "timestamp": dt.date(2026, 7, 2), "to_status": "To Do"},
    ]
    events = events_from_records(records, "Europe/Zurich").events
    assert list(events["item_id"]) == ["Y", "X", "123", "Z"]
    assert stamps(events) == [
        utc("2026-07-01T03:00Z"),
        utc("2026-07-01T07:00Z"),
        utc("2026-07-01T09:00Z"),
        utc("2026-07-01T22:00Z"),
    ]
    assert events["title"].isna().all()


def test_records_report_record_numbers_as_lines():
    """Record i is line i + 1 of the given source."""
    records = [{"item_id": "A", "timestamp": "2026-03-02", "to_status": "To Do"}, {"timestamp": "2026-03-02"}]
    with pytest.raises(EventLogError) as caught:
        events_from_records(records, "UTC", source="jira")
    assert str(caught.value) == "jira:2: item_id is missing; to_status is missing (a status event needs it)"


def test_a_key_no_record_has_is_a_missing_column():
    """Records without any timestamp key are one line-1 error, not one error per record."""
    with pytest.raises(EventLogError, match=r"^<records>:1: missing required column 'timestamp'$"):
        events_from_records([{"item_id": "A"}, {"item_id": "B"}], "UTC")


def test_normalise_events_names_the_given_lines():
    """normalise_events reports the line numbers it is given and ignores unknown columns."""
    raw = pd.DataFrame(
        {
            "item_id": ["A", None],
            "timestamp": ["2026-03-02", "2026-03-03"],
            "to_status": ["To Do", "Done"],
            "colour": ["red", "blue"],
        }
    )
    with pytest.raises(EventLogError, match=r"^db:42: item_id is missing$"):
        normalise_events(raw, "UTC", source="db", lines=[41, 42], lenient=False)
    log = normalise_events(raw, "UTC", source="db", lines=None, lenient=True)
    assert log.warnings == ("db:2: item_id is missing (skipped)",)
    assert list(log.events.columns) == list(EVENT_COLUMNS)


def test_the_result_does_not_share_memory_with_the_callers_frame():
    """Changing the caller's frame afterwards leaves the normalised events alone."""
    raw = pd.DataFrame({"item_id": ["A"], "timestamp": ["2026-03-02"], "to_status": ["To Do"]})
    events = normalise_events(raw, "UTC", source="db", lines=None, lenient=False).events
    raw.loc[0, "to_status"] = "Done"
    assert events.loc[0, "to_status"] == "To Do"


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(12)), st.lists(st.integers(0, 10_000), min_size=12, max_size=12, unique=True))
def test_the_result_does_not_depend_on_row_order(order, minutes):
    """Shuffling rows with distinct instants gives the same frame."""
    base = pd.Timestamp("2026-03-01T00:00Z")
    records = [
        {
            "item_id": f"I-{i % 4}",
            "timestamp": (base + pd.Timedelta(minutes=m)).isoformat(),
            "to_status": "To Do",
        }
        for i, m in enumerate(minutes)
    ]
    expected = events_from_records(records, "UTC").events
    shuffled = events_from_records([records[i] for i in order], "UTC").events
    pd.testing.assert_frame_equal(shuffled, expected)
    assert expected["timestamp"].is_monotonic_increasing
    assert expected["timestamp"].is_unique


def test_extra_field_on_the_first_data_row_is_reported(tmp_path):
    """An extra field on the first row is a problem at its line, not a silently shifted or dropped column."""
    path = tmp_path / "extra.csv"
    path.write_text(
        "item_id,timestamp,to_status\nA,2026-01-01T00:00Z,Done,extra\nB,2026-01-01T00:00Z,Done\n",
        encoding="utf-8",
    )
    with pytest.raises(EventLogError) as caught:
        read_event_log(path, builders.workflow())
    assert [problem.line for problem in caught.value.problems] == [2]


CUT = "the file ends in the middle of this row (2 of the header's 3 fields, and no newline after it)"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        pytest.param(b"item_id,timestamp,to_status\nA,2026-03-02,Done\nB,2026-03-03", 3, id="fast-path"),
        pytest.param(
            b"item_id,timestamp,to_status\nA,2026-03-02,Done\nX,2026-03-02,Done,extra\nB,2026-03-03", 4,
            id="slow-path",
        ),
        pytest.param(
            b'item_id,timestamp,to_status\nA,2026-03-02,Done\n"B\nsplit",2026-03-03', 3,
            id="quoted-over-lines",
        ),
    ],
)
def test_a_last_row_cut_off_is_reported_and_skipped_when_lenient(data, line):
    """A file copied while it was written ends mid-row; its short last row used to be read with blanks."""
    with pytest.raises(EventLogError) as caught:
        parse_event_log(data, UTC, source="events.csv")
    assert f"events.csv:{line}: {CUT}" in str(caught.value)
    lenient = parse_event_log(data, UTC, source="events.csv", lenient=True)
    assert list(lenient.events["item_id"]) == ["A"]
    assert any(warning.startswith(f"events.csv:{line}: {CUT}") for warning in lenient.warnings)


@pytest.mark.parametrize(
    "data",
    [
        b"item_id,timestamp,to_status\nA,2026-03-02,Done",
        b"item_id,timestamp,to_status\nA,2026-03-02,Done\r\n",
        b"item_id,timestamp,to_status\nA,2026-03-02,Done\n   ",
        b"item_id,timestamp,to_status,title\nA,2026-03-02,Done\nB,2026-03-03,Done,t\n",
    ],
    ids=["whole-row-no-newline", "crlf", "trailing-spaces", "short-row-mid-file"],
)
def test_rows_that_end_the_file_whole_are_not_taken_for_cut_off(data):
    """No final newline after a whole row, or a short row before the end, is an ordinary file."""
    assert len(parse_event_log(data, UTC, source="events.csv").events) >= 1


def test_text_limits_name_each_row_in_every_format():
    """With limits (a store's columns), long values and NUL characters are row problems at their line,
    in CSV, JSON Lines and the wide format alike; without them nothing changes."""
    from analytics.eventlog import TextLimits

    limits = TextLimits({"item_id": 5, "to_status": 4})
    csv_data = b"item_id,timestamp,to_status,title\nA,2026-03-02,Done,ok\nTOOLONG,2026-03-02,Done,t\x00\n"
    with pytest.raises(EventLogError) as caught:
        parse_event_log(csv_data, UTC, source="e.csv", limits=limits)
    assert [str(problem) for problem in caught.value.problems] == [
        "e.csv:3: item_id is 7 characters long; at most 5 can be stored; "
        "title contains a NUL character (a zero byte), which cannot be stored"
    ]
    assert len(parse_event_log(csv_data, UTC, source="e.csv").events) == 2
    jsonl = b'{"item_id": "A", "timestamp": "2026-03-02", "to_status": "Closed"}\n'
    with pytest.raises(EventLogError, match=r"e\.jsonl:1: to_status is 6 characters long; at most 4"):
        parse_event_log(jsonl, UTC, source="e.jsonl", json_lines=True, limits=limits)
    wide = b"ID,Link,Name,Type,Backlog,Done\nLONGID,,n,t,2026-03-01,2026-03-02\n"
    with pytest.raises(EventLogError, match=r"w\.csv:2: ID is 6 characters long; at most 5 can be stored"):
        parse_event_log(wide, UTC, source="w.csv", limits=limits)
