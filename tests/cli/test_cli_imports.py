"""What the command line imports (issue 18, item 7): building the parser, and so ``flowcoach --help``, loads
none of the heavy libraries, and ``metrics`` on files loads pandas but no database, Slack or charts.

Each check runs in a fresh interpreter, because this test process has long imported everything. Timings are
not asserted here (a shared CI machine is too noisy): ``benchmarks/cli_startup.py`` measures them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "alembic", "pandas", "numpy", "matplotlib", "slack_sdk", "slack_bolt", "psycopg")
# pydantic and httpx too: they come with the settings, the store's board settings and the connectors.
NOT_FOR_FILE_METRICS = (
    *("sqlalchemy", "alembic", "psycopg", "matplotlib", "slack_sdk", "slack_bolt"),
    *("pydantic", "httpx"),
)
TIMEOUT_S = 120

# Runs the command in-process (as `python -m bot.cli` would), then prints the top-level packages loaded.
LOADED_AFTER = """
import json, sys
from bot.cli.main import main
status = main(sys.argv[1:])
sys.stdout.flush()
sys.stderr.write("LOADED " + json.dumps(sorted({name.split('.')[0] for name in sys.modules})) + "\\n")
sys.exit(status)
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    """A child interpreter on this checkout (not an installed copy); ``run`` waits for it, even on timeout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )


def _loaded(stderr: str) -> set[str]:
    line = next(line for line in stderr.splitlines() if line.startswith("LOADED "))
    return set(json.loads(line.removeprefix("LOADED ")))


def test_building_the_parser_imports_nothing_heavy() -> None:
    probe = (
        "import sys; from bot.cli.main import build_parser; build_parser(); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r}))"
    )
    done = _python("-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_help_of_the_command_and_of_metrics_import_nothing_heavy() -> None:
    for args in (["--help"], ["metrics", "--help"], ["board", "add", "--help"]):
        done = _python("-c", LOADED_AFTER, *args)
        assert done.returncode == 0, done.stderr
        assert "usage: flowcoach" in done.stdout
        assert _loaded(done.stderr).isdisjoint(HEAVY), args


def test_metrics_on_files_loads_no_database_slack_or_charts() -> None:
    asof = SAMPLE_ASOF.isoformat()
    events, workflow = str(SAMPLE_EVENTS_PATH), str(SAMPLE_WORKFLOW_PATH)
    done = _python(
        "-c", LOADED_AFTER, "metrics", "--events", events, "--workflow", workflow, "--asof", asof, "--format",
        "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["throughput"]["total"] > 0  # it did compute the metrics, with pandas
    loaded = _loaded(done.stderr)
    assert "pandas" in loaded
    assert loaded.isdisjoint(NOT_FOR_FILE_METRICS)


def test_a_user_error_is_still_one_line_when_pandas_was_never_loaded(tmp_path: Path) -> None:
    """`is_user_error` imports the analytics errors only once something failed; a bad workflow says so."""
    workflow = tmp_path / "workflow.yml"
    workflow.write_text("stages: [\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("item_id,timestamp,event,to_status\n", encoding="utf-8")
    done = _python("-m", "bot.cli", "metrics", "--events", str(events), "--workflow", str(workflow))
    assert done.returncode == 1
    assert done.stderr.startswith("flowcoach: error: ")
    assert "Traceback" not in done.stderr


def test_the_light_copies_agree_with_what_they_stand_for() -> None:
    """The names and defaults the parser reads without importing their owners are those owners' own."""
    from bot.connectors.names import CONNECTOR_NAMES
    from bot.connectors.registry import CONNECTORS
    from bot.store.board_settings import Thresholds
    from bot.store.threshold_defaults import DEFAULT_STALE_AFTER_HOURS

    assert sorted(CONNECTOR_NAMES) == sorted(CONNECTORS)
    assert Thresholds().stale_after_hours == DEFAULT_STALE_AFTER_HOURS
