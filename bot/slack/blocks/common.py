"""What every Slack surface shares: sync state, mrkdwn escaping, links, bars, blocks within Slack's limits.

Slack rejects a whole message when one block breaks a limit, so the helpers here cut text to size themselves
(lists end with "… and N more") instead of leaving it to the caller to count characters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from analytics.measures import BoardMetrics
from bot.formatting import days, percent, shorten
from bot.services.metrics import SyncInfo
from bot.slack import texts
from bot.values import optional_number, optional_text

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks)
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

MAX_LIST_ITEMS = 10  # beyond ten lines a list stops being read; the rest is counted, not shown
TITLE_WIDTH = 60
PACE_AGING = 0.7  # "past 70 % pace": older than 70 % of recently finished items

BAR_WIDTH = 12
BAR_FULL, BAR_OVER, BAR_FREE = "█", "▓", "░"


def sync_warnings(sync: SyncInfo) -> list[str]:
    """The warning lines to show, if any: a failed last sync says more than staleness, so it wins."""
    if sync.last_error:
        return [texts.sync_failed(escape(shorten(sync.last_error, 300)), sync.freshness)]
    return [texts.stale_warning(sync.freshness)] if sync.stale else []


@dataclass(frozen=True)
class WipItem:
    """One row of ``BoardMetrics.wip_items``, typed, with missing attributes as ``None``."""

    item_id: str
    stage: str
    age_days: float
    pace: float | None
    blocked: bool
    blocked_days: float
    title: str | None
    url: str | None


def escape(text: str) -> str:
    """Text made safe for mrkdwn: Slack reads ``&``, ``<`` and ``>`` as markup (links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def item_link(item_id: str, url: str | None) -> str:
    """``<url|ID>``, or the plain (escaped) ID when the item has no http(s) URL."""
    label = escape(item_id)
    if not url or not url.lower().startswith(("https://", "http://")):
        return label  # a javascript:, slack: or relative "link" from a tracker is shown as text only
    # Inside <…|…> a "|" or ">" in the URL would end it early; percent-encoding keeps the URL equivalent.
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe_url}|{label}>"


def scaled_bar(value: int, scale: int, *, width: int = BAR_WIDTH) -> str:
    """``value`` as full blocks where ``scale`` fills ``width`` cells; never empty for a value above 0."""
    if value <= 0 or scale <= 0:
        return ""
    return BAR_FULL * max(1, round(value / scale * width))


def wip_bar(wip: int, limit: int | None, *, width: int = BAR_WIDTH) -> str:
    """WIP against its limit: ``█`` items within the limit, ``░`` free places, ``▓`` items over the limit.

    One cell per item while ``max(wip, limit)`` fits in ``width`` (a count people can check at a glance);
    scaled down beyond that. No limit: the items alone. Unicode block characters, no emoji, so the bar keeps
    its shape in every Slack client and in notifications.
    """
    scale = max(wip, limit or 0)
    if scale == 0:
        return BAR_FREE if limit == 0 else ""
    per_cell = max(1.0, scale / width)
    within = min(wip, limit) if limit is not None else wip
    full = math.ceil(within / per_cell) if within else 0
    if limit is None:
        return BAR_FULL * full
    over = math.ceil((wip - limit) / per_cell) if wip > limit else 0
    free = max(0, round(limit / per_cell) - full)
    return BAR_FULL * full + BAR_OVER * over + BAR_FREE * free


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, at a line end when there is one in the second half.

    A last resort for text that could not be kept short upstream; cutting at a line end avoids breaking a
    link or an escape sequence in the middle.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    line_end = cut.rfind("\n")
    return (cut[:line_end] if line_end > limit // 2 else cut) + "…"


def listing(heading: str, lines: Sequence[str], *, max_items: int = MAX_LIST_ITEMS) -> str:
    """A heading and lines for one section: at most ``max_items`` lines, then "… and N more".

    Lines are also dropped, whole, to keep the text within a section's 3000 characters.
    """
    text = "\n".join([heading, *lines])
    if len(lines) <= max_items and len(text) <= MAX_SECTION_TEXT:
        return text
    budget = MAX_SECTION_TEXT - len(texts.more(len(lines))) - 1
    shown = [heading]
    used = len(heading)
    for line in lines[:max_items]:
        if used + 1 + len(line) > budget:
            break
        shown.append(line)
        used += 1 + len(line)
    return "\n".join([*shown, texts.more(len(lines) - (len(shown) - 1))])


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


def header(text: str) -> HeaderBlock:
    """A header (plain text, so nothing to escape), shortened to Slack's 150 characters."""
    return HeaderBlock(text=PlainTextObject(text=shorten(text, MAX_HEADER_TEXT)))


def section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text))


