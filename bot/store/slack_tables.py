"""Slack's own OAuth tables (installations, bots, OAuth states), declared on the store's metadata.

slack_sdk's SQLAlchemy installation and state stores query these tables; declaring them here lets Alembic
migrate them with the rest of the schema instead of each store creating its tables at run time.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table, Text

# Encrypted (bot/slack/installations.py), a token no longer fits slack_sdk's VARCHAR(200).
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url")
INSTALLATIONS = SQLAlchemyInstallationStore.default_installations_table_name
BOTS = SQLAlchemyInstallationStore.default_bots_table_name
OAUTH_STATES = SQLAlchemyOAuthStateStore.default_table_name
SEALED = "enc:v1:"  # marks a stored token as ciphertext (Slack tokens start with "xox")


def declare_slack_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """Add the three tables to ``metadata`` as slack_sdk defines them, token columns widened to text."""
    installations = SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS)
    bots = SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS)
    for table in (installations, bots):
        for column in table.columns:
            if column.name in TOKEN_COLUMNS:
                column.type = Text()
    return installations, bots, SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES)
