"""The answer to ``/flow status``: where work is piling up, what is stuck, and how fresh the numbers are.

Ordered for a five-second read: the board total against its limit, each stage against its limit, then the
items to talk about (blocked, aging), then one grey line of context.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from analytics.measures import BoardMetrics, StageFlow
from bot.formatting import days
from bot.services.metrics import SyncInfo
from bot.slack import texts
from bot.slack.blocks.common import (
    aging_items,
    aging_line,
    context,
    escape,
    field_sections,
    header,
    item_link,
    item_title,
    listing,
    section,
    sle_summary,
    sync_warnings,
    wip_bar,
    wip_item_list,
)


def status_blocks(metrics: BoardMetrics, sync: SyncInfo) -> list[Block]:
    """The status message: WIP by stage against limits, blocked and aging items, last sync."""
    blocks: list[Block] = [header(texts.status_header(metrics.board))]
    if metrics.wip_total == 0:
        blocks.append(section(texts.NOTHING_IN_PROGRESS))
    else:
        blocks.extend(
            field_sections(
                [_stage_field(flow) for flow in _wip_stages(metrics)],
                text=texts.wip_total(metrics.wip_total, metrics.wip_limit),
            )
        )
        blocks.extend(_stuck_sections(metrics))
    warnings = sync_warnings(sync)
    if warnings:
        blocks.append(context(*warnings))
    blocks.append(
        context(
            texts.SEPARATOR.join(
                [
                    texts.throughput_summary(
                        metrics.throughput_total, metrics.window.days, metrics.throughput_per_week
                    ),
                    sle_summary(metrics),
                    sync.freshness,
                ]
            )
        )
    )
    return blocks


def status_text(metrics: BoardMetrics) -> str:
    """The plain-text fallback Slack shows in notifications and where blocks cannot be drawn."""
    items = wip_item_list(metrics)
    return texts.status_fallback(
        escape(metrics.board),
        metrics.wip_total,
        metrics.wip_limit,
        [escape(flow.name) for flow in _wip_stages(metrics) if flow.over_limit],
        sum(item.blocked for item in items),
        len(aging_items(metrics)),
    )


def _wip_stages(metrics: BoardMetrics) -> list[StageFlow]:
    return [flow for flow in metrics.stages if flow.kind.is_wip]


def _stage_field(flow: StageFlow) -> str:
    wip = flow.wip or 0
    return texts.stage_field(
        escape(flow.name), wip_bar(wip, flow.wip_limit), wip, flow.wip_limit, over=flow.over_limit
    )


def _stuck_sections(metrics: BoardMetrics) -> list[Block]:
    blocked = sorted(
        (item for item in wip_item_list(metrics) if item.blocked),
        key=lambda item: item.blocked_days,
        reverse=True,
    )
    aging = aging_items(metrics)
    if not blocked and not aging:
        return [section(texts.NOTHING_STUCK)]
    sections: list[Block] = []
    if blocked:
        lines = [
            texts.blocked_line(
                item_link(item.item_id, item.url),
                escape(item.stage),
                days(item.blocked_days),
                item_title(item),
            )
            for item in blocked
        ]
        sections.append(section(listing(texts.blocked_heading(len(blocked)), lines)))
    if aging:
        sle = (
            days(metrics.sle_days) + texts.provisional_note(metrics.sle_cycle_time.count)
            if metrics.sle_days is not None
            else None
        )
        lines = [aging_line(item, metrics) for item in aging]
        sections.append(section(listing(texts.aging_heading(len(aging), sle), lines)))
    return sections
