"""The shared HTTP layer against a real local server: JSON, auth, retries, error mapping, paging, logging."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bot.connectors.errors import (
    BadCredentials,
    ConnectorError,
    Gone,
    NoPermission,
    NotFound,
    RateLimited,
    ServerError,
    UnexpectedResponse,
    Unreachable,
)
from bot.connectors.gitlab_http import PrivateTokenAuth
from bot.connectors.http import (
    BearerAuth,
    HttpClient,
    HttpOptions,
    paginate_by_offset,
    paginate_by_token,
    web_address,
)
from bot.connectors.linear_graphql import ApiKeyAuth


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a dict or list body is sent as JSON, a str as HTML."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer(ThreadingHTTPServer):
    """Answers each path from its queue of replies (the last one repeats) and records every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.scripts: dict[str, list[Reply]] = {}
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path] = list(replies)

    def next_reply(self, path: str) -> Reply:
        with self.lock:
            queue = self.scripts.get(path)
            if not queue:
                return Reply(599, {"error": f"nothing scripted for {path}"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected here; stay quiet about it."""


class ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; avoid the 40 ms delayed ACK

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.received.append(
                Received(self.command, url.path, url.query, dict(self.headers.items()), body)
            )
        reply = self.server.next_reply(url.path)
        if reply.delay and self.server.stopping.wait(reply.delay):
            return
        if isinstance(reply.body, str):
            payload, kind = reply.body.encode(), "text/html; charset=utf-8"
        else:
            payload, kind = json.dumps(reply.body).encode(), "application/json;charset=UTF-8"
        self.send_response_only(reply.status)
        headers = {"Date": self.date_time_string(), "Content-Type": kind, **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield srv
    srv.stopping.set()
    srv.shutdown()
    srv.server_close()
    thread.join()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(server: ScriptedServer, sleeps: list[float]) -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def make(
        base_url: str | None = None, auth: Any = None, headers: Any = None, **options: Any
    ) -> HttpClient:
        options.setdefault("sleep", sleeps.append)
        options.setdefault("timeout", 2.0)
        client = HttpClient(
            base_url or server.url, service="Jira", auth=auth, headers=headers, options=HttpOptions(**options)
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_get_json_returns_the_decoded_body_and_sends_params(server, make_client):
    """GET decodes the JSON body, sends the query parameters, and asks for JSON."""
    server.script("/rest/api/3/myself", Reply(200, {"accountId": "a1", "displayName": "Ada"}))
    client = make_client()
    assert client.get_json("/rest/api/3/myself", {"expand": "groups", "n": 3}) == {
        "accountId": "a1",
        "displayName": "Ada",
    }
    [request] = server.received
    assert request.method == "GET" and request.query == "expand=groups&n=3"
    assert request.headers["Accept"] == "application/json"
    assert client.request_count == 1


def test_post_json_sends_the_body_as_json(server, make_client):
    """POST sends the JSON body with its content type and decodes the JSON answer."""
    server.script("/rest/api/3/search/jql", Reply(200, {"issues": [], "isLast": True}))
    query = {"jql": "project = FLOW", "fields": ["status"], "maxResults": 100}
    assert make_client().post_json("/rest/api/3/search/jql", query) == {"issues": [], "isLast": True}
    [request] = server.received
    assert request.method == "POST" and json.loads(request.body) == query
    assert request.headers["Content-Type"] == "application/json"


def test_base_url_path_prefix_is_kept(server, make_client):
    """A Data Center context path in the site URL prefixes every request path."""
    server.script("/jira/rest/api/2/serverInfo", Reply(200, {"version": "9.12.0"}))
    client = make_client(base_url=f"{server.url}/jira")
    assert client.get_json("/rest/api/2/serverInfo") == {"version": "9.12.0"}


def test_basic_auth_header_is_sent(server, make_client):
    """An (e-mail, token) pair goes out as HTTP basic auth."""
    server.script("/rest/api/3/myself", Reply(200, {}))
    make_client(auth=("ada@example.com", "tok")).get_json("/rest/api/3/myself")
    expected = base64.b64encode(b"ada@example.com:tok").decode()
    assert server.received[0].headers["Authorization"] == f"Basic {expected}"


def test_bearer_auth_header_is_sent_and_hidden_from_repr(server, make_client):
    """BearerAuth sends `Authorization: Bearer` and never shows the token in its repr."""
    server.script("/rest/api/2/myself", Reply(200, {}))
    auth = BearerAuth("pat-123")
    make_client(auth=auth).get_json("/rest/api/2/myself")
    assert server.received[0].headers["Authorization"] == "Bearer pat-123"
    assert "pat-123" not in repr(auth)


@pytest.mark.parametrize(
    ("auth", "header", "value"),
    [
        (PrivateTokenAuth("glpat-9"), "PRIVATE-TOKEN", "glpat-9"),
        (ApiKeyAuth("lin_api_9"), "Authorization", "lin_api_9"),
    ],
)
def test_token_auths_send_their_header_and_hide_the_token(server, make_client, auth, header, value):
    """GitLab's and Linear's tokens go in the header their API reads, as they are; reprs never show them."""
    server.script("/x", Reply(200, {}))
    make_client(auth=auth).get_json("/x")
    assert server.received[0].headers[header] == value
    assert value not in repr(auth)


def test_429_with_retry_after_seconds_waits_as_asked(server, make_client, sleeps):
    """429 with `Retry-After: 2` then 200: one retry after sleeping exactly 2 s."""
    server.script("/x", Reply(429, {}, {"Retry-After": "2"}), Reply(200, {"ok": True}))
    client = make_client()
    assert client.get_json("/x") == {"ok": True}
    assert sleeps == [2.0]
    assert client.request_count == 2


def test_429_with_an_http_date_retry_after_waits_until_that_date(server, make_client, sleeps):
    """An HTTP-date Retry-After is measured from the response's Date header, not this machine's clock."""
    sent = "Tue, 03 Jun 2025 10:00:00 GMT"
    until = format_datetime(dt.datetime(2025, 6, 3, 10, 0, 7, tzinfo=dt.UTC), usegmt=True)
    server.script("/x", Reply(429, {}, {"Date": sent, "Retry-After": until}), Reply(200, {}))
    make_client().get_json("/x")
    assert sleeps == [7.0]


def test_retry_after_is_capped_at_max_backoff(server, make_client, sleeps):
    """A Retry-After longer than max_backoff waits max_backoff; an unreadable one falls back to backoff."""
    server.script(
        "/x",
        Reply(429, {}, {"Retry-After": "3600"}),
        Reply(503, {}, {"Retry-After": "soon"}),
        Reply(200, {}),
    )
    make_client(max_backoff=30.0, backoff=0.5).get_json("/x")
    assert sleeps == [30.0, 1.0]


def test_with_max_rate_limit_wait_a_429s_wait_is_honoured_whole_and_told(server, make_client, sleeps):
    """Up to max_rate_limit_wait, a 429's wait is waited in one go and heard by `waiting` first; a 5xx's
    Retry-After stays capped at max_backoff."""
    server.script(
        "/x", Reply(429, {}, {"Retry-After": "1800"}), Reply(503, {}, {"Retry-After": "900"}), Reply(200, {})
    )
    heard: list[float] = []
    make_client(max_backoff=30.0, max_rate_limit_wait=3600.0).request("GET", "/x", waiting=heard.append)
    assert sleeps == [1800.0, 30.0] and heard == [1800.0]


def test_429_forever_raises_rate_limited_after_exponential_backoff(server, make_client, sleeps):
    """429 without Retry-After backs off exponentially, then RateLimited says what to do."""
    server.script("/rest/api/3/search/jql", Reply(429, {}))
    client = make_client(max_retries=3)
    with pytest.raises(RateLimited, match=r"^Jira is still rate-limiting .*429 on /rest/api/3/") as raised:
        client.post_json("/rest/api/3/search/jql", {"jql": "x"})
    assert "after 3 retries" in str(raised.value)
    assert sleeps == [1.0, 2.0, 4.0]
    assert client.request_count == 4


def test_503_twice_then_200_backs_off_with_increasing_waits(server, make_client, sleeps):
    """Two 503s then 200: two retries with waits that grow."""
    server.script("/x", Reply(503, {}), Reply(503, {}), Reply(200, {"n": 1}))
    client = make_client(backoff=0.25)
    assert client.get_json("/x") == {"n": 1}
    assert sleeps == [0.25, 0.5]
    assert client.request_count == 3


def test_500_forever_raises_server_error_after_max_retries(server, make_client, sleeps):
    """500 on every attempt: ServerError after max_retries retries, backoff capped at max_backoff."""
    server.script("/rest/api/3/status", Reply(500, {"errorMessages": ["boom"]}))
    client = make_client(max_retries=4, backoff=1.0, max_backoff=3.0)
    with pytest.raises(ServerError, match=r"^Jira had a server error \(500 on /rest/api/3/status\) after 4 "):
        client.get_json("/rest/api/3/status")
    assert client.request_count == 5 == len(server.received)
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, BadCredentials, "refused the credentials (401 on /rest/api/3/myself): check the e-mail"),
        (403, NoPermission, "denied access (403 on /rest/api/3/myself)"),
        (404, NotFound, "has nothing at /rest/api/3/myself (404)"),
        (410, Gone, "has removed /rest/api/3/myself (410 Gone)"),
        (400, UnexpectedResponse, "answered 400 Bad Request on /rest/api/3/myself"),
    ],
)
def test_client_errors_map_at_once_without_retry(server, make_client, sleeps, status, error, words):
    """4xx answers raise their mapped error on the first attempt, naming service and path, not the query."""
    server.script("/rest/api/3/myself", Reply(status, {"errorMessages": ["no"]}))
    client = make_client()
    with pytest.raises(error) as raised:
        client.get_json("/rest/api/3/myself", {"token": "query-secret"})
    message = str(raised.value)
    assert message.startswith("Jira ") and words in message
    assert "query-secret" not in message
    assert client.request_count == 1 and sleeps == []


def test_expected_statuses_are_returned_not_raised(server, make_client):
    """A status listed in `expected` comes back as a response for the connector to read."""
    server.script("/rest/api/3/issue/FLOW-1", Reply(404, {"errorMessages": ["Issue does not exist"]}))
    response = make_client().request("GET", "/rest/api/3/issue/FLOW-1", expected=(200, 404))
    assert response.status_code == 404


def test_redirect_is_reported_with_the_new_address(server, make_client):
    """A redirect is not followed: the error names where it points, without its query."""
    sso = "https://sso.example.com/login"
    server.script("/rest/api/3/myself", Reply(302, {}, {"Location": f"{sso}?ticket=s3cr3t"}))
    with pytest.raises(UnexpectedResponse, match=f"redirected /rest/api/3/myself to {sso} ") as raised:
        make_client().get_json("/rest/api/3/myself")
    assert "s3cr3t" not in str(raised.value)


def test_html_body_where_json_was_expected_is_unexpected_response(server, make_client):
    """An HTML login page answered with 200 raises UnexpectedResponse naming the content type."""
    server.script("/rest/api/3/myself", Reply(200, "<html><body>Log in</body></html>"))
    with pytest.raises(UnexpectedResponse, match="answered /rest/api/3/myself with text/html instead of"):
        make_client().get_json("/rest/api/3/myself")


def test_connection_refused_is_unreachable_after_retries(make_client, sleeps):
    """Nothing listening: every attempt is retried with backoff, then Unreachable."""
    client = make_client(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=2)
    with pytest.raises(Unreachable, match=r"^Could not reach Jira on /rest/api/3/myself: the connection"):
        client.get_json("/rest/api/3/myself")
    assert client.request_count == 3
    assert sleeps == [1.0, 2.0]


def test_timeout_is_unreachable_after_retries(server, make_client, sleeps):
    """A server slower than the timeout: retried, then Unreachable saying how long it waited."""
    server.script("/slow", Reply(200, {}, delay=2.0))
    client = make_client(timeout=0.1, max_retries=1)
    with pytest.raises(Unreachable, match=r"no answer within 0.1 s after 1 retry"):
        client.get_json("/slow")
    assert client.request_count == 2 and sleeps == [1.0]


def test_post_is_not_retried_on_5xx_unless_it_is_a_read(server, make_client, sleeps):
    """A plain POST is not repeated after a 503 (it may have acted); `retry_post` and post_json are."""
    server.script("/write", Reply(503, {}))
    client = make_client(max_retries=2)
    with pytest.raises(ServerError):
        client.request("POST", "/write", json={"a": 1})
    assert client.request_count == 1
    server.script("/read", Reply(503, {}), Reply(200, {"ok": True}))
    assert client.request("POST", "/read", json={}, retry_post=True).json() == {"ok": True}
    server.script("/search", Reply(503, {}), Reply(200, {"ok": True}))
    assert client.post_json("/search", {}) == {"ok": True}
    assert sleeps == [1.0, 1.0]


def test_post_is_retried_on_429_because_the_server_did_not_act(server, make_client, sleeps):
    """429 means the request was refused unprocessed, so even a plain POST is sent again."""
    server.script("/write", Reply(429, {}, {"Retry-After": "1"}), Reply(201, {"id": 7}))
    assert make_client().request("POST", "/write", json={}, expected=(201,)).json() == {"id": 7}
    assert sleeps == [1.0]


def test_untrusted_certificate_fails_fast(make_client, sleeps):
    """A TLS certificate error is not retried: waiting will not make it trusted."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("certificate verify failed") from ssl.SSLCertVerificationError("self-signed")

    client = make_client(base_url="https://jira.example.com", transport=httpx.MockTransport(refuse))
    with pytest.raises(Unreachable, match="TLS certificate is not trusted"):
        client.get_json("/rest/api/3/myself")
    assert client.request_count == 1 and sleeps == []


def test_unknown_host_is_named_as_such(make_client, sleeps):
    """A DNS failure says the host name could not be resolved (after retries: DNS can hiccup)."""

    def unknown(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known") from socket.gaierror(-2, "unknown")

    transport = httpx.MockTransport(unknown)
    client = make_client(base_url="https://jira.invalid", transport=transport, max_retries=1)
    with pytest.raises(Unreachable, match="host name could not be resolved after 1 retry"):
        client.get_json("/rest/api/3/myself")
    assert sleeps == [1.0]


def test_every_mapped_error_is_a_connector_error():
    """Callers can catch ConnectorError for any failure of the HTTP layer."""
    for kind in (BadCredentials, NoPermission, NotFound, Gone, RateLimited, Unreachable, ServerError):
        assert issubclass(kind, ConnectorError)
    assert issubclass(UnexpectedResponse, ConnectorError)


def test_secrets_never_reach_the_logs(server, make_client, caplog):
    """With every logger at DEBUG, no password, token, query secret or cookie appears in any record."""
    caplog.set_level(logging.DEBUG)
    cookie = "JSESSIONID=cookie-secret-1"
    server.script("/rest/api/3/myself", Reply(503, {}), Reply(200, {"ok": 1}, {"Set-Cookie": cookie}))
    server.script("/rest/api/2/myself", Reply(401, {}))
    basic = make_client(auth=("ada@example.com", "basic-secret-2"))
    basic.get_json("/rest/api/3/myself", {"token": "query-secret-3"})
    bearer = make_client(headers={"Authorization": "Bearer bearer-secret-4"})
    with pytest.raises(BadCredentials):
        bearer.get_json("/rest/api/2/myself", {"apiKey": "query-secret-5"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/rest/api/3/myself" in logged  # the records are there, so their absence below means something
    encoded = base64.b64encode(b"ada@example.com:basic-secret-2").decode()
    secrets = ["cookie-secret-1", "basic-secret-2", encoded, "query-secret-3", "bearer-secret-4"]
    secrets.append("query-secret-5")
    assert [secret for secret in secrets if secret in logged] == []


def test_context_manager_closes_the_client(server):
    """Leaving the `with` block closes the connection pool."""
    server.script("/x", Reply(200, {}))
    with HttpClient(server.url, service="Jira", options=HttpOptions(sleep=lambda _: None)) as client:
        client.get_json("/x")
    with pytest.raises(RuntimeError):
        client.get_json("/x")


def test_options_refuse_negative_retries_and_waits_and_a_zero_timeout():
    """Impossible options fail where they are written, before any client or connector is built."""
    for wrong in ({"max_retries": -1}, {"backoff": -0.5}, {"max_backoff": -1.0}, {"timeout": 0}):
        with pytest.raises(ValueError, match="timeout > 0"):
            HttpOptions(**wrong)
    with pytest.raises(ValueError, match="max_rate_limit_wait must be ≥ 0"):
        HttpOptions(max_rate_limit_wait=-1.0)


def test_a_source_address_is_trimmed_and_must_be_http_with_a_host():
    """Every connector's address setting: spaces and a trailing slash go; no scheme or no host is refused."""
    assert web_address(" https://jira.example.com/ctx/ ", "https://x") == "https://jira.example.com/ctx"
    for wrong in ("jira.example.com", "ftp://jira.example.com", "https://", "https:// x"):
        with pytest.raises(ValueError, match=r"https:// \(or http://\) and name the site, e.g. https://x"):
            web_address(wrong, "https://x")


def test_paginate_by_token_follows_tokens_until_none_or_empty():
    """Pages are chained by token and stop at a None or empty next token."""
    pages = {None: ([1, 2], "b"), "b": ([3], "c"), "c": ([4, 5], "")}
    calls: list[str | None] = []

    def fetch(token: str | None) -> tuple[list[int], str | None]:
        calls.append(token)
        return pages[token]

    assert list(paginate_by_token(fetch)) == [1, 2, 3, 4, 5]
    assert calls == [None, "b", "c"]
    assert list(paginate_by_token(lambda token: ([], None))) == []


def test_paginate_by_token_refuses_a_repeated_token():
    """A server that sends an old token again raises UnexpectedResponse instead of looping forever."""
    pages = {None: ([1], "a"), "a": ([2], "b"), "b": ([3], "a")}
    items: list[int] = []
    with pytest.raises(UnexpectedResponse, match="page token it had sent before"):
        items.extend(paginate_by_token(lambda token: pages[token]))
    assert items == [1, 2, 3]


def test_paginate_by_offset_stops_at_the_total():
    """With a total, paging stops exactly when it is reached, advancing by the page actually received."""
    data = list(range(25))
    starts: list[int] = []

    def fetch(start: int) -> tuple[list[int], int | None]:
        starts.append(start)
        return data[start : start + 10], len(data)

    assert list(paginate_by_offset(fetch, page_size=50)) == data  # the server caps pages at 10
    assert starts == [0, 10, 20]


def test_paginate_by_offset_without_total_stops_at_a_short_or_empty_page():
    """Without a total, a short page ends paging; a full last page costs one extra, empty fetch."""

    def pager(data: list[int], starts: list[int]) -> Callable[[int], tuple[list[int], int | None]]:
        def fetch(start: int) -> tuple[list[int], int | None]:
            starts.append(start)
            return data[start : start + 10], None

        return fetch

    short: list[int] = []
    assert list(paginate_by_offset(pager(list(range(15)), short), page_size=10)) == list(range(15))
    assert short == [0, 10]
    full: list[int] = []
    assert list(paginate_by_offset(pager(list(range(20)), full), page_size=10)) == list(range(20))
    assert full == [0, 10, 20]


def test_paginate_by_offset_stops_when_the_total_shrinks_mid_way():
    """A total that promises more than the server delivers ends at the first empty page."""
    starts: list[int] = []

    def fetch(start: int) -> tuple[list[int], int | None]:
        starts.append(start)
        return ([start] if start < 2 else []), 100

    assert list(paginate_by_offset(fetch, page_size=1)) == [0, 1]
    assert starts == [0, 1, 2]


def test_an_injected_transport_replaces_the_network(sleeps):
    """`transport=httpx.MockTransport(...)` serves requests in-process, retries and all."""
    answers = iter([httpx.Response(503), httpx.Response(200, json={"ok": True})])
    transport = httpx.MockTransport(lambda request: next(answers))
    site = "https://jira.example.com"
    options = HttpOptions(transport=transport, sleep=sleeps.append)
    with HttpClient(site, service="Jira", options=options) as client:
        assert client.get_json("/rest/api/3/myself") == {"ok": True}
    assert client.request_count == 2 and sleeps == [1.0]
