"""Block Kit for step 3 of `/flow connect`: statuses → stages as a form, or as workflow YAML when too large.

The form has one group of inputs per proposed stage (name, statuses, kind, WIP limit), pre-filled, and two
empty groups for adding stages. Slack allows 100 blocks per modal and 100 options per menu: a source with
more statuses, or more stages than fit, gets the proposed workflow as YAML to edit instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    InputBlock,
    NumberInputElement,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.connectors.base import SourceStatus
from bot.formatting import shorten
from bot.slack import ids, texts
from bot.slack.blocks.common import MAX_VIEW_BLOCKS, context, escape, section
from bot.slack.blocks.inputs import VALUE, input_block, input_value
from bot.slack.blocks.onboarding import (
    MAX_NAME,
    MAX_OPTIONS,
    NAME_BLOCK,
    connect_modal,
    option,
)

YAML_BLOCK = "connect_yaml"
KINDS = ("backlog", "queue", "active", "done", "discarded")
MAX_OPTION_VALUE = 150
MAX_INPUT_TEXT = 3000
EXTRA_STAGES = 2  # empty groups at the end of the form: how a user adds a stage
STAGE_BLOCKS = 5  # divider, name, statuses, kind, WIP limit
MAPPING_FIXED_BLOCKS = 4  # connected, board name, intro, unmapped statuses
MAX_STAGE_GROUPS = (MAX_VIEW_BLOCKS - MAPPING_FIXED_BLOCKS) // STAGE_BLOCKS


def stage_block(index: int, part: str) -> str:
    """The block of one part (``name``, ``statuses``, ``kind``, ``wip``) of the stage group ``index``."""
    return f"connect_stage_{index}_{part}"


def mapping_groups(stage_count: int) -> int | None:
    """How many stage groups the mapping form shows (proposed ones and extras); None when they don't fit."""
    if stage_count > MAX_STAGE_GROUPS:
        return None
    return stage_count + min(EXTRA_STAGES, MAX_STAGE_GROUPS - stage_count)


def mapping_fits(statuses: Sequence[SourceStatus], stage_count: int) -> bool:
    """Whether the mapping form can list these statuses in menus, and these stages in one modal."""
    return (
        0 < len(statuses) <= MAX_OPTIONS
        and all(len(status.id) <= MAX_OPTION_VALUE for status in statuses)
        and mapping_groups(stage_count) is not None
    )


def _board_name_block(name: str) -> InputBlock:
    element = PlainTextInputElement(
        action_id=VALUE, initial_value=shorten(name, MAX_NAME), max_length=MAX_NAME
    )
    return input_block(NAME_BLOCK, texts.CONNECT_NAME_LABEL, element)


def _unmapped_block(unmapped: Sequence[SourceStatus]) -> Block:
    if not unmapped:
        return context(texts.CONNECT_ALL_MAPPED)
    names = ", ".join(escape(status.name) for status in unmapped)
    return section(texts.CONNECT_UNMAPPED.format(statuses=names))


