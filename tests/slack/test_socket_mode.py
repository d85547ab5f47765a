"""Socket Mode (`SLACK_APP_TOKEN`): the same app, reached over a WebSocket instead of HTTP."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.sample import SAMPLE_ASOF
from bot.slack.app import create_app
from bot.slack.runtime import Runtime
from bot.store.db import make_engine, session_factory, upgrade
from tests.fakes.slack_socket import APP_TOKEN, SocketModeServer
from tests.slack.conftest import add_sample_board, app_settings


def test_socket_mode_answers_commands_without_a_public_url(slack, sqlite_url):
    """With an app token the app connects out, acks `/flow help` inline and answers `status` lazily."""
    settings = app_settings(sqlite_url, slack, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    runtime = Runtime(settings, session_factory(engine), ThreadPoolExecutor(1), clock=lambda: SAMPLE_ASOF)
    with SocketModeServer(slack) as socket:
        add_sample_board(runtime)
        handler = SocketModeHandler(create_app(runtime), APP_TOKEN)
        connecting = threading.Thread(target=handler.connect, daemon=True)
        connecting.start()
        try:
            ack = socket.slash_command("help", response_url=slack.response_url("help"))
            assert "/flow status" in json.dumps(ack["payload"])
            ack = socket.slash_command("status", response_url=slack.response_url("status"))
            assert not ack.get("payload")
            answer = slack.wait_for_response("status")[0].body
            assert "Development" in json.dumps(answer["blocks"])
        finally:
            handler.close()
            connecting.join(timeout=5)
            runtime.background.shutdown()
            engine.dispose()
