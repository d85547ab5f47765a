"""Block Kit read back as plain text, to show in a terminal what a message will look like in Slack."""

from __future__ import annotations

import re
from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.slack.blocks.common import to_dicts

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")  # <url|label>
_MENTION = re.compile(r"<[@#!]([^>|]+)(?:\|([^>]*))?>")  # <@U…>, <#C…>, <!date^…|fallback>
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn without its markup: links become their labels, bold its text."""
    text = _LINK.sub(lambda match: match.group(2), mrkdwn)
    text = _MENTION.sub(lambda match: match.group(2) or match.group(1), text)
    text = _BOLD.sub(lambda match: match.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def blocks_text(blocks: Sequence[Block], *, indent: str = "") -> str:
    """Each block on its own lines: headers underlined, fields one per line, buttons in brackets."""
    lines: list[str] = []
    for block in to_dicts(blocks):
        kind = block["type"]
        if kind == "header":
            title = plain(block["text"]["text"])
            lines += [title, "─" * len(title)]
        elif kind == "section":
            if block.get("text"):
                lines += plain(block["text"]["text"]).splitlines()
            lines += [plain(field["text"]).replace("\n", ": ", 1) for field in block.get("fields", [])]
        elif kind == "context":
            lines += [plain(element.get("text", "")) for element in block["elements"]]
        elif kind == "actions":
            lines.append("  ".join(f"[{element['text']['text']}]" for element in block["elements"]))
        elif kind == "divider":
            lines.append("")
    return "".join(f"{indent}{line}\n" for line in lines)
