"""`flowcoach digest` and `flowcoach health`: the daily digest and the push / pull / flow verdict of any
board or event log, as plain text or JSON (``spec/coaching.md``, "Daily digest" and "Weekly flow review").

What they say comes from ``bot.services.reports``, as in Slack; ``bot.cli.report_text`` words it for a
terminal. Everything heavy is imported when a command runs, so `flowcoach --help` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any, TextIO


def add_report_commands(commands: Any, common: argparse.ArgumentParser, add_source: Any) -> None:
    digest = commands.add_parser(
        "digest",
        parents=[common],
        help="the daily digest of a board, as text or JSON",
        description="What the Slack digest says: finished yesterday and in 7 days, WIP by stage against "
        "limits, items near or past the SLE, blocked and starving, the bottleneck, what to pull next, and "
        "how fresh and clean the data is (docs/cli.md).",
    )
    health = commands.add_parser(
        "health",
        parents=[common],
        help="the push / starved pull / flow verdict of a board, with its evidence",
        description="The weekly review's diagnosis: the verdict and its three strongest numbers, then every "
        "criterion with its numbers, the bottleneck, the trends and one next step (docs/cli.md).",
    )
    for parser, handler in ((digest, run_digest), (health, run_health)):
        add_source(parser)
        parser.add_argument("--asof", metavar="TIME", help="as of this instant (ISO 8601; default now)")
        parser.add_argument("--format", choices=("text", "json"), default="text", help="default text")
        parser.set_defaults(handler=handler)


def run_digest(args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.report_text import digest_document, digest_text
    from bot.services.reports import board_digest, events_digest

    return _report(args, out, board_digest, events_digest, digest_document, digest_text)


def run_health(args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.report_text import health_document, health_text
    from bot.services.reports import board_review, events_review

    return _report(args, out, board_review, events_review, health_document, health_text)


def _report(
    args: argparse.Namespace, out: TextIO, stored: Any, from_files: Any, document: Any, text: Any
) -> int:
    """One report of the board asked for: ``stored(session, board, now, types)`` for ``--board``,
    ``from_files(events, workflow, thresholds, now)`` for files; printed as JSON or text."""
    from bot.cli.main import emit

    if args.board is not None:
        report = _stored(args, stored)
    else:
        board, now = _files(args)
        report = from_files(board.log.events, board.workflow, board.thresholds, now)
    emit(out, args.format, lambda: document(report), lambda: text(report))
    return 0


def _asof(args: argparse.Namespace, timezone: str) -> dt.datetime:
    from bot.cli.timeargs import now_utc, parse_instant

    moment = parse_instant(args.asof, timezone, option="--asof") if args.asof else now_utc()
    return moment.to_pydatetime()


def _files(args: argparse.Namespace) -> tuple[Any, dt.datetime]:
    from bot.cli.main import load_board

    board = load_board(args)
    return board, _asof(args, board.workflow.timezone)


def _stored(args: argparse.Namespace, report: Any) -> Any:
    """``report(session, board, now, types)`` for the stored board ``--board`` (``types``: of ``--type``),
    warning on stderr if never synced."""
    from bot.cli.board_status import unsynced_warning
    from bot.cli.database import open_store
    from bot.cli.main import check_source
    from bot.cli.timeargs import now_utc
    from bot.store.boards import board_workflow, get_board, last_sync_run

    check_source(args)  # the report reads the board once, below
    from analytics.item_types import UnknownItemType
    from bot.cli.main import asked_types
    from bot.errors import UsageError

    types = asked_types(args)
    with open_store() as sessions, sessions() as session:
        board = get_board(session, args.board)
        now = _asof(args, board_workflow(board).timezone)
        warning = unsynced_warning(board, last_sync_run(session, board.id), now_utc().to_pydatetime())
        if warning is not None:
            import sys

            sys.stderr.write(f"flowcoach: warning: {warning}\n")
        try:
            return report(session, board, now, types)
        except UnknownItemType as error:
            raise UsageError(f"--type: {error}") from None
