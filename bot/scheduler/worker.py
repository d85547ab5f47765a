"""The worker: one APScheduler per installation, active only in the process that holds the database lease.

Every worker process runs this loop: renew (or try to take) the lease; on gaining it, start a
``BackgroundScheduler`` on the persistent job store and re-plan the jobs from the boards in the database; on
losing it, shut the scheduler down at once and stand by. While leading, it re-plans every minute so boards
added, removed or changed anywhere are picked up.

Jobs persist in ``apscheduler_jobs`` with their next run time, so a job that fell due while no worker ran is
noticed by the next leader: it runs once (coalesced) within the misfire grace time and is skipped, logged,
beyond it. The lease keeps a second scheduler from firing the same jobs; the per-slot claim (runner.py)
covers the moments the lease cannot, such as a failover in the middle of a run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.jobs import SYNC, JobBodies
from bot.scheduler.lease import (
    DEFAULT_RENEW_EVERY_S,
    DEFAULT_TTL_S,
    SCHEDULER_LEASE,
    acquire_or_renew,
    holder_id,
    release,
)
from bot.scheduler.planner import TriggerPlan, calendar_triggers, read_plan
from bot.scheduler.runner import JobRunner, run_scheduled_job
from bot.store.db import make_engine
from bot.store.models import APSCHEDULER_JOBS

log = logging.getLogger("flowcoach.scheduler")
SYNC_EXECUTOR = "default"  # APScheduler's name for the executor of jobs that name none
COACH_EXECUTOR = "coach"
STOPPING = "stopping"


class WorkerStore(Protocol):
    """What the worker needs from the application: sessions on the database (``Runtime`` has them)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...


@dataclass(frozen=True)
class WorkerOptions:
    """Timings and the schedule; the defaults are production's, tests shrink them to seconds."""

    lease_name: str = SCHEDULER_LEASE
    lease_ttl_s: float = DEFAULT_TTL_S
    renew_every_s: float = DEFAULT_RENEW_EVERY_S
    replan_every_s: float = 60.0
    misfire_grace_s: int = 600  # a run late by up to this much still happens (once); later ones are skipped
    threads: int = 8  # syncs wait on trackers; runs of one job never overlap (max_instances=1)
    # Checks, digests and reviews compute (pandas, charts) more than they wait: on more threads than cores
    # they only contend for the interpreter lock, which made a thousand digests slower, not faster.
    coach_threads: int = 4
    triggers: TriggerPlan = calendar_triggers
    release_on_stop: bool = True  # False leaves the lease to expire, as a killed process does (tests)
    stop_timeout_s: float = 20.0  # on stop, how long running jobs may finish (platforms kill after ~30 s)
    holder: str = field(default_factory=holder_id)

    def __post_init__(self) -> None:
        # APScheduler rounds a fractional grace time down, and a job would then look changed at every re-plan.
        if not isinstance(self.misfire_grace_s, int) or self.misfire_grace_s < 1:
            raise ValueError("misfire_grace_s must be a whole number of seconds, at least 1")


def run_worker(
    runtime: WorkerStore,
    bodies: JobBodies,
    *,
    stop: threading.Event,
    options: WorkerOptions | None = None,
) -> None:
    """Run (or stand by to run) the scheduler until ``stop`` is set; then stop it and release the lease."""
    worker = _Worker(runtime.sessions, bodies, options or WorkerOptions())
    log.info("worker %s started; scheduling once it holds the lease", worker.options.holder)
    try:
        while not stop.is_set():
            worker.step()
            stop.wait(worker.seconds_to_next_step())
    finally:
        worker.close()


