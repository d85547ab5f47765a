"""Two worker processes on PostgreSQL share the jobs of 200 boards through the queue, and are killed
(SIGKILL: no lease released, jobs left running, posts cut off) again and again: every digest slot is
posted once, none lost; the scheduler fails over without handing a slot over twice; a board's sync and
check never overlap. The processes run the real scheduling loop, dispatcher, queue worker and digest job
(tests/scheduler/kill_worker.py), with a light digest of one message.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.scheduler.lease import SCHEDULER_LEASE, current_holder
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.models import JobSlot
from bot.store.slots import DELIVERED
from tests.fakes.slack_api import SlackEmulator
from tests.processes import stop_group
from tests.scheduler.conftest import add_test_board, wait_for
from tests.scheduler.kill_worker import ANCHOR, DIGEST_EVERY_S, SYNCED_BOARDS

BOARDS = 200
KILLING_S = 40
TEAM = "T0000TEAM1"


def channel(board_id: int) -> str:
    return f"C{board_id:08d}"


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        for board_id in range(1, BOARDS + 1):
            emulator.add_channel(TEAM, channel(board_id), f"flow-{board_id}")
        yield emulator


@pytest.mark.slow
def test_workers_killed_again_and_again_post_every_digest_once(database_url: str, slack, tmp_path: Path):
    if not database_url.startswith("postgresql"):
        pytest.skip("the job queue runs on PostgreSQL; SQLite runs jobs in one process")
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    for board_id in range(1, BOARDS + 1):
        assert add_test_board(sessions, f"Board {board_id}", channel=channel(board_id)) == board_id
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))}
    env |= {"DATABASE_URL": database_url, "SLACK_API_URL": slack.api_url, "LOG_LEVEL": "WARNING"}
    spans = tmp_path / "spans.txt"
    logs: dict[str, Path] = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
    running: dict[str, subprocess.Popen[bytes]] = {}
    starts: Counter[str] = Counter()

    def start(name: str) -> None:
        starts[name] += 1
        with logs[name].open("a") as log:
            running[name] = subprocess.Popen(
                [sys.executable, "-m", "tests.scheduler.kill_worker", name, str(spans)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def up(name: str) -> bool:
        """Whether the last start of ``name`` got as far as running its scheduling loop and queue worker."""
        return logs[name].read_text().count(f"{name} running") >= starts[name]

    def output() -> str:
        return "\n".join(f"--- {name}\n{path.read_text()[-3000:]}" for name, path in logs.items())

    kills = leader_kills = 0
    try:
        for name in logs:
            start(name)
        # Both start at once: as for a restart below, imports take many seconds on a busy machine.
        wait_for(
            lambda: current_holder(sessions, SCHEDULER_LEASE) is not None, 90, lambda: f"a leader\n{output()}"
        )
        started = dt.datetime.now(dt.UTC)
        rng = random.Random(16)
        while (dt.datetime.now(dt.UTC) - started).total_seconds() < KILLING_S:
            # One of the two is always up: the victim dies only once the other one's last start is running
            # (imports take many seconds on a busy machine; killing both would leave no scheduler, and a gap
            # longer than a digest period is more than the catch-up of the latest slot claims to cover).
            # Which of them leads when the other is killed varies.
            time.sleep(rng.uniform(4.0, 7.0))
            victim = "ab"[kills % 2]
            survivor = "ab"[(kills + 1) % 2]
            wait_for(lambda: up(survivor), 90, lambda: f"{survivor} up again\n{output()}")  # noqa: B023
            leader = str(current_holder(sessions, SCHEDULER_LEASE))
            leader_kills += leader.startswith(f"{victim}:")
            os.killpg(running[victim].pid, signal.SIGKILL)
            running[victim].wait(10)
            kills += 1
            time.sleep(rng.uniform(0.2, 1.0))
            start(victim)
        stopped_killing = dt.datetime.now(dt.UTC)

        # Every slot due from the first minute of leading to the end of the killing, for every board.
        first = ANCHOR + dt.timedelta(
            seconds=((started - ANCHOR).total_seconds() // DIGEST_EVERY_S + 1) * DIGEST_EVERY_S
        )
        expected = {
            (board_id, (first + dt.timedelta(seconds=DIGEST_EVERY_S * k)).isoformat())
            for board_id in range(1, BOARDS + 1)
            for k in range(int((stopped_killing - first).total_seconds() // DIGEST_EVERY_S) + 1)
        }

        def delivered() -> set[tuple[int, str]]:
            with sessions() as session:
                rows = session.execute(
                    select(JobSlot.board_id, JobSlot.slot).where(JobSlot.state == DELIVERED)
                ).all()
            return {(board_id, slot) for board_id, slot in rows}

        wait_for(lambda: expected <= delivered(), 150, lambda: f"every expected slot delivered\n{output()}")
        with sessions() as session:  # the kills landed mid-digest: slots taken by a worker that died
            recovered = session.scalars(select(JobSlot).where(JobSlot.dispatches > 1)).all()
            found = [row for row in recovered if row.note == "found in the channel after an interrupted post"]
    finally:
        for process in running.values():
            stop_group(process, timeout=20)
        engine.dispose()

    sent = [call for call in slack.calls_to("chat.postMessage") if not call.failed and call.error is None]
    parents = Counter(str(call.params["text"]) for call in sent if "thread_ts" not in call.params)
    twice = {text: count for text, count in parents.items() if count > 1}
    assert twice == {}, f"posted more than once: {sorted(twice)[:5]}"
    for board_id, slot in expected:
        assert parents[f"digest digest:{board_id}:{slot}"] == 1
    replies = Counter(str(call.params["thread_ts"]) for call in sent if "thread_ts" in call.params)
    parent_of = {
        str(call.params["text"]): str(call.response["ts"]) for call in sent if "thread_ts" not in call.params
    }  # type: ignore[index]
    assert set(replies.values()) <= {1}, "a reply posted twice"
    for board_id, slot in expected:
        assert replies[parent_of[f"digest digest:{board_id}:{slot}"]] == 1, "a digest without its reply"

    runs = [line.split() for line in spans.read_text().splitlines()]
    by_board: dict[str, list[tuple[float, float]]] = {}
    for board, _kind, start_at, end_at in runs:
        by_board.setdefault(board, []).append((float(start_at), float(end_at)))
    assert {int(board) for board in by_board} == set(range(1, SYNCED_BOARDS + 1))
    for board, spans_of in by_board.items():
        ordered = sorted(spans_of)
        overlaps = [(a, b) for a, b in itertools.pairwise(ordered) if b[0] < a[1] - 1e-3]
        assert overlaps == [], f"board {board}: a sync and a check overlapped"
    assert kills >= 5 and leader_kills >= 1, (kills, leader_kills)
    assert len(recovered) >= 3, f"only {len(recovered)} slots were taken by a worker that was then killed"
    sys.stdout.write(  # the figures for benchmarks/README.md, with -s
        f"{kills} kills ({leader_kills} of the leader), {len(expected)} slots, {len(recovered)} recovered, "
        f"{len(found)} found already posted\n"
    )
