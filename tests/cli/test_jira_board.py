"""A Jira board end to end: `board add` against the fake Jira, `sync`, `metrics --board`, on both stores."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.cli.main import main
from tests.fakes.jira import FakeJira

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WORKFLOW = """
name: Team Jira
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [To Do], kind: backlog}
  - {name: Doing, statuses: ["3"], kind: active, wip_limit: 3}
  - {name: Review, statuses: [In Review], kind: queue}
  - {name: Done, statuses: ["10002"], kind: done}
"""
TOKEN = "atlassian-api-token-that-must-never-be-stored-in-clear"


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


@pytest.fixture
def jira():
    with FakeJira("cloud", token=TOKEN) as fake:
        for number in range(12):
            start = number * 2
            fake.add_issue(
                at(start),
                [(at(start + 1), "In Progress"), (at(start + 2.5), "In Review"), (at(start + 3), "Done")]
                if number < 9
                else [(at(start + 1), "In Progress")],
                flags=[(at(start + 1.5), True), (at(start + 2), False)] if number == 3 else (),
                summary=f"Issue {number}",
            )
        yield fake


@pytest.fixture
def board(monkeypatch, database_url, tmp_path, jira, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", "a long enough passphrase for tests")
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    workflow = tmp_path / "workflow.yml"
    workflow.write_text(WORKFLOW, encoding="utf-8")
    assert main(["db", "upgrade"]) == 0
    code = main(
        [
            "board",
            "add",
            "Team",
            "--connector",
            "jira",
            "--workflow",
            str(workflow),
            "--set",
            f"url={jira.url}",
            "--set",
            f"email={jira.email}",
            "--set",
            "project=PAY",
            "--set-env",
            "token=JIRA_TOKEN",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "1 secret stored encrypted" in captured.out
    return database_url


def run(capsys, *args):
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_jira_board_syncs_and_measures(capsys, board, jira):
    """Sync a Jira board, then measure it: finished items, WIP and the flagged block are all there."""
    code, out, err = run(capsys, "sync", "Team")
    assert code == 0, err
    assert out.startswith("Team: ")
    code, out, err = run(
        capsys, "metrics", "--board", "Team", "--asof", "2026-02-01T00:00Z", "--format", "json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["throughput"]["total"] == 9
    assert document["wip"]["by_stage"] == {"Doing": 3, "Review": 0}
    assert document["cycle_time"]["p50"] == pytest.approx(2.0)  # In Progress at +1 d, Done at +3 d
    assert document["data_quality"]["unmapped_statuses"] == {}


def test_unchanged_jira_sync_costs_one_search(capsys, board, jira):
    """A second sync with nothing changed makes one search request and no changelog request."""
    assert run(capsys, "sync")[0] == 0
    jira.clear_requests()
    code, out, _ = run(capsys, "sync")
    assert code == 0 and out.startswith("Team: 0 new events")
    assert jira.count("/rest/api/3/search/jql") == 1
    assert jira.count("changelog") == 0
    assert jira.count("/rest/api/3/search", method="GET") == 0  # the removed endpoint (410) is never used


def test_secrets_are_encrypted_at_rest_and_never_printed(capsys, board, jira):
    """The API token is stored only encrypted, and `board show` does not reveal it."""
    engine = create_engine(board, poolclass=NullPool)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT connector_settings, connector_secrets FROM boards")).one()
    engine.dispose()
    assert TOKEN not in str(row[0]) and TOKEN not in str(row[1])
    code, out, _ = run(capsys, "board", "show", "Team")
    assert code == 0 and "token: (stored encrypted)" in out and TOKEN not in out


def test_wrong_credentials_are_a_friendly_failure(capsys, board, jira, monkeypatch):
    """A refused token makes `sync` say so in one line, record the failed run, and exit non-zero."""
    jira.token = "rotated"
    code, out, _ = run(capsys, "sync")
    assert code == 1
    assert "Team: sync failed:" in out and "401" in out and "Traceback" not in out
    assert "last sync failed" in run(capsys, "boards")[1]


def test_board_add_without_a_workflow_proposes_one(capsys, monkeypatch, database_url, jira):
    """Without --workflow, a Jira board gets a workflow from status categories, printed for review."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", "a long enough passphrase for tests")
    assert main(["db", "upgrade"]) == 0
    code, out, err = run(
        capsys,
        "board",
        "add",
        "Proposed",
        "--connector",
        "jira",
        "--set",
        f"url={jira.url}",
        "--set",
        f"email={jira.email}",
        "--set",
        f"token={TOKEN}",
        "--set",
        "project=PAY",
    )
    assert code == 0, err
    assert "Proposed workflow" in out
    assert "- '10000'  # To Do" in out and "kind: backlog" in out and "kind: done" in out
    assert TOKEN not in out
    assert run(capsys, "sync", "Proposed")[0] == 0
    code, out, _ = run(
        capsys, "metrics", "--board", "Proposed", "--asof", "2026-02-01T00:00Z", "--format", "json"
    )
    document = json.loads(out)
    assert document["throughput"]["total"] == 9
    assert document["wip"]["total"] == 3


def test_a_generated_fernet_key_is_used_as_is_and_a_wrong_key_is_one_line(
    capsys, monkeypatch, database_url, jira, tmp_path
):
    """FLOWCOACH_SECRET_KEY may be `Fernet.generate_key()`'s output: the stored credentials open with it
    directly. Another key, or one too short, makes `sync` say so in one line, never with a traceback."""
    generated = Fernet.generate_key().decode()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", generated)
    workflow = tmp_path / "workflow.yml"
    workflow.write_text(WORKFLOW, encoding="utf-8")
    assert main(["db", "upgrade"]) == 0
    added = run(
        capsys,
        *("board", "add", "Team", "--connector", "jira", "--workflow", workflow, "--set", f"url={jira.url}"),
        *("--set", f"email={jira.email}", "--set", f"token={TOKEN}", "--set", "project=PAY"),
    )
    assert added[0] == 0, added[2]
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        sealed = connection.scalar(text("SELECT connector_secrets FROM boards"))
    engine.dispose()
    assert json.loads(Fernet(generated.encode()).decrypt(sealed.encode())) == {"token": TOKEN}
    assert run(capsys, "sync")[0] == 0

    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", Fernet.generate_key().decode())
    code, out, err = run(capsys, "sync")
    assert code == 1 and "Traceback" not in out + err
    assert [line for line in out.splitlines() if "Team" in line] == [
        "Team: sync failed: FLOWCOACH_SECRET_KEY does not decrypt this board's credentials: it is not the "
        "key they were stored with (give that one in FLOWCOACH_OLD_SECRET_KEYS while rotating)"
    ]
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", "too short")
    assert run(capsys, "sync") == (
        1,
        "",
        "flowcoach: error: FLOWCOACH_SECRET_KEY: use at least 16 characters, or a Fernet key\n",
    )
