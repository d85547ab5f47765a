"""`flowcoach db / board / boards / sync` and `--board` sources, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil

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
    assert code == 0 and out.startswith("Payments: 2,131 new events")
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
    """`board show` describes the board without secrets; `board remove --yes` deletes it and its data."""
    add_sample(capsys)
    code, out, _ = run(capsys, "board", "show", "Payments")
    assert code == 0
    assert "Backlog → Ready → Development → Review → Test → Done → Dropped" in out and "C123" in out
    assert "stored: 0 items, 0 events, 0 sync runs" in out
    assert "never synced: run flowcoach sync Payments" in out
    code, out, _ = run(capsys, "board", "remove", "Payments", "--yes")
    assert (
        code == 0
        and out == "removed board 'Payments' and everything stored for it (0 items, 0 events, 0 sync runs)\n"
    )
    code, _, err = run(capsys, "board", "show", "Payments")
    assert code == 1 and "no board named 'Payments'" in err


class Terminal(io.StringIO):
    """Standard input as a terminal where the user types ``answer``."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("answer", "removed"), [("y\n", True), ("yes\n", True), ("n\n", False), ("\n", False), ("", False)]
)
def test_board_remove_asks_on_a_terminal(capsys, store_env, monkeypatch, answer, removed):
    """It used to delete everything without asking; on a terminal it now asks, and only "y" removes."""
    add_sample(capsys)
    run(capsys, "sync", "Payments")
    monkeypatch.setattr("sys.stdin", Terminal(answer))
    code, out, err = run(capsys, "board", "remove", "Payments")
    assert (
        "Remove board 'Payments' and everything stored for it (330 items, 2,131 events, 1 sync run)? [y/N]"
        in out
    )
    assert (code == 0) == removed
    assert (err == "flowcoach: error: board 'Payments' not removed\n") != removed
    assert (run(capsys, "board", "show", "Payments")[0] == 0) != removed


def test_board_remove_without_a_terminal_needs_yes(capsys, store_env):
    """A script cannot be asked: it must say --yes, and without it nothing is removed."""
    add_sample(capsys)
    code, out, err = run(capsys, "board", "remove", "Payments")
    assert code == 1 and out == ""
    expected = "board remove Payments deletes 0 items, 0 events, 0 sync runs; add --yes to confirm"
    assert err == f"flowcoach: error: {expected}\n"
    assert run(capsys, "board", "show", "Payments")[0] == 0


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


def add_file_board(capsys, name, path):
    return run(
        capsys,
        "board",
        "add",
        name,
        "--connector",
        "file",
        "--workflow",
        SAMPLE_WORKFLOW_PATH,
        "--set",
        f"path={path}",
    )


def test_a_failing_board_does_not_stop_the_others(capsys, store_env, tmp_path, caplog):
    """`sync` reports a broken board once, syncs the rest, and exits non-zero."""
    add_sample(capsys)
    missing = tmp_path / "gone.csv"
    shutil.copy(SAMPLE_EVENTS_PATH, missing)
    assert add_file_board(capsys, "Broken", missing)[0] == 0
    missing.unlink()
    with caplog.at_level(logging.INFO):
        code, out, err = run(capsys, "sync")
    assert code == 1
    assert f"Broken: sync failed: {missing}: no such file" in out and out.count("no such file") == 1
    assert "Payments: 2,131 new events" in out
    # The service used to log a warning too, which a terminal shows as a second copy of the same failure.
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert "no such file" not in err
    code, out, _ = run(capsys, "board", "list")
    assert f"last sync failed just now: {missing}: no such file; never synced successfully" in out


