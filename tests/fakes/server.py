"""The life of a fake vendor server: a threaded HTTP server on 127.0.0.1, running for a `with` block."""

from __future__ import annotations

import email.utils
import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self


class FakeAnswers:
    """What every fake vendor's request handler shares: keep-alive, no request log, and how to answer.

    A mixin before ``BaseHTTPRequestHandler`` (``class Handler(FakeAnswers, BaseHTTPRequestHandler)``), so
    its settings win. ``content_type`` is the vendor's JSON content type, sent with every answer not a text.
    """

    content_type: ClassVar[str] = "application/json; charset=utf-8"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each keep-alive response waits ~40 ms for an ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the fake's recorded requests instead."""

    def _send(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        date: float | None = None,
    ) -> None:
        """Answer ``payload``: a text as it is (``text/plain`` unless told), anything else as JSON.

        ``date`` (Unix seconds) dates the answer by the fake's own clock instead of the machine's.
        """
        text = isinstance(payload, str)
        data = payload.encode() if text else json.dumps(payload).encode()
        if date is None:
            self.send_response(status)
        else:
            self.send_response_only(status)
            self.send_header("Date", email.utils.formatdate(date, usegmt=True))
        kind = content_type or ("text/plain; charset=utf-8" if text else self.content_type)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class LocalHttpServer:
    """Subclasses say which handler serves them (:meth:`bound_handler`); this runs it on a free port.

    ``started`` lists every fake started in this process, so that the contract checks (tests/connectors
    conftest) can check what each fake of a test was asked and answered against the vendor's schema.
    """

    started: ClassVar[list[LocalHttpServer]] = []
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        """A handler class that can reach this fake (usually a subclass with the fake as an attribute)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self.bound_handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        LocalHttpServer.started.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        assert self._server is not None, f"use {type(self).__name__} as a context manager"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
