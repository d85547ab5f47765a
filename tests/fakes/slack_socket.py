"""A Socket Mode endpoint for the Slack emulator: a WebSocket server on 127.0.0.1 that delivers envelopes.

Slack's Socket Mode: the app calls ``apps.connections.open`` with its app-level token, connects to the URL it
gets, receives ``hello``, then envelopes (``slash_commands``, ``events_api``, ``interactive``) each carrying
an ``envelope_id`` that the app acknowledges with ``{"envelope_id", "payload"?}`` within 3 seconds.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.fakes.slack_api import SlackEmulator

APP_TOKEN = "xapp-1-A0000APP01-test"


class SocketModeServer:
    """``with SocketModeServer(slack) as socket:`` then ``socket.send(...)`` once an app is connected."""

    def __init__(self, slack: SlackEmulator, team_id: str = "T0000TEAM1") -> None:
        self.slack = slack
        self.team_id = team_id
        self._connections: queue.Queue[ServerConnection] = queue.Queue()
        self._acks: dict[str, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._connection: ServerConnection | None = None

    def __enter__(self) -> SocketModeServer:
        self._server = serve(self._handle, "127.0.0.1", 0)
        port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.slack.socket_mode_url = f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4().hex}"
        self.slack.tokens[APP_TOKEN] = self.team_id
        return self

    def __exit__(self, *exc: object) -> None:
        self.slack.socket_mode_url = None
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0"}})
        )
        self._connections.put(connection)
        try:
            for raw in connection:
                message = json.loads(raw)
                envelope_id = message.get("envelope_id")
                with self._lock:
                    waiting = self._acks.get(envelope_id)
                if waiting is not None:
                    waiting.put(message)
        except ConnectionClosed:
            pass

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Block until the app has connected (and been greeted)."""
        if self._connection is None:
            self._connection = self._connections.get(timeout=timeout)

    def send(self, kind: str, payload: dict[str, Any], *, timeout: float = 5.0) -> dict[str, Any]:
        """Deliver one envelope and return the app's acknowledgement (``payload`` holds any response)."""
        self.wait_connected()
        assert self._connection is not None
        envelope_id = str(uuid.uuid4())
        answers: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._acks[envelope_id] = answers
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._connection.send(json.dumps(envelope))
        try:
            return answers.get(timeout=timeout)
        finally:
            with self._lock:
                self._acks.pop(envelope_id, None)

    def slash_command(
        self, text: str, *, response_url: str, channel_id: str = "C0000FLOW1"
    ) -> dict[str, Any]:
        """``/flow text`` as Socket Mode delivers it: the slash command's fields as a JSON payload."""
        return self.send(
            "slash_commands",
            {
                "token": "verification-token",
                "team_id": self.team_id,
                "team_domain": "team-one",
                "channel_id": channel_id,
                "channel_name": "team-flow",
                "user_id": "U0000USER1",
                "user_name": "ada",
                "command": "/flow",
                "text": text,
                "api_app_id": "A0000APP01",
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().int % 10**10}",
            },
        )
