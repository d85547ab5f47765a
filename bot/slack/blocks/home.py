"""App Home: every board of the workspace at a glance, with the buttons to act on each.

Home is where a new user lands first, so with no board it explains flowcoach in two lines and offers to
connect one. A workspace with many boards would overflow Slack's 100 blocks; the boards that do not fit are
listed by name in one section instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock
from slack_sdk.models.views import View

from analytics.measures import BoardMetrics
from bot.services.metrics import SyncInfo
from bot.slack import ids, texts
from bot.slack.blocks.common import (
    MAX_VIEW_BLOCKS,
    aging_items,
    button,
    context,
    escape,
    header,
    listing,
    section,
    sync_warnings,
    wip_item_list,
)

SUMMARY_BLOCKS = 3  # divider, the list of the other boards, the hint under it
MAX_SUMMARY_LINES = 100  # the section's 3000 characters cut the list first


@dataclass(frozen=True)
class HomeBoard:
    """What App Home shows of one board; ``metrics`` is ``None`` before the first sync brings data."""

    board_id: int
    name: str
    channel_id: str | None
    metrics: BoardMetrics | None
    sync: SyncInfo
    problem: str | None = None  # why the board cannot be measured, e.g. a workflow that doesn't load


def home_view(boards: Sequence[HomeBoard], *, can_connect: bool = True) -> View:
    """The App Home tab: boards with WIP against limits and their buttons, or the first-run explanation."""
    blocks: list[Block] = [header(texts.HOME_HEADER)]
    if not boards:
        blocks.append(section(texts.HOME_EMPTY))
        if can_connect:
            blocks.append(
                ActionsBlock(elements=[button(texts.BUTTON_CONNECT, ids.OPEN_CONNECT, primary=True)])
            )
        else:
            blocks.append(context(texts.HOME_CANNOT_CONNECT))
        return View(type="home", blocks=blocks)

    blocks.append(context(texts.HOME_INTRO))
    footer: list[Block] = []
    if can_connect:
        footer = [
            DividerBlock(),
            ActionsBlock(elements=[button(texts.BUTTON_CONNECT_ANOTHER, ids.OPEN_CONNECT)]),
        ]
    per_board = [board_blocks(board) for board in boards]
    room = MAX_VIEW_BLOCKS - len(blocks) - len(footer)
    if sum(len(shown) for shown in per_board) > room:
        room -= SUMMARY_BLOCKS
        shown_count = 0
        for board in per_board:
            if len(board) > room:
                break
            blocks.extend(board)
            room -= len(board)
            shown_count += 1
        blocks.extend(_summary(boards[shown_count:]))
    else:
        blocks.extend(block for board in per_board for block in board)
    blocks.extend(footer)
    return View(type="home", blocks=blocks)


def board_blocks(board: HomeBoard) -> list[Block]:
    """One board: name and channel, WIP per stage, stuck items, freshness, and its buttons."""
    channel = f"<#{escape(board.channel_id)}>" if board.channel_id else texts.NO_CHANNEL
    lines = [texts.home_board_title(escape(board.name), channel)]
    if board.metrics is not None:
        lines.extend(_wip_lines(board.metrics))
    else:
        lines.append(texts.HOME_NO_DATA)
    if board.problem:
        lines.append(texts.home_problem(escape(board.problem)))
    buttons = [button(texts.BUTTON_SETTINGS, ids.OPEN_SETTINGS, str(board.board_id))]
    if board.channel_id:
        buttons.append(button(texts.BUTTON_POST_STATUS, ids.POST_STATUS, str(board.board_id)))
    return [
        DividerBlock(),
        section("\n".join(lines)),
        context(*(sync_warnings(board.sync) or [board.sync.freshness])),
        ActionsBlock(elements=buttons),
    ]


def _wip_lines(metrics: BoardMetrics) -> list[str]:
    stages = [
        texts.home_stage(escape(flow.name), flow.wip or 0, flow.wip_limit, over=flow.over_limit)
        for flow in metrics.stages
        if flow.kind.is_wip
    ]
    blocked = sum(item.blocked for item in wip_item_list(metrics))
    return [
        texts.SEPARATOR.join([_board_wip(metrics), *stages]),
        texts.home_stuck(blocked, len(aging_items(metrics))),
    ]


def _board_wip(metrics: BoardMetrics) -> str:
    over = metrics.wip_limit is not None and metrics.wip_total > metrics.wip_limit
    return texts.home_wip(metrics.wip_total, metrics.wip_limit, over=over)


def _summary(boards: Sequence[HomeBoard]) -> list[Block]:
    """The boards that did not fit, one short line each."""
    lines = [
        texts.home_summary_line(escape(board.name), _board_wip(board.metrics) if board.metrics else None)
        for board in boards
    ]
    return [
        DividerBlock(),
        section(listing(texts.home_more_boards(len(boards)), lines, max_items=MAX_SUMMARY_LINES)),
        context(texts.HOME_MORE_BOARDS_HINT),
    ]
