"""A worker process for tests/slack/test_nudge_kills.py: the real check job (evaluate the board, store what
to say in the outbox, send it to Slack) over simulated time, killed and restarted by the test.

It checks each board at ``START + STEP * n`` for n = 0 … STEPS - 1, noting in ``PROGRESS`` the first step
not yet done, so a restarted process carries on where the killed one stopped (the step it was in is checked
again, as a queue retries a job whose worker died). The client's own 429 retries are off, as in the storm
test: every refused post waits for the outbox.

Usage: python -m tests.slack.nudge_kill_worker PROGRESS STEPS BOARD_ID…  (the app's settings in the
environment)
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from bot.config import load_settings
from bot.sample import SAMPLE_ASOF
from bot.services.jobs import BoardJobs
from bot.slack import delivery
from bot.slack.notifier import SlackNotifier
from bot.store.db import make_engine, session_factory

START = SAMPLE_ASOF + dt.timedelta(days=2, hours=15)  # Monday 08:00 after the sample's Friday evening
STEP = dt.timedelta(hours=2)


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
        jobs = BoardJobs(sessions, notifier, secret_key=None, clock=lambda now=now: now)  # type: ignore[misc]
        for board_id in boards:
            jobs.check(board_id, now)
        step += 1
        partial = progress.with_suffix(".partial")
        partial.write_text(str(step))
        partial.replace(progress)
    sys.stdout.write("done\n")


if __name__ == "__main__":
    main()
