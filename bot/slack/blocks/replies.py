"""Block Kit for the small replies of `/flow`: help, the "connect a board" guide, WIP limits."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from analytics.workflow import Workflow
from bot.slack import ids, texts


def help_blocks(lines: Sequence[str], *, overview: bool) -> list[Block]:
    """Subcommands' help lines; the ``overview`` (all of them) also has the title, the intro and a footer."""
    blocks: list[Block] = []
    if overview:
        blocks += [
            HeaderBlock(text=texts.HELP_TITLE),
            SectionBlock(text=MarkdownTextObject(text=texts.HELP_INTRO)),
        ]
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    if overview:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=texts.HELP_FOOTER)]))
    return blocks


def no_board_blocks() -> list[Block]:
    """The guided reply for a channel without a board: what to do, and a button that starts it."""
    return [
        SectionBlock(text=MarkdownTextObject(text=texts.NO_BOARD_HERE)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=texts.CONNECT_BUTTON, action_id=ids.OPEN_CONNECT, value="connect", style="primary"
                )
            ]
        ),
    ]


def limits_blocks(board_name: str, workflow: Workflow, wip_by_stage: dict[str, int]) -> list[Block]:
    """Each WIP stage with its limit and current WIP, then the board's limit, then how to change them."""
    lines = []
    for stage in workflow.stages:
        if not stage.kind.is_wip:
            continue
        limit = str(stage.wip_limit) if stage.wip_limit is not None else texts.NO_LIMIT
        wip = wip_by_stage.get(stage.name, 0)
        lines.append(f"• *{stage.name}*: {limit}  (now {wip})")
    board_limit = str(workflow.wip_limit) if workflow.wip_limit is not None else texts.NO_LIMIT
    lines.append(f"• *{texts.BOARD_LIMIT_NAME}*: {board_limit}  (now {sum(wip_by_stage.values())})")
    return [
        HeaderBlock(text=texts.LIMITS_TITLE.format(board=board_name)[:150]),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        DividerBlock(),
        ContextBlock(elements=[MarkdownTextObject(text=texts.LIMITS_HINT)]),
    ]