def context(*lines: str) -> ContextBlock:
    """A context block: small grey lines, one element each (at most ten)."""
    return ContextBlock(elements=[mrkdwn(line) for line in lines[:MAX_CONTEXT_ELEMENTS]])


def field_sections(fields: Sequence[str], text: str | None = None) -> list[SectionBlock]:
    """Sections holding ``fields`` (two columns in Slack), ten per section; ``text`` heads the first."""
    chunks = [fields[i : i + MAX_FIELDS] for i in range(0, len(fields), MAX_FIELDS)] or [[]]
    return [
        SectionBlock(
            text=mrkdwn(text) if text is not None and index == 0 else None,
            fields=[mrkdwn(field, MAX_FIELD_TEXT) for field in chunk] or None,
        )
        for index, chunk in enumerate(chunks)
    ]


def button(label: str, action_id: str, value: str | None = None, *, primary: bool = False) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=shorten(label, MAX_BUTTON_TEXT)),
        action_id=action_id,
        value=value,
        style="primary" if primary else None,
    )


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """Blocks as the JSON-ready dicts the Web API takes (validating each against Slack's limits)."""
    return [block.to_dict() for block in blocks]


def wip_item_list(metrics: BoardMetrics) -> list[WipItem]:
    """The WIP items, oldest first, as typed rows."""
    frame = metrics.wip_items
    rows = frame.reset_index().to_dict("records")
    return [
        WipItem(
            item_id=str(row["item_id"]),
            stage=str(row["stage"]),
            age_days=float(row["age_days"]),
            pace=optional_number(row.get("pace")),
            blocked=bool(row.get("blocked", False)),
            blocked_days=optional_number(row.get("blocked_days")) or 0.0,
            title=optional_text(row.get("title")),
            url=optional_text(row.get("url")),
        )
        for row in rows
    ]


def is_past_sle(item: WipItem, metrics: BoardMetrics) -> bool:
    return metrics.sle_days is not None and item.age_days > metrics.sle_days


def aging_items(metrics: BoardMetrics) -> list[WipItem]:
    """Items past 70 % pace or past the SLE, oldest first: the ones to talk about at stand-up."""
    aging = [
        item
        for item in wip_item_list(metrics)
        if (item.pace is not None and item.pace >= PACE_AGING) or is_past_sle(item, metrics)
    ]
    return sorted(aging, key=lambda item: item.age_days, reverse=True)


def aging_line(item: WipItem, metrics: BoardMetrics) -> str:
    """One aging item: link, stage, age, pace, flags and title."""
    return texts.aging_line(
        item_link(item.item_id, item.url),
        escape(item.stage),
        days(item.age_days),
        percent(item.pace),
        past_sle=is_past_sle(item, metrics),
        blocked=item.blocked,
        title=item_title(item),
    )


def sle_summary(metrics: BoardMetrics) -> str:
    sle = days(metrics.sle_days) if metrics.sle_days is not None else None
    return texts.sle_summary(
        metrics.sle_percentile, sle, metrics.sle_window_days, metrics.sle_cycle_time.count
    )


def item_title(item: WipItem) -> str | None:
    return escape(shorten(item.title, TITLE_WIDTH)) if item.title else None
