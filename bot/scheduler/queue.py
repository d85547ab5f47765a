"""The job queue on PostgreSQL (procrastinate): what the scheduler defers and every worker process runs.

Each due job becomes a procrastinate job of task ``flowcoach.<kind>`` with two locks: a *queueing lock*
per kind and board (one such job waits at a time, so late runs never pile up) and a *lock* per board (one
job of a board runs at a time, so its sync and check never overlap). Any number of ``flowcoach worker``
processes, on any machines, run them; a worker that dies mid-job leaves it ``doing`` with a silent
heartbeat, and the scheduling worker hands such stalled jobs back to the queue (``retry_stalled_jobs``).
A digest or review is delivered once whatever runs it how often: its job takes the slot in the ledger
(``bot/store/slots.py``) before delivering, as the attempt ``job:<id>/<attempt>``.

procrastinate and psycopg load only here and only when PostgreSQL is the database: SQLite runs the same job
functions in-process (``inprocess.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import make_url

from bot.scheduler.execution import run_logged
from bot.scheduler.jobs import CHECK, DIGEST, JOB_KINDS, SLOTTED_KINDS, SYNC, WEEKLY_REVIEW, DueJob, JobBodies

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger("flowcoach.scheduler")
QUEUE: Final = "flowcoach"
TASK_PREFIX: Final = "flowcoach."
# A worker renews its heartbeat every 10 s; one silent for a minute is taken as dead. Well above the pauses
# a busy worker shows (its heartbeat shares the interpreter with the coach's computing threads).
STALLED_AFTER_S: Final = 60.0
HEARTBEAT_S: Final = 10.0
# A failed digest or review (Slack refused it, nothing was posted) is tried again 4 more times, after
# 30 s, 1, 2 and 4 min; a sync or check is not: the next one comes round within minutes.
SLOT_ATTEMPTS: Final = 5
SLOT_RETRY_WAIT_S: Final = 30


def task_name(kind: str) -> str:
    return TASK_PREFIX + kind


def uses_queue(database_url: str) -> bool:
    """Whether jobs go through the queue (PostgreSQL) rather than run in-process (SQLite)."""
    return make_url(database_url).get_backend_name() == "postgresql"


def conninfo(database_url: str) -> str:
    """libpq's form of a SQLAlchemy URL (``postgresql+psycopg://…`` → ``postgresql://…``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


BODIES: Final = "flowcoach_bodies"  # the key of the worker's job functions in each job's context


class JobFailed(Exception):
    """A job's body failed; what and why is in the log line written just before."""


def _run_task(kind: str, context: Any, board_id: int, slot: str | None = None) -> None:
    bodies: JobBodies = context.additional_context[BODIES]
    job = context.job
    if not run_logged(bodies, DueJob(kind, board_id, slot), f"job:{job.id}/{job.attempts}"):
        raise JobFailed(f"{kind} of board {board_id} failed")


def build_app(database_url: str, *, sync: bool = False) -> procrastinate.App:
    """The procrastinate app of this deployment: its four tasks, on an async (worker) or sync connector."""
    import procrastinate

    connector: Any = (
        procrastinate.SyncPsycopgConnector(conninfo=conninfo(database_url))
        if sync
        else procrastinate.PsycopgConnector(conninfo=conninfo(database_url))
    )
    app = procrastinate.App(connector=connector)
    slot_retry = procrastinate.RetryStrategy(
        max_attempts=SLOT_ATTEMPTS - 1, exponential_wait=SLOT_RETRY_WAIT_S, retry_exceptions={JobFailed}
    )
    for kind in JOB_KINDS:

        def task(context: Any, board_id: int, slot: str | None = None, _kind: str = kind) -> None:
            _run_task(_kind, context, board_id, slot)

        app.task(
            name=task_name(kind),
            queue=QUEUE,
            pass_context=True,
            retry=slot_retry if kind in SLOTTED_KINDS else False,
        )(task)
    return app


