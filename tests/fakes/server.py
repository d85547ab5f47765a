"""The life of a fake vendor server: a threaded HTTP server on 127.0.0.1, running for a `with` block."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalHttpServer:
    """Subclasses say which handler serves them (:meth:`bound_handler`); this runs it on a free port."""

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
