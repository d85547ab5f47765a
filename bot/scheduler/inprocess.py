"""Running jobs on threads of this process: the embedded default (SQLite, ``serve --with-worker``, the demo).

It keeps the job queue's promises within one process: at most one waiting job per kind and board (a late
one is not piled on), one running job per board (a sync and a check never overlap), syncs on their own
threads (they wait on trackers) and the coach's jobs on a few (they compute, and more threads than cores
only contend for the interpreter lock).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from bot.scheduler.execution import run_logged
from bot.scheduler.jobs import SYNC, DueJob, JobBodies
from bot.services.locks import BoardLocks

log = logging.getLogger("flowcoach.scheduler")


class InProcessDispatcher:
    def __init__(
        self, bodies: JobBodies, *, holder: str, sync_threads: int = 8, coach_threads: int = 4
    ) -> None:
        self._bodies = bodies
        self._holder = holder
        self._sync_pool = ThreadPoolExecutor(sync_threads, thread_name_prefix="flowcoach-sync")
        self._coach_pool = ThreadPoolExecutor(coach_threads, thread_name_prefix="flowcoach-coach")
        self._state = threading.Condition()
        self._waiting: set[str] = set()  # queueing locks of jobs handed over and not started
        self._board_locks = BoardLocks()
        self._running = 0
        self._closed = False

    def dispatch(self, jobs: Sequence[DueJob]) -> None:
        for job in jobs:
            with self._state:
                if self._closed:
                    return
                if job.queueing_lock in self._waiting:
                    log.info("job=%s board=%s is waiting already; not queued again", job.kind, job.board_id)
                    continue
                self._waiting.add(job.queueing_lock)
            pool = self._sync_pool if job.kind == SYNC else self._coach_pool
            pool.submit(self._run, job)

    def _run(self, job: DueJob) -> None:
        with self._state:
            self._waiting.discard(job.queueing_lock)
            if self._closed:
                return
            self._running += 1
            board_lock = self._board_locks.of(job.board_id)
        try:
            with board_lock:
                run_logged(self._bodies, job, f"{self._holder}:{uuid.uuid4().hex[:8]}")
        finally:
            with self._state:
                self._running -= 1
                self._state.notify_all()

    def retry_stalled_jobs(self) -> int:
        return 0  # a job here dies with the process that runs the scheduler; the slot sweep covers it

    def close(self, timeout: float) -> int:
        with self._state:
            self._closed = True
        # Jobs not started are dropped: syncs and checks come round again, and slots handed over but not
        # taken are handed over again by the next scheduler's sweep.
        self._sync_pool.shutdown(wait=False, cancel_futures=True)
        self._coach_pool.shutdown(wait=False, cancel_futures=True)
        with self._state:
            self._state.wait_for(lambda: self._running == 0, timeout)
            return self._running
