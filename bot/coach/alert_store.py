"""Alerts in the database (``alert_states``), so a restart never re-posts and buttons find their alert.

One row per (board, rule, subject): when the same subject fires again after it was resolved, the row
starts over. The lifecycle's extra fields (severity at the last post, facts for the message, why it was
held) live in ``details``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.coach.lifecycle import Alert
from bot.store.models import AlertState


def _stamp(moment: dt.datetime | None) -> pd.Timestamp | None:
    return None if moment is None else pd.Timestamp(moment)


def _aware(moment: pd.Timestamp | None) -> dt.datetime | None:
    return None if moment is None else pd.Timestamp(moment).to_pydatetime()


def _iso(moment: pd.Timestamp | None) -> str | None:
    return None if moment is None else pd.Timestamp(moment).isoformat()


def to_alert(row: AlertState) -> Alert:
    details: dict[str, Any] = dict(row.details or {})
    return Alert(
        rule=row.rule,
        subject=row.subject,
        detected_at=pd.Timestamp(row.detected_at),
        severity=float(details.get("severity", 0.0)),
        items=tuple(details.get("items", ())),
        facts=dict(details.get("facts", {})),
        state=row.state,
        posted_at=_stamp(row.posted_at),
        last_posted_at=_stamp(
            pd.Timestamp(details["last_posted_at"]) if details.get("last_posted_at") else None
        ),
        posted_severity=details.get("posted_severity"),
        resolved_at=_stamp(row.resolved_at),
        snoozed_until=_stamp(row.snoozed_until),
        acted_by=row.acted_by,
        held=details.get("held"),
    )


def load_alerts(
    session: Session, board_id: int
) -> tuple[dict[tuple[str, str], Alert], dict[tuple[str, str], AlertState]]:
    """The board's alerts for the lifecycle, and their rows to write back to."""
    rows = {
        (row.rule, row.subject): row
        for row in session.scalars(select(AlertState).where(AlertState.board_id == board_id))
    }
    return {key: to_alert(row) for key, row in rows.items()}, rows


def save_alert(
    session: Session, board_id: int, alert: Alert, row: AlertState | None, *, folded: bool = False
) -> AlertState:
    """Write the alert into its row (a new row the first time; the same row when it fires again)."""
    if row is None:
        row = AlertState(
            board_id=board_id, rule=alert.rule, subject=alert.subject, detected_at=_aware(alert.detected_at)
        )
        session.add(row)
    elif row.detected_at != _aware(alert.detected_at):  # fired again after it was resolved: a new life
        row.channel_id, row.message_ts = None, None
    row.state = alert.state
    row.detected_at = _aware(alert.detected_at)  # type: ignore[assignment]
    row.posted_at = _aware(alert.posted_at)
    row.resolved_at = _aware(alert.resolved_at)
    row.snoozed_until = _aware(alert.snoozed_until)
    row.acted_by = alert.acted_by
    previous = dict(row.details or {})
    row.details = {
        "severity": alert.severity,
        "posted_severity": alert.posted_severity,
        "last_posted_at": _iso(alert.last_posted_at),
        "items": list(alert.items),
        "facts": {key: value for key, value in alert.facts.items() if _json_safe(value)},
        "held": alert.held,
        "folded": folded or (bool(previous.get("folded")) and row.detected_at == _aware(alert.detected_at)),
        # where this life's message went (a new life, its message not posted yet, has none)
        "thread_ts": previous.get("thread_ts") if row.message_ts is not None else None,
        "first_message": bool(previous.get("first_message")) and row.message_ts is not None,
    }
    return row


def messages_since(session: Session, board_id: int, channel_id: str, since: dt.datetime) -> int:
    """Alert messages of a board posted at the top of its channel since an instant (folded ones not
    counted). The alerts of one message were posted at one evaluation, so a message is one posting time;
    alerts decided but not delivered yet (no channel recorded) count too."""
    rows = session.scalars(
        select(AlertState).where(
            AlertState.board_id == board_id,
            or_(AlertState.channel_id == channel_id, AlertState.channel_id.is_(None)),
            AlertState.posted_at >= since,
        )
    )
    return len({row.posted_at for row in rows if not (row.details or {}).get("folded")})


PACING_LOOKBACK = dt.timedelta(days=14)  # a cooldown of working time never spans more than a long holiday


def last_message_at(
    session: Session, board_id: int, channel_id: str, now: pd.Timestamp
) -> pd.Timestamp | None:
    """When the board last posted a message at the top of its channel (folded ones not counted), within
    ``PACING_LOOKBACK`` of ``now``; ``None`` when it did not."""
    rows = session.scalars(
        select(AlertState).where(
            AlertState.board_id == board_id,
            or_(AlertState.channel_id == channel_id, AlertState.channel_id.is_(None)),
            AlertState.posted_at >= (now - PACING_LOOKBACK).to_pydatetime(),
        )
    )
    times = [
        row.posted_at for row in rows if row.posted_at is not None and not (row.details or {}).get("folded")
    ]
    return None if not times else pd.Timestamp(max(times))


def open_alert_count(session: Session, board_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AlertState)
            .where(AlertState.board_id == board_id, AlertState.state.in_(("open", "snoozed", "acknowledged")))
        )
        or 0
    )


def _json_safe(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
