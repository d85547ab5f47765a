"""Slack installations (OAuth) stored with their tokens encrypted under ``FLOWCOACH_SECRET_KEY``.

slack_sdk's SQLAlchemy store keeps bot and user tokens in plain text; a copy of the database would then
hand out every workspace's bot. This store encrypts each token field on the way in and decrypts it on the
way out, so the rest of Bolt sees ordinary installations.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine

from bot.store.crypto import SecretKey, decrypt_text, encrypt_text
from bot.store.slack_tables import SEALED, TOKEN_COLUMNS

Stored = TypeVar("Stored", Bot, Installation)


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """:class:`SQLAlchemyInstallationStore` whose token columns hold ciphertext."""

    def __init__(self, client_id: str, engine: Engine, secret_key: SecretKey, **options: Any) -> None:
        super().__init__(client_id=client_id, engine=engine, **options)
        self._key = secret_key

    def save(self, installation: Installation) -> None:
        super().save(self._sealed(installation))  # saves its bot too, through save_bot

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._sealed(bot))

    def find_bot(self, **query: Any) -> Bot | None:
        found = super().find_bot(**query)
        return self._opened(found) if found is not None else None

    def find_installation(self, **query: Any) -> Installation | None:
        found = super().find_installation(**query)
        return self._opened(found) if found is not None else None

    def _sealed(self, stored: Stored) -> Stored:
        sealed = copy.copy(stored)
        for name in TOKEN_COLUMNS:
            value = getattr(sealed, name, None)
            if isinstance(value, str) and value and not value.startswith(SEALED):
                setattr(sealed, name, SEALED + encrypt_text(value, self._key))
        return sealed

    def _opened(self, stored: Stored) -> Stored:
        for name in TOKEN_COLUMNS:
            value = getattr(stored, name, None)
            if isinstance(value, str) and value.startswith(SEALED):
                setattr(stored, name, decrypt_text(value.removeprefix(SEALED), self._key))
        return stored
