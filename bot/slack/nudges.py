"""The buttons on a nudge: snooze (1 hour, until the next working morning, 1 week), acknowledge, show items.

Each acts in place: the state of the section's own alerts changes in the database (who did it is recorded)
and the whole message is drawn again from all its alerts, so the other sections stay as they were. A button
carries the ids of its section's alerts (an item's section: one per reason, "12,15"); they must belong to a
board of the clicking team.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from analytics.calendar import day_start
from analytics.workhours import WorkCalendar, next_working_time
from bot.formatting import item_title
from bot.services.coaching import alert_for_button, alerts_for_button, message_view
from bot.services.metrics import metrics_now
from bot.slack import ids, texts
from bot.slack.blocks.common import escape, item_link
from bot.slack.blocks.nudges import local_when, message_blocks, message_text
from bot.slack.delivery import update_message
from bot.slack.errors import MESSAGE_GONE_ERRORS
from bot.slack.lookup import board_in_workspace
from bot.slack.runtime import Runtime
from bot.store.boards import board_workflow
from bot.store.models import Board

SNOOZES = {
    ids.ALERT_SNOOZE_HOUR: "hour",
    ids.ALERT_SNOOZE_TOMORROW: "tomorrow",
    ids.ALERT_SNOOZE_WEEK: "week",
}
MAX_ITEMS_SHOWN = 15


def snoozed_until(kind: str, now: pd.Timestamp, calendar: WorkCalendar) -> pd.Timestamp:
    """1 hour, the start of the next working day's hours, or 1 week from now."""
    if kind == "hour":
        return now + pd.Timedelta(hours=1)
    if kind == "week":
        return now + pd.Timedelta(weeks=1)
    tomorrow = now.tz_convert(calendar.timezone).date() + dt.timedelta(days=1)
    return next_working_time(day_start(tomorrow, calendar.timezone), calendar)


def register_nudge_actions(app: App, runtime: Runtime) -> None:
    def act(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: dict[str, Any]
    ) -> None:
        ack()
        action = body["actions"][0]
        now = pd.Timestamp(runtime.clock())
        user = body["user"]["id"]
        with runtime.sessions.begin() as session:
            found = alerts_for_button(session, action.get("value"))
            if not found:  # its board was removed, or the alert pruned: say so rather than do nothing
                respond(text=texts.NUDGE_GONE, response_type="ephemeral", replace_original=False)
                return
            board = session.get_one(Board, found[0][0].board_id)
            board_in_workspace(session, runtime.workspace_key(context.get("team_id")), board.id)
            rows = [row for row, _alert in found if row.state != "resolved"]
            if not rows:
                return
            if action["action_id"] == ids.ALERT_ACKNOWLEDGE:
                note = texts.NUDGE_ACKNOWLEDGED.format(user=user)
                for row in rows:
                    row.state, row.acted_by = "acknowledged", user
            else:
                calendar = WorkCalendar.of(board_workflow(board))
                until = snoozed_until(SNOOZES[action["action_id"]], now, calendar)
                note = texts.NUDGE_SNOOZED.format(until=local_when(until), user=user)
                for row in rows:
                    row.state, row.acted_by = "snoozed", user
                    row.snoozed_until = until.to_pydatetime()
            channel, ts = rows[0].channel_id, rows[0].message_ts
            session.flush()
            view = message_view(session, channel, ts) if channel and ts else None
        if channel and ts and view is not None:
            blocks = message_blocks(view.board, view.alerts, first=view.first)
            try:
                update_message(
                    client,
                    channel,
                    ts,
                    text=message_text(view.board, view.alerts, first=view.first),
                    blocks=blocks,
                )
            except SlackApiError as error:
                if error.response.get("error") not in MESSAGE_GONE_ERRORS:
                    raise
                # Deleted (or its channel archived) after the click left: the choice stands, the note
                # cannot be shown on the message, so the clicker reads it instead.
                text = texts.NUDGE_MESSAGE_GONE.format(note=note)
                respond(text=text, response_type="ephemeral", replace_original=False)

    def show_items(ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
        ack()
        with runtime.sessions() as session:
            found = alert_for_button(session, body["actions"][0].get("value"))
            if found is None:
                respond(text=texts.NUDGE_GONE, response_type="ephemeral", replace_original=False)
                return
            row, alert = found
            board = board_in_workspace(session, runtime.workspace_key(context.get("team_id")), row.board_id)
            metrics = metrics_now(session, board, runtime.clock(), cache=runtime.metrics_cache)
        items = metrics.wip_items.loc[metrics.wip_items["stage"] == alert.subject]
        if items.empty:
            text = texts.NUDGE_NO_ITEMS.format(stage=escape(alert.subject))
        else:
            lines = [texts.NUDGE_ITEMS_IN.format(stage=escape(alert.subject))]
            for item_id, item in items.head(MAX_ITEMS_SHOWN).iterrows():
                url = item.get("url")
                link = item_link(str(item_id), str(url) if isinstance(url, str) else None)
                title = item_title(item.get("title"))
                named = f"{link} {escape(title)}" if title else link
                lines.append(f"• {named} · {item['age_days']:.1f} d")
            if len(items) > MAX_ITEMS_SHOWN:
                lines.append(texts.more(len(items) - MAX_ITEMS_SHOWN))
            text = "\n".join(lines)
        respond(text=text, response_type="ephemeral", replace_original=False)

    for action_id in (*SNOOZES, ids.ALERT_ACKNOWLEDGE):
        app.action(action_id)(act)
    app.action(ids.ALERT_SHOW_ITEMS)(show_items)
