"""The Bolt app factory: one function builds the app for a runtime; there is no module-level app.

Single-workspace installs (``SLACK_BOT_TOKEN``) answer only their own team. OAuth installs
(``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``) keep installations and OAuth states in the store's database
and cache authorizations, so Bolt does not call ``auth.test`` on every request.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.errors import FlowcoachError
from bot.logs import ContextThreadPool, log_context
from bot.slack import texts
from bot.slack.commands import register_commands
from bot.slack.delivery import web_client
from bot.slack.errors import report_error
from bot.slack.home import register_home
from bot.slack.installations import EncryptedInstallationStore
from bot.slack.mentions import register_mentions
from bot.slack.nudges import register_nudge_actions
from bot.slack.onboarding import register_onboarding
from bot.slack.once import each_action_once
from bot.slack.runtime import Runtime
from bot.slack.settings_modal import register_settings
from bot.slack.subcommands import SUBCOMMANDS, Subcommands

log = logging.getLogger("flowcoach.slack")

# Keep in step with deploy/slack-app-manifest.yml (a test compares them). Only what the app calls:
# chat:write.public posts a board's status in a public channel flowcoach was not invited to; im:write opens
# the DM for private charts; users:read gives a new board the time zone of the person connecting it;
# channels:history and groups:history only let a worker that took over a digest whose poster died check
# whether it reached the channel (by its message metadata) before posting it again. Without them such a
# digest is posted again (at least once, never lost).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:history",
    "im:write",
    "users:read",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
EVENTS_PATH = "/slack/events"
OAUTH_STATE_SECONDS = 600
ANSWER_THREADS = 2


def create_app(runtime: Runtime, subcommands: Subcommands = SUBCOMMANDS) -> App:
    """The Bolt app with every listener, for a single workspace or for OAuth installs.

    ``subcommands`` is what `/flow` and mentions understand: the registry, unless a test extends it.
    """
    settings = runtime.settings
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        raise FlowcoachError("SLACK_SIGNING_SECRET: required to verify requests from Slack (HTTP mode)")
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    if settings.slack_bot_token is not None:
        app = _single_workspace_app(runtime, settings.slack_bot_token.get_secret_value(), signing_secret)
    elif settings.oauth_enabled:
        app = _oauth_app(runtime, signing_secret)
    else:
        raise FlowcoachError(
            "SLACK_BOT_TOKEN: set it for one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth"
        )
    app.middleware(_in_request_context)  # first, so every line logged for the request carries its id
    if runtime.single_team_id is not None:
        app.middleware(_only_team(runtime.single_team_id))
    app.middleware(each_action_once(runtime, subcommands))  # after the team check: only ours are claimed
    app.error(report_error)
    register_commands(app, runtime, subcommands)
    register_mentions(app, runtime, subcommands)
    register_home(app, runtime)
    register_onboarding(app, runtime)
    register_settings(app, runtime)
    register_nudge_actions(app, runtime)
    return app


def bot_team_id(api_url: str, token: str) -> str:
    """The team of a bot token (``auth.test``); a clear error for a refused token or an unreachable API."""
    client = web_client(api_url, token)
    try:
        identity = client.auth_test()
    except SlackApiError as refused:
        raise FlowcoachError(
            f"SLACK_BOT_TOKEN: Slack refused it ({refused.response.get('error', 'error')})"
        ) from None
    except OSError as unreachable:
        reason = getattr(unreachable, "reason", unreachable)
        raise FlowcoachError(f"SLACK_API_URL: cannot reach {api_url} ({reason})") from None
    return str(identity["team_id"])


def _single_workspace_app(runtime: Runtime, token: str, signing_secret: str | None) -> App:
    client = web_client(runtime.settings.slack_api_url, token)
    runtime.single_team_id = bot_team_id(runtime.settings.slack_api_url, token)
    app = App(
        signing_secret=signing_secret or "",
        client=client,  # carries the token
        process_before_response=True,
        listener_executor=_answer_pool(),
        token_verification_enabled=False,  # verified just above, once, with a clear message
        request_verification_enabled=signing_secret is not None,
    )
    return app


def _oauth_app(runtime: Runtime, signing_secret: str | None) -> App:
    settings = runtime.settings
    assert settings.slack_client_id is not None
    assert settings.slack_client_secret is not None
    client_id, client_secret = settings.slack_client_id, settings.slack_client_secret.get_secret_value()
    engine = runtime.sessions.kw["bind"]
    key = runtime.secret_key()
    if key is None:
        raise FlowcoachError(
            "FLOWCOACH_SECRET_KEY: required with OAuth, to store each workspace's token encrypted"
        )
    installations = EncryptedInstallationStore(client_id, engine, key)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine)
    client = web_client(settings.slack_api_url)
    return App(
        signing_secret=signing_secret or "",
        client=client,
        process_before_response=True,
        listener_executor=_answer_pool(),
        request_verification_enabled=signing_secret is not None,
        installation_store=installations,
        authorize=InstallationStoreAuthorize(  # type: ignore[arg-type]  # Bolt accepts an Authorize too
            installation_store=installations,
            client_id=client_id,
            client_secret=client_secret,
            bot_only=True,
            cache_enabled=True,
            client=client,
            logger=logging.getLogger("slack_bolt.App"),
        ),
        oauth_settings=OAuthSettings(
            client_id=client_id,
            client_secret=client_secret,
            scopes=list(BOT_SCOPES),
            installation_store=installations,
            installation_store_bot_only=True,
            state_store=states,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
        ),
    )


def _answer_pool() -> ThreadPoolExecutor:
    """Where lazy listeners (the slow answers) run.

    Acknowledgements never wait for this pool: with ``process_before_response`` the acknowledging listener
    runs in the request's own thread and returns at once, and only the lazy work is queued here. A burst of
    slow answers therefore delays answers, never the acknowledgements Slack times out on.
    """
    return ContextThreadPool(max_workers=ANSWER_THREADS, thread_name_prefix="flowcoach-answer")


def _in_request_context(
    context: dict[str, Any], next: Callable[[], BoltResponse], body: dict[str, Any]
) -> Any:
    """Run the request (and, through the answer pool, its lazy answer) in a log context naming it."""
    what = _what(body)
    fields = {
        "request_id": uuid.uuid4().hex[:12],
        "team": context.get("team_id"),
        "user": context.get("user_id"),
    }
    with log_context(**{name: value for name, value in fields.items() if value}, request=what):
        started = time.perf_counter()
        response = next()
        log.info("%s acknowledged in %.0f ms", what, (time.perf_counter() - started) * 1000)
        return response


def _what(body: dict[str, Any]) -> str:
    """The request in a few words, never its free text (it may hold anything a user typed)."""
    if "command" in body:
        words = str(body.get("text") or "").split()
        return f"{body['command']} {words[0] if words else ''}".strip()
    if body.get("type") == "block_actions":
        actions = body.get("actions") or [{}]
        return f"action {actions[0].get('action_id', '?')}"
    if body.get("type") in ("view_submission", "view_closed"):
        return f"{body['type']} {(body.get('view') or {}).get('callback_id', '?')}"
    if body.get("type") == "event_callback":
        return f"event {(body.get('event') or {}).get('type', '?')}"
    return str(body.get("type") or "request")


def _only_team(team_id: str) -> Callable[..., Any]:
    """Refuse requests from any team but the bot token's, or from no team: its boards are not theirs."""

    def middleware(context: dict[str, Any], next: Callable[[], BoltResponse], body: dict[str, Any]) -> Any:
        request_team = context.get("team_id")
        if request_team != team_id:  # another team's, or no team at all: bound to no workspace, refused
            log.warning(
                "refused a request from another team" if request_team else "refused a request without a team"
            )
            # A slash command shows the body as its reply; a modal or button wants an empty answer.
            return BoltResponse(status=200, body=texts.WRONG_TEAM if "command" in body else "")
        return next()

    return middleware
