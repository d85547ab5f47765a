"""`flowcoach sync`: pull each board's new events now, with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from typing import TYPE_CHECKING, TextIO

from bot.cli.database import open_store, secret_key
from bot.errors import FlowcoachError

if TYPE_CHECKING:  # the store and the connectors load when a sync runs, not when the parser is built
    from sqlalchemy.orm import Session, sessionmaker

    from bot.connectors.base import Connector, ProgressCallback
    from bot.store.crypto import SecretKey
    from bot.store.models import Board


OK, FAILED, BROKEN = "ok", "failed", "broken"  # how one board's sync ended: fine, a user error, a bug


def run_sync(args: argparse.Namespace, out: TextIO) -> int:
    """Sync the named boards (or all); one failing board does not stop the others, but fails the command:
    status 1, or 70 when a board met a bug in flowcoach rather than a problem the user can fix."""
    from bot.cli.main import INTERNAL_ERROR_EXIT
    from bot.store import boards as store

    with open_store() as sessions:
        with sessions() as session:
            chosen = [store.get_board(session, name) for name in args.names] or store.list_boards(session)
            plans = [(board.id, board.name, board.connector_secrets is not None) for board in chosen]
        if not plans:
            out.write("no boards to sync; add one with: flowcoach board add\n")
        # Derived once for every board (scrypt is slow), and only when some board holds a secret.
        key = secret_key(sessions) if any(secret for *_, secret in plans) else None
        outcomes = [
            _sync_one(sessions, board_id, name, key, out, debug=args.debug) for board_id, name, _ in plans
        ]
    return INTERNAL_ERROR_EXIT if BROKEN in outcomes else 1 if FAILED in outcomes else 0


def _sync_one(
    sessions: sessionmaker[Session],
    board_id: int,
    name: str,
    key: SecretKey | None,
    out: TextIO,
    *,
    debug: bool,
) -> str:
    """Sync one board and report it in one line (a file's bad rows: one line each); how it ended."""
    from bot.formatting import count_of
    from bot.services.sync import sync_board
    from bot.store.models import Board

    bar = _progress_bar(name, sys.stderr) if sys.stderr.isatty() else None
    try:
        with sessions() as session:
            connector = connector_for(session.get_one(Board, board_id), key)
        try:
            result = sync_board(sessions, board_id, connector, progress=bar)
        finally:
            connector.close()
    except FlowcoachError as error:
        out.write(f"{name}: sync failed: {error}\n")
        return FAILED
    except Exception as error:
        from bot.cli.main import is_user_error

        if is_user_error(error):  # e.g. a stored workflow that no longer parses
            out.write(f"{name}: sync failed: {error}\n")
            return FAILED
        # A bug (or a database gone away) stops this board only: the others are still synced. Its message
        # may be a SQL statement with the values, so only its kind is said.
        if debug:
            raise
        out.write(
            f"{name}: sync failed: internal error ({type(error).__name__}), a bug in flowcoach; "
            "run again with --debug for the traceback and report it\n"
        )
        return BROKEN
    finally:
        if bar is not None:
            sys.stderr.write("\n")
    out.write(
        f"{name}: {count_of(result.events_added, 'new event')}, {count_of(result.items_seen, 'item')} seen "
        f"in {count_of(result.batches, 'batch', 'batches')} ({result.seconds:.1f} s)\n"
    )
    for warning in result.warnings:
        out.write(f"{name}: warning: {warning}\n")
    return OK


def connector_for(board: Board, key: SecretKey | None) -> Connector:
    """The board's connector, its credentials decrypted with the configured key."""
    from bot.services.connections import board_connector

    return board_connector(board, key)


def _progress_bar(name: str, stream: TextIO) -> ProgressCallback:
    def show(done: int, total: int | None, /, *, waiting: float | None = None) -> None:
        if total:
            filled = round(done / total * 30)
            line = f"{name}  {'█' * filled}{'░' * (30 - filled)}  {done:,} / {total:,}"
        else:
            line = f"{name}  {done:,} so far"
        if waiting is not None:
            # A rate limit can hold a sync for up to an hour: say so, or the bar looks hung.
            until = dt.datetime.now().astimezone() + dt.timedelta(seconds=waiting)
            line += f"  (rate-limited: waiting {math.ceil(waiting / 60)} min, until {until:%H:%M})"
        stream.write(f"\r{line}\x1b[K")  # erase what a longer line before left
        stream.flush()

    return show
