"""Database URLs as SQLAlchemy takes them (read by ``bot.config`` and by the command line's quick path)."""

from __future__ import annotations


def sqlalchemy_url(value: str) -> str:
    """Heroku-style platforms hand out ``postgres://`` URLs; SQLAlchemy wants a driver name."""
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value
