"""Benchmark the worker: many boards with their daily digests due at the same minute, posted to Slack.

Usage::

    python benchmarks/worker.py [--boards 1000] [--database-url URL] [--threads 8] [--coach-threads 4]
    python benchmarks/worker.py --postgres [--boards 2000] [--processes 1,2,4] [--concurrency 4]
                                [--defer-jobs 10000]

Every database gets the sample board, synced from its file, and ``--boards - 1`` copies of it (items, events
and sync state copied in SQL, each in a channel of its own), all with the digest at the same minute. Only the
digest jobs are planned (``WorkerOptions(triggers=…)``), so nothing else competes; the coach's digest body
runs as in production (take the slot, load events, compute, build Block Kit, post parent and thread). The
Slack Web API emulator runs in a child process and answers at once.

SQLite (the default): one worker in this process, as ``flowcoach worker`` runs it on SQLite (lease,
APScheduler handing due jobs to ``InProcessDispatcher``'s threads). Reports the time from the due minute to
the last message delivered, digests per second and the peak memory (max RSS) of this process.

``--postgres``: a throwaway PostgreSQL server (``tests/postgres.py``, or ``FLOWCOACH_TEST_POSTGRES_URL``)
and, for each count in ``--processes``, that many worker *processes* (this script re-run with
``--worker-process``: ``scheduling()`` of ``bot/cli/worker.py`` with digests only, each a procrastinate queue
worker of ``--concurrency`` jobs, one of them also the scheduler). Per count: the time from the due minute to
the last digest delivered, digests/s, the queue latency (``due_at`` → ``taken_at`` in ``job_slots``), when
the leader had handed the last one over, and the CPU seconds the workers, PostgreSQL and the emulator spent.
Then the scheduler's defer rate alone: ``hand_over`` of ``--defer-jobs`` digest slots to a
``QueueDispatcher`` against an empty queue, split into the slot ledger's part and procrastinate's.
Every process started (server, emulator, workers) is stopped at the end, on failure too.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from sqlalchemy import Engine, Table, func, insert, select, text  # noqa: E402

from bot.cli.worker import default_bodies  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.connectors.file import FileConnector, FileSettings  # noqa: E402
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH  # noqa: E402
from bot.scheduler.jobs import DIGEST, DueJob  # noqa: E402
from bot.scheduler.planner import BoardCalendar, PlannedTrigger, calendar_triggers  # noqa: E402
from bot.scheduler.worker import WorkerOptions, run_worker  # noqa: E402
from bot.services.sync import sync_board  # noqa: E402
from bot.store.board_settings import BoardSettings  # noqa: E402
from bot.store.boards import LOCAL_WORKSPACE, add_board, board_workflow  # noqa: E402
from bot.store.db import Store, make_engine, session_factory, upgrade  # noqa: E402
from bot.store.models import Board, Event, JobSlot, SyncRun, WorkItem  # noqa: E402

TEAM = "T0000TEAM1"
TOKEN = "xoxb-test-team1"
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SETUP_MARGIN_S = 20  # between the end of the set-up and the due minute: the worker starts and plans
PROCESS_MARGIN_S = 40  # the same for worker processes: start, import, take the lease, plan 2,000 boards
GIVE_UP_S = 900
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, help="boards (default: 1000 on SQLite, 2000 with --postgres)")
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--threads", type=int, default=8, help="SQLite: the worker's sync threads")
    parser.add_argument(
        "--coach-threads", type=int, default=4, help="SQLite: its check/digest/review threads"
    )
    parser.add_argument("--postgres", action="store_true", help="worker processes on the job queue")
    parser.add_argument("--processes", default="1,2,4", help="--postgres: worker process counts to run")
    parser.add_argument("--concurrency", type=int, default=4, help="FLOWCOACH_WORKER_CONCURRENCY")
    parser.add_argument("--defer-jobs", type=int, default=10_000, help="--postgres: 0 skips the defer rate")
    parser.add_argument("--worker-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_process:
        _worker_process()
        return
    args.boards = args.boards or (2000 if args.postgres else 1000)
    if args.postgres:
        _postgres_main(args)
    else:
        _sqlite_main(args)


# --- shared set-up -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _emulator(channels: list[str]) -> Iterator[tuple[str, Connection, int]]:
    """The Slack emulator in a child process: its URL, the pipe to ask it for counts, its pid."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_emulator, args=(theirs, channels), daemon=True
    )
    process.start()
    try:
        yield ours.recv(), ours, process.pid or 0
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)


