"""`flowcoach serve`: the Slack app over HTTP (gunicorn) or, with ``SLACK_APP_TOKEN``, over Socket Mode."""

from __future__ import annotations

import argparse
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from bot.config import Settings, load_settings
from bot.errors import FlowcoachError
from bot.logs import configure_logging
from bot.slack.runtime import Runtime
from bot.store.db import open_database

log = logging.getLogger("flowcoach.serve")
FIRST_SYNC_THREADS = 2


def build_runtime(settings: Settings) -> Runtime:
    """The runtime on the configured database (a SQLite file is migrated on first use)."""
    database = open_database(settings.database_url)
    background = ThreadPoolExecutor(FIRST_SYNC_THREADS, thread_name_prefix="flowcoach-sync")
    return Runtime(settings=settings, sessions=database.sessions, background=background)


def check_settings(settings: Settings) -> None:
    """Stop before starting anything when the configuration cannot work, naming the variable."""
    if settings.slack_bot_token is None and not settings.oauth_enabled:
        raise FlowcoachError(
            "SLACK_BOT_TOKEN: set it for one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth"
        )
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise FlowcoachError("SLACK_SIGNING_SECRET: required to verify requests from Slack in HTTP mode")
    if settings.oauth_enabled and settings.slack_bot_token is None and settings.secret_key is None:
        raise FlowcoachError(
            "FLOWCOACH_SECRET_KEY: required with OAuth, to store each workspace's token encrypted"
        )
    if settings.slack_app_token is not None and settings.oauth_enabled and settings.slack_bot_token is None:
        raise FlowcoachError("SLACK_APP_TOKEN: Socket Mode serves one workspace; set SLACK_BOT_TOKEN too")


def run_serve(args: argparse.Namespace, out: TextIO) -> int:
    from bot.slack.app import bot_team_id, create_app

    settings = load_settings()
    check_settings(settings)
    configure_logging(settings.log_level, settings.log_format)
    # Fail fast, with one line, before forking: each worker would otherwise fail the same way, loudly.
    build_runtime(settings).sessions.kw["bind"].dispose()
    if settings.slack_bot_token is not None:
        bot_team_id(settings.slack_api_url, settings.slack_bot_token.get_secret_value())
    if settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        runtime = build_runtime(settings)
        out.write("flowcoach: Socket Mode, connecting to Slack\n")
        out.flush()
        handler = SocketModeHandler(create_app(runtime), settings.slack_app_token.get_secret_value())
        handler.start()  # type: ignore[no-untyped-call]
        return 0

    from bot.slack.web import WsgiApp, serve_with_gunicorn, wsgi_app

    def build() -> WsgiApp:
        runtime = build_runtime(settings)
        return wsgi_app(create_app(runtime), runtime)

    where = f"{settings.host}:{settings.port}"
    out.write(f"flowcoach: serving Slack on {where} (POST /slack/events, GET /healthz)\n")
    out.flush()
    serve_with_gunicorn(
        build, host=settings.host, port=settings.port, workers=args.workers, threads=args.threads
    )
    return 0
