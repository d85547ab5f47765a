"""What the listeners need from the rest of the application, handed to the app factory in one object."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.connectors.http import HttpOptions
from bot.services.metrics_cache import MetricsCache
from bot.store.boards import LOCAL_WORKSPACE
from bot.store.crypto import SecretKey, load_secret_key


def settings_key(settings: Settings, engine: Engine) -> SecretKey | None:
    """``FLOWCOACH_SECRET_KEY`` (and the earlier keys) for this database; None when it is unset."""
    return load_secret_key(engine, settings.secret_key_text, settings.old_secret_key_texts)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Runtime:
    """The database, the settings, the clock and the pool that runs first syncs after onboarding.

    ``single_team_id`` is the team of ``SLACK_BOT_TOKEN`` in a single-workspace install. Its boards are the
    ones in the local workspace, shared with the command line (``flowcoach board add``); requests from any
    other team are refused. In an OAuth install each team is its own workspace.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    background: Executor
    clock: Callable[[], dt.datetime] = utc_now
    single_team_id: str | None = None
    metrics_cache: MetricsCache = field(default_factory=MetricsCache)
    _secret_key: list[SecretKey | None] = field(default_factory=list, init=False, repr=False)

    def secret_key(self) -> SecretKey | None:
        """The key secrets are encrypted with, derived on first use (scrypt is slow) and kept."""
        if not self._secret_key:
            self._secret_key.append(settings_key(self.settings, self.sessions.kw["bind"]))
        return self._secret_key[0]

    def tracker_http(self) -> HttpOptions:
        """How requests to an address a Slack member typed go out: only to public addresses and those the
        operator allowed (``FLOWCOACH_ALLOWED_HOSTS``), checked when each connection opens."""
        return self.settings.slack_tracker_http

    def workspace_key(self, team_id: str | None) -> str:
        """The store's workspace for a Slack team."""
        if self.settings.slack_bot_token is not None:
            return LOCAL_WORKSPACE
        if not team_id:
            raise PermissionError("a request without a team")
        return team_id
