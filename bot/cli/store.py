"""The commands that use the database: ``db upgrade``, ``board …``, ``boards`` and ``sync``."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.connectors.base import Connector, ProgressCallback
from bot.connectors.registry import CONNECTORS, ConnectorKind, connector_kind
from bot.errors import FlowcoachError, UsageError
from bot.formatting import freshness
from bot.services.connections import board_connector
from bot.services.proposal import proposed_workflow, status_facts
from bot.services.sync import sync_board
from bot.store import boards as store
from bot.store import db as store_db
from bot.store.crypto import encrypt_secrets
from bot.store.models import Board


def add_store_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``db``, ``board``, ``boards`` and ``sync`` on the main parser's subcommands."""
    db = commands.add_parser("db", parents=[common], help="database migrations")
    db_commands = db.add_subparsers(metavar="ACTION", required=True)
    db_upgrade = db_commands.add_parser(
        "upgrade", parents=[common], help="apply every migration (release step)"
    )
    db_upgrade.set_defaults(handler=run_db_upgrade)
    rotate = db_commands.add_parser(
        "rotate-key",
        parents=[common],
        help="re-encrypt stored secrets under a new FLOWCOACH_SECRET_KEY",
        description="Re-encrypt every stored secret (connector credentials, Slack tokens) from the key in "
        "--old-key-env (default FLOWCOACH_OLD_SECRET_KEY) to FLOWCOACH_SECRET_KEY, in one transaction.",
    )
    rotate.add_argument(
        "--old-key-env",
        default="FLOWCOACH_OLD_SECRET_KEY",
        metavar="VAR",
        help="the environment variable holding the current key (default FLOWCOACH_OLD_SECRET_KEY)",
    )
    rotate.set_defaults(handler=run_rotate_key)

    board = commands.add_parser("board", parents=[common], help="register, list, show and remove boards")
    actions = board.add_subparsers(metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        parents=[common],
        help="register a board (asks for what is missing on a terminal)",
        description="Register a board. Connector settings are KEY=VALUE pairs; secrets are stored encrypted.",
    )
    add.add_argument("name", help="the board's name")
    add.add_argument("--connector", choices=sorted(CONNECTORS), help="where the board's data comes from")
    add.add_argument("--workflow", type=Path, metavar="FILE", help="workflow YAML file")
    add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a connector setting")
    add.add_argument(
        "--set-env",
        action="append",
        default=[],
        metavar="KEY=ENVVAR",
        help="a setting read from an environment variable (keeps secrets out of shell history)",
    )
    add.add_argument("--channel", metavar="ID", help="Slack channel id for digests and nudges")
    add.set_defaults(handler=run_board_add)
    listing = actions.add_parser("list", parents=[common], help="boards with their last sync and freshness")
    listing.set_defaults(handler=run_board_list)
    show = actions.add_parser(
        "show", parents=[common], help="one board's settings (no secrets) and sync history"
    )
    show.add_argument("name")
    show.set_defaults(handler=run_board_show)
    remove = actions.add_parser(
        "remove", parents=[common], help="delete a board and everything stored for it"
    )
    remove.add_argument("name")
    remove.set_defaults(handler=run_board_remove)
    boards = commands.add_parser("boards", parents=[common], help="same as: board list")
    boards.set_defaults(handler=run_board_list)

    sync = commands.add_parser("sync", parents=[common], help="incremental sync now (all boards by default)")
    sync.add_argument("names", nargs="*", metavar="NAME", help="boards to sync (default: all)")
    sync.set_defaults(handler=run_sync)


