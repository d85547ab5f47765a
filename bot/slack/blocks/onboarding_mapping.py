"""Block Kit for step 3 of `/flow connect`: statuses → stages as an editable list, or as workflow YAML.

The form shows one group per stage: a heading with a ⋯ menu (move up, move down, add a stage below,
remove), then name, statuses, kind and WIP limit; below the stages, "Add a stage" and "Edit as YAML".
Each group's block ids carry a **stage key** that stays with the stage when it moves, never its position:
Slack keeps what a user typed in an input across ``views.update`` by block id, so a positional id would hand
one stage's typing to its neighbour after a move. The keys, in display order, travel in the metadata.

Slack allows 100 blocks per modal (:data:`MAX_STAGE_GROUPS` stages here) and 100 options per menu: a
source with more statuses, or more stages, gets the proposed workflow as YAML to edit instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    NumberInputElement,
    OverflowMenuElement,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.connectors.base import SourceStatus
from bot.formatting import shorten
from bot.slack import ids, texts
from bot.slack.blocks.common import MAX_VIEW_BLOCKS, context, escape, mrkdwn, section
from bot.slack.blocks.inputs import VALUE, input_block, input_value
from bot.slack.blocks.onboarding import (
    MAX_NAME,
    MAX_OPTIONS,
    NAME_BLOCK,
    connect_modal,
    option,
)

YAML_BLOCK = "connect_yaml"
STAGE_PREFIX = "connect_stage_"
KINDS = ("backlog", "queue", "active", "done", "discarded")
MAX_OPTION_VALUE = 150
MAX_INPUT_TEXT = 3000
STAGE_BLOCKS = 5  # heading with its menu, name, statuses, kind, WIP limit
MAPPING_FIXED_BLOCKS = 6  # connected, how to edit, board name, intro, add/YAML buttons, unmapped statuses
MAX_STAGE_GROUPS = (MAX_VIEW_BLOCKS - MAPPING_FIXED_BLOCKS) // STAGE_BLOCKS
STAGE_OPS = ("up", "down", "add", "remove")


def stage_block(key: int, part: str) -> str:
    """The block of one part (``name``, ``statuses``, ``kind``, ``wip``, ``menu``) of the stage ``key``."""
    return f"{STAGE_PREFIX}{key}_{part}"


@dataclass(frozen=True)
class StatusChoice:
    """A status as its menus offer it: the id the workflow lists, and what the user reads."""

    id: str
    label: str


@dataclass(frozen=True)
class StageDraft:
    """One stage group of the mapping form, as proposed or as the user left it; blank ones are ignored."""

    key: int
    name: str | None = None
    statuses: tuple[str, ...] = ()
    kind: str | None = None
    wip_limit: str | None = None

    @property
    def blank(self) -> bool:
        return not self.name and not self.statuses and not self.wip_limit


def status_choices(statuses: Sequence[SourceStatus]) -> list[StatusChoice]:
    """Menu entries, the id added where two statuses share a name (Jira has one "Done" per project)."""
    repeated = Counter(status.name for status in statuses)
    return [
        StatusChoice(s.id, f"{s.name} ({s.id})" if repeated[s.name] > 1 and s.name != s.id else s.name)
        for s in statuses
    ]


def drafts_of(stages: Sequence[Mapping[str, Any]]) -> list[StageDraft]:
    """The proposed stages as the form's first groups, keyed 0, 1, 2…"""
    return [
        StageDraft(
            key,
            str(stage["name"]) if stage.get("name") else None,
            tuple(str(status) for status in stage.get("statuses") or ()),
            str(stage["kind"]) if stage.get("kind") else None,
            str(stage["wip_limit"]) if stage.get("wip_limit") is not None else None,
        )
        for key, stage in enumerate(stages)
    ]


def mapping_fits(statuses: Sequence[SourceStatus], stage_count: int) -> bool:
    """Whether the mapping form can list these statuses in menus, and these stages in one modal."""
    return (
        0 < len(statuses) <= MAX_OPTIONS
        and all(len(status.id) <= MAX_OPTION_VALUE for status in statuses)
        and 0 < stage_count <= MAX_STAGE_GROUPS
    )


def connected_blocks(connected: str, basis: str) -> list[Block]:
    """What the form opens with: where we are connected, and how the proposal below was made."""
    return [
        context(texts.CONNECT_CONNECTED.format(line=escape(connected))),
        context(texts.CONNECT_MAPPING_EDIT.format(basis=texts.CONNECT_BASIS[basis])),
    ]


def _board_name_block(name: str) -> InputBlock:
    element = PlainTextInputElement(
        action_id=VALUE, initial_value=shorten(name, MAX_NAME) or None, max_length=MAX_NAME
    )
    return input_block(NAME_BLOCK, texts.CONNECT_NAME_LABEL, element)


def _unmapped_block(unmapped: Sequence[str]) -> Block:
    if not unmapped:
        return context(texts.CONNECT_ALL_MAPPED)
    names = ", ".join(escape(name) for name in unmapped)
    return section(shorten(texts.CONNECT_UNMAPPED.format(statuses=names), 3000))


def _stage_menu(position: int, count: int, key: int) -> OverflowMenuElement:
    choices = [
        ("up", texts.CONNECT_STAGE_UP, position > 0),
        ("down", texts.CONNECT_STAGE_DOWN, position < count - 1),
        ("add", texts.CONNECT_STAGE_ADD_BELOW, count < MAX_STAGE_GROUPS),
        ("remove", texts.CONNECT_STAGE_REMOVE, count > 1),
    ]
    return OverflowMenuElement(
        action_id=ids.CONNECT_STAGE_MENU,
        options=[option(f"{op}:{key}", text) for op, text, offered in choices if offered],
    )


