"""Engines, sessions and migrations for the store (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import FlowcoachError

# Alembic loads when a migration or the schema's revision is looked at, not for every engine: a read-only
# command finds the schema current with one query (bot/store/boardread.py) and never needs it.
if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, and SQLite enforces foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the web process) don't block the syncing worker
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (``flowcoach db upgrade``)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest migration's revision."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


class SchemaOutOfDate(Exception):
    """A server database behind the code: the release step (``flowcoach db upgrade``) has not run."""


def ensure_schema(engine: Engine) -> None:
    """Bring a SQLite file up to date; refuse a server database that is not, rather than migrate it here.

    A server database is shared by every process, so only the release step migrates it; a SQLite file
    belongs to one user, and migrating it on first use is what that user expects.
    """
    revision, head = current_revision(engine), head_revision()
    if revision == head:
        return
    if engine.dialect.name != "sqlite":
        raise SchemaOutOfDate(
            f"the database schema is at {revision or 'nothing'}, not {head}: run `flowcoach db upgrade`"
        )
    upgrade(engine)


@dataclass(frozen=True)
class Store:
    """An open database: its engine (to dispose of) and the sessions every use case works with."""

    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Store:
    """The database at ``url``, its schema checked (a SQLite file migrated): the one way to get sessions.

    A server database behind the code is refused with the one line that says how to fix it.
    """
    engine = make_engine(url)
    try:
        ensure_schema(engine)
    except SchemaOutOfDate as behind:
        engine.dispose()
        raise FlowcoachError(str(behind)) from None
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, session_factory(engine))


@contextmanager
def open_store(url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the database at ``url`` for the length of a block; the engine is disposed afterwards."""
    store = open_database(url)
    try:
        yield store.sessions
    finally:
        store.close()
