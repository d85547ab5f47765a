"""Measure changes lost when Jira issues are edited while an incremental sync pages (issue 19).

Usage: ``python benchmarks/jira_churn.py [--issues 5000] [--edits 5] [--spacing 60] [--flavour cloud|dc]``

A board of ``--issues`` issues is backfilled into a SQLite store. Then every issue moves to In Progress,
``--spacing`` seconds apart (one change each), and the incremental sync that reads those changes meets
people at work: before each search request after the first, ``--edits`` issues the sync has already
delivered move on to In Review, which makes them the newest and sends them to the end of the search. When
that sync ends the churn stops, one more sync runs, and every issue's stored status is compared with
Jira's. Prints the changes made and ``changes lost: N`` (issues whose stored status is not Jira's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from sqlalchemy import select

from bot.connectors.http import HttpOptions
from bot.connectors.jira_base import JiraConnector
from bot.connectors.jira_cloud import JiraCloudConnector, JiraCloudSettings
from bot.connectors.jira_dc import JiraDataCenterConnector, JiraDataCenterSettings
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.models import WorkItem
from tests.fakes.jira import DEFAULT_WORKFLOW_YAML as WORKFLOW
from tests.fakes.jira import FakeJira

START = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=5, help="issues edited before each search page")
    parser.add_argument("--spacing", type=float, default=60.0, help="seconds between the issues' moves")
    parser.add_argument("--flavour", choices=("cloud", "dc"), default="cloud")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowcoach-churn-") as tmp, FakeJira(args.flavour) as jira:
        jira.add_issues(args.issues, changes=0, start=START, spacing=dt.timedelta(minutes=1))
        engine = make_engine(f"sqlite:///{Path(tmp) / 'churn.db'}")
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            board = add_board(
                session,
                "Churn",
                connector="jira",
                settings={},
                encrypted_secrets=None,
                workflow_yaml=WORKFLOW,
            )
            board_id = board.id

        def sync() -> None:
            with _connector(jira, args.flavour) as connector:
                sync_board(sessions, board_id, connector)

        sync()  # the backfill
        keys = list(jira.issues)
        moved_at = START + dt.timedelta(days=365)
        for n, key in enumerate(keys):
            jira.move(key, "In Progress", moved_at + dt.timedelta(seconds=n * args.spacing))
        queue, edited = list(keys), 0
        edits_at = moved_at + dt.timedelta(seconds=len(keys) * args.spacing + 3600)

        def edit(search: int) -> None:
            nonlocal edited
            if search == 1:
                return
            # Issues the sync has delivered already: the oldest moves, read on the first pages.
            for key in queue[: args.edits]:
                jira.move(key, "In Review", edits_at + dt.timedelta(seconds=edited))
                edited += 1
            del queue[: args.edits]

        jira.on_search = edit
        started = time.perf_counter()
        sync()
        seconds = time.perf_counter() - started
        jira.on_search = None
        sync()  # the churn has stopped: one more sync
        with sessions() as session:
            rows = session.execute(
                select(WorkItem.item_id, WorkItem.status).where(WorkItem.board_id == board_id)
            )
            stored = {row.item_id: row.status for row in rows}
        lost = sum(1 for key, issue in jira.issues.items() if stored.get(key) != _name(jira, issue.status))
        searches = jira.count(f"{jira.api}/search")
        print(
            f"# {args.flavour}: {len(keys):,} issues moved {args.spacing:g} s apart, {edited} edited while "
            f"the sync paged ({len(keys) + edited:,} changes); churned sync {seconds:.1f} s, "
            f"{searches} searches in all"
        )
        print(f"changes lost: {lost}")
        engine.dispose()


def _name(jira: FakeJira, status_id: str) -> str:
    return jira.statuses[status_id].name


def _connector(jira: FakeJira, flavour: str) -> JiraConnector:
    http = HttpOptions(sleep=lambda _seconds: None)
    if flavour == "cloud":
        settings = JiraCloudSettings(url=jira.url, email=jira.email, token=jira.token, project=jira.project)
        return JiraCloudConnector(settings, http=http)
    return JiraDataCenterConnector(
        JiraDataCenterSettings(url=jira.url, token=jira.token, project=jira.project), http=http
    )


if __name__ == "__main__":
    main()
