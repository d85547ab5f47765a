"""`flowcoach db / board / boards / sync` and `--board` sources, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest

from bot.cli.main import main
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH


@pytest.fixture
def store_env(monkeypatch, database_url):
    """Point the command at a fresh database, as an operator would with DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("FLOWCOACH_SECRET_KEY", raising=False)
    assert main(["db", "upgrade"]) == 0  # the release step; SQLite would also migrate on first use
    return database_url


def run(capsys, *args):
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def add_sample(capsys):
    return run(
        capsys,
        "board",
        "add",
        "Payments",
        "--connector",
        "file",
        "--workflow",
        SAMPLE_WORKFLOW_PATH,
        "--set",
        f"path={SAMPLE_EVENTS_PATH}",
        "--channel",
        "C123",
    )


def test_add_sync_and_measure_a_board(capsys, store_env):
    """A new user adds a file board, syncs it, lists it, and gets the same metrics as from the file."""
    code, out, err = add_sample(capsys)
    assert code == 0, err
    assert "added board 'Payments'" in out
    code, out, _ = run(capsys, "sync")
    assert code == 0 and out.startswith("Payments: 2131 new events")
    code, out, _ = run(capsys, "boards")
    assert "Payments" in out and "330 items" in out and "synced just now" in out
    asof = ["--asof", SAMPLE_ASOF.isoformat(), "--format", "json"]
    from_store = json.loads(run(capsys, "metrics", "--board", "Payments", *asof)[1])
    from_file = json.loads(
        run(capsys, "metrics", "--events", SAMPLE_EVENTS_PATH, "--workflow", SAMPLE_WORKFLOW_PATH, *asof)[1]
    )
    assert from_store == from_file
    code, out, _ = run(capsys, "sync", "Payments")
    assert code == 0 and out.startswith("Payments: 0 new events")


def test_board_show_and_remove(capsys, store_env):
    """`board show` describes the board without secrets; `board remove` deletes it and its data."""
    add_sample(capsys)
    code, out, _ = run(capsys, "board", "show", "Payments")
    assert code == 0
    assert "Backlog → Ready → Development → Review → Test → Done → Dropped" in out and "C123" in out
    assert run(capsys, "board", "remove", "Payments")[0] == 0
    code, _, err = run(capsys, "board", "show", "Payments")
    assert code == 1 and "no board named 'Payments'" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "colour=blue"], "unknown setting(s) colour"),
        (["--set-env", "path=FLOWCOACH_NOT_SET_ANYWHERE"], "FLOWCOACH_NOT_SET_ANYWHERE is not set"),
        (["--set", "nonsense"], "expected KEY=VALUE"),
    ],
)
def test_bad_board_settings_are_named(capsys, store_env, extra, message):
    """Unknown keys, unset environment variables and malformed pairs get one clear line."""
    code, _, err = run(
        capsys,
        "board",
        "add",
        "X",
        "--connector",
        "file",
        "--workflow",
        SAMPLE_WORKFLOW_PATH,
        "--set",
        f"path={SAMPLE_EVENTS_PATH}",
        *extra,
    )
    assert code == 1 and message in err and "Traceback" not in err


def test_duplicate_board_names_are_refused(capsys, store_env):
    """A second board with the same name is an error, not a silent overwrite."""
    add_sample(capsys)
    code, _, err = add_sample(capsys)
    assert code == 1 and "already exists" in err


def test_a_failing_board_does_not_stop_the_others(capsys, store_env, tmp_path):
    """`sync` reports a broken board, syncs the rest, and exits non-zero."""
    add_sample(capsys)
    missing = tmp_path / "gone.csv"
    run(
        capsys,
        "board",
        "add",
        "Broken",
        "--connector",
        "file",
        "--workflow",
        SAMPLE_WORKFLOW_PATH,
        "--set",
        f"path={missing}",
    )
    code, out, _ = run(capsys, "sync")
    assert code == 1
    assert f"Broken: sync failed: {missing}: no such file" in out
    assert "Payments: 2131 new events" in out
    code, out, _ = run(capsys, "board", "list")
    assert "last sync failed" in out


def test_server_database_must_be_migrated_first(capsys, monkeypatch, postgres_url, tmp_path):
    """On PostgreSQL the schema is never changed behind the operator's back: `db upgrade` comes first."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "flowcoach_unmigrated"'))
        connection.execute(text('CREATE DATABASE "flowcoach_unmigrated"'))
    monkeypatch.setenv("DATABASE_URL", postgres_url.rsplit("/", 1)[0] + "/flowcoach_unmigrated")
    code, _, err = run(capsys, "boards")
    assert code == 1 and "run `flowcoach db upgrade`" in err
    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "boards")[0] == 0
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE "flowcoach_unmigrated" WITH (FORCE)'))


def test_source_flags_are_checked(capsys, store_env):
    """Either --board, or --events with --workflow; mixing or omitting them is a usage error."""
    code, _, err = run(capsys, "metrics", "--events", SAMPLE_EVENTS_PATH)
    assert code == 1 and "give --board NAME, or both" in err
    code, _, err = run(capsys, "metrics", "--board", "X", "--events", SAMPLE_EVENTS_PATH)
    assert code == 1 and "not both" in err


def test_the_sync_progress_bar_says_when_a_rate_limit_holds_the_sync():
    """A wait of up to an hour would look like a hung sync: the bar names it and when it ends, and the next
    update erases the note."""
    import io

    from bot.cli.store import _progress_bar

    stream = io.StringIO()
    show = _progress_bar("Team", stream)
    show(50, 200, waiting=1500)
    show(100, 200)
    first, second = stream.getvalue().split("\r")[1:]
    assert re.search(r"50 / 200  \(rate-limited: waiting 25 min, until \d\d:\d\d\)\x1b\[K$", first)
    assert second.endswith("100 / 200\x1b[K") and "rate-limited" not in second
