"""What each scheduled job of a board does: the same functions whichever process or engine runs them.

``sync`` pulls the board's changes and then checks its rules once on the fresh data (one sync job, one
check); ``check`` checks alone; ``digest`` and ``weekly_review`` compute their report and hand it to the
``Notifier``. A digest or review is a *slot* (one scheduled time of one board); its job *takes* the slot in
the ledger (``bot/store/slots.py``) before delivering it, here and only here, so a retry, a restart or a
second worker never delivers it twice, and marks it delivered, or gives it back to be tried again when
nothing could be posted. A slot reached after its board-local day is over is recorded missed, not posted;
one reached late on its day is posted saying how late.

Jobs speak through a ``Notifier`` (Slack's is ``bot/slack/notifier.py``): services never import an edge.
"""

from __future__ import annotations

import dataclasses
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
from bot.store.crypto import SecretKey
from bot.store.models import Board, Workspace
from bot.store.slots import DELIVERED, MISSED, POSTING, SlotKey, finish, give_back, posting, take

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

    def digest(self, board: BoardAddress, digest: DigestData) -> bool:
        """Post the digest; False when nothing of it could be posted (so it can be tried again)."""
        ...

    def review(self, board: BoardAddress, review: Review) -> bool:
        """Post the review; False when nothing of it could be posted (so it can be tried again)."""
        ...

    def delivered(self, board: BoardAddress, key: str, since: dt.datetime) -> bool | None:
        """Whether a message for slot ``key`` was posted since ``since``; None when it cannot be told."""
        ...


class SlotNotDelivered(Exception):
    """Nothing of a digest or review could be posted; its slot is due again, for a retry."""


SLOT_HOLD = dt.timedelta(minutes=3)  # a digest takes seconds; a worker still holding one after this died
LATE_AFTER = dt.timedelta(minutes=5)  # a digest posted later than this says when it was due


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
        slot_hold: dt.timedelta = SLOT_HOLD,
    ) -> None:
        self._sessions = sessions
        self._slot_hold = slot_hold
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

    def digest(self, board_id: int, slot: str, holder: str) -> None:
        self._deliver_slot(SlotKey(DIGEST, board_id, slot), holder, board_digest, self._notifier.digest)

    def weekly_review(self, board_id: int, slot: str, holder: str) -> None:
        self._deliver_slot(
            SlotKey(WEEKLY_REVIEW, board_id, slot), holder, board_review, self._notifier.review
        )

    def _deliver_slot(
        self,
        key: SlotKey,
        holder: str,
        report: Callable[[Session, Board, dt.datetime], Report],
        deliver: Callable[[BoardAddress, Report], bool],
    ) -> None:
        """Take the slot, compute its report and deliver it; record what became of it."""
        job, board_id, slot = key.kind, key.board_id, key.slot
        taken = take(self._sessions, key, holder, hold_for=self._slot_hold)
        if taken is None:
            log.info("job=%s board=%s slot=%s: delivered or being delivered elsewhere", job, board_id, slot)
            return
        try:
            now = self._clock()
            with self._sessions() as session:
                board = session.get_one(Board, board_id)
                address = _address_of(session, board)
                if address.channel is None or not self._notifier.reaches(address):
                    finish(self._sessions, key, holder, MISSED, note="no channel or no Slack token for it")
                    log.info("job=%s board=%s: no channel or no Slack token for its workspace", job, board_id)
                    return
                scheduled = dt.datetime.fromisoformat(slot)
                if now.astimezone(scheduled.tzinfo).date() > scheduled.date():
                    note = f"its day was over when a worker reached it ({now:%Y-%m-%d %H:%M} UTC)"
                    finish(self._sessions, key, holder, MISSED, note=note)
                    log.warning("job=%s board=%s slot=%s missed: %s", job, board_id, slot, note)
                    return
                data = report(session, board, now)
            late = now - scheduled > LATE_AFTER
            data = dataclasses.replace(  # type: ignore[type-var]
                data, delivery_key=str(key), **({"due_at": scheduled} if late else {})
            )
            if taken == POSTING and self._found_in_channel(address, key, holder, scheduled):
                return
        except BaseException:
            give_back(self._sessions, key, holder, note="failed before posting")
            raise
        posting(self._sessions, key, holder)
        if not deliver(address, data):
            give_back(self._sessions, key, holder, note="Slack did not take it")
            raise SlotNotDelivered(f"{job} of board {board_id} for {slot}: nothing could be posted")
        minutes = int((now - scheduled).total_seconds() // 60)
        finish(self._sessions, key, holder, DELIVERED, note=f"{minutes} min late" if late else None)

    def _found_in_channel(self, address: BoardAddress, key: SlotKey, holder: str, since: dt.datetime) -> bool:
        """A worker died while posting this slot: if its message is in the channel, the slot is delivered."""
        found = self._notifier.delivered(address, str(key), since - LATE_AFTER)
        if found:
            finish(
                self._sessions, key, holder, DELIVERED, note="found in the channel after an interrupted post"
            )
            log.info("%s: posted before its worker stopped; not posted again", key)
            return True
        if found is None:
            log.warning(
                "%s: its worker stopped while posting it, and the channel cannot be read to check "
                "(channels:history): posting it again, it may appear twice",
                key,
            )
        return False

    def _address(self, board_id: int) -> BoardAddress:
        with self._sessions() as session:
            return _address_of(session, session.get_one(Board, board_id))


def _address_of(session: Session, board: Board) -> BoardAddress:
    workspace = session.get_one(Workspace, board.workspace_id).slack_team_id
    return BoardAddress(board.id, board.name, workspace, board.channel_id)
