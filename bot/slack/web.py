"""HTTP mode: a WSGI application (Bolt's endpoints plus ``/healthz``) and the gunicorn server that runs it.

Gunicorn's threaded workers suit Bolt: a request thread acknowledges at once while the lazy listeners run
on Bolt's executor. Each worker builds its own app and database engine after the fork (``preload_app`` is
off), so no connection is ever shared between processes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.slack.app import EVENTS_PATH
from bot.slack.runtime import Runtime
from bot.slack.verification import verified_only

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("flowcoach.web")
HEALTH_PATH = "/healthz"
WsgiApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]


def wsgi_app(app: App, runtime: Runtime) -> WsgiApp:
    """Bolt at ``/slack/events`` (and the OAuth paths when configured), ``GET /healthz`` for probes."""
    bolt_handler = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = runtime.settings.slack_signing_secret
    # Requests to the events endpoint are Slack's, signed; the OAuth pages (GET) are the browser's.
    signed_bolt = bolt_handler if secret is None else verified_only(bolt_handler, secret.get_secret_value())

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = _database_answers(runtime)
            body = json.dumps({"status": "ok" if healthy else "database unavailable"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == EVENTS_PATH and environ.get("REQUEST_METHOD") == "POST":
            return signed_bolt(environ, start_response)
        return bolt_handler(environ, start_response)

    return application


def _database_answers(runtime: Runtime) -> bool:
    try:
        with runtime.sessions() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("health check: the database does not answer", exc_info=True)
        return False


def serve_with_gunicorn(
    build: Callable[[], WsgiApp], *, host: str, port: int, workers: int, threads: int
) -> None:
    """Run the app under gunicorn on ``host:port`` until stopped (an IPv6 host in brackets: ``[::1]``)."""
    from gunicorn.app.base import BaseApplication

    class FlowcoachServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 60,
                "graceful_timeout": 20,
                "accesslog": None,
                "preload_app": False,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WsgiApp:
            return build()

    FlowcoachServer().run()
