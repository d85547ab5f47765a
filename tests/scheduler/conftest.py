"""Scheduler test kit: a migrated database, boards, job bodies that record every call, workers in threads.

Each worker runs `run_worker` in a thread with an engine of its own, as a separate process would; the
timings are shrunk to seconds (`fast_options`) and the schedule to second-scale interval triggers (`every`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.dispatch import Dispatcher
from bot.scheduler.inprocess import InProcessDispatcher
from bot.scheduler.jobs import CHECK, DIGEST, SYNC, WEEKLY_REVIEW
from bot.scheduler.planner import BoardCalendar, PlannedTrigger, TriggerPlan
from bot.scheduler.queue import QueueDispatcher, QueueWorker, QueueWorkerOptions, uses_queue
from bot.scheduler.worker import WorkerOptions, run_worker
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory
from bot.store.slots import DELIVERED, SlotKey, finish, take

UTC = dt.UTC
ANCHOR = dt.datetime(2024, 1, 1, tzinfo=UTC)  # on whole seconds: slot names are predictable

WORKFLOW = """\
name: Test
timezone: {timezone}
working_days: [mon, tue, wed, thu, fri]
stages:
  - {{name: Backlog, statuses: [To Do], kind: backlog}}
  - {{name: Doing, statuses: [In Progress], kind: active}}
  - {{name: Done, statuses: [Done], kind: done}}
