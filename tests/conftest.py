"""Shared fixtures: the databases the store tests run on (SQLite and a real PostgreSQL).

Store tests take `database_url` and run twice, as `[sqlite]` and `[postgresql]`, each time on a fresh, empty
database of their own. The PostgreSQL server starts once per session (see `tests/postgres.py`), only when a
test asks for it. Outside CI a machine without PostgreSQL skips the `[postgresql]` runs with the reason; under
CI (`CI=true`) they fail instead, and so does a server that exists but does not start, anywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from bot.store.db import make_engine, upgrade
from tests.postgres import PostgresNotFound, PostgresServer, running_in_ci, start_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, stopped and removed at its end."""
    try:
        server = start_postgres()
    except PostgresNotFound as missing:
        if running_in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {missing}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {missing}")
    with server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """The session server's URL (`postgresql+psycopg://…`), as a user allowed to create databases."""
    return postgres_server.url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for this test only: a SQLite file, then a new PostgreSQL database.

    The PostgreSQL database is dropped after the test (connections left open to it are terminated first).
    Tests should still `engine.dispose()` the engines they make, or their pooled connections leak.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    server_url = make_url(request.getfixturevalue("postgres_url"))
    name = f"flowcoach_t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield server_url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """flowcoach's engine on the test's database, migrated to the newest schema; disposed afterwards."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
