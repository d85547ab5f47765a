"""The commands that use the database: ``db upgrade``, ``board …``, ``boards`` (and ``sync``, in sync.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.database import key_is_set, open_store, secret_key
from bot.cli.sync import run_sync
from bot.connectors.names import CONNECTOR_NAMES
from bot.errors import FlowcoachError, UsageError

# The store (SQLAlchemy, Alembic), the connectors and pydantic load inside the handlers: `--help` needs none.
if TYPE_CHECKING:
    from pydantic import BaseModel

    from bot.connectors.base import Connector
    from bot.connectors.registry import ConnectorKind


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
        help="re-encrypt every stored secret under FLOWCOACH_SECRET_KEY",
        description="Re-encrypt every stored secret (connector credentials, Slack tokens) under "
        "FLOWCOACH_SECRET_KEY, in one transaction: those under an earlier key (FLOWCOACH_OLD_SECRET_KEYS, "
        "comma-separated, or --old-key-env) or under the unsalted key derivation of earlier versions.",
    )
    rotate.add_argument(
        "--old-key-env",
        default="FLOWCOACH_OLD_SECRET_KEY",
        metavar="VAR",
        help="an environment variable holding one more earlier key (default FLOWCOACH_OLD_SECRET_KEY)",
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
    add.add_argument("--connector", choices=sorted(CONNECTOR_NAMES), help="where the board's data comes from")
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
        "remove",
        parents=[common],
        help="delete a board and everything stored for it (asks first)",
    )
    remove.add_argument("name")
    remove.add_argument(
        "--yes", action="store_true", help="remove without asking (required when not on a terminal)"
    )
    remove.set_defaults(handler=run_board_remove)
    boards = commands.add_parser("boards", parents=[common], help="same as: board list")
    boards.set_defaults(handler=run_board_list)

    sync = commands.add_parser("sync", parents=[common], help="incremental sync now (all boards by default)")
    sync.add_argument("names", nargs="*", metavar="NAME", help="boards to sync (default: all)")
    sync.set_defaults(handler=run_sync)


def run_db_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    from bot.config import load_settings
    from bot.store import db as store_db

    engine = store_db.make_engine(load_settings().database_url)
    try:
        before = store_db.current_revision(engine)
        store_db.upgrade(engine)
        out.write(f"database at revision {store_db.current_revision(engine)} (was {before or 'empty'})\n")
    finally:
        engine.dispose()
    return 0


def run_rotate_key(args: argparse.Namespace, out: TextIO) -> int:
    from bot.config import load_settings
    from bot.formatting import count_of
    from bot.store import db as store_db
    from bot.store.crypto import SecretKeyError, load_secret_key
    from bot.store.rotate import rotate_secret_key

    settings = load_settings()
    if settings.secret_key is None:
        raise SecretKeyError("FLOWCOACH_SECRET_KEY: set it to the key to encrypt every secret with")
    old = list(settings.old_secret_key_texts)
    if os.environ.get(args.old_key_env):  # one earlier key, as rotate-key took it before OLD_SECRET_KEYS
        old.append(os.environ[args.old_key_env])
    database = store_db.open_database(settings.database_url)
    try:
        key = load_secret_key(database.engine, settings.secret_key.get_secret_value(), old)
        assert key is not None
        done = rotate_secret_key(database.engine, key)
    finally:
        database.close()
    out.write(
        f"re-encrypted {count_of(done.secrets, 'secret')}: "
        f"the credentials of {count_of(done.boards, 'board')}, "
        f"{count_of(done.tokens, 'Slack token')} ({done.already:,} already under FLOWCOACH_SECRET_KEY); "
        "once serve and worker run with it, remove the earlier keys\n"
    )
    return 0


def run_board_add(args: argparse.Namespace, out: TextIO) -> int:
    """Register a board; without ``--workflow``, propose one from the tracker's statuses and print it."""
    from bot.connectors.registry import CONNECTORS, connector_kind
    from bot.formatting import count_of
    from bot.store import boards as store
    from bot.store.crypto import encrypt_secrets, required_key

    interactive = sys.stdin.isatty()
    kind = connector_kind(args.connector or _ask("Connector", sorted(CONNECTORS), interactive, "--connector"))
    values = _settings_values(kind, args.set, args.set_env, interactive)
    settings = kind.settings(values)
    plain, secrets = kind.split(settings)
    if secrets and not key_is_set():  # said before the tracker is asked anything
        required_key(None)
    if args.workflow is not None:
        workflow_yaml = _read_workflow(args.workflow)
    elif kind.proposes_workflow:
        workflow_yaml = _propose_workflow(args.name, kind.build(settings, None), out)
    else:
        workflow_yaml = _read_workflow(Path(_ask("Workflow file", None, interactive, "--workflow")))
    if not kind.over_http:  # a local source costs nothing to check: a mistyped path is said now, not at sync
        _check_source(args.name, kind, settings, workflow_yaml)
    with open_store() as sessions:
        encrypted = encrypt_secrets(secrets, secret_key(sessions) if secrets else None)
        with sessions.begin() as session:
            store.add_board(
                session,
                args.name,
                connector=kind.name,
                settings=plain,
                encrypted_secrets=encrypted,
                workflow_yaml=workflow_yaml,
                channel_id=args.channel,
            )
    secret_note = f"; {count_of(len(secrets), 'secret')} stored encrypted" if secrets else ""
    out.write(
        f"added board '{args.name}' ({kind.name} connector{secret_note});"
        f" sync it with: flowcoach sync {args.name}\n"
    )
    return 0


