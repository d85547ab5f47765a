"""Benchmark reading a stored board's event log: every row, or the event-log copy a sync writes.

Usage: ``python benchmarks/store_read.py [--items 20000] [--repeat 5] [--database-url URL]``

The synthetic board of ``synthetic.py`` is synced from its CSV into a fresh SQLite file (or the empty
database at ``--database-url``), then, in this one process (warm: imports done, the file in the page cache):

- ``rows``: ``load_events`` with no copy, every event fetched row by row (the read before the copy);
- ``write copy``: writing the copy from scratch (what the first sync after the upgrade adds);
- ``copy``: ``load_events`` through the copy;
- ``copy + 1 %``: after 1 % more events were stored, the copy plus the newer events;
- ``update copy``: writing the copy again after those events (what each sync that brought events adds).

Each figure is the best of ``--repeat``; every read is checked equal to the row-by-row one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # run from a checkout without installing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowcoach-store-read-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'store.db'}"
        run(Path(tmp), url, args.items, args.repeat)


def run(tmp: Path, url: str, items: int, repeat: int) -> None:
    import pandas as pd
    from sqlalchemy import text

    from benchmarks.analytics import _machine
    from benchmarks.synthetic import write_board
    from bot.connectors.base import Batch, SourceEvent
    from bot.connectors.file import FileConnector, FileSettings
    from bot.services.sync import sync_board
    from bot.store import db as store_db
    from bot.store.boards import add_board, board_workflow, get_board
    from bot.store.eventstore import load_events, refresh_event_log_copy, store_batch

    print(_machine())
    events_path, workflow_path = write_board(tmp / "board", items, seed=0)
    engine = store_db.make_engine(url)
    store_db.upgrade(engine)
    sessions = store_db.session_factory(engine)
    with sessions.begin() as session:
        board = add_board(
            session,
            "Bench",
            connector="file",
            settings={"path": str(events_path)},
            encrypted_secrets=None,
            workflow_yaml=workflow_path.read_text(encoding="utf-8"),
        )
        board_id, workflow = board.id, board_workflow(board)
    started = time.perf_counter()
    sync_board(sessions, board_id, FileConnector(FileSettings(path=str(events_path)), workflow))
    print(f"sync of {items} items (not part of the figures): {time.perf_counter() - started:.1f} s")

    def load() -> pd.DataFrame:
        with sessions() as session:
            return load_events(session, board_id, board_workflow(get_board(session, "Bench")))

    def drop_copy() -> None:
        with sessions.begin() as session:
            session.execute(text("DELETE FROM event_log_copies"))

    def write_copy() -> None:
        with sessions.begin() as session:
            assert refresh_event_log_copy(session, board_id)

    drop_copy()
    reference = load()
    print(f"{len(reference)} events")
    print(f"{'step':<14} {'best s':>8}")
    report("rows", best(load, repeat), reference, load)
    report("write copy", best(write_copy, repeat, before=drop_copy), None, load)
    report("copy", best(load, repeat), reference, load)

    # 1 % more events (status changes of existing items after everything stored), the copy left as it was.
    with sessions() as session:
        stale = session.execute(text("SELECT * FROM event_log_copies")).mappings().one()

    def restore_stale_copy() -> None:
        drop_copy()
        columns = ", ".join(stale.keys())
        values = ", ".join(f":{name}" for name in stale)
        with sessions.begin() as session:
            session.execute(text(f"INSERT INTO event_log_copies ({columns}) VALUES ({values})"), dict(stale))

    last = reference["timestamp"].max().to_pydatetime()
    ids = reference["item_id"].unique()[: max(1, len(reference) // 100)]
    newer = tuple(
        SourceEvent(str(item), last + dt.timedelta(minutes=n + 1), "status", None, "Done")
        for n, item in enumerate(ids)
    )
    with sessions.begin() as session:
        store_batch(session, board_id, Batch(items=(), events=newer, cursor=None))
    drop_copy()
    grown = load()
    restore_stale_copy()
    report(f"copy + {len(newer)}", best(load, repeat), grown, load)
    report("update copy", best(write_copy, repeat, before=restore_stale_copy), grown, load)
    engine.dispose()


def best(step: Callable[[], object], repeat: int, before: Callable[[], None] | None = None) -> float:
    fastest = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        step()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def report(step: str, seconds: float, expected: object, load: Callable[[], object]) -> None:
    import pandas as pd

    if expected is not None:
        pd.testing.assert_frame_equal(load(), expected, check_exact=True)  # type: ignore[arg-type]
    print(f"{step:<14} {seconds:>8.3f}", flush=True)


if __name__ == "__main__":
    main()
