"""The day's "more flow signals" thread is found by the board's local day, as the budget counts it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.services.coaching import overflow_thread_of_day
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.models import AlertState

AUCKLAND = """\
name: Kiwi
timezone: Pacific/Auckland
stages:
  - {name: Doing, kind: active, statuses: [Doing]}
  - {name: Done, kind: done, statuses: [Done]}
"""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'flowcoach.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def test_the_thread_of_a_local_day_that_spans_two_utc_dates(engine: Engine):
    """Auckland (UTC+13 in December) works 09:00–18:00 local, 20:00–05:00 UTC: a fold at 10:00 local (the
    UTC date before) started the thread that a fold at 15:00 local (the UTC date after) must find; the next
    local day starts a new one."""
    sessions = session_factory(engine)
    with sessions.begin() as session:
        board = add_board(session, "Kiwi", connector="file", settings={"path": "x.csv"},
                          encrypted_secrets=None, workflow_yaml=AUCKLAND, channel_id="C1")  # fmt: skip
        folded_at = dt.datetime(2026, 12, 1, 21, 0, tzinfo=dt.UTC)  # Wed 2 Dec 10:00 in Auckland
        session.add(AlertState(board_id=board.id, rule="item_aging", subject="K-1", detected_at=folded_at,
                               posted_at=folded_at, channel_id="C1",
                               details={"folded": True, "thread_ts": "111.222"}))  # fmt: skip
        board_id = board.id
    afternoon = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)  # Wed 2 Dec 15:00 in Auckland
    assert overflow_thread_of_day(sessions, board_id, "C1", afternoon) == "111.222"
    next_morning = dt.datetime(2026, 12, 2, 20, 30, tzinfo=dt.UTC)  # Thu 3 Dec 09:30 in Auckland
    assert overflow_thread_of_day(sessions, board_id, "C1", next_morning) is None
