"""Every JSON document of the command line with times in the hour clocks repeat (Zurich, 25 Oct 2026).

From 03:00 CEST clocks go back to 02:00 CET, so 02:30 happens twice; an event at the second 02:30 and an
``--asof`` there must give documents, not an internal error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main

WORKFLOW = Path(__file__).resolve().parents[1] / "analytics" / "data" / "spec_workflow.yml"
ASOF = "2026-10-25T02:30:00.5+01:00"  # the second 02:30, with a fraction of a second to truncate


@pytest.fixture
def events(tmp_path: Path) -> list[str]:
    """One item finished on each of the 20 days before, and one at the second 02:30 of the 25th."""
    rows = ["item_id,timestamp,event,to_status"]
    for day in range(5, 25):
        rows.append(f"S-{day},2026-10-{day:02d}T09:00:00+02:00,status,In Progress")
        rows.append(f"S-{day},2026-10-{day:02d}T15:00:00+02:00,status,Done")
    rows.append("F-1,2026-10-24T10:00:00+02:00,status,In Progress")
    rows.append("F-1,2026-10-25T02:30:00+01:00,status,Done")
    rows.append("F-2,2026-10-25T02:10:00+02:00,status,In Progress")  # the first 02:10, still WIP
    path = tmp_path / "events.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return ["--events", str(path), "--workflow", str(WORKFLOW)]


def document(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main([*args, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_metrics_in_the_repeated_hour(capsys, events):
    metrics = document(capsys, "metrics", *events, "--asof", ASOF)
    assert metrics["asof"] == "2026-10-25T02:30:00+01:00"
    assert metrics["window"]["end"] == "2026-10-25T02:30:00+01:00"
    [item] = metrics["items"]
    assert item["item_id"] == "F-2" and item["started_at"] == "2026-10-25T02:10:00+02:00"


def test_forecast_in_the_repeated_hour(capsys, events):
    forecast = document(capsys, "forecast", *events, "--asof", ASOF, "--items", "5", "--seed", "1")
    assert forecast["asof"] == "2026-10-25T02:30:00+01:00" and forecast["question"] == "when"


def test_replay_through_the_repeated_hour(capsys, events):
    since, until = "2026-10-25T01:45:00+02:00", "2026-10-25T02:45:00+01:00"
    replay = document(capsys, "replay", *events, "--since", since, "--until", until)
    assert (replay["since"], replay["until"]) == (since, until)