def test_a_file_board_keeps_its_absolute_path_and_syncs_from_any_folder(
    capsys, store_env, tmp_path, monkeypatch
):
    """A relative --set path used to be stored as typed, so `sync` run from another folder failed."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(SAMPLE_EVENTS_PATH, data / "events.csv")
    monkeypatch.chdir(data)
    assert add_file_board(capsys, "Payments", "events.csv")[0] == 0
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "sync", "Payments")
    assert code == 0 and out.startswith("Payments: 2,131 new events"), err
    assert f"path: {data / 'events.csv'}" in run(capsys, "board", "show", "Payments")[1]


def test_a_file_board_whose_file_is_missing_is_not_added(capsys, store_env, tmp_path):
    """It used to be accepted, to fail at every sync; the file is checked when the board is added."""
    capsys.readouterr()  # what `db upgrade` printed
    code, out, err = add_file_board(capsys, "Payments", tmp_path / "typo.csv")
    assert code == 1 and out == ""
    assert err == f"flowcoach: error: board 'Payments' not added: {tmp_path / 'typo.csv'}: no such file\n"
    assert "no boards yet" in run(capsys, "boards")[1]


def test_board_show_says_a_failure_after_a_success_coherently(capsys, store_env, tmp_path):
    """`board show` used to say "synced just now" beside "last sync: failed"; now the failure leads and
    the last successful sync is named as such."""
    events = tmp_path / "events.csv"
    shutil.copy(SAMPLE_EVENTS_PATH, events)
    add_file_board(capsys, "Payments", events)
    run(capsys, "sync")
    assert "  synced just now (2,131 new events)\n" in run(capsys, "board", "show", "Payments")[1]
    events.unlink()
    run(capsys, "sync")
    out = run(capsys, "board", "show", "Payments")[1]
    assert f"  last sync failed just now: {events}: no such file; last successful sync just now\n" in out
    assert "  stored: 330 items, 2,131 events, 2 sync runs\n" in out
    assert "synced just now" not in out


def test_a_never_synced_board_is_measured_with_a_hint(capsys, store_env):
    """Its metrics used to be an all-zero report with no word of why."""
    add_sample(capsys)
    code, out, err = run(capsys, "metrics", "--board", "Payments", "--format", "json")
    assert code == 0 and json.loads(out)["wip"]["total"] == 0
    assert err == "flowcoach: warning: board 'Payments' never synced: run flowcoach sync Payments\n"
    run(capsys, "sync")
    assert run(capsys, "metrics", "--board", "Payments")[2] == ""


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

    from bot.cli.sync import _progress_bar

    stream = io.StringIO()
    show = _progress_bar("Team", stream)
    show(50, 200, waiting=1500)
    show(100, 200)
    first, second = stream.getvalue().split("\r")[1:]
    assert re.search(r"50 / 200  \(rate-limited: waiting 25 min, until \d\d:\d\d\)\x1b\[K$", first)
    assert second.endswith("100 / 200\x1b[K") and "rate-limited" not in second


def test_a_board_with_a_bad_file_fails_alone_by_line_and_stores_nothing(capsys, store_env, tmp_path):
    """A NUL byte used to pass the reader and fail in PostgreSQL (exit 70, a SQL dump, every board after it
    left unsynced) and to be stored as it was on SQLite; now the file and line are named, the broken board
    stores nothing, the other board syncs, and the command exits 1 as for any failed board."""
    broken = tmp_path / "broken.csv"
    broken.write_bytes(
        b"item_id,timestamp,to_status\n"
        b"B-1,2026-05-01T10:00:00Z,In Progress\n"
        b"B-2,2026-05-02T10:00:00Z,Do\x00ne\n"
    )
    assert add_file_board(capsys, "Broken", broken)[0] == 0
    add_sample(capsys)
    code, out, err = run(capsys, "sync")
    assert code == 1, err
    assert out.splitlines()[0] == (
        f"Broken: sync failed: {broken}:3: "
        "to_status contains a NUL character (a zero byte), which cannot be stored"
    )
    assert "Payments: 2,131 new events" in out
    assert err == "" and "INSERT" not in out
    show = run(capsys, "board", "show", "Broken")[1]
    assert "stored: 0 items, 0 events, 1 sync run" in show
    assert f"last sync failed just now: {broken}:3: to_status contains a NUL character" in show
    assert "stored: 330 items, 2,131 events, 1 sync run" in run(capsys, "board", "show", "Payments")[1]


def test_a_sync_whose_process_was_killed_is_marked_interrupted_by_the_next(capsys, store_env):
    """A killed sync left its run "running" forever (16 such rows were seen); the next sync of the board marks
    it interrupted and `board show` says so, and that the next sync went on from the cursor stored."""
    from sqlalchemy import select

    from bot.store.db import make_engine, session_factory
    from bot.store.models import Board, SyncRun

    add_sample(capsys)
    engine = make_engine(store_env)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:  # what sync_board commits first, before the process was killed
            board = session.scalars(select(Board).where(Board.name == "Payments")).one()
            session.add(SyncRun(board_id=board.id, cursor_before=board.sync_cursor))
        out = run(capsys, "board", "show", "Payments")[1]
        assert "a sync started just now has not finished (still running, or its process stopped" in out
        code, out, err = run(capsys, "sync", "Payments")
        assert code == 0 and out.startswith("Payments: 2,131 new events"), err
        with sessions() as session:
            runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
            assert [run.status for run in runs] == ["interrupted", "ok"]
            assert runs[0].error == "the process stopped before the sync finished"
            assert runs[1].cursor_before == runs[0].cursor_before
    finally:
        engine.dispose()
    out = run(capsys, "board", "show", "Payments")[1]
    assert "  synced just now (2,131 new events)\n" in out
    assert (
        "  the sync before, started just now, was interrupted: the process stopped before the sync finished "
        "(nothing stored); the last one picked up from the last cursor it stored\n"
    ) in out
    assert "has not finished" not in out


@pytest.mark.parametrize(
    ("name", "extra", "message"),
    [
        ("P" * 201, [], "a board name must be at most 200 characters"),
        ("Payments", ["--channel", "C" * 65], "a channel id must be at most 64 characters"),
    ],
)
def test_a_board_name_or_channel_too_long_for_the_store_is_refused_in_words(
    capsys, store_env, name, extra, message
):
    """PostgreSQL used to refuse them with a SQL dump and exit 70; SQLite stored them."""
    code, _, err = run(
        capsys, "board", "add", name, "--connector", "file", "--workflow", SAMPLE_WORKFLOW_PATH,
        "--set", f"path={SAMPLE_EVENTS_PATH}", *extra,
    )
    assert code == 1 and err == f"flowcoach: error: {message}, without NUL characters\n"


def test_a_board_whose_stored_workflow_no_longer_parses_fails_alone(capsys, store_env, tmp_path):
    """Its error used to leave `sync` at once, so the boards after it were never synced."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    events = tmp_path / "events.csv"
    shutil.copy(SAMPLE_EVENTS_PATH, events)
    assert add_file_board(capsys, "Edited", events)[0] == 0
    add_sample(capsys)
    engine = create_engine(store_env, poolclass=NullPool)
    with engine.begin() as connection:  # as someone editing the database by hand might leave it
        connection.execute(text("UPDATE boards SET workflow_yaml = 'stages: []' WHERE name = 'Edited'"))
    engine.dispose()
    code, out, err = run(capsys, "sync")
    assert code == 1 and err == ""
    assert out.startswith("Edited: sync failed: workflow of board 'Edited'")
    assert "Payments: 2,131 new events" in out
