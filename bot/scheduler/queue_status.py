"""What the jobs are doing: the queue (waiting, running, failed, workers), the slot ledger, the scheduler.

``flowcoach jobs`` prints this; operators watch queue depth, the age of the oldest waiting job and failures.
On SQLite there is no queue (jobs run on the scheduling worker's threads): only the ledger and the lease.
The queue is read straight from procrastinate's tables in one transaction; retrying and cancelling go
through procrastinate's own functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.lease import SCHEDULER_LEASE
from bot.scheduler.queue import QUEUE, STALLED_AFTER_S, TASK_PREFIX
from bot.store.models import Board, JobSlot, SchedulerLease, utcnow
from bot.store.nudge_outbox import count_waiting
from bot.store.slots import count_by_state, missed_since, open_slots

SLOT_DAYS = 7  # the ledger summary covers this many days
FAILED_HOURS = 24


@dataclass(frozen=True)
class JobLine:
    """One job of the queue, as listed: failed ones to retry, running ones to watch."""

    id: int
    kind: str
    board_id: int | None
    board: str | None
    slot: str | None
    attempts: int
    at: dt.datetime | None  # when it failed, or started


@dataclass(frozen=True)
class SlotLine:
    kind: str
    board_id: int
    board: str | None
    slot: str
    state: str
    note: str | None


@dataclass(frozen=True)
class JobsStatus:
    now: dt.datetime
    on_queue: bool
    waiting: dict[str, int] = field(default_factory=dict)  # kind → jobs ready to run
    retrying: int = 0  # failed jobs waiting to be tried again later
    oldest_waiting_s: float | None = None
    running: tuple[JobLine, ...] = ()
    failed: tuple[JobLine, ...] = ()  # in the last FAILED_HOURS
    workers: int = 0  # with a heartbeat in the last STALLED_AFTER_S
    stalled_workers: int = 0
    slots: dict[str, int] = field(default_factory=dict)  # state → slots due in the last SLOT_DAYS
    late: int = 0
    missed: tuple[SlotLine, ...] = ()
    open: tuple[SlotLine, ...] = ()  # due or taken now
    scheduler: str | None = None
    scheduler_renewed_at: dt.datetime | None = None
    nudges_waiting: int = 0  # in the coach's outbox, Slack not having taken them yet
    oldest_nudge_at: dt.datetime | None = None


def jobs_status(
    sessions: sessionmaker[Session], *, on_queue: bool, now: dt.datetime | None = None
) -> JobsStatus:
    now = now or utcnow()
    since = now - dt.timedelta(days=SLOT_DAYS)
    with sessions() as session:
        names = {board_id: name for board_id, name in session.execute(select(Board.id, Board.name))}  # noqa: C416
        lease = session.get(SchedulerLease, SCHEDULER_LEASE)
        late = session.scalar(
            select(func.count()).where(JobSlot.late_by_s.is_not(None), JobSlot.due_at >= since)
        )
        queue = _queue(session, now, names) if on_queue else {}
    held = lease is not None and lease.expires_at >= now
    nudges_waiting, oldest_nudge_at = count_waiting(sessions)

    def line(row: Any) -> SlotLine:
        return SlotLine(row.kind, row.board_id, names.get(row.board_id), row.slot, row.state, row.note)

    return JobsStatus(
        now=now,
        on_queue=on_queue,
        slots=count_by_state(sessions, since),
        late=int(late or 0),
        missed=tuple(line(row) for row in missed_since(sessions, since)),
        open=tuple(line(row) for row in open_slots(sessions, limit=20)),
        scheduler=lease.holder if held and lease is not None else None,
        scheduler_renewed_at=lease.renewed_at if held and lease is not None else None,
        nudges_waiting=nudges_waiting,
        oldest_nudge_at=oldest_nudge_at,
        **queue,
    )


def _queue(session: Session, now: dt.datetime, names: dict[int, str]) -> dict[str, Any]:
    params = {"queue": QUEUE, "now": now}
    waiting: dict[str, int] = {}
    retrying = 0
    for task, later, count in session.execute(
        text(
            "SELECT task_name, coalesce(scheduled_at > :now, false), count(*) FROM procrastinate_jobs "
            "WHERE queue_name = :queue AND status = 'todo' GROUP BY 1, 2"
        ),
        params,
    ):
        if later:
            retrying += int(count)
        else:
            kind = str(task).removeprefix(TASK_PREFIX)
            waiting[kind] = waiting.get(kind, 0) + int(count)
    oldest = session.execute(
        text(
            "SELECT min(greatest(e.at, j.scheduled_at)) FROM procrastinate_jobs j "
            "JOIN procrastinate_events e ON e.job_id = j.id AND e.type IN ('deferred', 'retried') "
            "WHERE j.queue_name = :queue AND j.status = 'todo' "
            "AND (j.scheduled_at IS NULL OR j.scheduled_at <= :now)"
        ),
        params,
    ).scalar_one()
    running = _jobs(session, "doing", "started", names, params)
    failed = _jobs(
        session, "failed", "failed", names, params | {"since": now - dt.timedelta(hours=FAILED_HOURS)}
    )
    alive, stalled = session.execute(
        text(
            "SELECT count(*) FILTER (WHERE last_heartbeat >= :now - make_interval(secs => :stalled)), "
            "count(*) FILTER (WHERE last_heartbeat < :now - make_interval(secs => :stalled)) "
            "FROM procrastinate_workers"
        ),
        {"now": now, "stalled": STALLED_AFTER_S},
    ).one()
    return {
        "waiting": waiting,
        "retrying": retrying,
        "oldest_waiting_s": (now - oldest).total_seconds() if oldest is not None else None,
        "running": running,
        "failed": failed,
        "workers": int(alive),
        "stalled_workers": int(stalled),
    }


def _jobs(
    session: Session, status: str, event: str, names: dict[int, str], params: dict[str, Any]
) -> tuple[JobLine, ...]:
    rows = session.execute(
        text(
            "SELECT j.id, j.task_name, j.args, j.attempts, max(e.at) AS at FROM procrastinate_jobs j "
            "LEFT JOIN procrastinate_events e "
            "ON e.job_id = j.id AND e.type = CAST(:event AS procrastinate_job_event_type) "
            "WHERE j.queue_name = :queue AND j.status = CAST(:status AS procrastinate_job_status) "
            "GROUP BY j.id HAVING CAST(:since AS timestamptz) IS NULL OR max(e.at) >= :since "
            "ORDER BY at DESC NULLS LAST LIMIT 50"
        ),
        {"queue": params["queue"], "since": params.get("since"), "status": status, "event": event},
    )
    lines = []
    for row in rows:
        args = row.args or {}
        board_id = args.get("board_id")
        lines.append(
            JobLine(
                id=int(row.id),
                kind=str(row.task_name).removeprefix(TASK_PREFIX),
                board_id=board_id,
                board=names.get(board_id) if isinstance(board_id, int) else None,
                slot=args.get("slot"),
                attempts=int(row.attempts),
                at=row.at,
            )
        )
    return tuple(lines)


class JobNotFound(Exception):
    """No job with that id can be retried or cancelled (it finished, or never existed)."""


def retry_job(database_url: str, job_id: int) -> None:
    """Put a failed (or stuck running) job back in the queue, to run now."""
    with _app(database_url) as app:
        try:
            app.job_manager.retry_job_by_id(job_id=job_id, retry_at=utcnow())
        except Exception as error:
            raise JobNotFound(
                _reason(error, job_id, "retried: only a failed or running job can be")
            ) from None


def cancel_job(database_url: str, job_id: int) -> None:
    """Cancel a waiting job (it will not run); a running one is asked to stop."""
    with _app(database_url) as app:
        try:
            found = app.job_manager.cancel_job_by_id(job_id=job_id, abort=True)
        except Exception as error:
            raise JobNotFound(_reason(error, job_id, "cancelled")) from None
        if not found:
            raise JobNotFound(f"job {job_id} cannot be cancelled: it is not waiting or running")


def _reason(error: Exception, job_id: int, what: str) -> str:
    if "queueing_lock" in str(getattr(error, "constraint_name", "") or ""):
        return f"job {job_id} cannot be retried: the same job is waiting already"
    return f"job {job_id} cannot be {what}"


def _app(database_url: str) -> Any:
    from bot.scheduler.queue import build_app

    return build_app(database_url, sync=True).open()  # closed by the `with` that uses it
