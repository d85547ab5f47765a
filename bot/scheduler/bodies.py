"""The job bodies the worker runs: a real sync, and the coach's bodies plugged in by whoever has a coach.

``StoreJobBodies`` syncs a board from its connector into the store. Checking, digests and weekly reviews
belong to the coach (bot/coach), which is handed in as plain callables; until it is, ``NoCoach`` stands in
and says so at DEBUG, so a worker without a coach still keeps every board's data fresh.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from bot.connectors.base import Connector
from bot.store.models import Board
from bot.sync import sync_board

log = logging.getLogger("flowcoach.scheduler")

CheckBody = Callable[[int, dt.datetime], None]  # (board_id, at)
SlotBody = Callable[[int, str], None]  # (board_id, slot)


class NoCoach:
    """The coach's bodies when no coach is configured: nothing happens, and DEBUG logs say why."""

    def check(self, board_id: int, at: dt.datetime) -> None:
        log.debug("job=check board=%s: coaching is not configured in this worker", board_id)

    def digest(self, board_id: int, slot: str) -> None:
        log.debug("job=digest board=%s slot=%s: coaching is not configured in this worker", board_id, slot)

    def weekly_review(self, board_id: int, slot: str) -> None:
        log.debug(
            "job=weekly_review board=%s slot=%s: coaching is not configured in this worker", board_id, slot
        )


def _stored_connector(board: Board) -> Connector:
    from bot.cli_store import connector_for  # the one place that decrypts a board's credentials

    return connector_for(board)


class StoreJobBodies:
    """``sync`` from the board's connector into the store; the other three from the callables given."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        check: CheckBody | None = None,
        digest: SlotBody | None = None,
        weekly_review: SlotBody | None = None,
        connector_for: Callable[[Board], Connector] = _stored_connector,
    ) -> None:
        no_coach = NoCoach()
        self._sessions = sessions
        self._check = check or no_coach.check
        self._digest = digest or no_coach.digest
        self._weekly_review = weekly_review or no_coach.weekly_review
        self._connector_for = connector_for

    def sync(self, board_id: int) -> None:
        with self._sessions() as session:
            connector = self._connector_for(session.get_one(Board, board_id))
        sync_board(self._sessions, board_id, connector)

    def check(self, board_id: int, at: dt.datetime) -> None:
        self._check(board_id, at)

    def digest(self, board_id: int, slot: str) -> None:
        self._digest(board_id, slot)

    def weekly_review(self, board_id: int, slot: str) -> None:
        self._weekly_review(board_id, slot)
