"""A first workflow for a new board, proposed from the tracker's statuses, as YAML to review and edit."""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from analytics.workflow import parse_workflow
from bot.connectors.base import SourceStatus
from bot.connectors.jira_common import BoardColumn
from bot.connectors.mapping import default_stages, unmapped_statuses
from bot.errors import FlowcoachError


def proposed_workflow(
    name: str, statuses: Sequence[SourceStatus], columns: Sequence[BoardColumn] = (), *, timezone: str = "UTC"
) -> tuple[str, list[SourceStatus]]:
    """Workflow YAML from status categories (or board columns), and the statuses it leaves unmapped.

    Stages list status ids (stable across renames), each followed by its name as a comment, so the file
    reads well and keeps working when someone renames a status in the tracker.
    """
    stages = default_stages(statuses, columns)
    if not any(stage["kind"] == "done" for stage in stages):
        raise FlowcoachError(
            "the tracker reports no status in the done category: write a workflow file instead"
        )
    names = {status.id: status.name for status in statuses}
    lines = [
        f"# Proposed by flowcoach from the tracker's {'board columns' if columns else 'status categories'}.",
        "# Review it: split stages that hide waiting (e.g. Review), mark waiting stages `kind: queue`,",
        "# and set `wip_limit`s. Stages list status ids; the comments give their names.",
        yaml.safe_dump({"name": name, "timezone": timezone}, sort_keys=False).rstrip(),
        "stages:",
    ]
    for stage in stages:
        lines.append(f"  - name: {yaml.safe_dump(stage['name']).splitlines()[0]}")
        lines.append(f"    kind: {stage['kind']}")
        lines.append("    statuses:")
        for status_id in stage["statuses"]:  # type: ignore[attr-defined]
            quoted = yaml.safe_dump(str(status_id)).splitlines()[0]
            lines.append(f"      - {quoted}  # {names.get(str(status_id), '?')}")
    text = "\n".join(lines) + "\n"
    parse_workflow(text, source="proposed workflow")  # never hand out a file that would not load
    return text, unmapped_statuses(statuses, stages)
