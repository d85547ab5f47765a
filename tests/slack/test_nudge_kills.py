"""A worker killed (SIGKILL) again and again while Slack answers 429 to 60 % of posts and takes its time
answering: every nudge the coach decided reaches the channel exactly once, every digest with all its
replies exactly once, nothing is left waiting.

The worker (tests/slack/nudge_kill_worker.py) runs the real check and digest jobs against the Slack emulator
and the database, over simulated time. A third of the kills land while a digest's replies are being posted
(its parent out): the next process resumes after the replies the thread shows. For nudges, a kill lands
mid-evaluation (rolled back, checked again), between marking an entry ``posting`` and posting it (not in
the channel: posted by the next one), or while Slack's answer is on its way (in the channel, its ts
unknown: found by its metadata, not posted again).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.store.models import Board, JobSlot, NudgeOutboxEntry
from bot.store.nudge_outbox import DROPPED, POSTING, SENT, WAITING
from bot.store.slots import DELIVERED, SlotKey
from bot.store.slots import POSTING as SLOT_POSTING
from tests.processes import stop_group
from tests.slack.conftest import SIGNING_SECRET, RunningApp, add_sample_board
from tests.slack.nudge_kill_worker import digest_slot
from tests.slack.test_nudge_outbox import TALKATIVE, key_of, posts

STEPS = 24  # two days, every two hours
KILLS = 8


def part_of(call) -> int | None:
    """The reply number a digest's reply carries in its metadata (None for its parent)."""
    metadata = call.params.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return ((metadata or {}).get("event_payload") or {}).get("part")


@pytest.mark.slow
def test_a_worker_killed_mid_storm_delivers_every_nudge_and_digest_once(
    start_app, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the outbox's steps are the same on SQLite; killed workers are a PostgreSQL deployment's")
    app: RunningApp = start_app(database_url)
    boards = [add_sample_board(app, name=f"Team {number}") for number in range(2)]
    with app.runtime.sessions.begin() as session:
        for board_id in boards:
            session.get_one(Board, board_id).coaching_settings = TALKATIVE
    settings = app.runtime.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))}
    env |= {
        "DATABASE_URL": settings.database_url,
        "SLACK_API_URL": app.slack.api_url,
        "SLACK_BOT_TOKEN": "xoxb-test-team1",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "LOG_LEVEL": "WARNING",
    }
    progress, log_path = tmp_path / "progress", tmp_path / "worker.log"

    def run(steps: int) -> subprocess.Popen[bytes]:
        with log_path.open("a") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "tests.slack.nudge_kill_worker", str(progress), str(steps)]
                + [str(board_id) for board_id in boards],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ready(starts: int) -> bool:
        return log_path.exists() and log_path.read_text().count("ready") >= starts

    def wait_until_posting(worker: subprocess.Popen[bytes], timeout: float) -> None:
        """Until Slack has carried out a post whose entry is still ``posting``: its answer is on its way."""
        deadline = time.monotonic() + timeout
        while worker.poll() is None and time.monotonic() < deadline:
            with app.sessions() as session:
                ids = session.scalars(
                    select(NudgeOutboxEntry.id).where(NudgeOutboxEntry.state == POSTING)
                ).all()
            if {f"nudge:{entry_id}" for entry_id in ids} & {key_of(call) for call in posts(app)}:
                return
            time.sleep(0.02)

    def wait_until_mid_digest(worker: subprocess.Popen[bytes], timeout: float) -> set[str]:
        """Until a digest's parent is out and its replies are being posted; that digest's key."""
        deadline = time.monotonic() + timeout
        while worker.poll() is None and time.monotonic() < deadline:
            with app.sessions() as session:
                going = session.scalars(
                    select(JobSlot).where(JobSlot.state == SLOT_POSTING, JobSlot.posted_ts.is_not(None))
                ).first()
                if going is not None:
                    return {str(SlotKey(going.kind, going.board_id, going.slot))}
            time.sleep(0.02)
        return set()

    app.slack.rate_limit_storm("chat.postMessage", 0.6, retry_after=0, seed=7)
    app.slack.latency["chat.postMessage"] = 0.2
    rng = random.Random(19)
    kills = starts = 0
    cut: set[str] = set()  # digests killed mid-thread
    worker = None
    try:
        while kills < KILLS:
            worker, starts = run(STEPS), starts + 1
            deadline = time.monotonic() + 60
            while not ready(starts) and worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if kills % 3 == 0:  # while Slack's answer to a nudge is on its way
                wait_until_posting(worker, timeout=30)
            elif kills % 3 == 1:  # mid-digest: its parent out, its replies going
                cut |= wait_until_mid_digest(worker, timeout=30)
            else:  # at a random moment
                time.sleep(rng.uniform(0.3, 2.5))
            if worker.poll() is not None:
                break  # it got through every step between two kills
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
            kills += 1
        app.slack.clear_faults()
        worker = run(STEPS + 3)  # the rest of the steps, then calm ones that send whatever waits
        assert worker.wait(240) == 0, log_path.read_text()[-3000:]
    finally:
        if worker is not None:
            stop_group(worker, timeout=10)

    with app.sessions() as session:
        outbox = list(session.scalars(select(NudgeOutboxEntry).order_by(NudgeOutboxEntry.id)).all())
    assert [entry.id for entry in outbox if entry.state in WAITING] == []
    assert [
        e.note for e in outbox if e.state == DROPPED and not (e.note or "").startswith("every alert")
    ] == []
    sent_keys = Counter(key_of(call) for call in posts(app) if str(key_of(call)).startswith("nudge"))
    assert {key: count for key, count in sent_keys.items() if count > 1} == {}
    for entry in outbox:
        if entry.state == SENT and entry.kind != "redraw":
            assert sent_keys[f"nudge:{entry.id}"] == 1, entry.id
    digests = {
        f"digest:{board_id}:{slot}"
        for board_id in boards
        for step in range(STEPS)
        if (slot := digest_slot(step))
    }
    parents = Counter(key_of(call) for call in posts(app) if "thread_ts" not in call.params)
    assert {key: parents[key] for key in digests} == dict.fromkeys(digests, 1)  # each digest once
    parts = Counter((key_of(call), part_of(call)) for call in posts(app) if key_of(call) in digests)
    with app.sessions() as session:
        slots = {
            str(SlotKey(row.kind, row.board_id, row.slot)): row for row in session.scalars(select(JobSlot))
        }
    for key in digests:
        assert slots[key].state == DELIVERED and slots[key].parts_done >= 1, key
        numbers = sorted(part for (each, part), count in parts.items() if each == key and part)
        assert numbers == list(range(1, slots[key].parts_done + 1)), (key, numbers)  # every reply, in order
        assert all(parts[(key, part)] == 1 for part in numbers), key  # each reply once
    refused = [call for call in app.slack.calls_to("chat.postMessage") if call.failed]
    found = [entry for entry in outbox if entry.note == "found in the channel"]
    assert kills >= 3 and refused and len(outbox) >= 8 and found and cut
    sys.stdout.write(  # the figures for benchmarks/README.md, with -s
        f"{kills} kills, {len(outbox)} entries, {sum(e.state == SENT for e in outbox)} sent, "
        f"{len(found)} found in the channel after a kill, {len(digests)} digests "
        f"({len(cut)} killed mid-thread, {sum(slots[key].parts_done for key in digests)} replies), "
        f"{len(refused)} posts refused, "
        "0 lost, 0 twice\n"
    )
