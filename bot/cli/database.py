"""The database and secret key the command line works with, both from the environment (``bot.config``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy and the settings load when a command opens the store, not for --help
    from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def open_store() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database (``DATABASE_URL``); see :func:`bot.store.db.open_store`."""
    from bot.config import load_settings
    from bot.store import db as store_db

    with store_db.open_store(load_settings().database_url) as sessions:
        yield sessions


def secret_key() -> str | None:
    """``FLOWCOACH_SECRET_KEY``, which connector credentials are encrypted with (``None`` when unset)."""
    from bot.config import load_settings

    return load_settings().secret_key_text
