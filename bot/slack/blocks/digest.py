"""The daily digest in Slack: one short parent message, the details as replies in its thread.

The parent is for the five-second read (what finished, how much is in progress, what is stuck, where the
bottleneck is); each reply is one topic a team can discuss at stand-up: WIP by stage, the items to talk
about, what to pull next, and how fresh and clean the data is.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.coach.digest import Bottleneck, DigestData, DigestItem
from bot.formatting import days, freshness, percent, shorten
from bot.slack import texts
from bot.slack.blocks.common import (
    TITLE_WIDTH,
    context,
    escape,
    field_sections,
    header,
    item_link,
    listing,
    section,
    wip_bar,
)


def digest_parent(data: DigestData) -> tuple[list[Block], str]:
    """The parent message and its notification text: headline numbers, and a warning when data is stale."""
    over_stages = [escape(stage.name) for stage in data.stages if stage.over]
    bottleneck = escape(data.bottleneck.stage) if data.bottleneck else None
    blocks: list[Block] = [
        header(texts.digest_header(data.board, data.now.tz_convert(data.timezone).date())),
        section(
            "\n".join(
                [
                    texts.digest_finished(
                        data.finished_yesterday, data.finished_week, data.daily_average, data.window_days
                    ),
                    texts.digest_wip(data.wip_total, data.wip_limit, over_stages),
                    texts.digest_stuck(len(data.blocked), len(data.aging), bottleneck),
                ]
            )
        ),
    ]
    if data.due_at is not None:
        blocks.append(context(texts.posted_late(data.due_at, data.now.to_pydatetime())))
    if data.stale:
        blocks.append(context(texts.digest_stale(_freshness(data))))
    blocks.append(context(texts.DIGEST_DETAILS))
    fallback = texts.digest_fallback(
        escape(data.board),
        data.finished_yesterday,
        data.finished_week,
        data.wip_total,
        len(data.blocked),
        len(data.aging),
    )
    return blocks, fallback


def digest_thread(data: DigestData) -> list[list[Block]]:
    """The thread replies, one message each: WIP, items to talk about, pulls, data freshness and quality."""
    return [_wip_message(data), _items_message(data), _pull_message(data), _data_message(data)]


def _wip_message(data: DigestData) -> list[Block]:
    fields = [
        texts.stage_field(
            escape(stage.name), wip_bar(stage.wip, stage.limit), stage.wip, stage.limit, over=stage.over
        )
        for stage in data.stages
    ]
    blocks: list[Block] = list(field_sections(fields, text=texts.DIGEST_WIP_HEADING))
    lines = [texts.wip_total(data.wip_total, data.wip_limit)]
    if data.bottleneck is not None:
        lines.append(_bottleneck_line(data.bottleneck, data))
    lines.append(
        texts.digest_starving([escape(name) for name in data.starving])
        if data.starving
        else texts.DIGEST_NOTHING_STARVING
    )
    blocks.append(section("\n".join(lines)))
    return blocks


def _bottleneck_line(bottleneck: Bottleneck, data: DigestData) -> str:
    stage = escape(bottleneck.stage)
    if bottleneck.rule == "waiting_time":
        return texts.digest_bottleneck_waiting(stage, percent(bottleneck.value))
    load = next(load for load in data.stages if load.name == bottleneck.stage)
    return texts.digest_bottleneck_ratio(stage, load.wip, load.limit or 0)


def _items_message(data: DigestData) -> list[Block]:
    if not data.aging and not data.blocked:
        return [section(texts.DIGEST_NOTHING_STUCK)]
    blocks: list[Block] = []
    if data.aging:
        sle = (
            days(data.sle_days) + texts.provisional_note(data.sle_count)
            if data.sle_days is not None
            else None
        )
        lines = [
            texts.aging_line(
                _link(item),
                escape(item.stage),
                days(item.age_days),
                percent(item.pace),
                past_sle=item.past_sle,
                blocked=item.blocked,
                title=_title(item),
            )
            for item in data.aging
        ]
        blocks.append(section(listing(texts.digest_aging_heading(len(data.aging), sle), lines)))
    if data.blocked:
        lines = [
            texts.blocked_line(_link(item), escape(item.stage), days(item.blocked_days), _title(item))
            for item in data.blocked
        ]
        blocks.append(section(listing(texts.blocked_heading(len(data.blocked)), lines)))
    return blocks


def _pull_message(data: DigestData) -> list[Block]:
    if not data.pulls:
        return [section(f"{texts.DIGEST_PULL_HEADING}\n{texts.DIGEST_NO_PULL}")]
    lines = [
        texts.digest_pull_line(
            escape(pull.stage),
            pull.spare,
            _link(pull.item),
            escape(pull.upstream),
            days(pull.item.age_days),
            _title(pull.item),
        )
        for pull in data.pulls
    ]
    return [section(listing(texts.DIGEST_PULL_HEADING, lines))]


def _data_message(data: DigestData) -> list[Block]:
    lines = [texts.digest_synced(_freshness(data))]
    if data.stale:
        lines.append(texts.digest_stale(_freshness(data)))
    if data.unmapped_statuses:
        statuses = [(escape(status), count) for status, count in sorted(data.unmapped_statuses.items())]
        lines.append(texts.digest_unmapped(statuses))
    lines.extend(texts.digest_warning(escape(shorten(warning, 300))) for warning in data.warnings)
    return [context(*lines)]


def _freshness(data: DigestData) -> str:
    return freshness(data.last_synced_at, data.now.to_pydatetime())


def _link(item: DigestItem) -> str:
    return item_link(item.item_id, item.url)


def _title(item: DigestItem) -> str | None:
    return escape(shorten(item.title, TITLE_WIDTH)) if item.title else None
