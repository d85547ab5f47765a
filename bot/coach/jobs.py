"""The coach's job bodies for the worker: checks after each sync and every 15 minutes, digests, reviews.

Each body loads what it needs from the store, finds the Web API client of the board's workspace, and posts.
Digests and reviews are claimed per (board, slot) before posting (the scheduler claims them too; a body
called directly, e.g. by the demo, claims for itself), so no slot is ever posted twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.coach.live import check_board
from bot.coach.reports import board_digest, board_review, post_digest, post_review
from bot.coach.slack_clients import client_for_workspace
from bot.config import Settings
from bot.scheduler.bodies import StoreJobBodies
from bot.scheduler.jobs import DIGEST, WEEKLY_REVIEW, claimed
from bot.store.models import Board, Workspace

log = logging.getLogger("flowcoach.coach")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CoachJobs:
    """check, digest and weekly_review of one board at a time, posting with its workspace's bot."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock

    def _client(self, board_id: int) -> tuple[WebClient | None, str | None]:
        with self._sessions() as session:
            board = session.get_one(Board, board_id)
            team = session.get_one(Workspace, board.workspace_id).slack_team_id
            channel = board.channel_id
        engine = self._sessions.kw["bind"]
        return client_for_workspace(self._settings, engine, team), channel

    def check(self, board_id: int, at: dt.datetime) -> None:
        client, _ = self._client(board_id)
        check_board(self._sessions, board_id, at, client)

    def digest(self, board_id: int, slot: str) -> None:
        client, channel = self._client(board_id)
        if client is None or channel is None:
            log.info("job=digest board=%s: no channel or no Slack token for its workspace", board_id)
            return
        if not claimed(self._sessions, DIGEST, board_id, slot):
            return
        with self._sessions() as session:
            digest = board_digest(session, session.get_one(Board, board_id), self._clock())
        post_digest(client, channel, digest)

    def weekly_review(self, board_id: int, slot: str) -> None:
        client, channel = self._client(board_id)
        if client is None or channel is None:
            log.info("job=weekly_review board=%s: no channel or no Slack token for its workspace", board_id)
            return
        if not claimed(self._sessions, WEEKLY_REVIEW, board_id, slot):
            return
        with self._sessions() as session:
            review = board_review(session, session.get_one(Board, board_id), self._clock())
        post_review(client, channel, review)


class CoachedBodies(StoreJobBodies):
    """The worker's bodies: the store's sync followed at once by a check, and the coach's other bodies."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self._coach = CoachJobs(settings, sessions)
        coach = self._coach
        super().__init__(sessions, check=coach.check, digest=coach.digest, weekly_review=coach.weekly_review)

    def sync(self, board_id: int) -> None:
        super().sync(board_id)
        self.check(board_id, utc_now())  # rules are evaluated after each sync, on the fresh data
