"""What each scheduled job of a board does: the same functions whichever process or engine runs them.

``sync`` pulls the board's changes and then checks its rules once on the fresh data (one sync job, one
check); ``check`` checks alone; ``digest`` and ``weekly_review`` compute their report and hand it to the
``Notifier``. A digest or review is a *slot* (one scheduled time of one board) and is claimed in the
database before it is delivered, here and only here, so a retry, a restart or a second worker never
delivers it twice.

Jobs speak through a ``Notifier`` (Slack's is ``bot/slack/notifier.py``): services never import an edge.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.coach.digest import DigestData
from bot.connectors.http import HttpOptions
from bot.services.coaching import Decision, evaluate_board
from bot.services.connections import board_connector
from bot.services.reports import Review, board_digest, board_review
from bot.services.sync import sync_board
from bot.store.claims import claim
from bot.store.crypto import SecretKey
from bot.store.models import Board, Workspace

log = logging.getLogger("flowcoach.jobs")
Report = TypeVar("Report")

SYNC: Final = "sync"
CHECK: Final = "check"
DIGEST: Final = "digest"
WEEKLY_REVIEW: Final = "weekly_review"
JOB_KINDS: Final = (SYNC, CHECK, DIGEST, WEEKLY_REVIEW)
SLOTTED_KINDS: Final = frozenset({DIGEST, WEEKLY_REVIEW})  # claimed per slot before they are delivered


@dataclass(frozen=True)
class BoardAddress:
    """Where a board speaks: its workspace (the store's key for a Slack team) and its channel."""

    board_id: int
    name: str
    workspace: str
    channel: str | None


class Notifier(Protocol):
    """How jobs deliver what they decided. Implementations log their own failures; they never raise."""

    def reaches(self, board: BoardAddress) -> bool:
        """Whether anything sent for this board can arrive (a channel, a token for its workspace)."""
        ...

    def nudges(self, board: BoardAddress, decisions: Sequence[Decision]) -> None: ...

    def digest(self, board: BoardAddress, digest: DigestData) -> None: ...

    def review(self, board: BoardAddress, review: Review) -> None: ...


def claim_key(job: str, board_id: int, slot: str) -> str:
    return f"{job}:{board_id}:{slot}"


def claimed(sessions: sessionmaker[Session], job: str, board_id: int, slot: str) -> bool:
    """True for the one caller allowed to deliver ``job`` of ``board_id`` for ``slot``, False for others."""
    return claim(sessions, claim_key(job, board_id, slot))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class BoardJobs:
    """The job functions of one deployment: its database, how it speaks, the key to its credentials.

    ``slot`` names one scheduled run: the scheduled time in the board's time zone, ISO 8601
    (``2026-03-30T09:30:00+02:00``).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        *,
        secret_key: SecretKey | None,
        slack_http: HttpOptions | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._notifier = notifier
        self._secret_key = secret_key
        self._slack_http = slack_http
        self._clock = clock

    def sync(self, board_id: int) -> None:
        """Pull the board's changes, then check its rules once on the fresh data."""
        with self._sessions() as session:
            board = session.get_one(Board, board_id)
            # An address a Slack member typed is checked on every sync, not only when it was connected:
            # where a name points can change (DNS), and so can the operator's allow-list.
            http = self._slack_http if board.connected_in_slack else None
            connector = board_connector(board, self._secret_key, http)
        try:
            sync_board(self._sessions, board_id, connector)
        finally:
            connector.close()
        self.check(board_id, self._clock())

    def check(self, board_id: int, at: dt.datetime) -> list[Decision]:
        """Evaluate the board's rules at ``at``, commit the alerts, deliver what changed; what was decided."""
        decisions = evaluate_board(self._sessions, board_id, at)
        if decisions:
            self._notifier.nudges(self._address(board_id), decisions)
        return decisions

    def digest(self, board_id: int, slot: str) -> None:
        self._deliver_slot(DIGEST, board_id, slot, board_digest, self._notifier.digest)

    def weekly_review(self, board_id: int, slot: str) -> None:
        self._deliver_slot(WEEKLY_REVIEW, board_id, slot, board_review, self._notifier.review)

    def _deliver_slot(
        self,
        job: str,
        board_id: int,
        slot: str,
        report: Callable[[Session, Board, dt.datetime], Report],
        deliver: Callable[[BoardAddress, Report], None],
    ) -> None:
        """Compute and deliver one slot's report, when it can arrive and this caller claimed the slot."""
        with self._sessions() as session:
            board = session.get_one(Board, board_id)
            address = _address_of(session, board)
            if address.channel is None or not self._notifier.reaches(address):
                log.info("job=%s board=%s: no channel or no Slack token for its workspace", job, board_id)
                return
            if not claimed(self._sessions, job, board_id, slot):
                log.info("job=%s board=%s slot=%s: already delivered", job, board_id, slot)
                return
            data = report(session, board, self._clock())
        deliver(address, data)

    def _address(self, board_id: int) -> BoardAddress:
        with self._sessions() as session:
            return _address_of(session, session.get_one(Board, board_id))


def _address_of(session: Session, board: Board) -> BoardAddress:
    workspace = session.get_one(Workspace, board.workspace_id).slack_team_id
    return BoardAddress(board.id, board.name, workspace, board.channel_id)
