"""The scheduling loop: one APScheduler per installation, active only in the process holding the lease.

Every worker process runs this loop on its calling thread: renew (or try to take) the lease, and nothing
else, so no amount of planning can make it miss a renewal. On gaining the lease it starts a ``Leadership``:
an APScheduler whose only executor hands fired jobs to a ``Dispatcher`` (the job queue on PostgreSQL, this
process's threads on SQLite), and a planning thread that

- plans every board's jobs, then re-plans every minute the boards that changed (``IncrementalPlanner``),
- catches up on taking the lead: a digest or review whose latest scheduled time passed while no scheduler
  ran, and that no scheduler recorded, is handed over late (its job posts it saying so, or records it
  missed if its day is over),
- sweeps every half minute: slots handed over but never taken (the hand-over was lost) or taken by a worker
  that died are handed over again, and jobs of dead queue workers go back to the queue.

Jobs live in memory: the slot ledger, not a persisted next run time, is what lets the next leader find what
fell due while no scheduler ran. On losing the lease the leadership stops at once and the loop stands by.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.dispatch import Dispatcher, HandOverExecutor, hand_over, scheduled_job
from bot.scheduler.jobs import SLOTTED_KINDS, DueJob
from bot.scheduler.lease import (
    DEFAULT_RENEW_EVERY_S,
    DEFAULT_TTL_S,
    SCHEDULER_LEASE,
    acquire_or_renew,
    holder_id,
    release,
)
from bot.scheduler.planner import IncrementalPlanner, PlanChange, TriggerPlan, calendar_triggers
from bot.store.models import utcnow
from bot.store.slots import SlotKey, recorded_since, to_hand_over_again

log = logging.getLogger("flowcoach.scheduler")
STOPPING = "stopping"


@dataclass(frozen=True)
class WorkerOptions:
    """Timings and the schedule; the defaults are production's, tests shrink them to seconds."""

    lease_name: str = SCHEDULER_LEASE
    lease_ttl_s: float = DEFAULT_TTL_S
    renew_every_s: float = DEFAULT_RENEW_EVERY_S
    replan_every_s: float = 60.0
    sweep_every_s: float = 30.0
    # A slot handed over and not taken after this long was lost on the way (a queue worker pool emptied, a
    # process died before running it): hand it over again. Long enough for a burst of digests to drain.
    hand_over_again_after_s: float = 600.0
    catch_up_s: float = 24 * 3600.0  # on taking the lead, look this far back for slots nobody recorded
    triggers: TriggerPlan = calendar_triggers
    release_on_stop: bool = True  # False leaves the lease to expire, as a killed process does (tests)
    holder: str = field(default_factory=holder_id)


def run_worker(
    sessions: sessionmaker[Session],
    dispatcher: Dispatcher,
    *,
    stop: threading.Event,
    options: WorkerOptions | None = None,
) -> None:
    """Schedule (or stand by to) until ``stop`` is set; then stop scheduling and release the lease."""
    loop = _LeaseLoop(sessions, dispatcher, options or WorkerOptions())
    log.info("worker %s started; scheduling once it holds the lease", loop.options.holder)
    try:
        while not stop.is_set():
            loop.step()
            stop.wait(loop.options.renew_every_s)
    finally:
        loop.close()


class _LeaseLoop:
    def __init__(
        self, sessions: sessionmaker[Session], dispatcher: Dispatcher, options: WorkerOptions
    ) -> None:
        self.options = options
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._lease_valid_until = 0.0  # time.monotonic() by which the lease expires unless renewed
        self._leadership: Leadership | None = None

    def holds_lease(self) -> bool:
        return self._leadership is not None and time.monotonic() < self._lease_valid_until

    def step(self) -> None:
        held = self._renew()
        if held and self._leadership is None:
            self._leadership = Leadership(self._sessions, self._dispatcher, self.options, self.holds_lease)
            log.info("worker %s holds the lease: scheduling", self.options.holder)
        elif not held and self._leadership is not None:
            self._stand_by("lost the lease")

    def close(self) -> None:
        """Stop scheduling and hand the lease over at once."""
        holder = self.options.holder
        if self._leadership is not None:
            self._stand_by(STOPPING)
        if self.options.release_on_stop:
            try:
                if release(self._sessions, self.options.lease_name, holder):
                    log.info("worker %s released the lease", holder)
            except Exception as error:
                log.warning("worker %s could not release the lease (it will expire): %s", holder, error)

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
                "still within it" if still_valid and self._leadership else "standing by",
            )
            return still_valid
        if held:
            self._lease_valid_until = asked_at + options.lease_ttl_s
        return held

    def _stand_by(self, reason: str) -> None:
        leadership, self._leadership = self._leadership, None
        self._lease_valid_until = 0.0
        if leadership is not None:
            leadership.stop()
        if reason == STOPPING:
            log.info("worker %s stopping: scheduler stopped", self.options.holder)
        else:
            log.warning("worker %s %s: scheduler stopped, standing by", self.options.holder, reason)


