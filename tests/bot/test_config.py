"""Configuration from the environment: platform URLs accepted, bad values named in one line."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.errors import FlowcoachError


def test_heroku_style_postgres_urls_get_a_driver(monkeypatch):
    """`postgres://` (as platforms hand it out) becomes a psycopg URL SQLAlchemy can use."""
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/flow")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db.example:5432/flow"


def test_default_database_is_a_sqlite_file(monkeypatch):
    """With no DATABASE_URL the store is a SQLite file in the user's data directory."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert load_settings().database_url.startswith("sqlite:///")
    assert load_settings().database_url.endswith("flowcoach.db")


def test_a_bad_value_names_its_variable(monkeypatch):
    """An invalid setting stops with one line that starts with the variable's name."""
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(FlowcoachError, match=r"^LOG_FORMAT: must be text or json$"):
        load_settings()
