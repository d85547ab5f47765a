"""The function APScheduler calls for every job, and everything around the body: slot, claim, isolation, logs.

Jobs in a persistent job store are pickled as a reference to an importable function plus its arguments, so
the live objects a job needs (its bodies) cannot travel with it. Each worker's executor threads are
bound to that worker's ``JobRunner`` when they start (a thread-pool initializer), so ``run_scheduled_job``
finds the right runner even with two workers in one process, as in the tests.

A job never raises: an error is logged with its job and board and the next job runs as usual, so one broken
board cannot stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from bot.connectors.errors import ConnectorError
from bot.logs import log_context
from bot.scheduler.jobs import CHECK, DIGEST, SLOTTED_KINDS, SYNC, JobBodies
from bot.scheduler.planner import job_id
from bot.store.models import utcnow

log = logging.getLogger("flowcoach.scheduler")
MAX_FIRE_TIMES_SCANNED = 100_000  # a guard against a pathological trigger, far above any real lookback

_bound = threading.local()


class JobRunner:
    """Runs one job of one board for a worker, with the checks that keep a slot from running twice."""

    def __init__(
        self,
        bodies: JobBodies,
        *,
        trigger_of: Callable[[str], BaseTrigger | None],
        holds_lease: Callable[[], bool],
        lookback_s: float,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._bodies = bodies
        self._trigger_of = trigger_of
        self._holds_lease = holds_lease
        self._lookback = dt.timedelta(seconds=lookback_s)
        self._clock = clock
        self._running = 0
        self._accepting = False
        self._idle = threading.Condition()

    def bind(self) -> None:
        """Make this runner the one ``run_scheduled_job`` uses on the calling thread."""
        _bound.runner = self

    def run(self, kind: str, board_id: int) -> None:
        context: dict[str, Any] = {"job": kind, "board_id": board_id}
        started = time.perf_counter()
        with self._idle:
            if not self._accepting:  # queued before the scheduler stopped: this worker may not lead now
                log.info("job=%s board=%s skipped: the scheduler has stopped", kind, board_id, extra=context)
                return
            self._running += 1
        try:
            with log_context(job=kind, board_id=board_id):  # on every line the job's code logs, too
                outcome = self._run(kind, board_id, context)
        except ConnectorError as error:  # the source's fault, already explained: no traceback
            log.warning("job=%s board=%s failed: %s", kind, board_id, error, extra=context)
        except Exception:
            log.exception("job=%s board=%s failed", kind, board_id, extra=context)
        else:
            seconds = time.perf_counter() - started
            log.info("job=%s board=%s %s in %.2f s", kind, board_id, outcome, seconds, extra=context)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def accept(self) -> None:
        """Run the jobs handed over from now on (the worker leads)."""
        with self._idle:
            self._accepting = True

    def refuse(self, timeout: float = 0.0) -> int:
        """Skip jobs handed over from now; wait up to ``timeout`` s for running ones; how many still run?"""
        with self._idle:
            self._accepting = False
            self._idle.wait_for(lambda: self._running == 0, timeout)
            return self._running

    def _run(self, kind: str, board_id: int, context: dict[str, Any]) -> str:
        if kind == SYNC:
            self._bodies.sync(board_id)  # checks the fresh data itself: one sync, one check
            return "synced and checked"
        if kind == CHECK:
            self._bodies.check(board_id, self._clock())
            return "checked"
        if kind in SLOTTED_KINDS:
            return self._run_slot(kind, board_id, context)
        raise ValueError(f"unknown job kind {kind!r}")

    def _run_slot(self, kind: str, board_id: int, context: dict[str, Any]) -> str:
        trigger = self._trigger_of(job_id(kind, board_id))
        slot = scheduled_slot(trigger, self._clock(), self._lookback) if trigger is not None else None
        if slot is None:
            return "skipped (no scheduled time it could be for)"
        context["slot"] = slot
        # The lease could have expired while this run waited for a thread; a standby may own the slot now.
        if not self._holds_lease():
            return f"skipped slot {slot} (this worker no longer holds the lease)"
        body = self._bodies.digest if kind == DIGEST else self._bodies.weekly_review
        body(board_id, slot)  # claims the slot before delivering it: a slot is delivered once
        return f"ran slot {slot}"


def run_scheduled_job(kind: str, board_id: int) -> None:
    """The job function stored with every job (by reference): run ``kind`` for ``board_id`` on this worker."""
    runner: JobRunner | None = getattr(_bound, "runner", None)
    if runner is None:
        log.error("job=%s board=%s: no worker on this thread; skipped", kind, board_id)
        return
    runner.run(kind, board_id)


def scheduled_slot(trigger: BaseTrigger, now: dt.datetime, lookback: dt.timedelta) -> str | None:
    """The run this job is for: the trigger's latest fire time at or before ``now``, as the slot's name.

    APScheduler does not tell a job which scheduled time it serves; it only runs a job within the misfire
    grace time of it. Scanning the trigger's fire times over that window finds it again, identically in
    every process, so the slot names the same run wherever it is computed.
    """
    latest: dt.datetime | None = None
    fire = trigger.get_next_fire_time(None, now - lookback)
    for _ in range(MAX_FIRE_TIMES_SCANNED):
        if fire is None or fire > now:
            break
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
    return latest.isoformat() if latest is not None else None
