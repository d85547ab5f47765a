"""The database and secret key the command line works with, both from the environment (``bot.config``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy and the settings load when a command opens the store, not for --help
    from sqlalchemy.orm import Session, sessionmaker

    from bot.store.crypto import SecretKey


@contextmanager
def open_store() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database (``DATABASE_URL``); see :func:`bot.store.db.open_store`."""
    from bot.config import load_settings
    from bot.store import db as store_db

    with store_db.open_store(load_settings().database_url) as sessions:
        yield sessions


def database_url() -> str:
    """``DATABASE_URL`` as :class:`bot.config.Settings` reads it. Taken from the environment directly when it
    is set there (it wins over ``.env``): a read-only command then loads no pydantic settings."""
    from bot.store.urls import sqlalchemy_url

    if "DATABASE_URL" in os.environ:
        return sqlalchemy_url(os.environ["DATABASE_URL"])
    from bot.config import load_settings

    return load_settings().database_url


def key_is_set() -> bool:
    """Whether ``FLOWCOACH_SECRET_KEY`` is set, known without touching the database or deriving the key."""
    from bot.config import load_settings

    return load_settings().secret_key is not None


def secret_key(sessions: sessionmaker[Session]) -> SecretKey | None:
    """The key of ``FLOWCOACH_SECRET_KEY`` (and ``FLOWCOACH_OLD_SECRET_KEYS``) for the open database, which
    connector credentials are encrypted with (``None`` when unset)."""
    from bot.config import load_settings
    from bot.store.crypto import load_secret_key

    settings = load_settings()
    return load_secret_key(sessions.kw["bind"], settings.secret_key_text, settings.old_secret_key_texts)
