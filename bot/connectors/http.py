"""The one HTTP layer every connector uses: timeouts, retries that honour Retry-After, error mapping, paging.

Connectors build one :class:`HttpClient` per source and call :meth:`HttpClient.get_json` and
:meth:`HttpClient.post_json`; they never see httpx exceptions or raw failure statuses, only the errors of
:mod:`bot.connectors.errors`, whose messages name the service and the URL path and say what to do. How
patient a client is (timeouts, retries, waits) is one :class:`HttpOptions` value, which connectors take as
``http=`` and hand on unchanged: boards use the defaults, tests and benchmarks set their own.

Nothing here logs headers, credentials, query strings (some APIs take tokens there) or bodies, and importing
this module makes httpx and httpcore's own loggers keep to the same rule (see :func:`_quiet_library_logs`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import logging
import math
import re
import socket
import ssl
import time
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

import httpx

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
from bot.connectors.guard import AddressPolicy, GuardedTransport

log = logging.getLogger("flowcoach.http")
T = TypeVar("T")
WaitCallback = Callable[[float], None]  # hears the seconds of a long rate-limit wait before it starts

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# RFC 9110 idempotent methods: repeating one after an ambiguous failure cannot change the outcome.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
USER_AGENT = "flowcoach (+https://github.com/flowcoach)"
# Headers that describe a body as it came over the wire; a rewritten response carries it decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})

_REFUSALS: dict[int, tuple[type[ConnectorError], str]] = {
    401: (
        BadCredentials,
        "{service} refused the credentials (401 on {path}): check the e-mail or user name and the API "
        "token, and that the token has not expired or been revoked",
    ),
    403: (
        NoPermission,
        "{service} denied access (403 on {path}): the credentials work but this account may not read it; "
        "ask a {service} administrator to grant it browse permission",
    ),
    404: (
        NotFound,
        "{service} has nothing at {path} (404): check the site URL and the project or board, and that "
        "this account can see it",
    ),
    410: (
        Gone,
        "{service} has removed {path} (410 Gone): the vendor retired this API; upgrade flowcoach",
    ),
}


class TokenAuth(httpx.Auth):
    """A secret token sent in one request header, after ``prefix``; the repr hides it.

    Subclasses name the header and the prefix their source wants.
    """

    header: ClassVar[str] = "Authorization"
    prefix: ClassVar[str] = ""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return f"{type(self).__name__}(token='***')"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header to every request (redirects are never followed, so it stays with this host)."""
        request.headers[self.header] = f"{self.prefix}{self._token}"
        yield request


class BearerAuth(TokenAuth):
    """``Authorization: Bearer <token>`` (Jira personal access tokens, OAuth tokens)."""

    prefix = "Bearer "


