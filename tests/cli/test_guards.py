"""Guards (spec/coaching.md): provisional percentiles, and data-quality warnings instead of silent numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from bot.cli.main import main
from bot.connectors.files import load_workflow, read_event_log
from bot.services.reports import events_digest
from bot.store.board_settings import Thresholds

WORKFLOW = Path(__file__).resolve().parents[1] / "analytics" / "data" / "spec_workflow.yml"
HEADER = "item_id,timestamp,event,to_status\n"
ASOF = "2026-01-30T12:00:00+01:00"  # a Friday noon
RECENT = (
    "PAY-1,2025-12-01T09:00:00+01:00,status,In Progress\n"
    "PAY-1,2025-12-03T09:00:00+01:00,status,Done\n"
    "PAY-2,2026-01-30T11:00:00+01:00,status,In Progress\n"
)


def metrics_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str) -> dict:
    path = tmp_path / "events.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    args = ["metrics", "--events", str(path), "--workflow", str(WORKFLOW), "--asof", ASOF, "--format", "json"]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def warnings(document: dict) -> list[str]:
    return document["data_quality"]["warnings"]


def test_a_clean_recent_log_gives_no_warning(capsys, tmp_path):
    assert warnings(metrics_json(capsys, tmp_path, RECENT)) == []


def test_an_empty_event_file_is_a_warning_not_silent_zeros(capsys, tmp_path):
    [warning] = warnings(metrics_json(capsys, tmp_path, ""))
    assert "empty" in warning


def test_events_dated_after_asof_are_ignored_and_said_so(capsys, tmp_path):
    future = "PAY-3,2026-02-02T09:00:00+01:00,status,In Progress\n"
    document = metrics_json(capsys, tmp_path, RECENT + future)
    [warning] = warnings(document)
    assert warning.startswith("1 event dated after 2026-01-30T12:00:00+01:00") and "ignored" in warning
    assert document["wip"]["total"] == 1  # PAY-3 does not exist yet


def test_a_last_event_older_than_stale_after_is_a_warning(capsys, tmp_path):
    """The last event is Thursday 09:00: 12 working hours before Friday noon, past the default 2."""
    body = RECENT.replace("2026-01-30T11:00", "2026-01-29T09:00")
    [warning] = warnings(metrics_json(capsys, tmp_path, body))
    assert "the last event is from 2026-01-29T09:00:00+01:00, 12 working hours" in warning


def test_a_window_longer_than_the_history_is_a_warning(capsys, tmp_path):
    body = "PAY-1,2026-01-20T09:00:00+01:00,status,In Progress\nPAY-1,2026-01-30T11:00:00+01:00,status,Done\n"
    document = metrics_json(capsys, tmp_path, body)
    [warning] = warnings(document)
    assert "the window of 30 days is longer than the history (10.1 days" in warning
    assert document["sle"]["provisional"] is True and document["sle"]["count"] == 1


def test_the_text_report_shows_warnings_and_provisional_counts(capsys, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + RECENT, encoding="utf-8")
    assert main(["metrics", "--events", str(path), "--workflow", str(WORKFLOW), "--asof", ASOF]) == 0
    out = capsys.readouterr().out
    assert "SLE:" in out and "provisional (1 item)" in out


def test_the_digest_carries_the_warnings_and_the_sle_count(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        HEADER + RECENT + "PAY-3,2026-02-02T09:00:00+01:00,status,In Progress\n", encoding="utf-8"
    )
    workflow = load_workflow(WORKFLOW)
    events = read_event_log(path, workflow).events
    now = pd.Timestamp(ASOF).to_pydatetime().astimezone(dt.UTC)
    data = events_digest(events, workflow, Thresholds(), now)
    assert any("dated after" in warning for warning in data.warnings)
    assert data.sle_count == 1  # PAY-1, finished within the 90-day SLE window: provisional
