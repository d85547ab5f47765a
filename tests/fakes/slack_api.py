"""A local Slack Web API on 127.0.0.1 that the unmodified ``slack_sdk.WebClient`` can talk to.

Why an HTTP emulator rather than mocks: the bot's Slack code is mostly *protocol* — which content type a
method goes out in, JSON strings inside form fields, the three-step ``files_upload_v2`` dance, Basic auth on
``oauth.v2.access``, retry handlers reacting to a 429's ``Retry-After`` or a dropped connection. Mocking
``WebClient`` would test none of that; pointing a real ``WebClient(base_url=slack.api_url)`` at this server
tests all of it, and the emulator answers with Slack's own payload shapes and error codes.

This module holds the workspace state (teams, tokens, channels, users, messages, views, uploads), the call
log, fault injection and the HTTP handler; ``slack_api_methods`` implements the methods themselves.

    with SlackEmulator() as slack:
        client = WebClient(base_url=slack.api_url, token="xoxb-test-team1")
        client.chat_postMessage(channel="general", text="hi")
        assert slack.messages("C0000GENRL")[0]["text"] == "hi"

Every call is recorded as an ``ApiCall`` (injected faults too, with ``failed=True``); ``wait_for`` polls the
log for calls made by a bot running in another thread, ignoring injected faults. ``response_url()`` hands out
URLs standing in for Slack's ``response_url`` webhooks; what is posted there lands in ``responses``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.server import LocalHttpServer
from tests.fakes.slack_api_methods import (
    METHODS,
    Channel,
    OAuthCode,
    PendingFile,
    Request,
    SlackError,
    Team,
    Upload,
    User,
    block_problems,
    slug,
)

__all__ = ["ApiCall", "Channel", "ResponsePost", "SlackEmulator", "Team", "Upload", "User"]

# Form fields that carry JSON: slack_sdk (and Slack's docs) send these as JSON strings inside forms.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata", "user_auth_blocks"})
TS_START = 1_764_000_000_000_100  # microseconds: the first ts is "1764000000.000100"
TRIGGER_SECONDS = 3.0  # how long Slack accepts a trigger id after the click or command that carried it


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]  # decoded: JSON-string fields (blocks, view, files, …) are objects here
    team_id: str | None
    token: str | None
    at: float
    failed: bool = False  # answered by an injected fault (fail_next/drop_next) and not applied
    error: str | None = None  # Slack's error code when the answer was ``ok: false``
    response: dict[str, Any] | None = None  # the JSON answered, as it was then (None: dropped connection)


@dataclass(frozen=True)
class ResponsePost:
    key: str
    body: dict[str, Any]
    at: float = 0.0
    status: int = 200
    failed: bool = False  # answered by ``fail_next_response``


@dataclass
class _Fault:
    status: int
    error: str
    retry_after: int | None
    drop: bool
    applied: bool = False  # carried out before the connection closes (the answer is lost, not the call)


class SlackEmulator(LocalHttpServer):
    """Slack's Web API for tests; a context manager (``with SlackEmulator() as slack: slack.api_url``)."""

    DEFAULT_SCOPE = (
        "commands,chat:write,chat:write.public,files:write,users:read,im:write,app_mentions:read,"
        "channels:read,groups:read,channels:history,groups:history"
    )

    def __init__(
        self,
        *,
        client_id: str = "111.222",
        client_secret: str = "emulator-secret",
        app_id: str = "A0000APP01",
    ) -> None:
        self.client_id, self.client_secret, self.app_id = client_id, client_secret, app_id
        self.teams: dict[str, Team] = {}
        self.tokens: dict[str, str] = {}  # token → team id
        self.socket_mode_url: str | None = None  # set by a SocketModeServer (tests/fakes/slack_socket.py)
        self.revoked: set[str] = set()
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.views: dict[str, dict[str, Any]] = {}  # current view by id (modals and home tabs)
        self.home_views: dict[str, dict[str, Any]] = {}  # current home tab by user id
        self.uploads: list[Upload] = []
        self.calls: list[ApiCall] = []
        self.responses: list[ResponsePost] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: dict[str, list[dict[str, Any]]] = {}
        self._dms: dict[tuple[str, str], str] = {}
        # State the methods keep (``slack_api_methods``): keys are (team id, external id | user id).
        self.external_ids: dict[tuple[str, str], str] = {}
        self.home_ids: dict[tuple[str, str], str] = {}
        self.triggers_used: set[str] = set()
        self.triggers_expired: set[str] = set()
        self.trigger_lifetime = TRIGGER_SECONDS
        self.files: dict[str, PendingFile] = {}  # by file id, from files.getUploadURLExternal
        self.codes: dict[str, OAuthCode] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self.latency: dict[str, float] = {}  # seconds a method's answer takes after the call is carried out
        self._storms: dict[str, tuple[float, random.Random, int]] = {}  # method → (share, dice, Retry-After)
        self._response_faults: list[int] = []
        self._ids = itertools.count(1)
        self._ts = TS_START
        self._lock = threading.RLock()
        self.add_team("T0000TEAM1", "Team One", "xoxb-test-team1", "U0BOT0001", bot_id="B0BOT0001")
        self.add_channel("T0000TEAM1", "C0000GENRL", "general")
        self.add_channel("T0000TEAM1", "C0000FLOW1", "team-flow")
        self.add_user("U0000USER1", "ada", tz="Europe/Zurich")
        self.add_user("U0000USER2", "grace", tz="America/New_York")

    # -- lifecycle ------------------------------------------------------------------------------------

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundSlackHandler", (_Handler,), {"slack": self})

    @property
    def api_url(self) -> str:
        """The ``base_url`` for ``WebClient`` (with its trailing slash)."""
        return f"{self.url}/api/"

    # -- the workspace ------------------------------------------------------------------------------------

    def add_team(
        self,
        team_id: str,
        name: str,
        bot_token: str,
        bot_user_id: str,
        *,
        bot_id: str | None = None,
        domain: str | None = None,
    ) -> Team:
        with self._lock:
            team = Team(
                team_id, name, bot_token, bot_user_id, bot_id or self.new_id("B"), domain or slug(name)
            )
            self.teams[team_id] = team
            self.tokens[bot_token] = team_id
            self.users.setdefault(bot_user_id, User(bot_user_id, team.bot_name, "UTC", team_id, is_bot=True))
            return team

    def add_channel(
        self, team_id: str, channel_id: str, name: str, is_private: bool = False, *, is_member: bool = True
    ) -> Channel:
        with self._lock:
            channel = Channel(channel_id, team_id, name, is_private, is_member)
            self.channels[channel_id] = channel
            return channel

    def add_user(
        self, user_id: str, name: str, *, tz: str | None = "Europe/Zurich", team_id: str = "T0000TEAM1"
    ) -> User:
        with self._lock:
            self.users[user_id] = user = User(user_id, name, tz, team_id)
            return user

    def revoke_token(self, token: str) -> None:
        """Later calls with ``token`` answer ``token_revoked`` (an uninstalled app)."""
        with self._lock:
            self.revoked.add(token)

    def register_oauth_code(
        self,
        code: str,
        team_id: str,
        team_name: str,
        bot_token: str,
        user_id: str = "U0000USER1",
        *,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        scope: str = DEFAULT_SCOPE,
    ) -> None:
        """Prepare ``code`` for ``oauth.v2.access``; the team and its token exist once it is exchanged."""
        with self._lock:
            self.codes[code] = OAuthCode(
                team_id,
                team_name,
                bot_token,
                user_id,
                bot_user_id or self.new_id("U"),
                bot_id or self.new_id("B"),
                scope,
            )

    def expire_trigger(self, trigger_id: str) -> None:
        """``views.open``/``views.push`` with this trigger answer ``expired_trigger_id``."""
        with self._lock:
            self.triggers_expired.add(trigger_id)

    def trigger_age(self, trigger_id: str) -> float:
        """Seconds since the request that carried ``trigger_id`` (see ``slack_requests.new_trigger_id``);
        0 for ids that do not say when they were issued."""
        issued = trigger_id.split(".")[1] if trigger_id.count(".") >= 2 else ""
        if not issued.isdigit() or len(issued) < 13:  # not epoch milliseconds
            return 0.0
        return time.time() - int(issued) / 1000

    def team_for(self, team_id: str) -> Team | None:
        with self._lock:
            return self.teams.get(team_id)

    def dm_id(self, team_id: str, user_id: str) -> str:
        """The ``D…`` id of the app's DM with a user: the same for every ``conversations.open``."""
        with self._lock:
            channel_id = self._dms.get((team_id, user_id))
            if channel_id is None:
                channel_id = self._dms[(team_id, user_id)] = self.new_id("D")
                self.channels[channel_id] = Channel(channel_id, team_id, user_id, True, True, user=user_id)
            return channel_id

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's messages as they are now (after ``chat.update``), oldest first; copies."""
        with self._lock:
            return copy.deepcopy(self._messages.get(channel_id, []))

    def ephemerals(self, channel_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._ephemerals.get(channel_id, []))

    def add_message(
        self, channel_id: str, text: str, *, user: str = "U0000USER1", thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message a person posted (so a mention or button can point at it); returns it."""
        with self._lock:
            channel = self.channels[channel_id]
            message = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": self.next_ts(),
                "team": channel.team_id,
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            self.store_message(channel_id, message)
            return copy.deepcopy(message)

    # -- helpers the methods use (called under the lock) ---------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def new_hash(self) -> str:
        return f"{int(time.time())}.{next(self._ids):08d}"

    def next_ts(self) -> str:
        # Real time, as Slack's are (`conversations.history`'s `oldest` compares with it), and increasing.
        self._ts = max(self._ts + 100, time.time_ns() // 1000)
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def store_message(self, channel_id: str, message: dict[str, Any]) -> None:
        self._messages.setdefault(channel_id, []).append(message)

    def drop_file_messages(self, file_id: str) -> None:
        """Remove the messages that shared a deleted file."""
        with self._lock:
            for channel_id, messages in self._messages.items():
                self._messages[channel_id] = [
                    m for m in messages if not any(f.get("id") == file_id for f in m.get("files") or [])
                ]

    def find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(channel_id, []) if m["ts"] == ts), None)

    def add_ephemeral(self, channel_id: str, message: dict[str, Any]) -> None:
        self._ephemerals.setdefault(channel_id, []).append(message)

    # -- the call log ---------------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        """Every call to ``method`` so far, injected faults included."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 20.0,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        include_failed: bool = False,
    ) -> list[ApiCall]:
        """Wait until ``count`` calls to ``method`` (matching ``predicate``) arrived; return them all.

        Calls answered by an injected fault are not counted unless ``include_failed``: a test waiting for
        a message wants the attempt that got through.
        """

        def matching() -> list[ApiCall]:
            return [
                c
                for c in self.calls_to(method)
                if (include_failed or not c.failed) and (predicate is None or predicate(c))
            ]

        def listing() -> list[str]:
            return [
                f"{c.method} team={c.team_id} "
                + ("FAILED (injected)" if c.failed else f"error={c.error}" if c.error else "ok")
                + f" {json.dumps(c.params, default=str)[:200]}"
                for c in self.calls
            ]

        return _poll(matching, count, timeout, f"call(s) to {method}", listing)

    def reset(self) -> None:
        """Forget calls, responses and pending faults (the workspace state stays)."""
        with self._lock:
            self.calls.clear()
            self.responses.clear()
            self._faults.clear()
            self._storms.clear()
            self._response_faults.clear()

    # -- fault injection ------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls to ``method`` answer ``status`` (with Retry-After) and are not applied."""
        with self._lock:
            self._faults.setdefault(method, []).extend([_Fault(status, error, retry_after, False)] * times)

    def clear_faults(self) -> None:
        """Answer every call normally again (faults not yet used up are dropped, storms end)."""
        with self._lock:
            self._faults.clear()
            self._storms.clear()

    def rate_limit_storm(self, method: str, share: float, *, retry_after: int = 1, seed: int = 0) -> None:
        """From now on, answer ``share`` of the calls to ``method`` (at random, reproducibly) with 429."""
        with self._lock:
            self._storms[method] = (share, random.Random(seed), retry_after)

    def drop_next(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` are read, then the connection closes without an answer."""
        with self._lock:
            self._faults.setdefault(method, []).extend([_Fault(0, "", None, True)] * times)

    def lose_next_answer(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` are carried out, then the connection closes without an
        answer: what a worker killed while Slack answered leaves behind (the post is in the channel, its
        sender never learnt its ts)."""
        with self._lock:
            self._faults.setdefault(method, []).extend([_Fault(0, "", None, True, applied=True)] * times)

    # -- response URLs --------------------------------------------------------------------------------------

    def response_url(self, key: str | None = None) -> str:
        """A URL standing in for a ``response_url``; what is posted there is recorded under ``key``."""
        with self._lock:
            key = key or self.new_id("R").lower()
        return f"{self.url}/response/{key}"

    def fail_next_response(self, status: int = 500, times: int = 1) -> None:
        with self._lock:
            self._response_faults.extend([status] * times)

    def wait_for_response(
        self, key: str | None = None, count: int = 1, timeout: float = 20.0
    ) -> list[ResponsePost]:
        """Wait until ``count`` posts to ``key`` (any response URL if None) arrived; not injected faults."""

        def matching() -> list[ResponsePost]:
            return [r for r in self.responses if not r.failed and key in (None, r.key)]

        def listing() -> list[str]:
            return [f"{r.key} {r.status} {json.dumps(r.body)[:200]}" for r in self.responses]

        return _poll(matching, count, timeout, f"post(s) to response URL {key or '(any)'}", listing)

    def receive_response(self, key: str, raw: bytes) -> tuple[int, str]:
        """Record a post to a response URL; Slack's answer (status, body)."""
        with self._lock:
            at = time.time()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            if self._response_faults:
                status = self._response_faults.pop(0)
                self.responses.append(ResponsePost(key, body, at, status, failed=True))
                return status, "internal_error"
            status, answer = 200, "ok"
            if not isinstance(body, dict) or "_raw" in body:
                status, answer, body = (
                    400,
                    "invalid_payload",
                    body if isinstance(body, dict) else {"_raw": body},
                )
            elif not body.get("delete_original") and not any(
                k in body for k in ("text", "blocks", "attachments")
            ):
                status, answer = 400, "no_text"
            elif "blocks" in body and (
                not isinstance(body["blocks"], list) or block_problems(body["blocks"], 50, "/blocks")
            ):
                status, answer = 400, "invalid_blocks"
            self.responses.append(ResponsePost(key, body, at, status))
            return status, answer

    # -- the API -------------------------------------------------------------------------------------------

    def handle_api(
        self, method: str, params: dict[str, Any], token: str | None, basic: tuple[str, str] | None
    ) -> tuple[int, bytes, dict[str, str]] | None:
        """One API call, recorded: (status, JSON body, headers), or None to drop the connection."""
        with self._lock:
            at = time.time()
            team_id = self.tokens.get(token) if token else None
            fault = self._faults[method].pop(0) if self._faults.get(method) else None
            storm = self._storms.get(method)
            if fault is None and storm is not None and storm[1].random() < storm[0]:
                fault = _Fault(429, "ratelimited", storm[2], False)
            lose_answer = fault is not None and fault.applied
            if fault is not None and not fault.applied:
                answer = None if fault.drop else {"ok": False, "error": fault.error}
                self.calls.append(
                    ApiCall(method, params, team_id, token, at, True, fault.error or None, answer)
                )
                if answer is None:
                    return None
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                return fault.status, json.dumps(answer).encode(), headers
            request = Request(params, token, self.teams.get(team_id) if team_id else None, basic)
            try:
                entry = METHODS.get(method)
                if entry is None:
                    raise SlackError("unknown_method")
                implementation, needs_token = entry
                if needs_token:
                    if not token:
                        raise SlackError("not_authed")
                    if token in self.revoked:
                        raise SlackError("token_revoked")
                    if request.team is None:
                        raise SlackError("invalid_auth")
                payload: dict[str, Any] = {"ok": True} | implementation(self, request)
            except SlackError as refusal:
                payload = refusal.payload()
            data = json.dumps(payload).encode()  # serialised under the lock: the state keeps changing
            team_id = request.team_id or team_id
            self.calls.append(
                ApiCall(method, params, team_id, token, at, False, payload.get("error"), json.loads(data))
            )
            return None if lose_answer else (200, data, {})

    def receive_upload(self, file_id: str, raw: bytes, content_type: str) -> tuple[int, str]:
        with self._lock:
            pending = self.files.get(file_id)
            if pending is None:
                return 404, "file_not_found"
            content = raw
            if content_type.startswith("multipart/form-data"):
                parts = _multipart(raw, content_type)
                content = next((v for v in parts.values() if isinstance(v, bytes)), b"")
            pending.content = content
            return 200, f"OK - {len(content)}"


def _poll(
    matching: Callable[[], list[Any]], count: int, timeout: float, what: str, listing: Callable[[], list[str]]
) -> list[Any]:
    """Poll ``matching`` until it has ``count`` items; on timeout fail with what arrived so far."""
    deadline = time.monotonic() + timeout
    while len(found := matching()) < count:
        if time.monotonic() >= deadline:
            so_far = "\n".join(f"  {line}" for line in listing()) or "  (none)"
            raise AssertionError(f"waited {timeout}s for {count} {what}, got {len(found)}; so far:\n{so_far}")
        time.sleep(0.01)
    return found


def _multipart(raw: bytes, content_type: str) -> dict[str, str | bytes]:
    """Fields of a multipart/form-data body: file parts as bytes, the others as text."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, str | bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(data, bytes):
            fields[name] = data if part.get_filename() else data.decode("utf-8", "replace")
    return fields


def decode_params(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    """The call's arguments whatever way they came (query, form, JSON, multipart); JSON strings decoded."""
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if raw and content_type.startswith("application/json"):
        body = json.loads(raw)
        params.update(body if isinstance(body, dict) else {})
    elif raw and content_type.startswith("multipart/form-data"):
        params.update(_multipart(raw, content_type))
    elif raw:
        params.update({k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()})
    for name in JSON_FIELDS & params.keys():
        if isinstance(params[name], str):
            with contextlib.suppress(ValueError):  # a string left: the method answers *_format errors
                params[name] = json.loads(params[name])
    return params


class _Handler(BaseHTTPRequestHandler):
    slack: SlackEmulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``slack.calls`` instead."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
        if m := re.fullmatch(r"/api/([A-Za-z0-9_.]+)", parts.path):
            try:
                params = decode_params(raw, content_type, parts.query)
            except ValueError:
                self._send(200, b'{"ok": false, "error": "invalid_json"}')
                return
            token, basic = self._credentials()
            token = token or params.pop("token", None)
            params.pop("token", None)
            answer = self.slack.handle_api(m.group(1), params, token, basic)
            time.sleep(self.slack.latency.get(m.group(1), 0.0))  # carried out, the answer on its way
            if answer is None:  # drop_next, lose_next_answer: no answer at all
                self.close_connection = True
                return
            self._send(*answer)
        elif m := re.fullmatch(r"/upload/([A-Za-z0-9]+)", parts.path):
            self._send_text(*self.slack.receive_upload(m.group(1), raw, content_type))
        elif m := re.fullmatch(r"/response/([A-Za-z0-9_.-]+)", parts.path):
            self._send_text(*self.slack.receive_response(m.group(1), raw))
        else:
            self._send_text(404, "not_found")

    def _credentials(self) -> tuple[str | None, tuple[str, str] | None]:
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[7:].strip() or None, None
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None, None
            return None, (user, password)
        return None, None

    def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self._write(status, data, "application/json; charset=utf-8", headers)

    def _send_text(self, status: int, text: str) -> None:
        self._write(status, text.encode(), "text/plain; charset=utf-8")

    def _write(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
