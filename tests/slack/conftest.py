"""The Slack app under test: a real HTTP server on 127.0.0.1 running the app factory's WSGI application,
talking to the Slack Web API emulator, on a real database; requests arrive signed, as Slack sends them.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from cryptography.fernet import Fernet

from bot.config import Settings
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.services.sync import sync_board
from bot.slack.app import create_app
from bot.slack.runtime import Runtime
from bot.slack.subcommands import SUBCOMMANDS, Subcommands
from bot.slack.web import wsgi_app
from bot.store.boards import LOCAL_WORKSPACE, add_board
from bot.store.db import make_engine, session_factory, upgrade
from tests.fakes.slack_api import SlackEmulator
from tests.fakes.slack_requests import SlackSender

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SECRET_KEY = Fernet.generate_key().decode()
FLOW_CHANNEL = "C0000FLOW1"
USER = "U0000USER1"


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class RunningApp:
    """The app serving at ``events_url``, its runtime (database, clock) and a sender of signed requests."""

    base_url: str
    runtime: Runtime
    sender: SlackSender
    slack: SlackEmulator

    @property
    def events_url(self) -> str:
        return self.base_url + "/slack/events"

    def sessions(self) -> Any:
        return self.runtime.sessions()


def app_settings(database_url: str, slack: SlackEmulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test-team1",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "FLOWCOACH_SECRET_KEY": SECRET_KEY,
        # The fake trackers listen on loopback: allowed as an operator allows an intranet's Jira.
        "FLOWCOACH_ALLOWED_HOSTS": "127.0.0.1",
    }
    values.update(overrides)
    return Settings(_env_file=None, **{key: value for key, value in values.items() if value is not None})


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'flowcoach.db'}"


@pytest.fixture
def start_app(slack: SlackEmulator, tmp_path: Path) -> Iterator[Callable[..., RunningApp]]:
    """Start the app on a database with the given settings (and `/flow` subcommands, the registry's unless
    a test extends it); every app started is stopped afterwards.

    Its import folder (``FLOWCOACH_IMPORT_DIR``, where `/flow connect` may read files) holds a copy of the
    sample board's event log as ``events.csv``.
    """
    stops: list[Callable[[], None]] = []
    imports = tmp_path / "imports"
    imports.mkdir(exist_ok=True)
    (imports / "events.csv").write_bytes(SAMPLE_EVENTS_PATH.read_bytes())

    def start(
        database_url: str,
        *,
        clock: Callable[[], Any] | None = None,
        subcommands: Subcommands = SUBCOMMANDS,
        **overrides: Any,
    ) -> RunningApp:
        settings = app_settings(database_url, slack, **({"FLOWCOACH_IMPORT_DIR": str(imports)} | overrides))
        engine = make_engine(settings.database_url)
        upgrade(engine)
        runtime = Runtime(
            settings=settings, sessions=session_factory(engine), background=ThreadPoolExecutor(2)
        )
        if clock is not None:
            runtime.clock = clock
        server = make_server(
            "127.0.0.1",
            0,
            wsgi_app(create_app(runtime, subcommands), runtime),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            server.server_close()
            runtime.background.shutdown(wait=True)
            engine.dispose()

        stops.append(stop)
        base_url = f"http://127.0.0.1:{server.server_port}"
        sender = SlackSender(base_url + "/slack/events", SIGNING_SECRET, emulator=slack)
        return RunningApp(base_url, runtime, sender, slack)

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def app(start_app: Callable[..., RunningApp], sqlite_url: str) -> RunningApp:
    """The single-workspace app on SQLite, its clock at the sample board's export time."""
    return start_app(sqlite_url, clock=lambda: SAMPLE_ASOF)


def add_sample_board(
    running: RunningApp | Runtime, *, channel_id: str | None = FLOW_CHANNEL, name: str = "Payments"
) -> int:
    """The bundled sample board, synced from its file, in the local workspace."""
    from bot.connectors.file import FileConnector, FileSettings
    from bot.store.boards import board_workflow

    sessions = (running if isinstance(running, Runtime) else running.runtime).sessions
    with sessions.begin() as session:
        board = add_board(
            session,
            name,
            connector="file",
            settings={"path": str(SAMPLE_EVENTS_PATH)},
            encrypted_secrets=None,
            workflow_yaml=SAMPLE_WORKFLOW_PATH.read_text(),
            channel_id=channel_id,
            team_id=LOCAL_WORKSPACE,
        )
        board_id, workflow = board.id, board_workflow(board)
    sync_board(sessions, board_id, FileConnector(FileSettings(path=str(SAMPLE_EVENTS_PATH)), workflow))
    return board_id


@pytest.fixture
def sample_app(app: RunningApp) -> RunningApp:
    """The app with the sample board connected to #team-flow."""
    add_sample_board(app)
    return app
