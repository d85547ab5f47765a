"""`flowcoach sync` SIGKILLed again and again mid-sync (PostgreSQL, the fake Jira Cloud): when a sync
finally runs to its end, the board holds exactly the events of a board synced once without a kill, every
item's status is the tracker's, and each killed run is recorded as interrupted."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.main import main
from bot.store.db import make_engine, session_factory
from bot.store.models import Board, Event, SyncRun, WorkItem
from tests.fakes.jira import FakeJira
from tests.processes import stop_group
from tests.scheduler.conftest import wait_for

FLOWCOACH = [sys.executable, "-m", "bot.cli"]
TOKEN = "atlassian-api-token-for-the-kill-loop"
WORKFLOW = """
name: Kills
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [To Do], kind: backlog}
  - {name: Doing, statuses: [In Progress], kind: active}
  - {name: Review, statuses: [In Review], kind: queue}
  - {name: Done, statuses: [Done], kind: done}
"""
ISSUES = 2500
KILLS = 5


@pytest.mark.slow
def test_syncs_killed_mid_run_lose_and_duplicate_nothing(
    database_url: str, tmp_path: Path, monkeypatch, capsys
):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "the kill loop runs on PostgreSQL, the production store (SQLite: tests/bot/test_store.py)"
        )
    with FakeJira("cloud", token=TOKEN) as jira:
        jira.add_issues(
            ISSUES, changes=4, start=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), spacing=dt.timedelta(minutes=7)
        )
        env = {
            key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))
        }
        env |= {
            "DATABASE_URL": database_url,
            "FLOWCOACH_SECRET_KEY": "a long enough passphrase for tests",
            "JIRA_TOKEN": TOKEN,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        workflow = tmp_path / "workflow.yml"
        workflow.write_text(WORKFLOW, encoding="utf-8")
        assert main(["db", "upgrade"]) == 0
        for name in ("Killed", "Reference"):
            settings = ["--set", f"url={jira.url}", "--set", f"email={jira.email}", "--set", "project=PAY"]
            add = ["board", "add", name, "--connector", "jira", "--workflow", str(workflow), *settings]
            assert main([*add, "--set-env", "token=JIRA_TOKEN"]) == 0, capsys.readouterr().err
        capsys.readouterr()

        engine = make_engine(database_url)

        def newest_run() -> int:
            with engine.connect() as connection:
                return int(connection.scalar(select(func.max(SyncRun.id))) or 0)

        def started_after(run: int, sync: subprocess.Popen[bytes]) -> bool:
            """The sync ended, or recorded its own run (a killed one leaves an older run "running")."""
            return sync.poll() is not None or newest_run() > run

        rng = random.Random(19)
        killed = 0
        for _ in range(KILLS):
            before = newest_run()
            sync = subprocess.Popen([*FLOWCOACH, "sync", "Killed"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
            try:
                # Killed while it syncs: once its run is recorded (start-up takes seconds on a busy machine).
                wait_for(partial(started_after, before, sync), 60, "the sync to start")
                time.sleep(rng.uniform(0.0, 1.5))
                if sync.poll() is None:
                    os.killpg(sync.pid, signal.SIGKILL)
                    killed += 1
                sync.wait(10)
            finally:
                stop_group(sync)
        assert killed >= 3, "the syncs ended before they could be killed: make the board bigger"
        for name in ("Killed", "Reference"):
            done = subprocess.run(
                [*FLOWCOACH, "sync", name], env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stdout + done.stderr

    sessions = session_factory(engine)
    try:
        with sessions() as session:
            boards = {board.name: board.id for board in session.scalars(select(Board))}

            def events(board: str) -> set[tuple[str, dt.datetime, str, str]]:
                rows = session.execute(
                    select(Event.item_id, Event.timestamp, Event.event, Event.to_status).where(
                        Event.board_id == boards[board]
                    )
                )
                return {tuple(row) for row in rows}  # type: ignore[misc]

            def statuses(board: str) -> dict[str, str | None]:
                rows = session.execute(
                    select(WorkItem.item_id, WorkItem.status).where(WorkItem.board_id == boards[board])
                )
                return {str(item): status for item, status in rows.all()}

            reference = events("Reference")
            assert len(reference) == ISSUES * 5  # created + 4 moves each
            assert events("Killed") == reference
            assert statuses("Killed") == statuses("Reference")
            assert len(statuses("Killed")) == ISSUES
            runs = session.scalars(
                select(SyncRun.status).where(SyncRun.board_id == boards["Killed"]).order_by(SyncRun.id)
            ).all()
        # A sync killed while it started up had no run yet; every one killed later is marked interrupted.
        assert runs.count("interrupted") >= 1 and "running" not in runs and runs[-1] == "ok", runs
    finally:
        engine.dispose()
