"""A nudge in words: what the coach sees, why it matters for flow, one next step (``spec/coaching.md``).

Plain text for replay and notifications; Block Kit (with the snooze and acknowledge buttons) for Slack.
"""

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

from bot.coach.lifecycle import Alert
from bot.coach.rules import BOARD_SUBJECT, STAGE_RULES
from bot.slack import ids, texts
from bot.slack.blocks.common import escape, item_link


def _item(alert: Alert) -> str:
    url = alert.facts.get("url")
    return item_link(alert.subject, str(url) if url else None)


def _fields(alert: Alert, *, for_slack: bool) -> dict[str, object]:
    facts = dict(alert.facts)
    pulled = facts.get("pulled")
    if pulled and for_slack:
        url = facts.get("pulled_url")
        pulled = item_link(str(pulled), str(url) if url else None)
    facts["pulled"] = texts.NUDGE_PULLED.format(item=pulled) if pulled else ""
    facts["subject"] = escape(alert.subject) if for_slack else alert.subject
    facts["item"] = _item(alert) if for_slack else alert.subject
    facts.setdefault("upstream", "earlier stages")
    facts["stage"] = facts.get("stage") or ""
    return facts


def next_step(alert: Alert, fields: dict[str, object]) -> str:
    if alert.rule == "wip_limit_exceeded" and alert.subject == BOARD_SUBJECT:
        return texts.NUDGE_NEXT_BOARD
    return texts.NUDGE_NEXT[alert.rule].format(**fields)


def what(alert: Alert, *, for_slack: bool = False) -> str:
    """The one-line observation, e.g. "*Review* is at *5/3* WIP (PAY-7 was just pulled in)"."""
    board_wide = alert.rule == "wip_limit_exceeded" and alert.subject == BOARD_SUBJECT
    template = texts.NUDGE_WHAT_BOARD if board_wide else texts.NUDGE_WHAT[alert.rule]
    text = template.format(**_fields(alert, for_slack=for_slack))
    return text if for_slack else text.replace("*", "")


def nudge_text(alert: Alert) -> str:
    """What, why and next step in plain text (replay, notifications)."""
    fields = _fields(alert, for_slack=False)
    return " ".join([what(alert), texts.NUDGE_WHY[alert.rule].format(**fields), next_step(alert, fields)])


def nudge_blocks(alert: Alert, board: str, alert_id: int | None) -> list[Block]:
    """The alert message: title line, observation, why, next step, and the buttons (with an alert id)."""
    fields = _fields(alert, for_slack=True)
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
    title = texts.NUDGE_BOARD.format(board=escape(board), title=texts.NUDGE_TITLE[alert.rule])
    return [
        ContextBlock(elements=[MarkdownTextObject(text=title)]),
        SectionBlock(text=MarkdownTextObject(text=what(alert, for_slack=True))),
        ContextBlock(elements=[MarkdownTextObject(text=texts.NUDGE_WHY[alert.rule].format(**fields))]),
        SectionBlock(text=MarkdownTextObject(text=":point_right: " + next_step(alert, fields))),
        *([ActionsBlock(block_id=f"alert_{alert_id}", elements=buttons)] if alert_id is not None else []),
    ]


def resolved_blocks(alert: Alert, board: str, when: str) -> list[Block]:
    """The original message, updated in place once the alert cleared: no buttons, the resolution stated."""
    title = texts.NUDGE_BOARD.format(board=escape(board), title=texts.NUDGE_TITLE[alert.rule])
    resolved = texts.NUDGE_RESOLVED.format(when=when, what=what(alert, for_slack=True))
    return [
        ContextBlock(elements=[MarkdownTextObject(text=title)]),
        SectionBlock(text=MarkdownTextObject(text=resolved)),
    ]


def worse_text(alert: Alert) -> str:
    return texts.NUDGE_WORSE.format(what=what(alert, for_slack=True))


def local_when(moment: pd.Timestamp) -> str:
    """Slack renders ``<!date…>`` in each reader's own time zone."""
    stamp = int(pd.Timestamp(moment).timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{pd.Timestamp(moment):%Y-%m-%d %H:%M UTC}>"
