"""Claims: do something at most once across processes, retries and failovers."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import DeliveryClaim


def claim(sessions: sessionmaker[Session], key: str) -> bool:
    """True for the one caller that records ``key`` first; False for everyone after it."""
    try:
        with sessions.begin() as session:
            session.add(DeliveryClaim(key=key[:200]))
    except IntegrityError:
        return False
    return True
