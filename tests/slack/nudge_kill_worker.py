"""A worker process for tests/slack/test_nudge_kills.py: the real check job (evaluate the board, store what
to say in the outbox, send it to Slack) and digest job (take the slot, post the parent and its replies,
noting each) over simulated time, killed and restarted by the test.

It checks each board at ``START + STEP * n`` for n = 0 … STEPS - 1, and every ``DIGEST_EVERY`` steps posts
its digest for that instant, retrying a digest cut short as the queue retries a job that raised. It notes
in ``PROGRESS`` the first step not yet done, so a restarted process carries on where the killed one stopped
(the step it was in runs again, as a queue runs again a job whose worker died). The client's own 429
retries are off, as in the storm tests: every refused post waits for the outbox or a retry.

Usage: python -m tests.slack.nudge_kill_worker PROGRESS STEPS BOARD_ID…  (the app's settings in the
environment)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.sample import SAMPLE_ASOF
from bot.scheduler.jobs import DIGEST
from bot.services.jobs import BoardJobs, SlotNotDelivered
from bot.slack import delivery
from bot.slack.notifier import SlackNotifier
from bot.store.db import make_engine, session_factory
from bot.store.models import JobSlot
from bot.store.slots import DELIVERED, MISSED

START = SAMPLE_ASOF + dt.timedelta(days=2, hours=15)  # Monday 08:00 after the sample's Friday evening
STEP = dt.timedelta(hours=2)
DIGEST_EVERY = 8  # steps
SLOT_HOLD = dt.timedelta(seconds=2)  # how long a killed process's digest stays held before another takes it


def digest_slot(step: int) -> str | None:
    """The digest slot due at ``step`` (its instant, ISO 8601), if one is."""
    return (START + STEP * step).isoformat() if step % DIGEST_EVERY == 0 else None


def deliver_digest(jobs: BoardJobs, sessions: sessionmaker[Session], board_id: int, slot: str) -> None:
    """Run the digest job until its slot is finished, each run with a holder of its own (as the queue's
    retries), waiting out the hold of a killed process that had it."""
    for attempt in range(1000):
        with contextlib.suppress(SlotNotDelivered):  # cut short: run again, as the queue would
            jobs.digest(board_id, slot, f"job:{os.getpid()}/{attempt}")
        with sessions() as session:
            row = session.get(JobSlot, (DIGEST, board_id, slot))
            if row is not None and row.state in (DELIVERED, MISSED):
                return
        time.sleep(0.1)
    raise RuntimeError(f"digest of board {board_id} for {slot} not delivered")


def main() -> None:
    progress, steps, boards = Path(sys.argv[1]), int(sys.argv[2]), [int(arg) for arg in sys.argv[3:]]
    delivery.RATE_LIMIT_RETRIES = 0
    settings = load_settings()
    sessions = session_factory(make_engine(settings.database_url))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    step = int(progress.read_text()) if progress.exists() else 0
    while step < steps:
        now = START + STEP * step
        notifier = SlackNotifier(settings, sessions, clock=lambda now=now: now)  # type: ignore[misc]
        jobs = BoardJobs(
            sessions,
            notifier,
            secret_key=None,
            clock=lambda now=now: now,  # type: ignore[misc]
            slot_hold=SLOT_HOLD,
        )
        for board_id in boards:
            jobs.check(board_id, now)
            slot = digest_slot(step)
            if slot is not None:
                deliver_digest(jobs, sessions, board_id, slot)
        step += 1
        partial = progress.with_suffix(".partial")
        partial.write_text(str(step))
        partial.replace(progress)
    sys.stdout.write("done\n")


if __name__ == "__main__":
    main()
