"""The database schema (SQLAlchemy 2.0): workspaces, boards, work items, events, sync runs, alert state.

Every change to these models comes with an Alembic migration in ``bot/store/migrations/versions``; a test
compares the migrated schema with these models on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.connectors.base import EVENT_LIMITS, ITEM_LIMITS
from bot.store.slack_tables import declare_slack_tables

# Deterministic constraint names, so migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database.

    SQLite has no time zone type and would hand back naive values; storing UTC and re-attaching it on the way
    out keeps the one rule of this code base: timestamps are aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; timestamps must be aware")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Workspace(Base):
    """A Slack workspace (team); boards belong to one. The CLI's boards live in the local workspace."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slack_team_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Board(Base):
    """A board: its workflow, where its data comes from, where it speaks, and how the coach behaves."""

    __tablename__ = "boards"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_boards_workspace_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    connector: Mapped[str] = mapped_column(String(40))
    connector_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fernet token of the JSON of the secret settings (tokens, passwords); see bot/store/crypto.py.
    connector_secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    workflow_yaml: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Its tracker address was typed by a Slack member (untrusted): every sync goes through the address guard.
    connected_in_slack: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    coaching_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sync_cursor: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The coach's previous evaluation: a WIP nudge names only an item pulled in since then. Written without
    # touching ``updated_at``, which versions the metrics cache (an evaluation changes no metrics).
    last_evaluated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WorkItem(Base):
    """A work item's latest attributes as the source reported them."""

    __tablename__ = "work_items"
    __table_args__ = (UniqueConstraint("board_id", "item_id", name="uq_work_items_board_id_item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    # Lengths from the connectors' contract, which checks every value against them before the database.
    item_id: Mapped[str] = mapped_column(String(ITEM_LIMITS["item_id"]))
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    type: Mapped[str | None] = mapped_column(String(ITEM_LIMITS["type"]), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str | None] = mapped_column(String(ITEM_LIMITS["status"]), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(ITEM_LIMITS["assignee"]), nullable=True)
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Event(Base):
    """One row of the event log. The unique key makes a re-delivered event harmless."""

    __tablename__ = "events"
    __table_args__ = (
        # to_status is '' rather than NULL for events without one: NULLs never collide in a unique key.
        UniqueConstraint("board_id", "item_id", "timestamp", "event", "to_status", name="uq_events_identity"),
        Index("ix_events_board_id_timestamp", "board_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(EVENT_LIMITS["item_id"]))
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(EVENT_LIMITS["event"]))
    from_status: Mapped[str | None] = mapped_column(String(EVENT_LIMITS["from_status"]), nullable=True)
    to_status: Mapped[str] = mapped_column(String(EVENT_LIMITS["to_status"]), default="")
    to_status_name: Mapped[str | None] = mapped_column(String(EVENT_LIMITS["to_status_name"]), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class EventLogCopy(Base):
    """A board's events as one columnar value, written after each sync so that a read need not fetch every
    row (``bot/store/eventlog_copy.py``, which also says why a stale copy is never read as current).

    Events are append-only: nothing updates a stored event, and the copy relies on that.
    """

    __tablename__ = "event_log_copies"

    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True)
    schema_revision: Mapped[str] = mapped_column(String(32))  # a copy of another revision is not read
    events: Mapped[int] = mapped_column(Integer)
    last_event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    columns: Mapped[bytes] = mapped_column(LargeBinary)


class SyncRun(Base):
    """One sync of a board: when, from which cursor to which, what it brought, and how it ended."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # running | ok | failed | interrupted (its process stopped: found still "running" by the next sync)
    status: Mapped[str] = mapped_column(String(20), default="running")
    cursor_before: Mapped[str | None] = mapped_column(Text, nullable=True)
    cursor_after: Mapped[str | None] = mapped_column(Text, nullable=True)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    events_added: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertState(Base):
    """The coach's memory of one alert, keyed by (board, rule, subject), so restarts never re-post."""

    __tablename__ = "alert_states"
    __table_args__ = (
        UniqueConstraint("board_id", "rule", "subject", name="uq_alert_states_board_id_rule_subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | snoozed | acknowledged | resolved
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChannelSnooze(Base):
    """``/flow snooze``: the coach stays silent in a channel until ``until``."""

    __tablename__ = "channel_snoozes"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", name="uq_channel_snoozes_workspace_id_channel_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    snoozed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DeliveryClaim(Base):
    """A unit of work done at most once across processes and retries (an event id, a digest slot…).

    Inserting the key is the claim: the primary key lets exactly one process win, even across a failover.
    """

    __tablename__ = "delivery_claims"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SchedulerLease(Base):
    """Who runs the scheduler: one holder at a time, until ``expires_at`` unless renewed (bot/scheduler)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:uuid of the process
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    renewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class JobSlot(Base):
    """One scheduled run of a board's digest or weekly review, from the moment it fell due to its outcome.

    The scheduler records a slot before handing it to a worker (a second scheduler after a failover finds
    it recorded and hands it over no second time); a worker *takes* it for a while before delivering, and
    marks it delivered or missed. A slot still ``due`` long after it was handed over, or ``taken`` past
    ``taken_until`` (its worker died), is handed over again, so a slot is never silently lost.
    """

    __tablename__ = "job_slots"
    __table_args__ = (Index("ix_job_slots_state_due_at", "state", "due_at"),)

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    slot: Mapped[str] = mapped_column(String(40), primary_key=True)  # the board-local time, ISO 8601
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))  # due, taken, delivered, missed
    dispatched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    dispatches: Mapped[int] = mapped_column(Integer, default=1)
    taken_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    taken_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # How far its delivery got: the parent message's ts once posted, and the parts (replies, charts) after
    # it, so a delivery cut short resumes without posting anything twice.
    posted_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    parts_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Delivered late (posted saying so): how long after it fell due, for `flowcoach jobs`.
    late_by_s: Mapped[int | None] = mapped_column(Integer, nullable=True)


class NudgeOutboxEntry(Base):
    """One Slack message the coach decided to send, stored in the evaluation's transaction before anything
    is sent, and sent from here (``bot/slack/nudge_delivery.py``) in order, per board.

    ``kind`` is ``message`` (the alerts of one evaluation: at the top of the channel, or in the day's "more
    flow signals" thread when ``fold``), ``repost`` (materially worse: said again in the thread of its
    alert's message) or ``redraw`` (``target_ts`` drawn again after an alert resolved or reopened). An
    entry is ``pending``, ``posting`` while a post may be out (a worker that dies there leaves it so, and the
    next one asks the channel before posting again), then ``sent`` or ``dropped`` (with why). Slack
    refusing for a while (429, 5xx, no connection) leaves it waiting until ``next_attempt_at``; later
    entries of the board wait behind it, so a reply never goes out before its parent.
    """

    __tablename__ = "nudge_outbox"
    __table_args__ = (Index("ix_nudge_outbox_board_id_state", "board_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # message, repost, redraw
    alert_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    fold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    target_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    thread_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)  # a fold's thread, once known
    posted_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SecretKeyParams(Base):
    """How ``FLOWCOACH_SECRET_KEY`` is stretched into the encryption key: one row per database.

    The salt is random per database, so the same passphrase gives another key elsewhere; keeping the cost
    parameters with it lets a later version raise them without losing what was stored. The first process
    that needs it inserts it; the primary key lets exactly one insert win when several start at once.
    """

    __tablename__ = "secret_key_params"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kdf: Mapped[str] = mapped_column(String(16))  # "scrypt"
    salt: Mapped[str] = mapped_column(String(64))  # urlsafe base64 of 16 random bytes
    cost: Mapped[int] = mapped_column(Integer)  # scrypt's n
    block_size: Mapped[int] = mapped_column(Integer)  # scrypt's r
    parallelism: Mapped[int] = mapped_column(Integer)  # scrypt's p
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


declare_slack_tables(Base.metadata)
