"""The database harness itself: both `database_url` variants work, and PostgreSQL is the real thing."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, select, text

from tests.postgres import ENV_URL, PostgresServer, find_bindir, running_in_ci

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
)

# Two tests run in this order (pytest keeps file order) to show each gets a database of its own.
_MARKER_TABLE = "left_by_an_earlier_test"


def test_database_accepts_create_insert_select(database_url: str) -> None:
    """A fresh database takes a CREATE TABLE, INSERTs in one transaction, and gives them back on SELECT."""
    engine = create_engine(database_url)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(items.insert(), [{"id": 1, "name": "alpha"}, {"id": 2, "name": "beta"}])
        with engine.connect() as connection:
            rows = connection.execute(select(items.c.id, items.c.name).order_by(items.c.id)).all()
        assert [tuple(row) for row in rows] == [(1, "alpha"), (2, "beta")]
    finally:
        engine.dispose()


def test_database_url_names_the_dialect_of_its_id(database_url: str, request: pytest.FixtureRequest) -> None:
    """The `[sqlite]` run gets SQLite and the `[postgresql]` run a server that says it is PostgreSQL."""
    engine = create_engine(database_url)
    try:
        assert engine.dialect.name == request.node.callspec.params["database_url"]
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                version = connection.execute(text("select version()")).scalar_one()
            assert version.startswith("PostgreSQL ")
            assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_first_of_two_tests_leaves_a_table_behind(database_url: str) -> None:
    """A test may leave tables in its database (the next test's own database will not have them)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE {_MARKER_TABLE} (id INTEGER PRIMARY KEY)"))
        assert _MARKER_TABLE in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_second_of_two_tests_starts_from_an_empty_database(database_url: str) -> None:
    """Each test gets its own empty database: nothing left by the previous test on the same backend shows."""
    engine = create_engine(database_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_postgres_database_is_dropped_after_its_test(postgres_url: str) -> None:
    """Per-test PostgreSQL databases do not pile up: only the session's own databases remain on the server."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("select datname from pg_database")).scalars().all()
        assert not [name for name in names if name.startswith("flowcoach_t_")]
    finally:
        engine.dispose()


def test_session_server_is_local_and_shared(postgres_server: PostgresServer, postgres_url: str) -> None:
    """Every test gets the one session server; a throwaway one listens on 127.0.0.1 and came from initdb."""
    assert postgres_server.url == postgres_url
    if postgres_server.owned:
        assert "@127.0.0.1:" in postgres_url
        assert postgres_server.bindir is not None
        assert (postgres_server.bindir / "initdb").exists()


def test_server_binaries_are_present_in_ci() -> None:
    """CI has the server binaries (`.ci/run` installs them) unless given a server; elsewhere only reported."""
    bindir = find_bindir()
    if running_in_ci() and not os.environ.get(ENV_URL):
        assert bindir is not None, "CI must install PostgreSQL (see .ci/run)"
    elif bindir is None:
        pytest.skip("no PostgreSQL server binaries on this machine")
