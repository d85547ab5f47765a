"""A nudge as a Slack message: title line, observation, why, next step, and its buttons."""

from __future__ import annotations

import pandas as pd
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.coach import wording
from bot.coach.lifecycle import Alert
from bot.coach.rules import STAGE_RULES
from bot.slack import ids, texts
from bot.slack.blocks.common import escape, item_link

SLACK_MARKUP = wording.Markup(escape=escape, link=item_link, bold=True)


def nudge_blocks(alert: Alert, board: str, alert_id: int | None) -> list[Block]:
    """The alert message: title line, observation, why, next step, and the buttons (with an alert id)."""
    buttons = [
        ButtonElement(text=texts.NUDGE_SNOOZE_HOUR, action_id=ids.ALERT_SNOOZE_HOUR, value=str(alert_id)),
        ButtonElement(
            text=texts.NUDGE_SNOOZE_TOMORROW, action_id=ids.ALERT_SNOOZE_TOMORROW, value=str(alert_id)
        ),
        ButtonElement(text=texts.NUDGE_SNOOZE_WEEK, action_id=ids.ALERT_SNOOZE_WEEK, value=str(alert_id)),
        ButtonElement(text=texts.NUDGE_ACKNOWLEDGE, action_id=ids.ALERT_ACKNOWLEDGE, value=str(alert_id)),
    ]
    if alert.rule in STAGE_RULES:
        buttons.append(
            ButtonElement(text=texts.NUDGE_SHOW_ITEMS, action_id=ids.ALERT_SHOW_ITEMS, value=str(alert_id))
        )
    return [
        _title(alert, board),
        SectionBlock(text=MarkdownTextObject(text=wording.what(alert, SLACK_MARKUP))),
        ContextBlock(elements=[MarkdownTextObject(text=wording.why(alert, SLACK_MARKUP))]),
        SectionBlock(text=MarkdownTextObject(text=":point_right: " + wording.next_step(alert, SLACK_MARKUP))),
        *([ActionsBlock(block_id=f"alert_{alert_id}", elements=buttons)] if alert_id is not None else []),
    ]


def resolved_blocks(alert: Alert, board: str, when: str) -> list[Block]:
    """The original message, updated in place once the alert cleared: no buttons, the resolution stated."""
    resolved = texts.NUDGE_RESOLVED.format(when=when, what=wording.what(alert, SLACK_MARKUP))
    return [_title(alert, board), SectionBlock(text=MarkdownTextObject(text=resolved))]


def resolved_text(alert: Alert, when: str) -> str:
    return texts.NUDGE_RESOLVED.format(when=when, what=escape(alert.subject))


def worse_text(alert: Alert) -> str:
    return texts.NUDGE_WORSE.format(what=wording.what(alert, SLACK_MARKUP))


def local_when(moment: pd.Timestamp) -> str:
    """Slack renders ``<!date…>`` in each reader's own time zone."""
    stamp = int(pd.Timestamp(moment).timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{pd.Timestamp(moment):%Y-%m-%d %H:%M UTC}>"


def _title(alert: Alert, board: str) -> ContextBlock:
    title = texts.NUDGE_BOARD.format(board=escape(board), title=wording.title(alert))
    return ContextBlock(elements=[MarkdownTextObject(text=title)])
