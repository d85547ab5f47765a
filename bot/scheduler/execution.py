"""Running one ``DueJob`` with its bodies: the same function for the in-process runner and the job queue.

``run_job`` raises what the body raised (the queue retries it); ``run_logged`` logs it with the job and board
and returns, so one broken board never stops the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.connectors.errors import ConnectorError
from bot.logs import log_context
from bot.scheduler.jobs import CHECK, DIGEST, SYNC, WEEKLY_REVIEW, DueJob, JobBodies
from bot.store.models import utcnow

log = logging.getLogger("flowcoach.scheduler")


def run_job(
    bodies: JobBodies, job: DueJob, holder: str, clock: Callable[[], dt.datetime] = utcnow
) -> str:
    """Run ``job`` now; what was done, in words for the log."""
    if job.kind == SYNC:
        bodies.sync(job.board_id)  # checks the fresh data itself: one sync, one check
        return "synced and checked"
    if job.kind == CHECK:
        bodies.check(job.board_id, clock())
        return "checked"
    if job.kind in (DIGEST, WEEKLY_REVIEW) and job.slot is not None:
        body = bodies.digest if job.kind == DIGEST else bodies.weekly_review
        body(job.board_id, job.slot, holder)
        return f"ran slot {job.slot}"
    raise ValueError(f"cannot run {job}")


def run_logged(bodies: JobBodies, job: DueJob, holder: str) -> bool:
    """``run_job`` with its outcome logged (never raises); True when the job ran without an error."""
    context: dict[str, Any] = {"job": job.kind, "board_id": job.board_id}
    if job.slot is not None:
        context["slot"] = job.slot
    started = time.perf_counter()
    try:
        with log_context(**context):  # on every line the job's code logs, too
            outcome = run_job(bodies, job, holder)
    except ConnectorError as error:  # the source's fault, already explained: no traceback
        log.warning("job=%s board=%s failed: %s", job.kind, job.board_id, error, extra=context)
        return False
    except Exception:
        log.exception("job=%s board=%s failed", job.kind, job.board_id, extra=context)
        return False
    seconds = time.perf_counter() - started
    log.info("job=%s board=%s %s in %.2f s", job.kind, job.board_id, outcome, seconds, extra=context)
    return True
