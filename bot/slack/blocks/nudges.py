"""The nudges of one evaluation as one Slack message (``spec/coaching.md``, "One message per evaluation").

Headed by the board ("Payments — 3 flow signals", or "Payments — what I see now" when it was just
connected), then the system signals (WIP limits, queues, starving stages), each with what, why and one next
step, then the items, each once with all its reasons; every section has its own buttons. The message is
drawn from its alerts as they stand, so the same function draws it when posted, when one of its alerts is
acknowledged, snoozed or resolved, and when all are resolved.
"""

from __future__ import annotations

from collections.abc import Sequence

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
from bot.coach.message import is_system, sections
from bot.coach.rules import STAGE_RULES
from bot.slack import ids, texts
from bot.slack.blocks.common import MAX_SECTION_TEXT, escape, item_link

SLACK_MARKUP = wording.Markup(escape=escape, link=item_link, bold=True)
MAX_SECTIONS = 12  # 3 blocks each, with the header and the "and N more" line: well within 50 blocks
NEXT_STEP_FIRST = ("item_blocked", "item_aging", "item_at_risk")  # whose next step an item's section gives

Entry = tuple[int | None, Alert]  # an alert with its id (None where nothing can be clicked: the demo)


def message_blocks(board: str, entries: Sequence[Entry], *, first: bool = False) -> list[Block]:
    """The whole message: header, then one section per system signal and per item, at most 12 of them."""
    grouped = sections(entries, lambda entry: entry[1])
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_header(board, grouped, first)))]
    if first:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=texts.NUDGE_INTRO_FIRST)]))
    shown = grouped[:MAX_SECTIONS]  # a resolved section keeps its place: the message does not reshuffle
    for section in shown:
        if is_system(section[0][1]):
            blocks.extend(_system_section(section[0]))
        else:
            blocks.extend(_item_section(section))
    hidden = len(grouped) - len(shown)
    if hidden > 0:
        more = texts.NUDGE_MORE.format(count=hidden, s=_s(hidden))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return blocks


def message_text(board: str, entries: Sequence[Entry], *, first: bool = False) -> str:
    """The message in plain words, for notifications and screen readers: header and each observation."""
    grouped = sections(entries, lambda entry: entry[1])
    lines = [_header(board, grouped, first).replace("*", "")]
    lines += [wording.what(alert) for section in grouped[:MAX_SECTIONS] for _id, alert in section]
    return "\n".join(lines)[:MAX_SECTION_TEXT]


def _header(board: str, grouped: list[list[Entry]], first: bool) -> str:
    count = len(grouped)
    resolved = sum(_resolved(section) for section in grouped)
    name = escape(board)
    if resolved == count:
        return texts.NUDGE_ALL_RESOLVED.format(board=name, count=count, s=_s(count))
    if first:
        return texts.NUDGE_HEADER_FIRST.format(board=name)
    if resolved:
        return texts.NUDGE_HEADER_RESOLVED.format(board=name, resolved=resolved, count=count)
    return texts.NUDGE_HEADER.format(board=name, count=count, s=_s(count))


def _resolved(section: list[Entry]) -> bool:
    return all(not alert.is_open for _id, alert in section)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _system_section(entry: Entry) -> list[Block]:
    _alert_id, alert = entry
    what = wording.what(alert, SLACK_MARKUP)
    if not alert.is_open:
        return [SectionBlock(text=MarkdownTextObject(text=_resolved_line(alert, what)))]
    text = texts.NUDGE_SECTION.format(title=wording.title(alert), what=what)
    text += "\n" + texts.NUDGE_NEXT.format(next=wording.next_step(alert, SLACK_MARKUP))
    context = [wording.why(alert, SLACK_MARKUP), *_notes([alert])]
    return [
        SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION_TEXT])),
        ContextBlock(elements=[MarkdownTextObject(text=line) for line in context]),
        *_buttons([entry], show_items=alert.rule in STAGE_RULES),
    ]