def _serve_emulator(pipe: Connection, channels: list[str]) -> None:
    """The child process: the emulator with a channel per board, answering ``count`` until ``stop``."""
    from tests.fakes.slack_api import SlackEmulator

    with SlackEmulator() as slack:
        for channel in channels:
            slack.add_channel(TEAM, channel, channel.lower())
        pipe.send(slack.api_url)
        while (request := pipe.recv()) != "stop":
            assert request == "count"
            posts = slack.calls_to("chat.postMessage")
            delivered = [call for call in posts if not call.failed and call.error is None]
            parents = sum("thread_ts" not in call.params for call in delivered)
            last = max((call.at for call in delivered), default=0.0)
            pipe.send((parents, len(delivered), len(posts) - len(delivered), last))


def _counts(emulator: Connection) -> tuple[int, int, int, float]:
    emulator.send("count")
    return emulator.recv()  # type: ignore[no-any-return]


def _add_boards(engine: Engine, channels: list[str]) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        board = add_board(
            session,
            "Board 0",
            connector="file",
            settings={"path": str(SAMPLE_EVENTS_PATH)},
            encrypted_secrets=None,
            workflow_yaml=SAMPLE_WORKFLOW_PATH.read_text(),
            channel_id=channels[0],
            team_id=LOCAL_WORKSPACE,
        )
        source, workflow = board.id, board_workflow(board)
    sync_board(sessions, source, FileConnector(FileSettings(path=str(SAMPLE_EVENTS_PATH)), workflow))
    boards: Table = Board.__table__  # type: ignore[assignment]
    with engine.begin() as connection:
        row = dict(connection.execute(select(boards).where(boards.c.id == source)).mappings().one())
        del row["id"]
        copies = [
            row | {"name": f"Board {number}", "channel_id": channel}
            for number, channel in enumerate(channels[1:], start=1)
        ]
        if copies:
            connection.execute(insert(boards), copies)
        # One statement per table for all the copies: one INSERT … SELECT per board had PostgreSQL scan the
        # whole growing events table each time (its statistics still said the table was tiny).
        for model in (WorkItem, Event, SyncRun):
            _copy_rows(connection, model.__table__, source)  # type: ignore[arg-type]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def _copy_rows(connection: Any, table: Table, source: int) -> None:
    """The rows of board ``source`` into every other board."""
    columns = [column.name for column in table.columns if column.name not in ("id", "board_id")]
    listed = ", ".join(columns)
    selected = ", ".join(f"src.{column}" for column in columns)
    connection.execute(
        text(
            f"INSERT INTO {table.name} (board_id, {listed}) "
            f"SELECT copy.id, {selected} FROM {table.name} AS src, boards AS copy "
            "WHERE src.board_id = :source AND copy.id <> :source"
        ),
        {"source": source},
    )


def _next_minute(after_s: float) -> dt.datetime:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=after_s)
    return soon.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def _set_digest_time(engine: Engine, due: dt.datetime) -> None:
    """Every board's digest at ``due`` (in the sample's zone), every day a working day."""
    sessions = session_factory(engine)
    with sessions.begin() as session:
        for board in session.scalars(select(Board)):
            zone = board_workflow(board).timezone
            local = due.astimezone(ZoneInfo(zone)).time()
            board.coaching_settings = BoardSettings(working_days=EVERY_DAY, digest_time=local).to_json()


def _digests_only(board: BoardCalendar) -> dict[str, PlannedTrigger]:
    """The production digest trigger of each board, and nothing else."""
    return {DIGEST: calendar_triggers(board)[DIGEST]}


@dataclass(frozen=True)
class SlotStats:
    """What the slot ledger says about the digests due at one minute."""

    states: dict[str, int]
    latency_p50: float  # due_at → taken_at, seconds
    latency_p99: float
    latency_max: float
    handed_over_s: float  # due_at → the last dispatched_at: when the scheduler had handed every one over
    finished_s: float  # due_at → the last finished_at


