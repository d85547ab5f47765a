"""Slack's own OAuth tables (installations, bots, OAuth states), declared on the store's metadata.

slack_sdk's SQLAlchemy installation and state stores query these tables; declaring them here lets Alembic
migrate them with the rest of the schema instead of each store creating its tables at run time.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table

INSTALLATIONS = SQLAlchemyInstallationStore.default_installations_table_name
BOTS = SQLAlchemyInstallationStore.default_bots_table_name
OAUTH_STATES = SQLAlchemyOAuthStateStore.default_table_name


def declare_slack_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """Add the three tables to ``metadata`` exactly as slack_sdk defines them."""
    return (
        SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS),
        SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES),
    )
