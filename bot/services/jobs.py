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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.coach.digest import DigestData
from bot.connectors.http import HttpOptions
from bot.services.coaching import Decision, evaluate_board
from bot.services.connections import board_connector
from bot.services.reports import Review, board_digest, board_review
from bot.services.sync import sync_board
from bot.store.crypto import SecretKey
from bot.store.models import Board, Workspace
from bot.store.nudge_outbox import has_waiting
from bot.store.slots import (
    DELIVERED,
    MISSED,
    POSTING,
    SlotKey,
    finish,
    give_back,
    hold_on,
    pause,
    posting,
    progress_of,
    record_progress,
    take,
)

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

    def nudges(self, board: BoardAddress) -> None:
        """Send what the board's outbox holds, in order; what Slack will not take now waits for later."""
        ...

    def digest(self, board: BoardAddress, digest: DigestData, progress: Progress) -> bool:
        """Post the digest from where ``progress`` says it got; False when it was cut short (to resume)."""
        ...

    def review(self, board: BoardAddress, review: Review, progress: Progress) -> bool:
        """Post the review from where ``progress`` says it got; False when it was cut short (to resume)."""
        ...

    def delivered(self, board: BoardAddress, key: str, since: dt.datetime) -> str | Literal[False] | None:
        """The ts of the message posted for slot ``key`` since ``since``; False if there is none; None when
        the channel cannot be read to tell."""
        ...

    def delivered_parts(self, board: BoardAddress, key: str, parent_ts: str) -> int | None:
        """How many parts of slot ``key`` are in the thread of ``parent_ts``; None when it cannot be read."""
        ...


class SlotTakenOver(Exception):
    """This worker's hold on a slot ran out mid-delivery and another took it over: stop sending."""


def _always(*_args: object) -> bool:
    return True


@dataclass
class Progress:
    """How far a message of several parts (a parent, then replies or charts in its thread) got, saved as
    it goes: a delivery cut short resumes after the last part that went out. ``save`` and ``hold`` renew
    the sender's hold on its slot; when one fails, another worker has taken over and this one stops."""

    parent_ts: str | None
    parts_done: int
    save: Callable[[str, int], bool]
    hold: Callable[[], bool] = _always

    def before_part(self) -> None:
        if not self.hold():
            raise SlotTakenOver("another worker took this delivery over")

    def parent_posted(self, ts: str) -> None:
        self.parent_ts, self.parts_done = ts, 0
        if not self.save(ts, 0):
            raise SlotTakenOver("another worker took this delivery over")

    def part_posted(self) -> None:
        assert self.parent_ts is not None
        self.parts_done += 1
        if not self.save(self.parent_ts, self.parts_done):
            raise SlotTakenOver("another worker took this delivery over")


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
        if has_waiting(self._sessions, board_id):  # this check's, or any an earlier one left waiting
            self._notifier.nudges(self._address(board_id))
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
        deliver: Callable[[BoardAddress, Report, Progress], bool],
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
                    if progress_of(self._sessions, key)[0] is not None:  # its first message went out
                        note = "posted in part: the rest was dropped when its day was over"
                        finish(self._sessions, key, holder, DELIVERED, note=note)
                        return
                    finish(self._sessions, key, holder, MISSED, note=note)
                    log.warning("job=%s board=%s slot=%s missed: %s", job, board_id, slot, note)
                    return
                data = report(session, board, now)
            late = now - scheduled > LATE_AFTER
            data = dataclasses.replace(  # type: ignore[type-var]
                data, delivery_key=str(key), **({"due_at": scheduled} if late else {})
            )
        except BaseException:
            if taken == POSTING:  # still unknown whether its first message went out: keep it marked so
                pause(self._sessions, key, holder, note="failed before posting")
            else:
                give_back(self._sessions, key, holder, note="failed before posting")
            raise
        outcome = f"{int((now - scheduled).total_seconds() // 60)} min late" if late else None
        parent_ts, parts_done = progress_of(self._sessions, key)
        if taken == POSTING:  # its last worker died while sending it: ask the channel how far it got
            parent_ts, parts_done, found = self._resume_point(address, key, holder, parent_ts, parts_done)
            outcome = found or outcome
        hold = self._slot_hold
        progress = Progress(
            parent_ts,
            parts_done,
            save=lambda ts, done: record_progress(self._sessions, key, holder, ts, done, hold_for=hold),
            hold=lambda: hold_on(self._sessions, key, holder, hold_for=hold),
        )
        posting(self._sessions, key, holder)
        if not deliver(address, data, progress):
            if progress.parent_ts is None:
                give_back(self._sessions, key, holder, note="Slack did not take it")
                raise SlotNotDelivered(f"{job} of board {board_id} for {slot}: nothing could be posted")
            pause(self._sessions, key, holder, note=f"cut short after {progress.parts_done} parts; resumes")
            raise SlotNotDelivered(
                f"{job} of board {board_id} for {slot}: cut short, resumes where it stopped"
            )
        finish(
            self._sessions, key, holder, DELIVERED, note=outcome, late_by=now - scheduled if late else None
        )

    def _resume_point(
        self, address: BoardAddress, key: SlotKey, holder: str, parent_ts: str | None, parts_done: int
    ) -> tuple[str | None, int, str | None]:
        """Where a delivery whose worker died mid-post resumes: the parent's ts and the parts out, as the
        channel shows them beyond what was noted; and a note when the parent was found there."""
        if parent_ts is None:  # it died while posting the first message: it may be in the channel
            found = self._notifier.delivered(address, str(key), key.due_at - LATE_AFTER)
            if isinstance(found, str):
                record_progress(self._sessions, key, holder, found, 0, hold_for=self._slot_hold)
                log.info("%s: its first message was posted before its worker stopped; not posted again", key)
                return found, 0, "found in the channel after an interrupted post"
            if found is None:
                log.warning(
                    "%s: its worker stopped while posting it, and the channel cannot be read to check "
                    "(channels:history): posting it again, it may appear twice",
                    key,
                )
            return None, 0, None
        # Cut short while posting its parts: one may have gone out after the last one noted.
        found_parts = self._notifier.delivered_parts(address, str(key), parent_ts)
        if found_parts is not None and found_parts > parts_done:
            log.info("%s: %d parts were out, %d noted; resuming after them", key, found_parts, parts_done)
            return parent_ts, found_parts, None
        return parent_ts, parts_done, None

    def _address(self, board_id: int) -> BoardAddress:
        with self._sessions() as session:
            return _address_of(session, session.get_one(Board, board_id))


def _address_of(session: Session, board: Board) -> BoardAddress:
    workspace = session.get_one(Workspace, board.workspace_id).slack_team_id
    return BoardAddress(board.id, board.name, workspace, board.channel_id)