@contextmanager
def open_store() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database (``DATABASE_URL``); see :func:`bot.store.db.open_store`."""
    with store_db.open_store(load_settings().database_url) as sessions:
        yield sessions


def run_db_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    engine = store_db.make_engine(load_settings().database_url)
    try:
        before = store_db.current_revision(engine)
        store_db.upgrade(engine)
        out.write(f"database at revision {store_db.current_revision(engine)} (was {before or 'empty'})\n")
    finally:
        engine.dispose()
    return 0


def run_rotate_key(args: argparse.Namespace, out: TextIO) -> int:
    from bot.store.crypto import SecretKeyError
    from bot.store.rotate import rotate_secret_key

    settings = load_settings()
    old_key = os.environ.get(args.old_key_env)
    if not old_key:
        raise SecretKeyError(f"{args.old_key_env}: set it to the key the secrets are stored with now")
    if settings.secret_key is None:
        raise SecretKeyError("FLOWCOACH_SECRET_KEY: set it to the new key")
    database = store_db.open_database(settings.database_url)
    try:
        done = rotate_secret_key(database.engine, old_key, settings.secret_key.get_secret_value())
    finally:
        database.close()
    out.write(
        f"re-encrypted the credentials of {done.boards} board(s) and {done.tokens} Slack token(s) under the "
        f"new key ({done.already} already were); restart serve and worker with the new FLOWCOACH_SECRET_KEY\n"
    )
    return 0


def run_board_add(args: argparse.Namespace, out: TextIO) -> int:
    """Register a board; without ``--workflow``, propose one from the tracker's statuses and print it."""
    interactive = sys.stdin.isatty()
    kind = connector_kind(args.connector or _ask("Connector", sorted(CONNECTORS), interactive, "--connector"))
    values = _settings_values(kind, args.set, args.set_env, interactive)
    settings = kind.settings(values)
    plain, secrets = kind.split(settings)
    encrypted = encrypt_secrets(secrets, _secret_key())
    if args.workflow is not None:
        workflow_yaml = _read_workflow(args.workflow)
    elif kind.proposes_workflow:
        workflow_yaml = _propose_workflow(args.name, kind.build(settings, None), out)
    else:
        workflow_yaml = _read_workflow(Path(_ask("Workflow file", None, interactive, "--workflow")))
    with open_store() as sessions, sessions.begin() as session:
        store.add_board(
            session,
            args.name,
            connector=kind.name,
            settings=plain,
            encrypted_secrets=encrypted,
            workflow_yaml=workflow_yaml,
            channel_id=args.channel,
        )
    secret_note = f"; {len(secrets)} secret(s) stored encrypted" if secrets else ""
    out.write(
        f"added board '{args.name}' ({kind.name} connector{secret_note});"
        f" sync it with: flowcoach sync {args.name}\n"
    )
    return 0