class _Worker:
    def __init__(self, sessions: sessionmaker[Session], bodies: JobBodies, options: WorkerOptions) -> None:
        self.options = options
        self._sessions = sessions
        self._scheduler: BackgroundScheduler | None = None
        self._lease_valid_until = 0.0  # time.monotonic() by which the lease expires unless renewed
        self._next_replan = 0.0
        self._triggers: dict[str, BaseTrigger] = {}  # job id → trigger, as last planned
        self._job_store_engine: Engine | None = None
        # Look back a minute beyond the grace time: APScheduler checks the grace a moment before the job
        # computes its slot.
        self._runner = JobRunner(
            bodies,
            trigger_of=lambda job_id: self._triggers.get(job_id),
            holds_lease=self.holds_lease,
            lookback_s=options.misfire_grace_s + 60,
        )

    def holds_lease(self) -> bool:
        return self._scheduler is not None and time.monotonic() < self._lease_valid_until

    def step(self) -> None:
        held = self._renew()
        if held and self._scheduler is None:
            self._lead()
        elif not held and self._scheduler is not None:
            self._stand_by("lost the lease")
        if self._scheduler is not None and time.monotonic() >= self._next_replan:
            self._replan_safely()

    def seconds_to_next_step(self) -> float:
        if self._scheduler is None:
            return self.options.renew_every_s
        return max(0.0, min(self.options.renew_every_s, self._next_replan - time.monotonic()))

    def close(self) -> None:
        """Stop scheduling, hand the lease over at once, then give running jobs a moment to finish."""
        holder = self.options.holder
        if self._scheduler is not None:
            self._stand_by(STOPPING)
        if self.options.release_on_stop:
            try:
                if release(self._sessions, self.options.lease_name, holder):
                    log.info("worker %s released the lease", holder)
            except Exception as error:
                log.warning("worker %s could not release the lease (it will expire): %s", holder, error)
        if still_running := self._runner.refuse(self.options.stop_timeout_s):
            log.warning("worker %s stopped with %d jobs still running", holder, still_running)

    def _renew(self) -> bool:
        asked_at = time.monotonic()
        options = self.options
        try:
            held = acquire_or_renew(self._sessions, options.lease_name, options.holder, options.lease_ttl_s)
        except Exception as error:
            # Keep scheduling through a brief outage only while the lease is sure to outlast the next step.
            still_valid = time.monotonic() + options.renew_every_s < self._lease_valid_until
            log.warning(
                "worker %s could not renew the lease (%s); %s",
                options.holder,
                error,
                "still within it" if still_valid and self._scheduler else "standing by",
            )
            return still_valid
        if held:
            self._lease_valid_until = asked_at + options.lease_ttl_s
        return held

    def _lead(self) -> None:
        options = self.options
        self._job_store_engine = _job_store_engine(self._sessions)
        scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self._job_store_engine, tablename=APSCHEDULER_JOBS.name)
            },
            executors={
                SYNC_EXECUTOR: ThreadPoolExecutor(
                    options.threads,
                    pool_kwargs={"initializer": self._runner.bind, "thread_name_prefix": "flowcoach-sync"},
                ),
                COACH_EXECUTOR: ThreadPoolExecutor(
                    options.coach_threads,
                    pool_kwargs={"initializer": self._runner.bind, "thread_name_prefix": "flowcoach-coach"},
                ),
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": options.misfire_grace_s,
            },
            timezone="UTC",
        )
        scheduler.add_listener(_log_missed_run, EVENT_JOB_MISSED)
        # Paused until re-planned: jobs whose schedule changed while no one led must not fire on the old one.
        scheduler.start(paused=True)
        self._scheduler = scheduler
        self._runner.accept()
        self._replan_safely()
        scheduler.resume()
        log.info("worker %s holds the lease: scheduling %d jobs", options.holder, len(self._triggers))

    def _stand_by(self, reason: str) -> None:
        scheduler, self._scheduler = self._scheduler, None
        self._lease_valid_until = 0.0
        self._runner.refuse()
        if scheduler is not None:
            # Without waiting: running jobs finish (they are idempotent or claimed); no new ones start.
            scheduler.shutdown(wait=False)
        if self._job_store_engine is not None:
            # Again, now that the scheduler's thread has ended: the job store disposed of its engine while
            # that thread could still take one more connection from it.
            self._job_store_engine.dispose()
            self._job_store_engine = None
        if reason == STOPPING:
            log.info("worker %s stopping: scheduler stopped", self.options.holder)
        else:
            log.warning("worker %s %s: scheduler stopped, standing by", self.options.holder, reason)

    def _replan_safely(self) -> None:
        self._next_replan = time.monotonic() + self.options.replan_every_s
        try:
            self._replan()
        except Exception:
            log.exception("re-planning failed; the jobs stay as they were until the next attempt")

    def _replan(self) -> None:
        scheduler = self._scheduler
        assert scheduler is not None
        plan = read_plan(self._sessions, self.options.triggers)
        current = {job.id: job for job in scheduler.get_jobs()}
        planned = {job.job_id: job for job in plan.jobs}
        kept = {job_id: job for job_id, job in current.items() if _board_of(job) in plan.unreadable}
        for job_id in current:
            if job_id not in planned and job_id not in kept:
                scheduler.remove_job(job_id)
                log.info("job %s removed (its board is gone or no longer gets it)", job_id)
        grace = self.options.misfire_grace_s
        for job in plan.jobs:
            existing = current.get(job.job_id)
            executor = SYNC_EXECUTOR if job.kind == SYNC else COACH_EXECUTOR
            if (
                existing is not None
                and existing.name == job.definition
                and existing.misfire_grace_time == grace
                and existing.executor == executor
            ):
                continue
            scheduler.add_job(
                run_scheduled_job,
                trigger=job.trigger,
                args=(job.kind, job.board_id),
                id=job.job_id,
                name=job.definition,
                executor=executor,
                replace_existing=True,
            )
            log.info(
                "job %s %s: %s",
                job.job_id,
                "added" if existing is None else "rescheduled",
                job.definition,
                extra={"job": job.kind, "board_id": job.board_id},
            )
        self._triggers = {job_id: job.trigger for job_id, job in kept.items()} | {
            job.job_id: job.trigger for job in plan.jobs
        }


def _job_store_engine(sessions: sessionmaker[Session]) -> Engine:
    # The job store disposes its engine when the scheduler shuts down, so it gets one of its own.
    engine: Engine = sessions.kw["bind"]
    own = make_engine(engine.url.render_as_string(hide_password=False))
    forget_in_forked_children(own)
    return own


def forget_in_forked_children(engine: Engine) -> None:
    """In a forked child, drop ``engine``'s pooled connections unclosed: they are the parent's."""
    reference = weakref.ref(engine)

    def forget() -> None:
        if (alive := reference()) is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def _board_of(job: Any) -> int | None:
    args: tuple[Any, ...] = tuple(getattr(job, "args", ()))
    return args[1] if len(args) == 2 and isinstance(args[1], int) else None


def _log_missed_run(event: JobExecutionEvent) -> None:
    kind, _, board = str(event.job_id).partition(":")
    log.warning(
        "job=%s board=%s skipped the run due at %s: later than the misfire grace time",
        kind,
        board,
        event.scheduled_run_time.isoformat(),
        extra={"job": kind, "board_id": board, "slot": event.scheduled_run_time.isoformat()},
    )
