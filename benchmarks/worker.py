"""Benchmark the worker: many boards with their daily digests due at the same minute, posted to Slack.

Usage: ``python benchmarks/worker.py [--boards 1000] [--database-url URL] [--threads 8]``

The database (a temporary SQLite file unless ``--database-url`` names an empty one) gets the sample board,
synced from its file, and ``--boards - 1`` copies of it (items, events and sync state copied in SQL, each
in a channel of its own), all with the digest at the same minute. The worker runs in this process exactly
as ``flowcoach worker`` runs it (lease, APScheduler on the database job store, per-slot claims, the coach's
digest body: load events, compute, build Block Kit, post parent and thread) with only the digest jobs
planned, so nothing else competes; the Slack Web API emulator runs in a child process so that it does not
share this one's interpreter lock. The script reports the time from the due minute to the last message
delivered, messages per second, and the peak memory (maximum RSS) of this process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import resource
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from sqlalchemy import Engine, Table, insert, select, text

from bot.cli.worker import default_bodies
from bot.config import Settings
from bot.connectors.file import FileConnector, FileSettings
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.scheduler.jobs import DIGEST
from bot.scheduler.planner import BoardCalendar, PlannedTrigger, calendar_triggers
from bot.scheduler.worker import WorkerOptions, run_worker
from bot.services.sync import sync_board
from bot.store.board_settings import BoardSettings
from bot.store.boards import LOCAL_WORKSPACE, add_board, board_workflow
from bot.store.db import Store, make_engine, session_factory, upgrade
from bot.store.models import Board, Event, SyncRun, WorkItem

TEAM = "T0000TEAM1"
TOKEN = "xoxb-test-team1"
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SETUP_MARGIN_S = 20  # between the end of the set-up and the due minute: the worker starts and plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=1000)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    defaults = WorkerOptions()
    parser.add_argument("--threads", type=int, default=defaults.threads, help="the worker's sync threads")
    parser.add_argument(
        "--coach-threads", type=int, default=defaults.coach_threads, help="its check/digest/review threads"
    )
    args = parser.parse_args()
    channels = [f"C{n:09d}" for n in range(args.boards)]

    with tempfile.TemporaryDirectory(prefix="flowcoach-worker-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'flowcoach.db'}"
        ours, theirs = multiprocessing.get_context("spawn").Pipe()
        emulator = multiprocessing.get_context("spawn").Process(
            target=_serve_emulator, args=(theirs, channels), daemon=True
        )
        emulator.start()
        api_url = ours.recv()
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
            result = _run(engine, url, api_url, ours, due, args)
        finally:
            ours.send("stop")
            emulator.join(10)
            engine.dispose()
    _report(result, args)


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
        for number, channel in enumerate(channels[1:], start=1):
            copy = row | {"name": f"Board {number}", "channel_id": channel}
            new_id = connection.execute(insert(boards).values(copy)).inserted_primary_key[0]
            for model in (WorkItem, Event, SyncRun):
                _copy_rows(connection, model.__table__, source, new_id)  # type: ignore[arg-type]


def _copy_rows(connection: Any, table: Table, source: int, target: int) -> None:
    columns = [column.name for column in table.columns if column.name not in ("id", "board_id")]
    listed = ", ".join(columns)
    connection.execute(
        text(
            f"INSERT INTO {table.name} (board_id, {listed}) "
            f"SELECT :target, {listed} FROM {table.name} WHERE board_id = :source"
        ),
        {"target": target, "source": source},
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


def _run(
    engine: Engine, url: str, api_url: str, emulator: Connection, due: dt.datetime, args: argparse.Namespace
) -> dict[str, Any]:
    settings = Settings(_env_file=None, DATABASE_URL=url, SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=api_url)
    sessions = session_factory(engine)
    store = Store(engine, sessions)
    stop = threading.Event()
    options = WorkerOptions(triggers=_digests_only, threads=args.threads, coach_threads=args.coach_threads)
    rss_before = _max_rss_mib()
    worker = threading.Thread(
        target=run_worker,
        args=(store, default_bodies(sessions, settings)),
        kwargs={"stop": stop, "options": options},
    )
    worker.start()
    try:
        print(f"digests due at {due:%H:%M:%S} UTC; waiting…", flush=True)
        counts = (0, 0, 0, 0.0)
        stable_since = time.monotonic()
        while True:
            time.sleep(1.0)
            emulator.send("count")
            now_counts = emulator.recv()
            if now_counts != counts:
                counts, stable_since = now_counts, time.monotonic()
            if counts[0] >= args.boards and time.monotonic() - stable_since > 5:
                break
            if time.time() > due.timestamp() + 900:
                print("gave up after 15 minutes", file=sys.stderr)
                break
    finally:
        stop.set()
        worker.join(60)
    parents, posts, failed, last = counts
    return {
        "parents": parents,
        "posts": posts,
        "failed": failed,
        "seconds": last - due.timestamp(),
        "rss_before": rss_before,
        "rss_peak": _max_rss_mib(),
    }


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report(result: dict[str, Any], args: argparse.Namespace) -> None:
    seconds = result["seconds"]
    print(f"worker: {args.coach_threads} coach threads; {args.boards} boards, digests due at the same minute")
    print(
        f"delivered {result['parents']} digests ({result['posts']} messages with their threads, "
        f"{result['failed']} failed calls) in {seconds:.1f} s from the due minute: "
        f"{result['parents'] / seconds:.1f} digests/s, {result['posts'] / seconds:.1f} messages/s"
    )
    print(f"peak memory (max RSS of the worker's process): {result['rss_peak']:.0f} MiB "
          f"({result['rss_before']:.0f} MiB before the digests)")  # fmt: skip


if __name__ == "__main__":
    main()