def mapping_view(
    metadata: str,
    *,
    board_name: str,
    connected: str,
    statuses: Sequence[SourceStatus],
    stages: Sequence[Mapping[str, object]],
    unmapped: Sequence[SourceStatus],
) -> View:
    """Step 3: a group per proposed stage, pre-filled, then empty groups to add stages (``mapping_fits``)."""
    repeated = Counter(status.name for status in statuses)
    options = [
        option(s.id, f"{s.name} ({s.id})" if repeated[s.name] > 1 and s.name != s.id else s.name)
        for s in statuses
    ]
    by_value = {option.value: option for option in options}
    kinds = [option(kind, texts.CONNECT_KIND_NAMES[kind]) for kind in KINDS]
    blocks: list[Block] = [
        context(texts.CONNECT_CONNECTED.format(line=escape(connected))),
        _board_name_block(board_name),
        section(texts.CONNECT_MAPPING_INTRO),
    ]
    for index in range(mapping_groups(len(stages)) or 0):
        stage: Mapping[str, Any] = stages[index] if index < len(stages) else {}
        number, stage_name = index + 1, stage.get("name")
        stage_name = shorten(str(stage_name), MAX_NAME) if stage_name else None  # a long column name
        chosen = [by_value[str(s)] for s in stage.get("statuses") or () if str(s) in by_value]
        limit = stage.get("wip_limit")
        label = texts.CONNECT_STAGE_LABEL if stage else texts.CONNECT_EXTRA_STAGE_LABEL
        blocks += [
            DividerBlock(),
            input_block(
                stage_block(index, "name"),
                label.format(number=number),
                PlainTextInputElement(action_id=VALUE, initial_value=stage_name, max_length=MAX_NAME),
                optional=True,
            ),
            input_block(
                stage_block(index, "statuses"),
                texts.CONNECT_STATUSES_LABEL.format(number=number),
                StaticMultiSelectElement(
                    action_id=VALUE,
                    placeholder=texts.CONNECT_STATUSES_PLACEHOLDER,
                    options=options,
                    initial_options=chosen or None,
                ),
                optional=True,
            ),
            input_block(
                stage_block(index, "kind"),
                texts.CONNECT_KIND_LABEL.format(number=number),
                StaticSelectElement(
                    action_id=VALUE,
                    options=kinds,
                    initial_option=next((k for k in kinds if k.value == stage.get("kind")), None),
                ),
                optional=True,
            ),
            input_block(
                stage_block(index, "wip"),
                texts.CONNECT_WIP_LABEL.format(number=number),
                NumberInputElement(
                    action_id=VALUE,
                    is_decimal_allowed=False,
                    min_value=1,
                    initial_value=str(limit) if limit is not None else None,
                ),
                optional=True,
            ),
        ]
    blocks.append(_unmapped_block(unmapped))
    return connect_modal(ids.CONNECT_MAPPING, blocks, metadata, submit=texts.CONNECT_CREATE)


def mapping_yaml_view(
    metadata: str,
    *,
    board_name: str,
    connected: str,
    reason: str,
    workflow_yaml: str | None,
    unmapped: Sequence[SourceStatus],
    connector: str,
) -> View:
    """Step 3 when the form cannot hold the mapping: the proposed workflow as YAML to edit (if it fits)."""
    blocks: list[Block] = [
        context(texts.CONNECT_CONNECTED.format(line=escape(connected))),
        _board_name_block(board_name),
        section(reason),
    ]
    if workflow_yaml is None:
        blocks.append(section(texts.CONNECT_YAML_TOO_LONG.format(connector=connector)))
        return connect_modal(ids.CONNECT_MAPPING, blocks, metadata)
    element = PlainTextInputElement(
        action_id=VALUE, initial_value=workflow_yaml, multiline=True, max_length=MAX_INPUT_TEXT
    )
    blocks.append(input_block(YAML_BLOCK, texts.CONNECT_YAML_LABEL, element, hint=texts.CONNECT_YAML_HINT))
    blocks.append(_unmapped_block(unmapped))
    return connect_modal(ids.CONNECT_MAPPING, blocks, metadata, submit=texts.CONNECT_CREATE)


# --- reading the form back ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StageDraft:
    """One stage group of the mapping form as submitted; blank groups are the unused extras."""

    index: int
    name: str | None
    statuses: tuple[str, ...]
    kind: str | None
    wip_limit: str | None

    @property
    def blank(self) -> bool:
        return not self.name and not self.statuses and not self.wip_limit


def read_stage_drafts(values: Mapping[str, Mapping[str, Any]], groups: int) -> list[StageDraft]:
    return [
        StageDraft(
            index,
            input_value(values, stage_block(index, "name")),
            tuple(input_value(values, stage_block(index, "statuses")) or ()),
            input_value(values, stage_block(index, "kind")),
            input_value(values, stage_block(index, "wip")),
        )
        for index in range(groups)
    ]


def status_names(blocks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Status id → name, from the options of the mapping form's first status menu (the submitted view)."""
    for block in blocks:
        element = block.get("element") or {}
        if block.get("block_id") == stage_block(0, "statuses"):
            return {option["value"]: option["text"]["text"] for option in element.get("options") or []}
    return {}