def _item_section(section: list[Entry]) -> list[Block]:
    """One item: its reasons together (each a line), one next step, one set of buttons for all of them."""
    alerts = [alert for _id, alert in section]
    item = wording.named_item(alerts[0], SLACK_MARKUP)
    titles = " · ".join(wording.title(alert) for alert in alerts)
    lines = [texts.NUDGE_ITEM.format(item=item, titles=titles)]
    for alert in alerts:
        what = wording.what(alert, SLACK_MARKUP, item_named=False)  # the line above names the item
        lines.append("• " + (what if alert.is_open else _resolved_line(alert, what)))
    still = [alert for alert in alerts if alert.is_open]
    if not still:
        return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:MAX_SECTION_TEXT]))]
    lead = min(still, key=lambda a: NEXT_STEP_FIRST.index(a.rule) if a.rule in NEXT_STEP_FIRST else 99)
    lines.append(texts.NUDGE_NEXT.format(next=wording.next_step(lead, SLACK_MARKUP)))
    context = [wording.why(lead, SLACK_MARKUP), *_notes(still)]
    open_entries = [entry for entry in section if entry[1].is_open]
    return [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:MAX_SECTION_TEXT])),
        ContextBlock(elements=[MarkdownTextObject(text=line) for line in context]),
        *_buttons(open_entries, show_items=False),
    ]


def _resolved_line(alert: Alert, what: str) -> str:
    when = local_when(pd.Timestamp(alert.resolved_at)) if alert.resolved_at is not None else ""
    return texts.NUDGE_RESOLVED.format(when=when, what=what).replace("  ", " ")


def _notes(alerts: list[Alert]) -> list[str]:
    """Who acknowledged or snoozed (once per person and choice, for an item with several reasons)."""
    notes: list[str] = []
    for alert in alerts:
        note = None
        if alert.state == "acknowledged" and alert.acted_by:
            note = texts.NUDGE_ACKNOWLEDGED.format(user=alert.acted_by)
        elif alert.state == "snoozed" and alert.acted_by and alert.snoozed_until is not None:
            note = texts.NUDGE_SNOOZED.format(until=local_when(alert.snoozed_until), user=alert.acted_by)
        if note and note not in notes:
            notes.append(note)
    return notes[:9]  # a context block holds 10 elements; the first is the why


def _buttons(entries: list[Entry], *, show_items: bool) -> list[Block]:
    """Snooze (1 h, until tomorrow, 1 week) and acknowledge, acting on the section's own alerts."""
    alert_ids = [alert_id for alert_id, _alert in entries if alert_id is not None]
    if not alert_ids:
        return []
    value = ",".join(str(alert_id) for alert_id in alert_ids)
    buttons = [
        ButtonElement(text=texts.NUDGE_SNOOZE_HOUR, action_id=ids.ALERT_SNOOZE_HOUR, value=value),
        ButtonElement(text=texts.NUDGE_SNOOZE_TOMORROW, action_id=ids.ALERT_SNOOZE_TOMORROW, value=value),
        ButtonElement(text=texts.NUDGE_SNOOZE_WEEK, action_id=ids.ALERT_SNOOZE_WEEK, value=value),
        ButtonElement(text=texts.NUDGE_ACKNOWLEDGE, action_id=ids.ALERT_ACKNOWLEDGE, value=value),
    ]
    if show_items:
        buttons.append(
            ButtonElement(text=texts.NUDGE_SHOW_ITEMS, action_id=ids.ALERT_SHOW_ITEMS, value=value)
        )
    return [ActionsBlock(block_id="alert_" + "_".join(str(i) for i in alert_ids), elements=buttons)]


def worse_text(alert: Alert) -> str:
    return texts.NUDGE_WORSE.format(what=wording.what(alert, SLACK_MARKUP))


def local_when(moment: pd.Timestamp) -> str:
    """Slack renders ``<!date…>`` in each reader's own time zone."""
    stamp = int(pd.Timestamp(moment).timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{pd.Timestamp(moment):%Y-%m-%d %H:%M UTC}>"
