"""Benchmark syncing a Jira project into the store, against the fake Jira on 127.0.0.1.

Usage: ``python benchmarks/sync.py [--issues 20000] [--changes 10] [--flavour cloud|dc] [--database URL]``

Three syncs of one board: the backfill, an incremental sync with nothing changed (target: one search
request and no changelog request), and one after 1 % of the issues moved. Prints wall time, HTTP requests by
endpoint, and events stored. The default database is a SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from bot.connectors.jira_cloud import JiraCloudConnector, JiraCloudSettings
from bot.connectors.jira_dc import JiraDataCenterConnector, JiraDataCenterSettings
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from tests.fakes.jira import DEFAULT_WORKFLOW_YAML as WORKFLOW
from tests.fakes.jira import FakeJira

START = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--flavour", choices=("cloud", "dc"), default="cloud")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowcoach-sync-bench-") as tmp, FakeJira(args.flavour) as jira:
        started = time.perf_counter()
        jira.add_issues(args.issues, changes=args.changes, start=START, spacing=dt.timedelta(minutes=30))
        print(
            f"# fake {args.flavour} Jira: {args.issues:,} issues × {args.changes} status changes "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        engine = make_engine(args.database or f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            board_id = add_board(
                session,
                "Benchmark",
                connector="jira",
                settings={},
                encrypted_secrets=None,
                workflow_yaml=WORKFLOW,
            ).id
        print(f"# database: {engine.dialect.name}")
        print(f"{'sync':<22} {'seconds':>8} {'requests':>9} {'new events':>11}  requests by endpoint")
        run(jira, sessions, board_id, args.flavour, "backfill")
        run(jira, sessions, board_id, args.flavour, "nothing changed")
        moved = list(jira.issues)[: max(1, args.issues // 100)]
        later = START + dt.timedelta(days=3650)
        for key in moved:
            jira.move(key, "In Progress", later)  # reopened: a new status event each
        run(jira, sessions, board_id, args.flavour, "1 % changed")
        engine.dispose()


def run(jira: FakeJira, sessions: object, board_id: int, flavour: str, label: str) -> None:
    jira.clear_requests()
    connector = _connector(jira, flavour)
    started = time.perf_counter()
    try:
        result = sync_board(sessions, board_id, connector)  # type: ignore[arg-type]
    finally:
        connector.close()
    seconds = time.perf_counter() - started
    paths = collections.Counter(_endpoint(request.path) for request in jira.requests)
    shown = ", ".join(f"{path} {count}" for path, count in paths.most_common())
    print(f"{label:<22} {seconds:>8.2f} {jira.count():>9} {result.events_added:>11}  {shown}", flush=True)


def _connector(jira: FakeJira, flavour: str) -> JiraCloudConnector | JiraDataCenterConnector:
    if flavour == "cloud":
        return JiraCloudConnector(
            JiraCloudSettings(url=jira.url, email=jira.email, token=jira.token, project=jira.project)
        )
    return JiraDataCenterConnector(
        JiraDataCenterSettings(url=jira.url, token=jira.token, project=jira.project)
    )


def _endpoint(path: str) -> str:
    """``/rest/api/3/issue/PAY-7/changelog`` → ``/rest/api/3/issue/{key}/changelog``."""
    parts = path.split("?", maxsplit=1)[0].split("/")
    return "/".join("{key}" if "-" in part and part.split("-")[-1].isdigit() else part for part in parts)


if __name__ == "__main__":
    main()