def _read_workflow(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise FlowcoachError(f"{path}: cannot read the workflow ({error.strerror or error})") from None


def _propose_workflow(name: str, connector: Connector, out: TextIO) -> str:
    """Check the credentials, ask what the source knows of its statuses, print the proposal and its gaps."""
    try:
        out.write(f"connected: {connector.check()}\n")
        facts = status_facts(connector)
        text, unmapped = proposed_workflow(name, facts.statuses, facts.columns, paths=facts.paths)
    finally:
        connector.close()
    out.write(
        f"\nProposed workflow, stored with the board. To change it, save it to a file, edit it, then run\n"
        f"`flowcoach board remove {name}` and `flowcoach board add {name} … --workflow FILE`:\n\n"
    )
    out.write(text)
    if unmapped:
        listed = ", ".join(f"{status.name} ({status.id})" for status in unmapped)
        out.write(f"\nStatuses no stage lists (items moving there keep their stage): {listed}\n")
    out.write("\n")
    return text


def _settings_values(
    kind: ConnectorKind, pairs: list[str], env_pairs: list[str], interactive: bool
) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, value = _split_pair(pair, "--set")
        values[key] = value
    for pair in env_pairs:
        key, variable = _split_pair(pair, "--set-env")
        if variable not in os.environ:
            raise UsageError(f"--set-env {key}={variable}: the environment variable {variable} is not set")
        values[key] = os.environ[variable]
    if interactive:
        for name, field in kind.settings_model.model_fields.items():
            if name not in values and field.is_required():
                secret = name in kind.secret_fields
                prompt = f"{name} ({field.description})" if field.description else name
                values[name] = getpass.getpass(f"{prompt}: ") if secret else input(f"{prompt}: ")
    return values


def _split_pair(pair: str, option: str) -> tuple[str, str]:
    key, separator, value = pair.partition("=")
    if not separator or not key.strip():
        raise UsageError(f"{option} {pair!r}: expected KEY=VALUE")
    return key.strip(), value


def _ask(label: str, choices: list[str] | None, interactive: bool, option: str) -> str:
    if not interactive:
        raise UsageError(f"{option} is required (or run the command on a terminal to be asked)")
    hint = f" [{'/'.join(choices)}]" if choices else ""
    answer = input(f"{label}{hint}: ").strip()
    if not answer or (choices and answer not in choices):
        raise UsageError(
            f"{label.lower()}: expected one of {', '.join(choices or [])}"
            if choices
            else f"{option}: required"
        )
    return answer


def _secret_key() -> str | None:
    return load_settings().secret_key_text


def run_board_list(args: argparse.Namespace, out: TextIO) -> int:
    with open_store() as sessions:
        now = dt.datetime.now(dt.UTC)
        with sessions() as session:
            found = store.list_boards(session)
            if not found:
                out.write(
                    "no boards yet; add one with:"
                    " flowcoach board add NAME --connector file --workflow W --set path=F\n"
                )
            width = max((len(board.name) for board in found), default=0)
            for board in found:
                counts = store.board_counts(session, board.id)
                last = store.last_sync_run(session, board.id)
                failed = (
                    f"  last sync failed: {last.error}"
                    if last is not None and last.status == "failed"
                    else ""
                )
                out.write(
                    f"{board.name:<{width}}  {board.connector:<8}  {counts['items']:>6} items  "
                    f"{freshness(board.last_synced_at, now)}{failed}\n"
                )
    return 0


def run_board_show(args: argparse.Namespace, out: TextIO) -> int:
    with open_store() as sessions, sessions() as session:
        board = store.get_board(session, args.name)
        counts = store.board_counts(session, board.id)
        workflow = store.board_workflow(board)
        last = store.last_sync_run(session, board.id)
        kind = connector_kind(board.connector)
        out.write(f"{board.name}\n  connector: {board.connector}\n")
        for key, value in sorted(board.connector_settings.items()):
            out.write(f"    {key}: {value}\n")
        for key in kind.secret_fields:
            out.write(f"    {key}: (stored encrypted)\n")
        out.write(f"  workflow: {' → '.join(workflow.stage_names)} ({workflow.timezone})\n")
        out.write(f"  channel: {board.channel_id or '—'}\n")
        out.write(
            f"  stored: {counts['items']} items, {counts['events']} events, {counts['sync_runs']} sync runs\n"
        )
        out.write(f"  {freshness(board.last_synced_at, dt.datetime.now(dt.UTC))}\n")
        if last is not None:
            out.write(
                f"  last sync: {last.status}, {last.events_added} new events"
                f"{': ' + last.error if last.error else ''}\n"
            )
    return 0


def run_board_remove(args: argparse.Namespace, out: TextIO) -> int:
    with open_store() as sessions, sessions.begin() as session:
        store.remove_board(session, args.name)
    out.write(f"removed board '{args.name}' and everything stored for it\n")
    return 0


def run_sync(args: argparse.Namespace, out: TextIO) -> int:
    """Sync the named boards (or all); one failing board does not stop the others, but fails the command."""
    with open_store() as sessions:
        with sessions() as session:
            chosen = [store.get_board(session, name) for name in args.names] or store.list_boards(session)
            plans = [(board.id, board.name) for board in chosen]
        if not plans:
            out.write("no boards to sync; add one with: flowcoach board add\n")
        failures = sum(not _sync_one(sessions, board_id, name, out) for board_id, name in plans)
    return 1 if failures else 0


def _sync_one(sessions: sessionmaker[Session], board_id: int, name: str, out: TextIO) -> bool:
    """Sync one board and report it in one line; False when it failed."""
    bar = _progress_bar(name, sys.stderr) if sys.stderr.isatty() else None
    try:
        with sessions() as session:
            connector = connector_for(session.get_one(Board, board_id))
        try:
            result = sync_board(sessions, board_id, connector, progress=bar)
        finally:
            connector.close()
    except FlowcoachError as error:
        out.write(f"{name}: sync failed: {error}\n")
        return False
    finally:
        if bar is not None:
            sys.stderr.write("\n")
    out.write(
        f"{name}: {result.events_added} new events, {result.items_seen} items seen "
        f"in {result.batches} batches ({result.seconds:.1f} s)\n"
    )
    for warning in result.warnings:
        out.write(f"{name}: warning: {warning}\n")
    return True


def connector_for(board: Board) -> Connector:
    """The board's connector, its credentials decrypted with the configured key."""
    return board_connector(board, _secret_key())


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