class RewritingTransport(httpx.BaseTransport):
    """A transport around another that rewrites some of a source's answers before :class:`HttpClient`.

    Sources that say "rate limited" or "refused" their own way (a GraphQL error code, a 403 with a reset
    header) have those answers rewritten into the plain 429 (with ``Retry-After``), 401 and 403 that the
    client already retries and maps, so every source gets the same waits, retry counts and messages.
    Subclasses decide in :meth:`rewrite`, reading bodies with :meth:`body` and building new answers with
    :meth:`rewritten`.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.rewrite(request, self._inner.handle_request(request))

    def close(self) -> None:
        self._inner.close()

    def rewrite(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """The answer the client should see: ``response`` itself, or :meth:`rewritten`."""
        raise NotImplementedError

    @staticmethod
    def body(response: httpx.Response) -> bytes:
        """The whole body; the response is closed, so a failed read does not hold a pooled connection."""
        try:
            return response.read()
        finally:
            response.close()

    @classmethod
    def rewritten(
        cls, request: httpx.Request, response: httpx.Response, status: int, retry_after: str | None = None
    ) -> httpx.Response:
        """``response`` as ``status`` (and with ``Retry-After``).

        The body goes on decoded, so the headers that described it on the wire are left out.
        """
        content = cls.body(response)
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        return httpx.Response(
            status, headers=headers, content=content, request=request, extensions=response.extensions
        )


@dataclass(frozen=True)
class HttpOptions:
    """How an :class:`HttpClient` waits and retries; one value that connectors pass through untouched.

    ``max_retries`` counts retries, so a request is sent at most ``max_retries + 1`` times; waits grow as
    ``backoff * 2**retry`` seconds (no jitter, so tests and benchmarks are reproducible; the scheduler
    already spreads syncs out), capped at ``max_backoff``. ``timeout`` is per request, in seconds. ``sleep``
    is injected so tests assert the waits without waiting. ``transport`` lets tests plug in
    ``httpx.MockTransport``; ``None`` is the network.

    ``max_rate_limit_wait``, when set, lets a 429 whose server names the moment its limit resets (an hourly
    quota, say) be waited out in one go, up to that many seconds; a reset further away fails at once, since
    retrying before it cannot succeed. Unset, a server's wait is capped at ``max_backoff`` like any other.
    """

    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    max_retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    timeout: float = 30.0
    max_rate_limit_wait: float | None = None
    # Set for addresses typed in Slack: connections only to public addresses and the operator's allow-list.
    guard: AddressPolicy | None = None

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff < 0 or self.max_backoff < 0 or self.timeout <= 0:
            raise ValueError("max_retries, backoff and max_backoff must be ≥ 0 and timeout > 0")
        if self.max_rate_limit_wait is not None and self.max_rate_limit_wait < 0:
            raise ValueError("max_rate_limit_wait must be ≥ 0")

    def wrap_transport(self, wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport]) -> HttpOptions:
        """These options with the transport wrapped (the network's when none is set).

        For sources whose error answers need rewriting before the client's retry loop sees them (Linear's
        and GitHub's rate limits): the wrapper then also applies to a test's injected transport.
        """
        return replace(self, transport=wrap(self.network()))

    def network(self) -> httpx.BaseTransport:
        """The transport requests go through: a test's, else the network (guarded when ``guard`` is set)."""
        if self.transport is not None:
            return self.transport
        if self.guard is not None:
            return GuardedTransport(self.guard, verify=tls_context())
        return httpx.HTTPTransport(verify=tls_context())


class HttpClient:
    """A JSON API client for one source: base URL, credentials, timeouts, retries and error mapping.

    ``service`` is the name users know the source by ("Jira"); every error message starts with it.
    ``options`` say how long to wait and how often to retry (see :class:`HttpOptions`). Redirects are not
    followed: a redirect almost always means a wrong site URL or a login page, and the user should fix the
    URL.
    """

    request_count: int
    """Every request attempted, retries and failed connection attempts included (benchmarks report it)."""

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        options: HttpOptions = HttpOptions(),
    ) -> None:
        self.service = service
        self.timeout = options.timeout
        self.max_retries = options.max_retries
        self.backoff = options.backoff
        self.max_backoff = options.max_backoff
        self.max_rate_limit_wait = options.max_rate_limit_wait
        self.request_count = 0
        self._sleep = options.sleep
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
            timeout=options.timeout,
            follow_redirects=False,
            verify=tls_context(),
            transport=options.network(),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections; the client cannot be used afterwards."""
        self._client.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and return its decoded JSON body (200 expected)."""
        return self._decode_json(self.request("GET", path, params=params))

    def post_json(
        self,
        path: str,
        json: Any,
        params: Mapping[str, Any] | None = None,
        *,
        waiting: WaitCallback | None = None,
    ) -> Any:
        """POST a JSON query to ``path`` and return its decoded JSON body (200 expected).

        Retried like a GET: connectors only read from trackers, and the POSTs they send (Jira's
        ``search/jql`` and ``changelog/bulkfetch``) are queries whose body is too large for a URL. A write
        would call ``request("POST", ..., retry_post=False)`` instead.
        """
        response = self.request("POST", path, params=params, json=json, retry_post=True, waiting=waiting)
        return self._decode_json(response)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expected: Collection[int] = (200,),
        retry_post: bool = False,
        waiting: WaitCallback | None = None,
    ) -> httpx.Response:
        """Send a request, retrying transient failures, and return the response if its status is expected.

        429 and failures to connect are retried for every method: the server did not act on the request.
        5xx and timeouts or connections lost mid-request are retried only for idempotent methods, or for a
        POST when ``retry_post`` says it is a read. Other statuses map at once to a ``ConnectorError``.
        ``waiting`` hears of each wait for a rate limit longer than ``max_backoff`` before it starts (the
        sync's progress bar shows it: a sync silent for an hour looks hung).
        """
        method = method.upper()
        may_repeat = method in IDEMPOTENT_METHODS or (retry_post and method == "POST")
        request = self._client.build_request(method, path, params=params, json=json)
        where = request.url.path  # never the query: some APIs take tokens there
        retries = 0
        while True:
            self.request_count += 1
            started = time.monotonic()
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                reason, transient = self._describe_failure(exc)
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                if transient and (may_repeat or never_sent) and retries < self.max_retries:
                    wait = self._backoff_for(retries)
                    retries += 1
                    log.warning(
                        "Could not reach %s on %s %s (%s); retry %d of %d in %.1f s",
                        *(self.service, method, where, reason, retries, self.max_retries, wait),
                    )
                    self._sleep(wait)
                    continue
                raise Unreachable(
                    f"Could not reach {self.service} on {where}: {reason}{_after(retries)}; check the site "
                    f"URL, the network or proxy, and whether {self.service} is up"
                ) from exc
            status = response.status_code
            log.debug("%s %s → %d in %.2f s", method, where, status, time.monotonic() - started)
            if status in expected:
                return response
            if status in RETRYABLE_STATUSES and (status == 429 or may_repeat) and retries < self.max_retries:
                wait = self._wait_for(response, retries, where)
                retries += 1
                if wait > self.max_backoff:
                    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
                    log.warning(
                        "%s is rate-limiting requests (%d on %s %s): waiting %s, until %s, for the limit to "
                        "reset; retry %d of %d",
                        *(self.service, status, method, where, _duration(wait), f"{until:%H:%M:%S} UTC"),
                        *(retries, self.max_retries),
                    )
                    if waiting is not None:
                        waiting(wait)
                else:
                    log.warning(
                        "%s answered %d on %s %s; retry %d of %d in %.1f s",
                        *(self.service, status, method, where, retries, self.max_retries, wait),
                    )
                self._sleep(wait)
                continue
            raise self._error_for(response, where, retries)

    def _error_for(self, response: httpx.Response, where: str, retries: int) -> ConnectorError:
        """The error a final, unexpected response means, worded for the person who can fix it."""
        status = response.status_code
        service = self.service
        if status in _REFUSALS:
            kind, template = _REFUSALS[status]
            return kind(template.format(service=service, path=where))
        if status == 429:
            asked = response.headers.get("Retry-After")
            wait = f" (it asked to wait {asked.strip()})" if asked else ""
            return RateLimited(
                f"{service} is still rate-limiting requests (429 on {where}){_after(retries)}{wait}: wait a "
                "few minutes and sync again, or sync this board less often"
            )
        if status >= 500:
            return ServerError(
                f"{service} had a server error ({status} on {where}){_after(retries)}: it may be down or "
                "overloaded; try again later"
            )
        if 300 <= status < 400 and "Location" in response.headers:
            target = response.request.url.join(response.headers["Location"])
            return UnexpectedResponse(
                f"{service} redirected {where} to {_without_secrets(target)} ({status}): use that address "
                "as the site URL, or check that no login page stands in front of the API"
            )
        return UnexpectedResponse(
            f"{service} answered {status} {response.reason_phrase} on {where}, which flowcoach did not "
            f"expect: check the site URL and the connector settings"
        )

    def _decode_json(self, response: httpx.Response) -> Any:
        """The body as JSON, or ``UnexpectedResponse`` (an HTML login or proxy page is the usual cause)."""
        try:
            return response.json()
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "an untyped body"
            raise UnexpectedResponse(
                f"{self.service} answered {response.request.url.path} with {kind} instead of JSON: the site "
                "URL may point at a login page or a proxy; check the URL and that the API is reachable "
                "without single sign-on"
            ) from None

    def _backoff_for(self, retries: int) -> float:
        """Exponential backoff before retry number ``retries + 1``."""
        return float(min(self.max_backoff, self.backoff * 2**retries))

    def _wait_for(self, response: httpx.Response, retries: int, where: str) -> float:
        """The wait the server asked for (Retry-After, else RateLimit-Reset; capped), else backoff.

        Some limiters (GitLab's, proxies in front of self-managed servers) send only ``RateLimit-Reset``, a
        Unix time: waiting until then beats guessing. With ``max_rate_limit_wait`` a rate limit's wait is
        honoured whole up to that bound, and one beyond it raises ``RateLimited`` now rather than after
        retries that the server would refuse alike.
        """
        headers = response.headers
        asked = retry_after_seconds(headers.get("Retry-After"), headers.get("Date"))
        if asked is None:
            asked = reset_after_seconds(headers.get("RateLimit-Reset"), headers.get("Date"))
        if asked is None:
            return self._backoff_for(retries)
        asked = max(0.0, asked)
        bound = self.max_rate_limit_wait
        if bound is None or response.status_code != 429 or asked <= self.max_backoff:
            return min(self.max_backoff, asked)
        if asked > bound:
            until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=asked)
            raise RateLimited(
                f"{self.service} is rate-limiting requests (429 on {where}) until {until:%H:%M} UTC, "
                f"{_duration(asked)} from now, longer than the {_duration(bound)} this board may wait: sync "
                "again after then, or allow a longer wait"
            )
        return asked

    def _describe_failure(self, exc: httpx.TransportError) -> tuple[str, bool]:
        """A short reason for a failed request (no URL, no secrets) and whether trying again may help."""
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {self.timeout:g} s", True
        if isinstance(exc, httpx.UnsupportedProtocol):
            return "the site URL must start with https:// (or http://)", False
        if _caused_by(exc, ssl.SSLCertVerificationError):
            # A certificate does not become trusted by waiting; fail fast so the user can fix it.
            return "its TLS certificate is not trusted by this machine", False
        if _caused_by(exc, socket.gaierror):
            return "its host name could not be resolved", True
        if isinstance(exc, httpx.ProxyError):
            return "the proxy refused the connection", True
        if isinstance(exc, httpx.ConnectError):
            return f"the connection failed ({exc or 'no detail'})", True
        return f"the connection broke off ({type(exc).__name__})", True


