"""Claims: do something at most once across processes, retries and failovers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import DeliveryClaim, utcnow


def claim(sessions: sessionmaker[Session], key: str) -> bool:
    """True for the one caller that records ``key`` first; False for everyone after it."""
    try:
        with sessions.begin() as session:
            session.add(DeliveryClaim(key=key[:200]))
    except IntegrityError:
        return False
    return True


def forget_claims(sessions: sessionmaker[Session], prefix: str, *, older_than: dt.timedelta) -> int:
    """Delete the claims starting with ``prefix`` made more than ``older_than`` ago; how many went."""
    with sessions.begin() as session:
        gone = session.execute(
            delete(DeliveryClaim).where(
                DeliveryClaim.key.startswith(prefix, autoescape=True),
                DeliveryClaim.claimed_at < utcnow() - older_than,
            )
        )
    return int(getattr(gone, "rowcount", 0) or 0)