def _slot_stats(engine: Engine, due: dt.datetime) -> SlotStats:
    with engine.connect() as connection:
        rows = connection.execute(
            select(JobSlot.state, JobSlot.dispatched_at, JobSlot.taken_at, JobSlot.finished_at).where(
                JobSlot.kind == DIGEST
            )
        ).all()
    rows = [row for row in rows if row.dispatched_at is not None and _utc(row.dispatched_at) >= due]
    states: dict[str, int] = {}
    for row in rows:
        states[row.state] = states.get(row.state, 0) + 1
    waits = sorted((_utc(row.taken_at) - due).total_seconds() for row in rows if row.taken_at is not None)

    def last(column: str) -> float:
        times = [_utc(getattr(row, column)) for row in rows if getattr(row, column) is not None]
        return (max(times) - due).total_seconds() if times else float("nan")

    return SlotStats(
        states=states,
        latency_p50=_percentile(waits, 50),
        latency_p99=_percentile(waits, 99),
        latency_max=waits[-1] if waits else float("nan"),
        handed_over_s=last("dispatched_at"),
        finished_s=last("finished_at"),
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _percentile(values: Sequence[float], percent: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(percent) - 1]


def _delivered(engine: Engine, due: dt.datetime) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(JobSlot)
                .where(JobSlot.kind == DIGEST, JobSlot.due_at == due, JobSlot.state != "due")
            ).scalar_one()
        )


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# --- SQLite: one worker in this process --------------------------------------------------------------------


def _sqlite_main(args: argparse.Namespace) -> None:
    channels = [f"C{n:09d}" for n in range(args.boards)]
    with (
        tempfile.TemporaryDirectory(prefix="flowcoach-worker-bench-") as tmp,
        _emulator(channels) as (api_url, emulator, _pid),
    ):
        url = args.database_url or f"sqlite:///{Path(tmp) / 'flowcoach.db'}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            started = time.monotonic()
            _add_boards(engine, channels)
            print(
                f"set-up: {args.boards} boards copied from the sample in {time.monotonic() - started:.1f} s"
            )
            due = _next_minute(SETUP_MARGIN_S)
            _set_digest_time(engine, due)
            result = _run_in_process(engine, url, api_url, emulator, due, args)
            _report_in_process(result, args)
            stats = _slot_stats(engine, due)
        finally:
            engine.dispose()
    print(
        f"queue latency (due → taken) p50 {stats.latency_p50:.1f} s, p99 {stats.latency_p99:.1f} s; "
        f"all handed over {stats.handed_over_s:.1f} s after the due minute; slots {stats.states}"
    )


def _report_in_process(result: dict[str, Any], args: argparse.Namespace) -> None:
    seconds = result["seconds"]
    print(f"worker: {args.coach_threads} coach threads; {args.boards} boards, digests due at the same minute")
    print(
        f"delivered {result['parents']} digests ({result['posts']} messages with their threads, "
        f"{result['failed']} failed calls) in {seconds:.1f} s from the due minute: "
        f"{result['parents'] / seconds:.1f} digests/s, {result['posts'] / seconds:.1f} messages/s"
    )
    print(
        f"CPU of the worker's process from the due minute: {result['cpu']:.1f} s "
        f"({result['cpu'] / max(result['parents'], 1) * 1000:.0f} ms/digest; the emulator's not counted); "
        f"{result['load']}"
    )
    print(f"peak memory (max RSS of the worker's process): {result['rss_peak']:.0f} MiB "
          f"({result['rss_before']:.0f} MiB before the digests)")  # fmt: skip


