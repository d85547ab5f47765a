"""Handing due jobs over: the ``Dispatcher`` contract, and the APScheduler executor that feeds one.

APScheduler is only the clock here: when a trigger fires, ``HandOverExecutor`` notes the job (with the exact
scheduled time it fired for, which names a digest's slot) and returns at once; a thread of its own hands the
noted jobs over in batches, recording each digest and review slot in the ledger first. A slot already
recorded (by a scheduler before a failover) is not handed over again, so each slot is handed over once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from apscheduler.executors.base import BaseExecutor
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.jobs import SLOTTED_KINDS, DueJob
from bot.store.slots import SlotKey, record_due

log = logging.getLogger("flowcoach.scheduler")
BATCH_WAIT_S = 0.05  # jobs falling due within this much of each other are handed over in one batch
MAX_BATCH = 500


class Dispatcher(Protocol):
    """Where due jobs go to be run: threads of this process, or the job queue that workers share."""

    def dispatch(self, jobs: Sequence[DueJob]) -> None:
        """Hand ``jobs`` over; a job already waiting (same kind and board) is not queued twice."""
        ...

    def retry_stalled_jobs(self) -> int:
        """Give the jobs of workers that died back to whoever runs them; how many."""
        ...

    def close(self, timeout: float) -> int:
        """Stop taking jobs; wait up to ``timeout`` s for running ones. How many still run."""
        ...


def due_job_of(args: Sequence[Any], run_time: dt.datetime) -> DueJob:
    """The job a fired trigger stands for; a digest's or review's slot is its scheduled time."""
    kind, board_id = str(args[0]), int(args[1])
    return DueJob(kind, board_id, run_time.isoformat() if kind in SLOTTED_KINDS else None)


def hand_over(
    sessions: sessionmaker[Session], dispatcher: Dispatcher, jobs: Sequence[DueJob]
) -> list[DueJob]:
    """Record the slots among ``jobs`` and dispatch what is new; the jobs handed over."""
    slotted = [job for job in jobs if job.slot is not None]
    others = [job for job in jobs if job.slot is None]
    fresh: list[DueJob] = []
    if slotted:
        recorded = record_due(sessions, [SlotKey(job.kind, job.board_id, str(job.slot)) for job in slotted])
        fresh = [DueJob(key.kind, key.board_id, key.slot) for key in recorded]
        if skipped := len(slotted) - len(fresh):
            log.info("%d slots were handed over already (by another scheduler); not again", skipped)
    todo = [*others, *fresh]
    if todo:
        dispatcher.dispatch(todo)
    return todo


def scheduled_job(kind: str, board_id: int) -> None:
    """The function every APScheduler job names; never called, since ``HandOverExecutor`` runs no job."""
    raise RuntimeError(f"job {kind}:{board_id} reached an executor that runs jobs")


class HandOverExecutor(BaseExecutor):  # type: ignore[misc]
    """An APScheduler executor that hands fired jobs to a ``Dispatcher`` instead of running them."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        dispatcher: Dispatcher,
        *,
        may_hand_over: Callable[[], bool],
    ) -> None:
        super().__init__()
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._may_hand_over = may_hand_over
        self._noted: list[DueJob] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._hand_over_loop, name="flowcoach-hand-over", daemon=True)

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._thread.start()

    def shutdown(self, wait: bool = True) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if wait and self._thread.is_alive():
            self._thread.join(10)

    def submit_job(self, job: Any, run_times: list[dt.datetime]) -> None:
        # No instance counting: a job handed over is done as far as APScheduler knows, and the queue's
        # locks (one waiting job per kind and board) keep late runs from piling up instead.
        # A coalesced run passes its newest time only; for a digest that is the slot that matters.
        due = [due_job_of(job.args, run_time) for run_time in run_times]
        with self._wake:
            self._noted.extend(due)
            self._wake.notify_all()

    def _do_submit_job(self, job: Any, run_times: list[dt.datetime]) -> None:
        raise NotImplementedError  # submit_job above does the whole work

    def _hand_over_loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._noted or self._stopping)
                if self._stopping:
                    if self._noted:
                        log.warning("%d due jobs not handed over: the scheduler stopped", len(self._noted))
                    return
            # Let the rest of a burst (a thousand digests at 09:30) arrive, then take it in one go.
            threading.Event().wait(BATCH_WAIT_S)
            with self._wake:
                batch, self._noted = self._noted[:MAX_BATCH], self._noted[MAX_BATCH:]
            if not self._may_hand_over():
                log.info("%d due jobs not handed over: this worker no longer holds the lease", len(batch))
                continue
            try:
                hand_over(self._sessions, self._dispatcher, batch)
            except Exception:
                # Slots recorded before the failure are handed over again by the sweep; syncs and checks
                # come round again in minutes.
                log.exception("handing over %d due jobs failed", len(batch))
