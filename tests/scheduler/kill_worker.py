"""A `flowcoach worker` process for tests/scheduler/test_queue_kills.py: the real scheduling loop, queue
dispatcher, queue worker and digest job (``BoardJobs``: the slot ledger, the posting state, the channel
check), at test speed, with a light digest (one message) and syncs and checks that only note when they ran.

Usage: python -m tests.scheduler.kill_worker NAME SPANS_FILE  (DATABASE_URL, SLACK_API_URL in the environment)
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.cli.worker import scheduling
from bot.coach.digest import DigestData
from bot.config import load_settings
from bot.scheduler.jobs import CHECK, DIGEST, SYNC
from bot.scheduler.planner import BoardCalendar, PlannedTrigger
from bot.scheduler.queue import QueueWorkerOptions
from bot.scheduler.worker import WorkerOptions
from bot.services.coaching import Decision
from bot.services.jobs import BoardAddress, BoardJobs, Progress
from bot.slack.delivery import delivery_metadata, find_delivery, find_parts, post_thread
from bot.store.db import make_engine, session_factory
from bot.store.models import Board
from bot.store.slots import SlotKey

ANCHOR = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DIGEST_EVERY_S = 20
SYNC_EVERY_S = 5
SYNCED_BOARDS = 20  # boards 1..20 also sync and check (to see that a board's jobs never overlap)
TOKEN = "xoxb-test-team1"


def plan(board: BoardCalendar) -> dict[str, PlannedTrigger]:
    def every(seconds: int) -> PlannedTrigger:
        return PlannedTrigger(
            IntervalTrigger(seconds=seconds, start_date=ANCHOR, timezone=dt.UTC), f"{seconds}"
        )

    jobs = {DIGEST: every(DIGEST_EVERY_S)}
    if board.board_id <= SYNCED_BOARDS:
        jobs |= {SYNC: every(SYNC_EVERY_S), CHECK: every(SYNC_EVERY_S)}
    return jobs


@dataclass(frozen=True)
class LightDigest:
    board: str
    due_at: dt.datetime | None = None
    delivery_key: str | None = None


def light_digest(_session: Session, board: Board, _now: dt.datetime) -> LightDigest:
    return LightDigest(board.name)


class OneMessage:
    """A ``Notifier`` posting one message per digest, with the slot in its metadata, as Slack's does."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def reaches(self, board: BoardAddress) -> bool:
        return board.channel is not None

    def nudges(self, board: BoardAddress) -> None:
        pass

    def digest(self, board: BoardAddress, digest: DigestData | LightDigest, progress: Progress) -> bool:
        time.sleep(0.02)  # the time Slack takes to answer: a kill may land while it is out
        assert board.channel is not None
        try:
            post_thread(
                self._client,
                board.channel,
                text=f"digest {digest.delivery_key}",
                parent=[],
                replies=[[]],  # a reply in its thread, as the real digest has its details there
                metadata=delivery_metadata(digest.delivery_key),
                progress=progress,
            )
        except SlackApiError:
            return False
        return True

    def review(self, board: BoardAddress, review: object, progress: Progress) -> bool:
        return False

    def delivered(self, board: BoardAddress, key: str, since: dt.datetime) -> str | Literal[False] | None:
        assert board.channel is not None
        return find_delivery(self._client, board.channel, key, since.timestamp())

    def delivered_parts(self, board: BoardAddress, key: str, parent_ts: str) -> int | None:
        assert board.channel is not None
        return find_parts(self._client, board.channel, parent_ts, key)


class KillTestJobs(BoardJobs):
    def __init__(self, spans: Path, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._spans = spans
        self._lock = threading.Lock()

    def sync(self, board_id: int) -> None:
        self._span(SYNC, board_id)

    def check(self, board_id: int, at: dt.datetime) -> list[Decision]:
        self._span(CHECK, board_id)
        return []

    def digest(self, board_id: int, slot: str, holder: str) -> None:
        time.sleep(0.03)  # computing the digest
        self._deliver_slot(SlotKey(DIGEST, board_id, slot), holder, light_digest, self._notifier.digest)  # type: ignore[arg-type]

    def _span(self, kind: str, board_id: int) -> None:
        started = time.time()
        time.sleep(0.2)
        with self._lock, self._spans.open("a") as spans:
            spans.write(f"{board_id} {kind} {started:.6f} {time.time():.6f}\n")


def main() -> None:
    name, spans = sys.argv[1], Path(sys.argv[2])
    settings = load_settings()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    client = WebClient(base_url=os.environ["SLACK_API_URL"], token=TOKEN)
    bodies = KillTestJobs(
        spans,
        sessions=sessions,
        notifier=OneMessage(client),
        secret_key=None,
        slot_hold=dt.timedelta(seconds=10),
    )
    options = WorkerOptions(
        lease_ttl_s=2.0,
        renew_every_s=0.3,
        replan_every_s=1.0,
        sweep_every_s=0.5,
        hand_over_again_after_s=4.0,
        triggers=plan,
        holder=f"{name}:{os.getpid()}",
    )
    queue = QueueWorkerOptions(concurrency=4, heartbeat_s=0.5, stalled_after_s=2.0, poll_s=0.2, name=name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with scheduling(sessions, settings, options, bodies=bodies, queue_options=queue):
        sys.stdout.write(f"{name} running\n")
        sys.stdout.flush()
        stop.wait()
    engine.dispose()


if __name__ == "__main__":
    main()
