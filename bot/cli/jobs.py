"""``flowcoach jobs``: what the workers are doing, and retrying or cancelling one job of the queue."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the store and the scheduler load when the command runs, not for --help
    from bot.scheduler.queue_status import JobLine, JobsStatus


def add_jobs_command(commands: Any, common: argparse.ArgumentParser) -> None:
    from bot.cli import arguments

    jobs = commands.add_parser(
        "jobs",
        parents=[common],
        help="what the workers are doing: queue depth, oldest waiting job, failures, missed digests",
        description="Show the job queue (PostgreSQL): jobs waiting by kind and the age of the oldest, jobs "
        "running, jobs failed in the last 24 hours, live workers; and on every database the digests and "
        "reviews of the last 7 days (delivered, late, missed) and which worker schedules. "
        "`flowcoach jobs retry ID` runs a failed or stuck job again; `flowcoach jobs cancel ID` cancels one.",
    )
    jobs.add_argument("--format", choices=("text", "json"), default="text", help="default text")
    jobs.set_defaults(handler=run_jobs_status)
    actions = jobs.add_subparsers(metavar="ACTION", required=False)
    retry = actions.add_parser("retry", parents=[common], help="run a failed or stuck job again, now")
    retry.add_argument(
        "job_id", type=arguments.positive, metavar="ID", help="the job's number (flowcoach jobs)"
    )
    retry.set_defaults(handler=run_retry)
    cancel = actions.add_parser("cancel", parents=[common], help="cancel a waiting job (a running one stops)")
    cancel.add_argument(
        "job_id", type=arguments.positive, metavar="ID", help="the job's number (flowcoach jobs)"
    )
    cancel.set_defaults(handler=run_cancel)


def run_jobs_status(args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.database import open_store
    from bot.config import load_settings
    from bot.scheduler.queue import uses_queue
    from bot.scheduler.queue_status import jobs_status

    on_queue = uses_queue(load_settings().database_url)
    with open_store() as sessions:
        status = jobs_status(sessions, on_queue=on_queue)
    if args.format == "json":
        json.dump(asdict(status), out, indent=2, default=str)
        out.write("\n")
    else:
        out.write(status_text(status))
    return 0


def run_retry(args: argparse.Namespace, out: TextIO) -> int:
    return _act(args, out, "retry")


def run_cancel(args: argparse.Namespace, out: TextIO) -> int:
    return _act(args, out, "cancel")


def _act(args: argparse.Namespace, out: TextIO, action: str) -> int:
    from bot.config import load_settings
    from bot.errors import FlowcoachError
    from bot.scheduler.queue import uses_queue
    from bot.scheduler.queue_status import JobNotFound, cancel_job, retry_job

    url = load_settings().database_url
    if not uses_queue(url):
        raise FlowcoachError(
            "there is no job queue on SQLite: jobs run in the worker's process (PostgreSQL has the queue)"
        )
    try:
        (retry_job if action == "retry" else cancel_job)(url, args.job_id)
    except JobNotFound as error:
        raise FlowcoachError(str(error)) from None
    done = "queued to run again now" if action == "retry" else "cancelled"
    out.write(f"flowcoach: job {args.job_id} {done}\n")
    return 0


def status_text(status: JobsStatus) -> str:
    from bot.formatting import ago, count_of

    now = status.now
    lines: list[str] = []
    if status.on_queue:
        waiting = sum(status.waiting.values())
        oldest = f", the oldest for {_duration(status.oldest_waiting_s)}" if status.oldest_waiting_s else ""
        by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(status.waiting.items()))
        lines.append(
            f"Queue: {count_of(waiting, 'job')} waiting{oldest}" + (f" ({by_kind})" if by_kind else "")
        )
        if status.retrying:
            lines.append(f"  {count_of(status.retrying, 'failed job')} to be tried again shortly")
        lines.append(f"Running: {len(status.running)}")
        lines += [f"  {_job(job)}, started {ago(job.at, now)}" for job in status.running[:10] if job.at]
        workers = f"Workers: {status.workers} alive"
        if status.stalled_workers:
            workers += f", {status.stalled_workers} silent (their running jobs are queued again)"
        lines.append(workers)
        lines.append(f"Failed in the last 24 h: {len(status.failed)}")
        lines += [
            f"  #{job.id} {_job(job)}, {count_of(job.attempts + 1, 'attempt')}"
            + (f", failed {ago(job.at, now)}" if job.at else "")
            for job in status.failed[:10]
        ]
        if status.failed:
            lines.append(f"  run one again: flowcoach jobs retry {status.failed[0].id}")
    else:
        lines.append("Jobs run in the scheduling worker's process (SQLite): there is no queue.")
    slots = status.slots
    lines.append(
        "Digests and reviews, last 7 days: "
        f"{slots.get('delivered', 0)} delivered ({status.late} late), {slots.get('missed', 0)} missed, "
        f"{slots.get('due', 0) + slots.get('taken', 0)} under way"
    )
    lines += [f"  missed: {_slot(slot)}: {slot.note or 'no reason recorded'}" for slot in status.missed[:10]]
    lines += [f"  under way: {_slot(slot)} ({slot.state})" for slot in status.open[:10]]
    nudges = f"Nudges waiting for Slack: {status.nudges_waiting}"
    if status.oldest_nudge_at is not None:
        nudges += f", the oldest decided {ago(status.oldest_nudge_at, now)} (sent at the board's next check)"
    lines.append(nudges)
    if status.scheduler is None:
        lines.append("Scheduler: no worker holds the lease; start `flowcoach worker` (nothing is scheduled)")
    else:
        renewed = f", renewed {ago(status.scheduler_renewed_at, now)}" if status.scheduler_renewed_at else ""
        lines.append(f"Scheduler: {status.scheduler}{renewed}")
    return "\n".join(lines) + "\n"


def _job(job: JobLine) -> str:
    board = f"'{job.board}'" if job.board else f"board {job.board_id}"
    slot = f" due {job.slot[:16].replace('T', ' ')}" if job.slot else ""
    return f"{job.kind.replace('_', ' ')} of {board}{slot}"


def _slot(slot: Any) -> str:
    board = f"'{slot.board}'" if slot.board else f"board {slot.board_id}"
    return f"{slot.kind.replace('_', ' ')} of {board} due {slot.slot[:16].replace('T', ' ')}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