def _run_in_process(
    engine: Engine, url: str, api_url: str, emulator: Connection, due: dt.datetime, args: argparse.Namespace
) -> dict[str, Any]:
    from bot.scheduler.inprocess import InProcessDispatcher

    settings = Settings(_env_file=None, DATABASE_URL=url, SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=api_url)
    sessions = session_factory(engine)
    store = Store(engine, sessions)
    stop = threading.Event()
    options = WorkerOptions(triggers=_digests_only)
    dispatcher = InProcessDispatcher(
        default_bodies(sessions, settings),
        holder=options.holder,
        sync_threads=args.threads,
        coach_threads=args.coach_threads,
    )
    rss_before = _max_rss_mib()
    worker = threading.Thread(
        target=run_worker, args=(store, dispatcher), kwargs={"stop": stop, "options": options}
    )
    worker.start()
    try:
        print(f"digests due at {due:%H:%M:%S} UTC ({_load()}); waiting…", flush=True)
        time.sleep(max(0.0, due.timestamp() - time.time()))
        cpu_before, load_at_due = _own_cpu_s(), _load()
        counts = _wait_for_emulator(emulator, args.boards, due)
        cpu = _own_cpu_s() - cpu_before
        load = f"{load_at_due} at the due minute, {_load()} at the end"
    finally:
        stop.set()
        worker.join(60)
        dispatcher.close(30)
    parents, posts, failed, last = counts
    return {
        "parents": parents,
        "posts": posts,
        "failed": failed,
        "seconds": last - due.timestamp(),
        "rss_before": rss_before,
        "rss_peak": _max_rss_mib(),
        "load": load,
        "cpu": cpu,
    }


def _wait_for_emulator(emulator: Connection, boards: int, due: dt.datetime) -> tuple[int, int, int, float]:
    counts = (0, 0, 0, 0.0)
    stable_since = time.monotonic()
    while True:
        time.sleep(1.0)
        now_counts = _counts(emulator)
        if now_counts != counts:
            counts, stable_since = now_counts, time.monotonic()
        if counts[0] >= boards and time.monotonic() - stable_since > 5:
            return counts
        if time.time() > due.timestamp() + GIVE_UP_S:
            print(f"gave up after {GIVE_UP_S // 60} minutes", file=sys.stderr)
            return counts


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- PostgreSQL: worker processes on the job queue ---------------------------------------------------------


def _postgres_main(args: argparse.Namespace) -> None:
    from tests.postgres import start_postgres

    process_counts = [int(count) for count in args.processes.split(",") if count.strip()]
    channels = [f"C{n:09d}" for n in range(args.boards)]
    print(f"machine: {os.cpu_count()} cores, {_load()}")
    server = start_postgres() if args.database_url is None else None
    url = args.database_url or (server.url if server else "")
    try:
        with (
            _emulator(channels) as (api_url, emulator, emulator_pid),
            tempfile.TemporaryDirectory(prefix="flowcoach-worker-bench-") as tmp,
        ):
            engine = make_engine(url)
            try:
                upgrade(engine)
                started = time.monotonic()
                _add_boards(engine, channels)
                took = time.monotonic() - started
                print(f"set-up: {args.boards} boards copied from the sample in {took:.1f} s ({_load()})")
                postmaster = _postmaster_pid(server)
                runs: list[dict[str, Any]] = []
                for count in process_counts:
                    run = _run_processes(
                        engine, url, api_url, emulator, count, args, Path(tmp), postmaster, emulator_pid
                    )
                    runs.append(run)
                _summarise(runs, args)
                if args.defer_jobs:
                    _measure_defer(engine, url, args.defer_jobs)
            finally:
                engine.dispose()
    finally:
        if server is not None:
            server.stop()


def _worker_env(url: str, api_url: str, concurrency: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))}
    return env | {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": api_url,
        "FLOWCOACH_SECRET_KEY": Fernet.generate_key().decode(),
        "FLOWCOACH_WORKER_CONCURRENCY": str(concurrency),
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }


def _worker_process() -> None:
    """One worker process: ``flowcoach worker`` with digests only, until SIGTERM."""
    from bot.cli.worker import configure_logging, scheduling
    from bot.config import load_settings
    from bot.store.db import open_database

    settings = load_settings()
    configure_logging(settings)
    store = open_database(settings.database_url)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    options = WorkerOptions(triggers=_digests_only)
    try:
        with scheduling(store.sessions, settings, options, stop) as how:
            print(f"worker {options.holder} running ({how})", flush=True)
            stop.wait()
    finally:
        store.engine.dispose()