def _check_source(name: str, kind: ConnectorKind, settings: BaseModel, workflow_yaml: str) -> None:
    from analytics.workflow import parse_workflow

    connector = kind.connect(settings, parse_workflow(workflow_yaml, source=f"workflow of board '{name}'"))
    try:
        connector.check()
    except FlowcoachError as error:
        raise FlowcoachError(f"board '{name}' not added: {error}") from None
    finally:
        connector.close()


def _read_workflow(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise FlowcoachError(f"{path}: cannot read the workflow ({error.strerror or error})") from None


def _propose_workflow(name: str, connector: Connector, out: TextIO) -> str:
    """Check the credentials, ask what the source knows of its statuses, print the proposal and its gaps."""
    from bot.services.proposal import proposed_workflow, status_facts

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


def run_board_list(args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.board_status import sync_state
    from bot.formatting import count_of
    from bot.store import boards as store

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
                state = sync_state(board, store.last_sync_run(session, board.id), now)
                out.write(
                    f"{board.name:<{width}}  {board.connector:<8}  {count_of(counts['items'], 'item'):>12}  "
                    f"{state}\n"
                )
    return 0


def run_board_show(args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.board_status import earlier_interruption, sync_state
    from bot.connectors.registry import connector_kind
    from bot.store import boards as store

    with open_store() as sessions, sessions() as session:
        board = store.get_board(session, args.name)
        counts = store.board_counts(session, board.id)
        workflow = store.board_workflow(board)
        runs = store.last_sync_runs(session, board.id, 2)
        last, previous = runs[0] if runs else None, runs[1] if len(runs) > 1 else None
        kind = connector_kind(board.connector)
        out.write(f"{board.name}\n  connector: {board.connector}\n")
        for key, value in sorted(board.connector_settings.items()):
            out.write(f"    {key}: {value}\n")
        for key in kind.secret_fields:
            out.write(f"    {key}: (stored encrypted)\n")
        out.write(f"  workflow: {' → '.join(workflow.stage_names)} ({workflow.timezone})\n")
        out.write(f"  channel: {board.channel_id or '—'}\n")
        out.write(f"  stored: {_stored(counts)}\n")
        now = dt.datetime.now(dt.UTC)
        out.write(f"  {sync_state(board, last, now, detail=True)}\n")
        note = earlier_interruption(last, previous, now)
        if note is not None:
            out.write(f"  {note}\n")
    return 0


def _stored(counts: dict[str, int]) -> str:
    from bot.formatting import count_of

    return (
        f"{count_of(counts['items'], 'item')}, {count_of(counts['events'], 'event')}, "
        f"{count_of(counts['sync_runs'], 'sync run')}"
    )


def run_board_remove(args: argparse.Namespace, out: TextIO) -> int:
    """Delete a board and its data, once confirmed: asked on a terminal, ``--yes`` anywhere else."""
    from bot.store import boards as store

    with open_store() as sessions:
        with sessions() as session:
            counts = store.board_counts(session, store.get_board(session, args.name).id)
        if not args.yes:
            _confirm_removal(args.name, _stored(counts))
        with sessions.begin() as session:
            store.remove_board(session, args.name)
    out.write(f"removed board '{args.name}' and everything stored for it ({_stored(counts)})\n")
    return 0


def _confirm_removal(name: str, stored: str) -> None:
    if not sys.stdin.isatty():  # a script must say it means it: nothing to ask, nothing to undo
        raise UsageError(f"board remove {name} deletes {stored}; add --yes to confirm")
    try:
        answer = input(f"Remove board '{name}' and everything stored for it ({stored})? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise FlowcoachError(f"board '{name}' not removed")