def paginate_by_token(fetch: Callable[[str | None], tuple[Sequence[T], str | None]]) -> Iterator[T]:
    """Every item of a token-paged listing (Jira Cloud's ``nextPageToken``), lazily, page by page.

    ``fetch(token)`` returns one page and the next token; the first call gets ``None``, and a ``None`` or
    empty next token ends the listing. A token the server already sent raises ``UnexpectedResponse``
    rather than reading the same pages forever.
    """
    token: str | None = None
    seen: set[str] = set()
    while True:
        page, token = fetch(token)
        yield from page
        if not token:
            return
        if token in seen:
            raise UnexpectedResponse(
                f"The source sent a page token it had sent before (after {len(seen) + 1} pages), so paging "
                "would never end; try again later, and report it if it persists"
            )
        seen.add(token)


def paginate_by_offset(
    fetch: Callable[[int], tuple[Sequence[T], int | None]], *, page_size: int
) -> Iterator[T]:
    """Every item of an offset-paged listing (Jira's ``startAt``/``total``), lazily, page by page.

    ``fetch(start)`` returns the page beginning at item ``start`` and the total if the server reports it.
    The next start is ``start + len(page)``, not ``+ page_size``, because servers may cap the page size
    below what was asked (Jira Data Center does). With a total, paging stops when it is reached (or at an
    empty page, should the total shrink meanwhile); without one, at the first empty page or page shorter
    than ``page_size`` — so ``page_size`` must be the size the server really uses.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    start = 0
    while True:
        page, total = fetch(start)
        yield from page
        start += len(page)
        finished = start >= total if total is not None else len(page) < page_size
        if finished or not page:
            return


def web_address(url: str, example: str) -> str:
    """A source's address from its settings: trimmed, without a trailing slash, http(s) with a host.

    ``example`` is a valid address of that source, for the message a settings form shows.
    """
    url = url.strip().rstrip("/")
    if not re.match(r"https?://[^/\s]+", url):
        raise ValueError(f"must start with https:// (or http://) and name the site, e.g. {example}")
    return url


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle (~0.1 s), and it is thread-safe.

    httpx's own default, so ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (a company CA) work as usual, read once.
    """
    return httpx.create_ssl_context()