class Leadership:
    """The scheduler and its planning thread, for as long as this process holds the lease."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        dispatcher: Dispatcher,
        options: WorkerOptions,
        holds_lease: Callable[[], bool],
    ) -> None:
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._options = options
        self._holds_lease = holds_lease
        self._planner = IncrementalPlanner(sessions, options.triggers)
        self._slotted: dict[str, tuple[DueJob, BaseTrigger]] = {}  # job id → (kind and board, trigger)
        self._stopped = threading.Event()
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": HandOverExecutor(sessions, dispatcher, may_hand_over=holds_lease)},
            # Handing over takes no time, so no run is ever late enough to be dropped (no grace limit);
            # runs missed while this process was stalled coalesce into one.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self._scheduler.start()
        self._thread = threading.Thread(target=self._plan_loop, name="flowcoach-planner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._scheduler.shutdown(wait=False)
        self._thread.join(30)

    def _plan_loop(self) -> None:
        options = self._options
        next_replan = next_sweep = 0.0
        caught_up = False
        while not self._stopped.is_set():
            now = time.monotonic()
            try:
                if now >= next_replan:
                    next_replan = now + options.replan_every_s
                    self._replan()
                    if not caught_up:
                        self._catch_up()
                        caught_up = True
                if now >= next_sweep:
                    next_sweep = now + options.sweep_every_s
                    self._sweep()
            except Exception:
                log.exception("planning failed; trying again at the next step")
            self._stopped.wait(max(0.05, min(next_replan, next_sweep) - time.monotonic()))

    def _replan(self) -> None:
        for change in self._planner.changes():
            if self._stopped.is_set():
                return
            self._apply(change)

    def _apply(self, change: PlanChange) -> None:
        for job_id in change.removals:
            self._slotted.pop(job_id, None)
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(job_id)
            log.info("job %s removed (its board is gone or no longer gets it)", job_id)
        for job in change.upserts:
            self._scheduler.add_job(
                scheduled_job,
                trigger=job.trigger,
                args=(job.kind, job.board_id),
                id=job.job_id,
                name=job.definition,
                replace_existing=True,
            )
            if job.kind in SLOTTED_KINDS:
                self._slotted[job.job_id] = (DueJob(job.kind, job.board_id), job.trigger)
            log.debug("job %s planned: %s", job.job_id, job.definition, extra={"board_id": job.board_id})
        if change.upserts or change.removals:
            log.info("planned %d jobs, removed %d", len(change.upserts), len(change.removals))

    def _catch_up(self) -> None:
        """Hand over each board's latest digest and review that fell due while no scheduler ran.

        Only the latest: with the production window (a day) and daily slots there is one at most; and a
        slot reached after its day is recorded missed by its job, not posted.
        """
        now = utcnow()
        since = now - dt.timedelta(seconds=self._options.catch_up_s)
        recorded = recorded_since(self._sessions, SLOTTED_KINDS, since)
        due: list[DueJob] = []
        for job, trigger in list(self._slotted.values()):
            start = max(since, self._planner.created.get(job.board_id, since))
            latest = _latest_fire_time(trigger, start, now)
            if latest is not None and SlotKey(job.kind, job.board_id, latest.isoformat()) not in recorded:
                due.append(DueJob(job.kind, job.board_id, latest.isoformat()))
        if due and self._holds_lease():
            log.warning(
                "%d digests and reviews fell due while no scheduler ran: handing them over late", len(due)
            )
            hand_over(self._sessions, self._dispatcher, due)

    def _sweep(self) -> None:
        if not self._holds_lease():
            return
        again = to_hand_over_again(
            self._sessions, due_for=dt.timedelta(seconds=self._options.hand_over_again_after_s)
        )
        if again:
            log.warning("%d slots were not delivered in time: handing them over again", len(again))
            self._dispatcher.dispatch([DueJob(key.kind, key.board_id, key.slot) for key in again])
        self._dispatcher.retry_stalled_jobs()


def _latest_fire_time(trigger: BaseTrigger, start: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    latest = None
    fire = trigger.get_next_fire_time(None, start)
    for _ in range(10_000):  # a guard against a pathological trigger; a day holds a few fire times
        if fire is None or fire > now:
            break
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
    return latest


def forget_in_forked_children(engine: Engine) -> None:
    """In a forked child, drop ``engine``'s pooled connections unclosed: they are the parent's."""
    reference = weakref.ref(engine)

    def forget() -> None:
        if (alive := reference()) is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=forget)
