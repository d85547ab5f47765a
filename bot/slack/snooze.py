"""`/flow snooze`: a channel-wide silence for the coach's nudges, kept in the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from bot.slack import texts
from bot.slack.runtime import Runtime
from bot.store.boards import workspace
from bot.store.models import ChannelSnooze


def snooze_reply(
    runtime: Runtime, workspace_key: str, channel_id: str, user_id: str, duration: dt.timedelta | None
) -> str:
    """Snooze for ``duration``, end the snooze (zero), or describe it (``None``); returns the reply."""
    now = runtime.clock()
    with runtime.sessions.begin() as session:
        space = workspace(session, workspace_key)
        current = session.scalar(
            select(ChannelSnooze).where(
                ChannelSnooze.workspace_id == space.id, ChannelSnooze.channel_id == channel_id
            )
        )
        if duration is None:
            if current is None or current.until <= now:
                return texts.NOT_SNOOZED
            return texts.SNOOZE_STATE.format(until=_when(current.until), user=current.snoozed_by)
        if not duration:
            session.execute(
                delete(ChannelSnooze).where(
                    ChannelSnooze.workspace_id == space.id, ChannelSnooze.channel_id == channel_id
                )
            )
            return texts.SNOOZE_ENDED
        until = now + duration
        if current is None:
            session.add(
                ChannelSnooze(workspace_id=space.id, channel_id=channel_id, until=until, snoozed_by=user_id)
            )
        else:
            current.until, current.snoozed_by = until, user_id
        return texts.SNOOZED.format(until=_when(until), user=user_id)


def _when(moment: dt.datetime) -> str:
    """Slack's date formatting shows the time in each reader's own time zone."""
    stamp = int(moment.timestamp())
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"