class QueueDispatcher:
    """Defers due jobs to the queue, in batches; a job of the same kind and board still waiting wins."""

    def __init__(self, database_url: str) -> None:
        self._app = build_app(database_url, sync=True)
        self._app.open()
        self._lock = threading.Lock()

    def dispatch(self, jobs: Sequence[DueJob]) -> None:
        from procrastinate.exceptions import AlreadyEnqueued

        with self._lock:
            try:
                self._app.job_manager.batch_defer_jobs(jobs=[_queued(job) for job in jobs])
                return
            except AlreadyEnqueued:
                pass  # some are still waiting from before: defer one at a time, skipping those
            for job in jobs:
                try:
                    self._app.job_manager.defer_job(job=_queued(job))
                except AlreadyEnqueued:
                    log.info("job=%s board=%s is waiting already; not queued again", job.kind, job.board_id)

    def retry_stalled_jobs(self, stalled_after_s: float = STALLED_AFTER_S) -> int:
        """Put the jobs of workers silent for ``stalled_after_s`` back in the queue; how many."""
        from procrastinate import sql
        from procrastinate.exceptions import UniqueViolation

        with self._lock:
            connector = self._app.connector.get_sync_connector()
            rows = connector.execute_query_all(
                query=sql.queries["select_stalled_jobs_by_heartbeat"],
                queue=QUEUE,
                task_name=None,
                seconds_since_heartbeat=stalled_after_s,
            )
            for row in rows:
                try:
                    self._app.job_manager.retry_job_by_id(job_id=row["id"], retry_at=dt.datetime.now(dt.UTC))
                except UniqueViolation:
                    # The same job (kind and board, or slot) is waiting already: that one will do. This one
                    # is ended, or its board's lock would stay held by a dead worker.
                    connector.execute_query(
                        query=sql.queries["finish_job"], job_id=row["id"], status="failed", delete_job=False
                    )
                    log.warning("job %s (%s) stalled; the same job waits: ended", row["id"], row["task_name"])
                else:
                    log.warning(
                        "job %s (%s) stalled: its worker stopped; queued again", row["id"], row["task_name"]
                    )
        return len(rows)

    def close(self, timeout: float) -> int:
        with self._lock:
            self._app.close()
        return 0  # nothing runs here: the workers run the jobs


def _queued(job: DueJob) -> Any:
    from procrastinate.jobs import Job

    return Job(
        id=None,
        queue=QUEUE,
        lock=job.board_lock,
        queueing_lock=job.queueing_lock,
        task_name=task_name(job.kind),
        task_kwargs={"board_id": job.board_id} | ({"slot": job.slot} if job.slot is not None else {}),
        # Digests before syncs: a due digest is a promise to a channel; a sync comes round again.
        priority=_PRIORITY[job.kind],
    )


_PRIORITY: Final = {DIGEST: 20, WEEKLY_REVIEW: 20, CHECK: 10, SYNC: 0}


@dataclass(frozen=True)
class QueueWorkerOptions:
    concurrency: int = 4
    name: str = "flowcoach"
    shutdown_timeout_s: float = 20.0
    heartbeat_s: float = HEARTBEAT_S
    stalled_after_s: float = STALLED_AFTER_S
    poll_s: float = 5.0  # besides LISTEN/NOTIFY, which wakes a worker at once when a job is deferred


class QueueWorker:
    """A procrastinate worker on a thread of its own (with its own event loop), running ``bodies``."""

    def __init__(
        self, database_url: str, bodies: JobBodies, options: QueueWorkerOptions | None = None
    ) -> None:
        self._bodies = bodies
        self._url = database_url
        self._options = options or QueueWorkerOptions()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="flowcoach-queue-worker", daemon=True)

    def start(self) -> QueueWorker:
        self._thread.start()
        self._started.wait(30)
        return self

    def _run(self) -> None:
        options = self._options

        async def work() -> None:
            app = build_app(self._url)
            async with app.open_async():
                self._task = asyncio.current_task()
                self._loop = asyncio.get_running_loop()
                self._started.set()
                await app.run_worker_async(
                    queues=[QUEUE],
                    name=options.name,
                    concurrency=options.concurrency,
                    install_signal_handlers=False,
                    shutdown_graceful_timeout=options.shutdown_timeout_s,
                    update_heartbeat_interval=options.heartbeat_s,
                    stalled_worker_timeout=options.stalled_after_s,
                    fetch_job_polling_interval=options.poll_s,
                    delete_jobs="successful",  # finished jobs leave the table; failed ones stay to be seen
                    additional_context={BODIES: self._bodies},
                )

        try:
            asyncio.run(work())
        except asyncio.CancelledError:
            pass
        except BaseException as error:
            self._error = error
            log.exception("the job queue worker stopped with an error")
        finally:
            self._started.set()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish running jobs (up to the shutdown timeout), then stop."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)