def _duration(seconds: float) -> str:
    """``42 s``, ``25 min``, ``1 h 5 min``: a wait as a person reads it."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min".replace(" 0 min", "")


def _after(retries: int) -> str:
    return f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""


def _without_secrets(url: httpx.URL) -> str:
    """A URL fit for messages and logs: no user info, query or fragment."""
    return str(url.copy_with(userinfo=b"", query=None, fragment=None))


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is in the chain of causes (httpx wraps httpcore, which wraps the OS error)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def retry_after_seconds(value: str | None, date: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for: a number, or an HTTP-date (RFC 9110 §10.2.3).

    An HTTP-date is measured from the response's own ``Date`` header when there is one, so a clock skew
    between this machine and the server does not distort the wait; otherwise from this machine's clock.
    ``None`` when absent or unreadable, so the caller falls back to backoff.
    """
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        until = _http_date(value)
        if until is None:
            return None
        now = _http_date(date) if date else None
        seconds = (until - (now or dt.datetime.now(dt.UTC))).total_seconds()
    return seconds if math.isfinite(seconds) else None


def reset_after_seconds(reset: str | None, date: str | None) -> float | None:
    """Seconds until a ``RateLimit-Reset`` Unix time, from the response's ``Date`` (the server's clock)."""
    if reset is None or not reset.strip().isdigit():
        return None
    now = (_http_date(date) if date else None) or dt.datetime.now(dt.UTC)
    return int(reset.strip()) - now.timestamp()


def _http_date(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    # HTTP-dates are always GMT; "-0000" parses as naive, which means the same thing here.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class _RedactUrls(logging.Filter):
    """Strip the query and user info from URLs in httpx's "HTTP Request: GET <url>" lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(
                _without_secrets(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


class _HideResponseHeaders(logging.Filter):
    """httpcore's DEBUG trace prints response headers, which carry session cookies; keep only the event."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("receive_response_headers.complete "):
            record.msg, record.args = "receive_response_headers.complete (headers not logged)", ()
        return True


def _quiet_library_logs() -> None:
    """Make httpx's and httpcore's own loggers keep secrets out of logs, whatever level the app sets.

    Filters go on the loggers that emit (a parent's filters do not apply to its children's records), and
    are added once however often this runs.
    """
    for name, kind in (
        ("httpx", _RedactUrls),
        ("httpcore.http11", _HideResponseHeaders),
        ("httpcore.http2", _HideResponseHeaders),
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, kind) for existing in logger.filters):
            logger.addFilter(kind())


_quiet_library_logs()