@contextlib.contextmanager
def _worker_processes(count: int, env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes, each in a process group of its own, stopped (killed if need be) after."""
    processes: list[subprocess.Popen[bytes]] = []
    files = []
    try:
        for number in range(count):
            log = (logs / f"worker-{count}-{number}.log").open("wb")
            files.append(log)
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(Path(__file__).resolve()), "--worker-process"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield processes
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 40
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        for log in files:
            log.close()


def _cpu_s(pid: int, *, children: bool = False) -> float:
    """CPU seconds (user + system) of ``pid``; with ``children``, also of its children that ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def _postgres_cpu_s(postmaster: int | None) -> float:
    """CPU seconds of the server: the postmaster, its ended children, and the ones running now."""
    if postmaster is None:
        return float("nan")
    total = _cpu_s(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def _postmaster_pid(server: Any) -> int | None:
    root = getattr(server, "_root", None)
    if root is None:
        return None
    return int((Path(root) / "data" / "postmaster.pid").read_text().split()[0])


def _run_processes(
    engine: Engine,
    url: str,
    api_url: str,
    emulator: Connection,
    count: int,
    args: argparse.Namespace,
    logs: Path,
    postmaster: int | None,
    emulator_pid: int,
) -> dict[str, Any]:
    due = _next_minute(PROCESS_MARGIN_S)
    _set_digest_time(engine, due)
    before = _counts(emulator)
    env = _worker_env(url, api_url, args.concurrency)
    with _worker_processes(count, env, logs) as processes:
        print(
            f"{count} worker process(es), concurrency {args.concurrency}: "
            f"digests due at {due:%H:%M:%S} UTC ({_load()})",
            flush=True,
        )
        time.sleep(max(0.0, due.timestamp() - time.time()))
        load_at_due = _load()
        cpu_before = (
            [_cpu_s(process.pid) for process in processes],
            _postgres_cpu_s(postmaster),
            _cpu_s(emulator_pid),
        )
        deadline = due.timestamp() + GIVE_UP_S
        while _delivered(engine, due) < args.boards and time.time() < deadline:
            if any(process.poll() is not None for process in processes):
                raise RuntimeError(f"a worker process exited early; see {logs}")
            time.sleep(0.5)
        cpu_after = (
            [_cpu_s(process.pid) for process in processes],
            _postgres_cpu_s(postmaster),
            _cpu_s(emulator_pid),
        )
        load_at_end = _load()
        time.sleep(1.0)  # the last thread replies
        after = _counts(emulator)
    stats = _slot_stats(engine, due)
    per_process = [_digests_in_log(logs / f"worker-{count}-{n}.log") for n in range(count)]
    worker_cpu = [b - a for a, b in zip(cpu_before[0], cpu_after[0], strict=True)]
    run = {
        "processes": count,
        "parents": after[0] - before[0],
        "posts": after[1] - before[1],
        "failed": after[2] - before[2],
        "seconds": after[3] - due.timestamp(),
        "stats": stats,
        "per_process": per_process,
        "worker_cpu": worker_cpu,
        "postgres_cpu": cpu_after[1] - cpu_before[1],
        "emulator_cpu": cpu_after[2] - cpu_before[2],
        "load": f"{load_at_due} at the due minute, {load_at_end} at the end",
    }
    _print_run(run)
    return run


def _digests_in_log(path: Path) -> int:
    return sum("job=digest board=" in line and " ran slot " in line for line in path.read_text().splitlines())


def _print_run(run: dict[str, Any]) -> None:
    stats: SlotStats = run["stats"]
    seconds = run["seconds"]
    print(
        f"  delivered {run['parents']} digests ({run['posts']} messages, {run['failed']} failed calls) "
        f"in {seconds:.1f} s from the due minute: {run['parents'] / seconds:.1f} digests/s; "
        f"by process {run['per_process']}"
    )
    print(
        f"  queue latency (due → taken) p50 {stats.latency_p50:.1f} s, p99 {stats.latency_p99:.1f} s; "
        f"all handed over {stats.handed_over_s:.1f} s after the due minute; slots {stats.states}"
    )
    worker_cpu = sum(run["worker_cpu"])
    print(
        f"  CPU: workers {worker_cpu:.1f} s ({worker_cpu / max(run['parents'], 1) * 1000:.0f} ms/digest), "
        f"PostgreSQL {run['postgres_cpu']:.1f} s, emulator {run['emulator_cpu']:.1f} s; {run['load']}",
        flush=True,
    )


def _summarise(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if not runs:
        return
    base = runs[0]["seconds"] if runs[0]["processes"] == 1 else None
    print(f"\n{args.boards} digests due at the same minute, concurrency {args.concurrency} per process:")
    print("| processes | last digest after | digests/s | speed-up | latency p50 / p99 | handed over by | "
          "worker CPU / digest | PostgreSQL CPU / digest |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        stats: SlotStats = run["stats"]
        parents = max(run["parents"], 1)
        speed_up = f"{base / run['seconds']:.2f}×" if base else "—"
        print(
            f"| {run['processes']} | {run['seconds']:.1f} s | {run['parents'] / run['seconds']:.1f} | "
            f"{speed_up} | {stats.latency_p50:.1f} / {stats.latency_p99:.1f} s | "
            f"{stats.handed_over_s:.1f} s | {sum(run['worker_cpu']) / parents * 1000:.0f} ms | "
            f"{run['postgres_cpu'] / parents * 1000:.0f} ms |"
        )


# --- the scheduler's defer rate alone ---------------------------------------------------------------------


class _TimedDispatcher:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def dispatch(self, jobs: Sequence[DueJob]) -> None:
        started = time.perf_counter()
        self.inner.dispatch(jobs)
        self.seconds += time.perf_counter() - started

    def close(self, timeout: float) -> int:
        return int(self.inner.close(timeout))


def _measure_defer(engine: Engine, url: str, count: int) -> None:
    """``hand_over`` of ``count`` digest slots (past days, so no worker would post them) to an empty queue."""
    from bot.scheduler.dispatch import MAX_BATCH, hand_over
    from bot.scheduler.queue import QueueDispatcher

    sessions = session_factory(engine)
    with engine.connect() as connection:
        board_ids = [int(row[0]) for row in connection.execute(text("SELECT id FROM boards ORDER BY id"))]
    print(
        f"\nscheduler alone: hand_over of {count:,} digest slots to QueueDispatcher, empty queue ({_load()})"
    )
    variants = (
        ("one call", count, dt.date(2020, 1, 1)),
        (f"batches of {MAX_BATCH}", MAX_BATCH, dt.date(2021, 1, 1)),
    )
    for label, batch, first_day in variants:
        _empty_queue(engine)
        jobs = _past_digest_jobs(board_ids, count, first_day)
        dispatcher = _TimedDispatcher(QueueDispatcher(url))
        try:
            started = time.perf_counter()
            for start in range(0, len(jobs), batch):
                hand_over(sessions, dispatcher, jobs[start : start + batch])
            total = time.perf_counter() - started
        finally:
            dispatcher.close(5)
        queued = _queued_jobs(engine)
        ledger = total - dispatcher.seconds
        print(
            f"  {label}: {count / total:,.0f} jobs/s ({total:.2f} s; {queued:,} queued): slot ledger "
            f"(record_due) {ledger:.2f} s = {count / ledger:,.0f}/s, procrastinate batch_defer "
            f"{dispatcher.seconds:.2f} s = {count / dispatcher.seconds:,.0f}/s",
            flush=True,
        )
    _empty_queue(engine)


def _past_digest_jobs(board_ids: list[int], count: int, first_day: dt.date) -> list[DueJob]:
    jobs: list[DueJob] = []
    day = 0
    while len(jobs) < count:
        slot = dt.datetime.combine(first_day + dt.timedelta(days=day), dt.time(9, 30), dt.UTC).isoformat()
        jobs.extend(DueJob(DIGEST, board_id, slot) for board_id in board_ids[: count - len(jobs)])
        day += 1
    return jobs


def _empty_queue(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM procrastinate_jobs"))


def _queued_jobs(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one())


if __name__ == "__main__":
    main()
