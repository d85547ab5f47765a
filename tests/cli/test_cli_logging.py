"""LOG_LEVEL and LOG_FORMAT apply to every command, not only serve and worker (issue 19 item 5).

The commands run in a child process, as an operator runs them: logging is configured once per process, and
what reaches its standard error is the point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A SQLite file with the sample board registered, not yet synced."""
    url = f"sqlite:///{tmp_path / 'flowcoach.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    for variable in ("LOG_LEVEL", "LOG_FORMAT"):
        monkeypatch.delenv(variable, raising=False)
    added = main(
        [
            *("board", "add", "Payments", "--connector", "file", "--workflow", str(SAMPLE_WORKFLOW_PATH)),
            *("--set", f"path={SAMPLE_EVENTS_PATH}"),
        ]
    )
    assert added == 0, capsys.readouterr().err
    capsys.readouterr()
    return url


def flowcoach(cwd: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot.cli`` on this checkout, in ``cwd``, in the test's environment plus ``variables``."""
    env = {name: value for name, value in os.environ.items() if name not in ("LOG_LEVEL", "LOG_FORMAT")}
    env |= {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **variables}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def test_log_level_debug_makes_sync_log_its_batches_on_stderr(database, tmp_path):
    done = flowcoach(tmp_path, "sync", LOG_LEVEL="DEBUG")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Payments: 2,131 new events")  # the output is unchanged
    lines = done.stderr.splitlines()
    assert any(" DEBUG flowcoach.sync " in line and "batch 1 stored" in line for line in lines)
    assert any(" INFO flowcoach.sync " in line and "synced board Payments" in line for line in lines)


def test_log_format_json_makes_every_log_line_a_json_object(database, tmp_path):
    done = flowcoach(tmp_path, "sync", LOG_LEVEL="debug", LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert {"DEBUG", "INFO"} <= {record["level"] for record in records}
    batch = next(record for record in records if "batch 1 stored" in record["message"])
    assert batch["logger"] == "flowcoach.sync" and "time" in batch


def test_without_log_level_a_command_prints_only_its_output(database, tmp_path):
    """Commands log warnings and errors only unless asked: a sync that goes well writes nothing on stderr."""
    done = flowcoach(tmp_path, "sync")
    assert done.returncode == 0 and done.stdout.startswith("Payments: 2,131 new events")
    assert done.stderr == ""


def test_an_unknown_level_or_format_is_one_line(database, monkeypatch, capsys):
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    assert main(["boards"]) == 1
    assert capsys.readouterr().err == (
        "flowcoach: error: LOG_LEVEL: unknown level 'LOUD' (use DEBUG, INFO, WARNING…)\n"
    )
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setenv("LOG_FORMAT", "xml")
    assert main(["boards"]) == 1
    assert capsys.readouterr().err == (
        "flowcoach: error: LOG_FORMAT: unknown format 'xml' (use text or json)\n"
    )
