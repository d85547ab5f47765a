"""`flowcoach jobs`: the queue (PostgreSQL), the week's digests and reviews, the scheduler; retry, cancel."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from bot.scheduler.jobs import DIGEST, SYNC, DueJob
from bot.scheduler.lease import SCHEDULER_LEASE, acquire_or_renew
from bot.scheduler.queue import QueueDispatcher, uses_queue
from bot.store.db import make_engine, session_factory
from bot.store.nudge_outbox import add_message, drop
from bot.store.slots import DELIVERED, MISSED, SlotKey, finish, record_due, take
from tests.cli.test_store_cli import add_sample, run


@pytest.fixture
def store_env(monkeypatch, database_url):
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("FLOWCOACH_SECRET_KEY", raising=False)
    assert main(["db", "upgrade"]) == 0
    return database_url


@pytest.fixture
def sessions(store_env):
    engine = make_engine(store_env)
    yield session_factory(engine)
    engine.dispose()


def test_the_week_of_digests_and_the_scheduler_on_every_database(capsys, store_env, sessions):
    """Two digests delivered (one late), one missed with its reason, one under way; who schedules."""
    assert add_sample(capsys)[0] == 0
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    keys = [SlotKey(DIGEST, 1, (now - dt.timedelta(days=days)).isoformat()) for days in (3, 2, 1, 0)]
    record_due(sessions, keys)
    for key, note in ((keys[0], None), (keys[1], "12 min late")):
        assert take(sessions, key, "w", hold_for=dt.timedelta(minutes=1))
        assert finish(
            sessions, key, "w", DELIVERED, note=note, late_by=dt.timedelta(minutes=12) if note else None
        )
    assert take(sessions, keys[2], "w", hold_for=dt.timedelta(minutes=1))
    assert finish(sessions, keys[2], "w", MISSED, note="its day was over when a worker reached it")
    assert acquire_or_renew(sessions, SCHEDULER_LEASE, "host:42:abc")
    with sessions.begin() as session:  # a nudge Slack has not taken yet, and one it has
        add_message(session, 1, "C1", [], fold=False, first=False, now=now - dt.timedelta(minutes=6))
        add_message(session, 1, "C1", [], fold=False, first=False, now=now)
    assert drop(sessions, 2, "sent, as far as this test goes")

    code, out, err = run(capsys, "jobs")
    assert code == 0, err
    assert "2 delivered (1 late), 1 missed, 1 under way" in out
    assert "missed: digest of 'Payments' due " in out and "its day was over" in out
    assert "under way: digest of 'Payments'" in out
    assert "Scheduler: host:42:abc, renewed just now" in out
    assert "Nudges waiting for Slack: 1, the oldest decided 6 min ago" in out
    if not uses_queue(store_env):
        assert "there is no queue" in out
    document = json.loads(run(capsys, "jobs", "--format", "json")[1])
    assert document["slots"] == {"delivered": 2, "missed": 1, "due": 1} and document["late"] == 1
    assert document["nudges_waiting"] == 1


def test_without_a_scheduler_it_says_to_start_a_worker(capsys, store_env):
    code, out, _ = run(capsys, "jobs")
    assert code == 0 and "no worker holds the lease; start `flowcoach worker`" in out


def test_retry_and_cancel_need_the_queue_and_say_so_in_one_line(capsys, store_env):
    if uses_queue(store_env):
        pytest.skip("PostgreSQL has the queue")
    capsys.readouterr()
    code, out, err = run(capsys, "jobs", "retry", "7")
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "no job queue on SQLite" in err


def test_the_queue_waiting_failed_retried_and_cancelled(capsys, store_env, sessions):
    if not uses_queue(store_env):
        pytest.skip("the queue is PostgreSQL's")
    assert add_sample(capsys)[0] == 0
    dispatcher = QueueDispatcher(store_env)
    try:
        dispatcher.dispatch([DueJob(SYNC, 1), DueJob(DIGEST, 1, "2026-12-03T09:30:00+01:00")])
        dispatcher.dispatch([DueJob(SYNC, 1)])  # still waiting: not queued twice
    finally:
        dispatcher.close(1)
    code, out, err = run(capsys, "jobs")
    assert code == 0, err
    assert "Queue: 2 jobs waiting, the oldest for " in out and "(digest 1, sync 1)" in out
    assert "Workers: 0 alive" in out and "Failed in the last 24 h: 0" in out

    with sessions.begin() as session:  # a worker ran the digest and it failed for good
        digest = session.execute(
            text("SELECT id FROM procrastinate_jobs WHERE task_name = 'flowcoach.digest'")
        ).scalar_one()
        session.execute(text("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = :id"), {"id": digest})
        session.execute(
            text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :id"), {"id": digest}
        )
    out = run(capsys, "jobs")[1]
    assert "Failed in the last 24 h: 1" in out
    assert f"#{digest} digest of 'Payments' due 2026-12-03 09:30, 1 attempt" in out
    assert f"run one again: flowcoach jobs retry {digest}" in out

    code, out, err = run(capsys, "jobs", "retry", digest)
    assert (code, out) == (0, f"flowcoach: job {digest} queued to run again now\n"), err
    assert "Queue: 2 jobs waiting" in run(capsys, "jobs")[1]
    code, out, err = run(capsys, "jobs", "cancel", digest)
    assert (code, out) == (0, f"flowcoach: job {digest} cancelled\n"), err
    assert "Queue: 1 job waiting" in run(capsys, "jobs")[1]

    code, out, err = run(capsys, "jobs", "retry", 999999)
    assert code == 1 and out == "" and "job 999999 cannot be retried" in err
    code, _, err = run(capsys, "jobs", "cancel", digest)
    assert code == 1 and f"job {digest} cannot be cancelled" in err
