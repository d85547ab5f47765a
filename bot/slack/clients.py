"""The Web API client a background job posts with, for a board's workspace.

A single-workspace install posts with ``SLACK_BOT_TOKEN`` (its boards are in the local workspace); an OAuth
install with the bot token stored, encrypted, when that workspace installed the app.
"""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.config import Settings
from bot.slack.delivery import web_client
from bot.slack.installations import EncryptedInstallationStore
from bot.slack.runtime import settings_key
from bot.store.boards import LOCAL_WORKSPACE


def client_for_workspace(settings: Settings, engine: Engine, team_key: str) -> WebClient | None:
    """A client with the workspace's bot token, or None when flowcoach cannot post there."""
    if team_key == LOCAL_WORKSPACE:
        if settings.slack_bot_token is None:
            return None
        return web_client(settings.slack_api_url, settings.slack_bot_token.get_secret_value())
    if not settings.oauth_enabled or settings.slack_client_id is None:
        return None
    key = settings_key(settings, engine)
    if key is None:
        return None
    store = EncryptedInstallationStore(settings.slack_client_id, engine, key)
    bot = store.find_bot(enterprise_id=None, team_id=team_key)
    if bot is None or not bot.bot_token:
        return None
    return web_client(settings.slack_api_url, bot.bot_token)
