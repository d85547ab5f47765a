"""`--type`: every command that reads a board's events keeps only the items of the types asked for, and an
unknown type is a one-line error naming the types there are; `charts --cfd-hide/--cfd-start`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from tests.cli.test_bounds_cli import one_line_error
from tests.cli.test_store_cli import add_sample, store_env  # noqa: F401 (a fixture)

WORKFLOW = Path(__file__).resolve().parents[1] / "analytics" / "data" / "spec_workflow.yml"

# Finished in January: T-1, T-2 (Bug), T-3 (Story), T-5 (Task), T-6 (a Story that became a Bug: a Bug now),
# T-7 (no type). In progress: T-4 (Story).
EVENTS = """item_id,timestamp,event,to_status,type
T-1,2026-01-05T10:00:00+01:00,status,In Progress,Bug
T-1,2026-01-07T10:00:00+01:00,status,Done,Bug
T-2,2026-01-06T10:00:00+01:00,status,In Progress,Bug
T-2,2026-01-12T10:00:00+01:00,status,Done,
T-3,2026-01-05T10:00:00+01:00,status,In Progress,Story
T-3,2026-01-20T10:00:00+01:00,status,Done,Story
T-4,2026-01-10T10:00:00+01:00,status,In Progress,Story
T-5,2026-01-08T10:00:00+01:00,status,In Progress,Task
T-5,2026-01-09T10:00:00+01:00,status,Done,Task
T-6,2026-01-11T10:00:00+01:00,status,In Progress,Story
T-6,2026-01-15T10:00:00+01:00,status,Done,Bug
T-7,2026-01-12T10:00:00+01:00,status,In Progress,
T-7,2026-01-13T10:00:00+01:00,status,Done,
"""
ASOF = ("--asof", "2026-01-31T12:00:00+01:00")


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


def files(events: Path) -> list[str]:
    return ["--events", str(events), "--workflow", str(WORKFLOW)]


def metrics(capsys: pytest.CaptureFixture[str], events: Path, *types: str) -> dict:
    code = main(["metrics", *files(events), *ASOF, "--format", "json", *types])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.mark.parametrize(
    ("types", "finished", "wip"),
    [
        ((), 6, 1),
        (("--type", "Bug"), 3, 0),  # T-1, T-2 (typed on its first event only), T-6 (a Bug now)
        (("--type", "bug"), 3, 0),  # ignoring case
        (("--type", "Story"), 1, 1),  # T-3; T-6 is no longer a Story
        (("--type", "Bug,Task"), 4, 0),
        (("--type", "Bug", "--type", "Story"), 4, 1),
        (("--type", " Task , Story "), 2, 1),
    ],
)
def test_type_keeps_only_the_items_of_those_types(capsys, events_file, types, finished, wip):
    document = metrics(capsys, events_file, *types)
    assert document["throughput"]["total"] == finished
    assert document["cycle_time"]["count"] == finished
    assert document["wip"]["total"] == wip


def test_type_filters_the_items_listed(capsys, events_file):
    document = metrics(capsys, events_file, "--type", "Story")
    assert [item["item_id"] for item in document["items"]] == ["T-4"]
    assert {item["type"] for item in document["items"]} == {"Story"}


def test_an_unknown_type_is_one_line_naming_the_types_there_are(capsys, events_file):
    error = one_line_error(capsys, "metrics", *files(events_file), *ASOF, "--type", "Bug,Epic")
    assert error == (
        "flowcoach: error: --type: no item has the type 'Epic'; "
        "the types in the data are Bug (3), Story (2), Task (1)\n"
    )


def test_a_log_without_types_says_so(capsys, tmp_path):
    path = tmp_path / "untyped.csv"
    path.write_text(
        "item_id,timestamp,event,to_status\nU-1,2026-01-05T10:00:00+01:00,status,In Progress\n",
        encoding="utf-8",
    )
    error = one_line_error(capsys, "metrics", *files(path), *ASOF, "--type", "Bug")
    assert "the events carry no item types" in error


def test_an_empty_type_is_an_argument_error(capsys, events_file):
    assert "--type" in one_line_error(capsys, "metrics", *files(events_file), "--type", " , ")


@pytest.mark.parametrize(
    "command",
    [
        ("metrics",),
        ("forecast", "--items", "3"),
        ("charts", "--out", "CHARTS"),
        ("backtest",),
        ("digest",),
        ("health",),
        ("replay", "--since", "2026-01-20"),
    ],
    ids=lambda command: command[0],
)
def test_every_command_reading_events_takes_type(capsys, events_file, tmp_path, command):
    """An unknown type stops each of them with the same one-line error, before any work."""
    args = [str(tmp_path / "charts") if word == "CHARTS" else word for word in command]
    error = one_line_error(capsys, *args, *files(events_file), "--type", "Epic")
    assert "--type: no item has the type 'Epic'" in error


def test_forecast_and_charts_read_only_the_items_of_the_type(capsys, events_file, tmp_path):
    """The forecast's history and the charts are the bugs' alone: on the sample, 48 items finished in the
    30 days before 20 Nov, 13 of them bugs, and the forecast samples only those."""
    forecast = ["forecast", "--events", str(SAMPLE_EVENTS_PATH), "--workflow", str(SAMPLE_WORKFLOW_PATH),
                "--asof", "2026-11-20T17:00", "--by", "2026-12-04", "--seed", "1", "--trials", "2000",
                "--format", "json"]  # fmt: skip
    documents = []
    for types in ((), ("--type", "Bug")):
        code = main([*forecast, *types])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        documents.append(json.loads(captured.out))
    every, bugs = documents
    assert every["throughput"]["total"] == 48 and bugs["throughput"]["total"] == 13
    assert bugs["forecast"][2]["at_least"] < every["forecast"][2]["at_least"]
    out = tmp_path / "charts"
    code = main(["charts", *files(events_file), *ASOF, "--out", str(out), "--type", "Bug"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert len(list(out.glob("*.png"))) == 8


def test_digest_of_one_type_from_files(capsys, events_file):
    code = main(["digest", *files(events_file), *ASOF, "--format", "json", "--type", "Story"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["wip"]["total"] == 1


def test_stored_board_digest_and_health_take_type(capsys, store_env):  # noqa: F811 (the fixture)
    """With --board the report reads the stored events and keeps the type's items: the same numbers as
    the files give with the same --type."""
    add_sample(capsys)
    assert main(["sync"]) == 0
    capsys.readouterr()
    asof = ["--asof", "2026-11-20T17:00", "--format", "json", "--type", "Bug"]
    sample = ["--events", str(SAMPLE_EVENTS_PATH), "--workflow", str(SAMPLE_WORKFLOW_PATH)]
    for command, key in (("health", "numbers"), ("digest", "wip")):
        assert main([command, "--board", "Payments", *asof]) == 0
        stored = json.loads(capsys.readouterr().out)
        assert main([command, *sample, *asof]) == 0
        from_files = json.loads(capsys.readouterr().out)
        assert stored[key] == from_files[key]
    assert main(["digest", *sample, "--asof", "2026-11-20T17:00", "--format", "json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert everything["wip"]["total"] > stored["wip"]["total"]
    error = one_line_error(capsys, "digest", "--board", "Payments", "--type", "Epic")
    assert "the types in the data are Story" in error


def test_charts_cfd_options(capsys, events_file, tmp_path):
    out = tmp_path / "charts"
    code = main(["charts", *files(events_file), *ASOF, "--out", str(out), "--cfd-hide", "done",
                 "--cfd-hide", "Backlog", "--cfd-start", "window"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out / "cumulative-flow.png").read_bytes().startswith(b"\x89PNG")
    assert "--cfd-hide" in one_line_error(capsys, "charts", *files(events_file), "--out", str(out),
                                          "--cfd-hide", "review")  # fmt: skip
    assert "--cfd-start" in one_line_error(capsys, "charts", *files(events_file), "--out", str(out),
                                           "--cfd-start", "epoch")  # fmt: skip
