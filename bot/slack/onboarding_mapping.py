"""Step 3 of `/flow connect` read back: the stage groups (or the edited YAML) become a valid workflow file;
and the edits of the list of stages (move, add, remove) made before it is submitted.

Slack shows one message per input block, so problems are placed next to the input they concern: the form is
first checked in its own terms (a stage without a name, a status in two stages, no done stage), then what
only the workflow rules know (stage order) is mapped back from ``parse_workflow``'s messages, which name
the stage and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from analytics.workflow import WorkflowError, parse_workflow
from bot.slack import texts
from bot.slack.blocks.common import clip
from bot.slack.blocks.inputs import input_value
from bot.slack.blocks.onboarding import NAME_BLOCK
from bot.slack.blocks.onboarding_mapping import (
    YAML_BLOCK,
    StageDraft,
    read_stage_drafts,
    stage_block,
    status_names,
)
from bot.slack.onboarding_flow import ConnectState, FormErrors

STAGE_PROBLEM = re.compile(r"^stage '(?P<stage>.+?)': (?P<field>\w+): (?P<message>.*)$")
FIELD_PART = {"name": "name", "statuses": "statuses", "kind": "kind", "wip_limit": "wip"}
WIP_KINDS = ("queue", "active")
MAX_ERROR = 1000


def workflow_yaml(
    name: str,
    timezone: str,
    stages: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    *,
    comments: bool = True,
) -> str:
    """Workflow YAML listing status ids, each followed by its name as a comment (as a proposal is).

    Values are written as JSON strings, which YAML reads as double-quoted scalars: any name or id is safe.
    """
    lines = [
        "# Mapped in Slack with /flow connect. Stages list status ids; the comments give their names.",
        f"name: {json.dumps(name, ensure_ascii=False)}",
        f"timezone: {json.dumps(timezone)}",
        "stages:",
    ]
    for stage in stages:
        lines.append(f"  - name: {json.dumps(str(stage['name']), ensure_ascii=False)}")
        lines.append(f"    kind: {stage['kind']}")
        if stage.get("wip_limit") is not None:
            lines.append(f"    wip_limit: {int(stage['wip_limit'])}")
        lines.append("    statuses:")
        for status_id in stage["statuses"]:
            note = f"  # {' '.join(names.get(str(status_id), '?').split())}" if comments else ""
            lines.append(f"      - {json.dumps(str(status_id), ensure_ascii=False)}{note}")
    return "\n".join(lines) + "\n"


def mapped_workflow(
    values: Mapping[str, Mapping[str, Any]], blocks: Sequence[Mapping[str, Any]], state: ConnectState
) -> tuple[str, str]:
    """(board name, workflow YAML) from the submitted step 3; :class:`FormErrors` for what needs fixing."""
    name = input_value(values, NAME_BLOCK)
    if not name:
        raise FormErrors({NAME_BLOCK: texts.CONNECT_NAME_BLANK})
    if not state.stages:
        text = input_value(values, YAML_BLOCK) or ""
        try:
            parse_workflow(text, source="workflow")
        except WorkflowError as error:
            raise FormErrors({YAML_BLOCK: clip("; ".join(error.problems), MAX_ERROR)}) from None
        return name, text
    names = status_names(blocks)
    drafts = [draft for draft in read_stage_drafts(values, state.stages) if not draft.blank]
    if not drafts:
        raise FormErrors({stage_block(state.stages[0], "statuses"): texts.CONNECT_NO_STAGES})
    stages = _stages(drafts, names)
    text = workflow_yaml(name, state.timezone, list(stages.values()), names)
    try:
        parse_workflow(text, source="workflow")
    except WorkflowError as error:
        raise FormErrors(_placed(error.problems, stages)) from None
    return name, text


def _stages(drafts: Sequence[StageDraft], names: Mapping[str, str]) -> dict[int, dict[str, Any]]:
    """The filled-in groups as workflow stages by stage key, or every problem of the form at once."""
    errors: dict[str, str] = {}
    stages: dict[int, dict[str, Any]] = {}
    stage_of: dict[str, str] = {}  # status id → the stage that has it
    for draft in drafts:

        def block(part: str, key: int = draft.key) -> str:
            return stage_block(key, part)

        if not draft.name:
            errors[block("name")] = texts.CONNECT_STAGE_NEEDS_NAME
        elif any(s["name"].casefold() == draft.name.casefold() for s in stages.values()):
            errors[block("name")] = texts.CONNECT_DUPLICATE_STAGE
        if not draft.statuses:
            errors[block("statuses")] = texts.CONNECT_STAGE_NEEDS_STATUSES
        for status in draft.statuses:
            if status in stage_of:
                shown = names.get(status, status)
                twice = texts.CONNECT_STATUS_TWICE.format(status=shown, stage=stage_of[status])
                errors.setdefault(block("statuses"), twice)
            stage_of.setdefault(status, draft.name or "?")
        if draft.kind is None:
            errors[block("kind")] = texts.CONNECT_STAGE_NEEDS_KIND
        limit = _limit(draft.wip_limit)
        if draft.wip_limit and limit is None:
            errors[block("wip")] = texts.CONNECT_LIMIT_NOT_NUMBER
        elif limit is not None and draft.kind not in WIP_KINDS:
            errors[block("wip")] = texts.CONNECT_LIMIT_NOT_WIP
        stages[draft.key] = {
            "name": draft.name or "",
            "kind": draft.kind,
            "statuses": list(draft.statuses),
            "wip_limit": limit,
        }
    if errors:
        raise FormErrors(errors)
    kinds = [stage["kind"] for stage in stages.values()]
    last = stage_block(drafts[-1].key, "kind")
    if "done" not in kinds:
        raise FormErrors({last: texts.CONNECT_NO_DONE})
    if not any(kind in WIP_KINDS for kind in kinds):
        raise FormErrors({last: texts.CONNECT_NO_WIP_STAGE})
    return stages


def _limit(text: str | None) -> int | None:
    try:
        value = int(str(text))
    except ValueError:
        return None
    return value if value >= 1 else None


def _placed(problems: Sequence[str], stages: Mapping[int, Mapping[str, Any]]) -> dict[str, str]:
    """``parse_workflow``'s problems next to the stage input they name; others by the first stage's name."""
    key_of = {str(stage["name"]): key for key, stage in stages.items()}
    first = stage_block(next(iter(stages)), "name")
    errors: dict[str, str] = {}
    for problem in problems:
        match = STAGE_PROBLEM.match(problem)
        if match and match["stage"] in key_of:
            where = stage_block(key_of[match["stage"]], FIELD_PART.get(match["field"], "name"))
            errors.setdefault(where, match["message"])
        else:
            errors.setdefault(first, problem)
    return errors


def edited_drafts(drafts: Sequence[StageDraft], op: str, key: int | None, new_key: int) -> list[StageDraft]:
    """The stages after one edit: ``up``/``down`` swap the stage ``key`` with its neighbour, ``add`` puts
    an empty stage (keyed ``new_key``) below it, or last when ``key`` is None; ``remove`` drops it.

    An edit that no longer applies (a stage removed meanwhile, a move past either end) changes nothing.
    """
    edited = list(drafts)
    keys = [draft.key for draft in edited]
    if op == "add" and key is None:
        return [*edited, StageDraft(new_key)]
    if key not in keys:
        return edited
    at = keys.index(key)
    if op == "up" and at > 0:
        edited[at - 1], edited[at] = edited[at], edited[at - 1]
    elif op == "down" and at < len(edited) - 1:
        edited[at], edited[at + 1] = edited[at + 1], edited[at]
    elif op == "add":
        edited.insert(at + 1, StageDraft(new_key))
    elif op == "remove" and len(edited) > 1:
        del edited[at]
    return edited


def drafts_yaml(name: str, timezone: str, drafts: Sequence[StageDraft], names: Mapping[str, str]) -> str:
    """The form as it stands, as workflow YAML to go on editing: blank stages left out, nothing checked."""
    stages = [
        {
            "name": draft.name or f"Stage {number}",
            "kind": draft.kind or "active",
            "statuses": list(draft.statuses),
            "wip_limit": _limit(draft.wip_limit),
        }
        for number, draft in enumerate((d for d in drafts if not d.blank), start=1)
    ]
    return workflow_yaml(name, timezone, stages, names)
