"""``flowcoach worker`` (the scheduler as a process) and ``flowcoach serve --with-worker`` (as a thread).

With ``--with-worker`` the worker thread lives in the process that runs ``flowcoach serve``: under gunicorn
that is the master (the arbiter), never a forked HTTP worker, because gunicorn forks its workers from the
master and a fork copies only the calling thread. Forked children also inherit the worker's pooled database
connections, so those pools are forgotten (not closed) in every child: closing them there would close the
master's connections. Gunicorn forks again whenever it replaces a worker, so this holds for its lifetime.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings, load_settings
from bot.errors import FlowcoachError
from bot.store.db import SchemaOutOfDate, ensure_schema, make_engine, session_factory

if TYPE_CHECKING:  # the scheduler's modules load APScheduler: only when a worker runs, not for --help
    from bot.scheduler.jobs import JobBodies

log = logging.getLogger("flowcoach.scheduler")
STOP_TIMEOUT_S = 10.0
CONTEXT_FIELDS = ("job", "board_id", "slot")


def add_worker_command(commands: Any, common: argparse.ArgumentParser) -> None:
    worker = commands.add_parser(
        "worker",
        parents=[common],
        help="the scheduler: syncs, checks, digests and weekly reviews of every board",
        description="Run the scheduler in the foreground until SIGTERM or SIGINT. Several workers may run: "
        "one schedules (it holds a lease in the database) and the others stand by to take over.",
    )
    worker.set_defaults(handler=run_worker_command)


@dataclass(frozen=True)
class WorkerStore:
    engine: Engine
    sessions: sessionmaker[Session]


def default_bodies(sessions: sessionmaker[Session], settings: Settings) -> JobBodies:
    """The bodies a worker process runs: the real sync followed by the coach's check, digests, reviews."""
    from bot.coach.jobs import CoachedBodies

    return CoachedBodies(settings, sessions)


def run_worker_command(args: argparse.Namespace, out: TextIO) -> int:
    from bot.scheduler.worker import WorkerOptions, run_worker

    settings = load_settings()
    configure_logging(settings)
    store = open_worker_store(settings)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _setter(stop)) for sig in (signal.SIGTERM, signal.SIGINT)}
    options = WorkerOptions()
    try:
        out.write(f"flowcoach: worker {options.holder} running; stop it with Ctrl-C or SIGTERM\n")
        out.flush()
        run_worker(store, default_bodies(store.sessions, settings), stop=stop, options=options)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.engine.dispose()
    out.write("flowcoach: worker stopped\n")
    return 0


def serve_with_worker(
    args: argparse.Namespace, out: TextIO, serve: Callable[[argparse.Namespace, TextIO], int]
) -> int:
    """Run ``serve`` with the worker in a thread of this process, stopping it (lease released) afterwards."""
    from bot.scheduler.worker import forget_in_forked_children, run_worker
    from bot.slack.serve import check_settings

    settings = load_settings()
    check_settings(settings)  # a configuration error should stop serve before a worker ever starts
    configure_logging(settings)
    store = open_worker_store(settings)
    forget_in_forked_children(store.engine)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(store, default_bodies(store.sessions, settings)),
        kwargs={"stop": stop},
        name="flowcoach-worker",
        daemon=True,  # never keeps the process alive on its own; the finally below stops it cleanly
    )
    thread.start()
    try:
        return serve(args, out)
    finally:
        stop.set()
        thread.join(STOP_TIMEOUT_S)
        store.engine.dispose()


def open_worker_store(settings: Settings) -> WorkerStore:
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
    except SchemaOutOfDate as behind:
        engine.dispose()
        raise FlowcoachError(str(behind)) from None
    return WorkerStore(engine, session_factory(engine))


def _setter(stop: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    return handle


def configure_logging(settings: Settings) -> None:
    """Log to stderr at ``LOG_LEVEL``, as text or (``LOG_FORMAT=json``) one JSON object per line."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        raise FlowcoachError(f"LOG_LEVEL: unknown level '{settings.log_level}' (use DEBUG, INFO, WARNING…)")
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Their INFO lines repeat ours ("Added job …") or say nothing an operator needs; DEBUG shows them.
    for chatty in ("apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING) if level > logging.DEBUG else level)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the job context (job, board_id, slot) as fields when present."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        document |= {name: getattr(record, name) for name in CONTEXT_FIELDS if hasattr(record, name)}
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)
