"""The wide (ActionableAgile-style) import: one row per item, one date column per stage (spec/data.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.eventlog import EventLogError
from analytics.wide import is_wide_header, stage_for_column
from bot.connectors.files import read_event_log
from tests.analytics.builders import workflow

ZURICH = workflow("Europe/Zurich")
UTC = workflow("UTC")


def write(tmp_path, text, name="wide.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def moves(events):
    """(item, UTC ISO time, to_status) per event, in the frame's order."""
    return [
        (item, stamp.strftime("%Y-%m-%dT%H:%MZ"), status)
        for item, stamp, status in zip(
            events["item_id"], events["timestamp"], events["to_status"], strict=True
        )
    ]


def test_each_stage_date_becomes_a_status_event_into_the_stages_first_status(tmp_path):
    """Dates become status events into each stage's first status; Link/Name/Type fill url, title, type."""
    text = (
        "ID,Link,Name,Type,Backlog,Ready,Development,Review,Done,Dropped\n"
        "PAY-1,https://x/PAY-1,Pay now,Story,2026-03-02,2026-03-03,2026-03-05,,2026-03-09,\n"
        "PAY-2,,Refund,Bug,2026-03-04,,,,,2026-03-06T10:00\n"
    )
    events = read_event_log(write(tmp_path, text), ZURICH).events
    assert moves(events) == [
        ("PAY-1", "2026-03-01T23:00Z", "Backlog"),
        ("PAY-1", "2026-03-02T23:00Z", "Selected"),
        ("PAY-2", "2026-03-03T23:00Z", "Backlog"),
        ("PAY-1", "2026-03-04T23:00Z", "In Progress"),
        ("PAY-2", "2026-03-06T09:00Z", "Won't Do"),
        ("PAY-1", "2026-03-08T23:00Z", "Done"),
    ]
    assert set(events["event"]) == {"status"}
    pay1 = events[events["item_id"] == "PAY-1"]
    assert set(pay1["title"]) == {"Pay now"}
    assert set(pay1["type"]) == {"Story"}
    assert set(pay1["url"]) == {"https://x/PAY-1"}
    assert events.loc[events["item_id"] == "PAY-2", "url"].isna().all()


def test_a_backward_dated_column_is_placed_by_its_date(tmp_path):
    """A later column with an earlier date (a move back) yields events in time order, not column order."""
    text = "ID,Ready,Development,Review,Done\nA,2026-03-02,2026-03-06,2026-03-04,2026-03-08\n"
    events = read_event_log(write(tmp_path, text), UTC).events
    assert list(events["to_status"]) == ["Selected", "In Review", "In Progress", "Done"]


def test_stages_entered_on_the_same_date_keep_flow_order(tmp_path):
    """Several stages on one date are ordered by column (flow) order, so the item ends in the last one."""
    text = "ID,Backlog,Ready,Development,Review,Done\nA,2026-03-02,2026-03-02,2026-03-02,,2026-03-02\n"
    events = read_event_log(write(tmp_path, text), UTC).events
    assert list(events["to_status"]) == ["Backlog", "Selected", "In Progress", "Done"]


def test_a_column_that_is_neither_an_attribute_nor_a_stage_is_an_error(tmp_path):
    """Unknown columns are a line-1 error naming each column and the stage names, even when lenient."""
    text = "ID,Name,Ready,Testing,Done,Owner\nA,x,2026-03-02,2026-03-03,2026-03-04,me\n"
    path = write(tmp_path, text)
    stages = "Backlog, Ready, Development, Review, Done, Dropped"
    with pytest.raises(EventLogError) as caught:
        read_event_log(path, UTC, lenient=True)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:1: column 'Testing' is neither ID, Link, Name, Type nor a stage ({stages})",
        f"{path}:1: column 'Owner' is neither ID, Link, Name, Type nor a stage ({stages})",
    ]


def test_a_bad_date_names_its_line_and_column(tmp_path):
    """Bad dates are reported at their physical line (after a two-line Name) with the column named."""
    text = (
        "ID,Name,Ready,Development,Done\n"  # 1
        'A,"A name\n'  # 2
        'on two lines",2026-03-02,2026-03-03,\n'  # 3
        "B,b,31/03/2026,2026-03-04,yesterday\n"  # 4
        ",c,2026-03-02,,\n"  # 5
    )
    path = write(tmp_path, text)
    with pytest.raises(EventLogError) as caught:
        read_event_log(path, UTC)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:4: column 'Ready': date '31/03/2026' is not ISO 8601; "
        "column 'Done': date 'yesterday' is not ISO 8601",
        f"{path}:5: ID is missing",
    ]
    log = read_event_log(path, UTC, lenient=True)
    assert moves(log.events) == [
        ("A", "2026-03-02T00:00Z", "Selected"),
        ("A", "2026-03-03T00:00Z", "In Progress"),
        ("B", "2026-03-04T00:00Z", "In Progress"),
    ]
    assert log.events.loc[0, "title"] == "A name\non two lines"
    assert len(log.warnings) == 2


def test_columns_match_stage_names_or_statuses_in_any_case(tmp_path):
    """'READY', 'in progress' (a status of Development) and a 'Title' column are all understood."""
    text = "id,Title,READY,in progress,Closed\nA,The title,2026-03-02,2026-03-03,2026-03-04\n"
    events = read_event_log(write(tmp_path, text), UTC).events
    assert list(events["to_status"]) == ["Selected", "In Progress", "Done"]
    assert set(events["title"]) == {"The title"}


def test_rows_without_dates_yield_no_events(tmp_path):
    """An item that never entered a stage, and a blank spreadsheet row, add nothing and are not errors."""
    text = "ID,Name,Ready,Done\nA,a,,\n,,,\nB,b, 2026-03-02 ,\n"
    log = read_event_log(write(tmp_path, text), UTC)
    assert moves(log.events) == [("B", "2026-03-02T00:00Z", "Selected")]
    assert log.warnings == ()


def test_a_header_only_wide_file_is_an_empty_log(tmp_path):
    """A wide header with no rows is an empty log with the contract's columns."""
    events = read_event_log(write(tmp_path, "ID,Name,Ready,Done\n"), UTC).events
    assert events.empty
    assert str(events["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_wide_detection_needs_id_and_no_item_id():
    """A header is wide when it has ID and no item_id; with both it is an ordinary event log."""
    assert is_wide_header(["ID", "Name", "Ready"])
    assert is_wide_header([" id ", "Done"])
    assert not is_wide_header(["ID", "item_id", "timestamp"])
    assert not is_wide_header(["item_id", "timestamp"])


def test_stage_names_win_over_statuses():
    """A column is the stage of that name before it is the stage listing that status."""
    flow = workflow("UTC")
    assert stage_for_column("Done", flow) == flow.stage("Done")
    assert stage_for_column("to do", flow) == flow.stage("Backlog")
    assert stage_for_column("Testing", flow) is None


def test_wide_timestamps_with_offsets_are_instants(tmp_path):
    """A stage date with an offset is that instant; a naive one is local time in the workflow's zone."""
    text = "ID,Ready,Done\nA,2026-07-01T09:00+00:00,2026-07-02T09:00\n"
    events = read_event_log(write(tmp_path, text), ZURICH).events
    assert list(events["timestamp"]) == [pd.Timestamp("2026-07-01T09:00Z"), pd.Timestamp("2026-07-02T07:00Z")]