def _stage_blocks(
    position: int, count: int, draft: StageDraft, choices: Sequence[StatusChoice]
) -> list[Block]:
    options = [option(choice.id, choice.label) for choice in choices]
    by_value = {option.value: option for option in options}
    kinds = [option(kind, texts.CONNECT_KIND_NAMES[kind]) for kind in KINDS]
    chosen = [by_value[status] for status in draft.statuses if status in by_value]
    name = shorten(draft.name, MAX_NAME) if draft.name else None  # a long column name
    return [
        SectionBlock(
            block_id=stage_block(draft.key, "menu"),
            text=mrkdwn(texts.CONNECT_STAGE_HEADING.format(number=position + 1)),
            accessory=_stage_menu(position, count, draft.key),
        ),
        input_block(
            stage_block(draft.key, "name"),
            texts.CONNECT_STAGE_NAME_LABEL,
            PlainTextInputElement(action_id=VALUE, initial_value=name, max_length=MAX_NAME),
            optional=True,
        ),
        input_block(
            stage_block(draft.key, "statuses"),
            texts.CONNECT_STATUSES_LABEL,
            StaticMultiSelectElement(
                action_id=VALUE,
                placeholder=texts.CONNECT_STATUSES_PLACEHOLDER,
                options=options,
                initial_options=chosen or None,
            ),
            optional=True,
        ),
        input_block(
            stage_block(draft.key, "kind"),
            texts.CONNECT_KIND_LABEL,
            StaticSelectElement(
                action_id=VALUE,
                options=kinds,
                initial_option=next((k for k in kinds if k.value == draft.kind), None),
            ),
            optional=True,
        ),
        input_block(
            stage_block(draft.key, "wip"),
            texts.CONNECT_WIP_LABEL,
            NumberInputElement(
                action_id=VALUE,
                is_decimal_allowed=False,
                min_value=1,
                initial_value=draft.wip_limit if (draft.wip_limit or "").isdigit() else None,
            ),
            optional=True,
        ),
    ]


def mapping_view(
    metadata: str,
    *,
    lead: Sequence[Block],
    board_name: str,
    choices: Sequence[StatusChoice],
    drafts: Sequence[StageDraft],
) -> View:
    """Step 3 as a form: ``lead`` (see :func:`connected_blocks`), then a group per stage, pre-filled."""
    blocks: list[Block] = [*lead, _board_name_block(board_name), section(texts.CONNECT_MAPPING_INTRO)]
    for position, draft in enumerate(drafts):
        blocks += _stage_blocks(position, len(drafts), draft, choices)
    buttons = [ButtonElement(action_id=ids.CONNECT_EDIT_YAML, text=texts.CONNECT_EDIT_YAML, value="yaml")]
    if len(drafts) < MAX_STAGE_GROUPS:
        buttons.insert(
            0, ButtonElement(action_id=ids.CONNECT_ADD_STAGE, text=texts.CONNECT_ADD_STAGE, value="add")
        )
    blocks.append(ActionsBlock(elements=buttons))
    if len(drafts) >= MAX_STAGE_GROUPS:
        blocks.append(context(texts.CONNECT_STAGES_FULL.format(count=MAX_STAGE_GROUPS)))
    mapped = {status for draft in drafts for status in draft.statuses}
    unmapped = [choice.label for choice in choices if choice.id not in mapped]
    blocks.append(_unmapped_block(unmapped))
    return connect_modal(ids.CONNECT_MAPPING, blocks, metadata, submit=texts.CONNECT_CREATE)


def mapping_yaml_view(
    metadata: str,
    *,
    lead: Sequence[Block],
    board_name: str,
    reason: str,
    workflow_yaml: str | None,
    unmapped: Sequence[str],
    connector: str,
) -> View:
    """Step 3 when the form cannot hold the mapping: the proposed workflow as YAML to edit (if it fits)."""
    blocks: list[Block] = [*lead, _board_name_block(board_name), section(reason)]
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


def read_stage_drafts(values: Mapping[str, Mapping[str, Any]], keys: Sequence[int]) -> list[StageDraft]:
    """The stage groups as the user left them, in the order shown."""
    return [
        StageDraft(
            key,
            input_value(values, stage_block(key, "name")),
            tuple(input_value(values, stage_block(key, "statuses")) or ()),
            input_value(values, stage_block(key, "kind")),
            input_value(values, stage_block(key, "wip")),
        )
        for key in keys
    ]


def shown_choices(blocks: Sequence[Mapping[str, Any]]) -> list[StatusChoice]:
    """The statuses the form offers (every status menu offers them all), from a submitted view's blocks."""
    for block in blocks:
        block_id = str(block.get("block_id") or "")
        if block_id.startswith(STAGE_PREFIX) and block_id.endswith("_statuses"):
            options = (block.get("element") or {}).get("options") or []
            return [StatusChoice(o["value"], o["text"]["text"]) for o in options]
    return []


def status_names(blocks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Status id → name as the form showed it, from a submitted view's blocks."""
    return {choice.id: choice.label for choice in shown_choices(blocks)}


def lead_blocks(blocks: Sequence[Mapping[str, Any]]) -> list[Block]:
    """The blocks above the board name in a submitted view, to show again as they were."""
    lead: list[Block] = []
    for block in blocks:
        if block.get("block_id") == NAME_BLOCK:
            break
        parsed = Block.parse(dict(block))
        if parsed is not None:
            lead.append(parsed)
    return lead
