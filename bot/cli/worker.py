"""``flowcoach worker`` (the scheduler as a process) and ``flowcoach serve --with-worker`` (as a thread).

With ``--with-worker`` the worker thread lives in the process that runs ``flowcoach serve``: under gunicorn
that is the master (the arbiter), never a forked HTTP worker, because gunicorn forks its workers from the
master and a fork copies only the calling thread. Forked children also inherit the worker's pooled database
connections, so those pools are forgotten (not closed) in every child: closing them there would close the
master's connections. Gunicorn forks again whenever it replaces a worker, so this holds for its lifetime.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the scheduler (APScheduler), the store and the settings load when a worker runs
    from sqlalchemy.orm import Session, sessionmaker

    from bot.config import Settings
    from bot.scheduler.dispatch import Dispatcher
    from bot.scheduler.jobs import JobBodies
    from bot.scheduler.queue import QueueWorkerOptions
    from bot.scheduler.worker import WorkerOptions

log = logging.getLogger("flowcoach.scheduler")
STOP_TIMEOUT_S = 10.0


def add_worker_command(commands: Any, common: argparse.ArgumentParser) -> None:
    worker = commands.add_parser(
        "worker",
        parents=[common],
        help="the scheduler: syncs, checks, digests and weekly reviews of every board",
        description="Run jobs and the scheduler in the foreground until SIGTERM or SIGINT. Run as many "
        "workers as you need: on PostgreSQL every worker runs jobs from the shared queue "
        "(FLOWCOACH_WORKER_CONCURRENCY at a time), and one of them also schedules (it holds a lease in the "
        "database; the others stand by to take over). On SQLite the scheduling worker runs the jobs itself.",
    )
    worker.set_defaults(handler=run_worker_command)


def default_bodies(sessions: sessionmaker[Session], settings: Settings) -> JobBodies:
    """The job functions a worker runs, speaking in Slack with each board's workspace bot."""
    from bot.services.jobs import BoardJobs
    from bot.slack.notifier import SlackNotifier
    from bot.slack.runtime import settings_key

    return BoardJobs(
        sessions,
        SlackNotifier(settings, sessions),
        secret_key=settings_key(settings, sessions.kw["bind"]),
        slack_http=settings.slack_tracker_http,
    )


def run_worker_command(args: argparse.Namespace, out: TextIO) -> int:
    from bot.config import load_settings
    from bot.scheduler.worker import WorkerOptions
    from bot.store.db import open_database

    settings = load_settings()
    configure_logging(settings)
    store = open_database(settings.database_url)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGTERM, signal.SIGINT)}
    options = WorkerOptions()
    try:
        with scheduling(store.sessions, settings, options) as how:
            out.write(f"flowcoach: worker {options.holder} running ({how}); stop it with Ctrl-C or SIGTERM\n")
            out.flush()
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.engine.dispose()
    out.write("flowcoach: worker stopped\n")
    return 0


@contextmanager
def scheduling(
    sessions: sessionmaker[Session],
    settings: Settings,
    options: WorkerOptions,
    *,
    bodies: JobBodies | None = None,
    queue_options: QueueWorkerOptions | None = None,
) -> Iterator[str]:
    """Run jobs and (while holding the lease) the scheduler, in threads, until the block ends.

    On PostgreSQL jobs go through the queue, and this process also runs a queue worker; on SQLite they run
    on this process's threads. Leaving the block stops scheduling (lease released) and lets running jobs
    finish for a while.
    """
    from bot.scheduler.inprocess import InProcessDispatcher
    from bot.scheduler.queue import QueueDispatcher, QueueWorker, QueueWorkerOptions, uses_queue
    from bot.scheduler.worker import run_worker

    bodies = bodies or default_bodies(sessions, settings)
    queue_worker: QueueWorker | None = None
    dispatcher: Dispatcher
    if uses_queue(settings.database_url):
        dispatcher = QueueDispatcher(settings.database_url)
        queue_options = queue_options or QueueWorkerOptions(
            concurrency=settings.worker_concurrency, name=options.holder
        )
        queue_worker = QueueWorker(settings.database_url, bodies, queue_options).start()
        how = f"jobs from the queue, {settings.worker_concurrency} at a time"
    else:
        dispatcher = InProcessDispatcher(bodies, holder=options.holder)
        how = "jobs in this process"
    halt = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(sessions, dispatcher),
        kwargs={"stop": halt, "options": options},
        name="flowcoach-scheduler",
        daemon=True,  # never keeps the process alive on its own; the finally below stops it cleanly
    )
    thread.start()
    try:
        yield how
    finally:
        halt.set()
        thread.join(STOP_TIMEOUT_S)
        if queue_worker is not None:
            queue_worker.stop(STOP_TIMEOUT_S + 10)
        if still := dispatcher.close(STOP_TIMEOUT_S):
            log.warning("stopped with %d jobs still running", still)


def serve_with_worker(
    args: argparse.Namespace, out: TextIO, serve: Callable[[argparse.Namespace, TextIO], int]
) -> int:
    """Run ``serve`` with a worker beside it, stopping the worker (lease released) afterwards.

    On SQLite the worker runs in threads of this process. On PostgreSQL it is a ``flowcoach worker`` child
    process: its job queue holds psycopg connections, which gunicorn's forked HTTP workers would inherit
    and, on exiting, close for the parent too (psycopg has no way to forget a connection unclosed, as
    SQLAlchemy's pools do).
    """
    from bot.config import load_settings
    from bot.scheduler.queue import uses_queue
    from bot.scheduler.worker import WorkerOptions, forget_in_forked_children
    from bot.slack.serve import check_settings
    from bot.store.db import open_database

    settings = load_settings()
    check_settings(settings)  # a configuration error should stop serve before a worker ever starts
    configure_logging(settings)
    if uses_queue(settings.database_url):
        return _serve_beside_worker_process(args, out, serve)
    store = open_database(settings.database_url)
    forget_in_forked_children(store.engine)
    try:
        with scheduling(store.sessions, settings, WorkerOptions()):
            return serve(args, out)
    finally:
        store.engine.dispose()


def _serve_beside_worker_process(
    args: argparse.Namespace, out: TextIO, serve: Callable[[argparse.Namespace, TextIO], int]
) -> int:
    import subprocess
    import sys

    worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"])  # same environment and output
    try:
        return serve(args, out)
    finally:
        worker.terminate()  # SIGTERM: it finishes its running jobs and releases the lease
        try:
            worker.wait(STOP_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


def _setter(stop: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    return handle


def configure_logging(settings: Settings) -> None:
    from bot.logs import configure_logging as configure

    configure(settings.log_level, settings.log_format)