"""


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def add_test_board(
    sessions: sessionmaker[Session],
    name: str,
    *,
    channel: str | None = "C0TEST",
    coaching: dict[str, Any] | None = None,
    timezone: str = "Europe/Zurich",
) -> int:
    with sessions.begin() as session:
        board = add_board(
            session,
            name,
            connector="file",
            settings={"path": "/nonexistent.csv"},
            encrypted_secrets=None,
            workflow_yaml=WORKFLOW.format(timezone=timezone),
            channel_id=channel,
        )
        board.coaching_settings = coaching or {}
        return board.id


@dataclass(frozen=True)
class Call:
    worker: str
    kind: str
    board_id: int
    slot: str | None


@dataclass
class Recorder:
    """Every body call of every worker, in order, safe to append to from job threads."""

    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def of(self, kind: str, board_id: int | None = None, worker: str | None = None) -> list[Call]:
        with self.lock:
            return [
                call
                for call in self.calls
                if call.kind == kind
                and (board_id is None or call.board_id == board_id)
                and (worker is None or call.worker == worker)
            ]

    def slots(self, kind: str = DIGEST) -> list[tuple[int, str | None]]:
        return [(call.board_id, call.slot) for call in self.of(kind)]


class RecordingBodies:
    """Job bodies that record each call; boards in ``failing`` raise from every body.

    Like the real ones (``BoardJobs``), a digest or review first takes its slot in the ledger and does
    nothing when it cannot, then marks it delivered, so a slot handed over twice is recorded once.
    ``seconds`` makes every body take that long (to see whether jobs of one board overlap).
    """

    def __init__(
        self, recorder: Recorder, worker: str, failing: frozenset[int] = frozenset(), seconds: float = 0.0
    ) -> None:
        self.recorder, self.worker, self.failing, self.seconds = recorder, worker, failing, seconds
        self.sessions: sessionmaker[Session] | None = None  # the running worker's, set when it starts
        self.spans: list[tuple[int, str, float, float]] = []  # board, kind, start, end (monotonic)

    def _record(self, kind: str, board_id: int, slot: str | None) -> None:
        started = time.monotonic()
        if board_id in self.failing:
            raise RuntimeError(f"board {board_id} is broken")
        if self.seconds:
            time.sleep(self.seconds)
        self.recorder.add(Call(self.worker, kind, board_id, slot))
        with self.recorder.lock:
            self.spans.append((board_id, kind, started, time.monotonic()))

    def sync(self, board_id: int) -> None:
        self._record(SYNC, board_id, None)

    def check(self, board_id: int, at: dt.datetime) -> None:
        self._record(CHECK, board_id, None)

    def digest(self, board_id: int, slot: str, holder: str) -> None:
        self._deliver(DIGEST, board_id, slot, holder)

    def weekly_review(self, board_id: int, slot: str, holder: str) -> None:
        self._deliver(WEEKLY_REVIEW, board_id, slot, holder)

    def _deliver(self, kind: str, board_id: int, slot: str, holder: str) -> None:
        assert self.sessions is not None, "bodies used outside a running worker"
        key = SlotKey(kind, board_id, slot)
        if take(self.sessions, key, holder, hold_for=dt.timedelta(seconds=30)):
            self._record(kind, board_id, slot)
            finish(self.sessions, key, holder, DELIVERED)


def every(seconds: float, *kinds: str) -> TriggerPlan:
    """A schedule giving every board the ``kinds`` jobs every ``seconds``, on whole seconds from ANCHOR."""

    def plan(board: BoardCalendar) -> dict[str, PlannedTrigger]:
        trigger = IntervalTrigger(seconds=seconds, start_date=ANCHOR, timezone=UTC)
        return {kind: PlannedTrigger(trigger, f"every {seconds} s") for kind in kinds}

    return plan


def fast_options(**changes: Any) -> WorkerOptions:
    """Production behaviour at test speed: a 1.5 s lease renewed every 0.2 s, re-planned every 0.25 s."""
    options = WorkerOptions(
        lease_ttl_s=1.5,
        renew_every_s=0.2,
        replan_every_s=0.25,
        sweep_every_s=0.25,
        hand_over_again_after_s=3.0,
        triggers=every(0.5, DIGEST),
    )
    return replace(options, **changes)


FAST_QUEUE = QueueWorkerOptions(
    concurrency=4, heartbeat_s=0.5, stalled_after_s=2.0, poll_s=0.2, shutdown_timeout_s=5
)


class RunningWorker:
    """A worker as ``flowcoach worker`` runs it, in threads with its own engine; ``stop()`` joins them.

    On SQLite the scheduling worker runs the jobs on its threads; on PostgreSQL every worker also runs a
    procrastinate queue worker, and jobs go through the queue.
    """

    def __init__(self, url: str, bodies: RecordingBodies, options: WorkerOptions) -> None:
        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)
        bodies.sessions = self.sessions
        self.options = options
        self.halt = threading.Event()
        self.queue_worker: QueueWorker | None = None
        self.dispatcher: Dispatcher
        if uses_queue(url):
            self.dispatcher = QueueDispatcher(url)
            self.queue_worker = QueueWorker(url, bodies, replace(FAST_QUEUE, name=bodies.worker)).start()
        else:
            self.dispatcher = InProcessDispatcher(bodies, holder=options.holder)
        self.thread = threading.Thread(
            target=run_worker,
            args=(self.sessions, self.dispatcher),
            kwargs={"stop": self.halt, "options": options},
            name=f"test-worker-{bodies.worker}",
        )
        self.thread.start()

    @property
    def holder(self) -> str:
        return self.options.holder

    def stop(self) -> None:
        self.halt.set()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the worker did not stop"
        if self.queue_worker is not None:
            self.queue_worker.stop(15)
            assert not self.queue_worker.alive(), "the queue worker did not stop"
        self.dispatcher.close(5)
        self.engine.dispose()


@pytest.fixture
def start_worker(database_url: str) -> Iterator[Callable[..., RunningWorker]]:
    """Start workers on the test's database; any still running are stopped at the end."""
    started: list[RunningWorker] = []

    def start(bodies: RecordingBodies, options: WorkerOptions | None = None) -> RunningWorker:
        worker = RunningWorker(database_url, bodies, options or fast_options())
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.thread.is_alive() or (worker.queue_worker is not None and worker.queue_worker.alive()):
            worker.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str | Callable[[], str]) -> float:
    """Poll ``condition`` until true; returns the seconds it took, fails naming ``what`` on timeout (a
    callable is called then, so a process's log is shown as it is at the failure, not as it was before)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(0.05)
    return time.monotonic() - started
