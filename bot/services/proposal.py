"""A first workflow for a new board, proposed from what the source knows, as YAML to review and edit.

The command line and Slack's connect modal ask the source the same way (:func:`status_facts`) and propose
the same stages (``bot.connectors.mapping.default_stages``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from analytics.workflow import parse_workflow
from bot.connectors.base import Connector, SourceStatus
from bot.connectors.jira_common import BoardColumn
from bot.connectors.mapping import StatusPaths, default_stages, proposal_basis, unmapped_statuses
from bot.errors import FlowcoachError


@dataclass(frozen=True)
class StatusFacts:
    """What a source tells about its statuses: each with its category, the board's columns if it has a
    board, and the paths items took through them if it holds its history (a file does)."""

    statuses: list[SourceStatus]
    columns: list[BoardColumn] = field(default_factory=list)
    paths: Mapping[tuple[str, ...], int] = field(default_factory=dict)

    def proposed_stages(self) -> list[dict[str, object]]:
        return default_stages(self.statuses, self.columns, self.paths)

    @property
    def basis(self) -> str:
        return proposal_basis(self.columns, self.paths)


def status_facts(connector: Connector) -> StatusFacts:
    """Ask a checked connector for its statuses, and the columns and history those that have them offer.

    Columns and paths are optional abilities of a connector (Jira boards, event-log files), not part of
    the protocol every tracker implements.
    """
    columns_of = getattr(connector, "columns", None)
    paths_of = getattr(connector, "status_paths", None)
    return StatusFacts(
        connector.statuses(),
        list(columns_of()) if callable(columns_of) else [],
        dict(paths_of()) if callable(paths_of) else {},
    )


BASIS_WORDS = {
    "history": "order statuses occur in the history",
    "columns": "board columns",
    "categories": "status categories and names",
}


def proposed_workflow(
    name: str,
    statuses: Sequence[SourceStatus],
    columns: Sequence[BoardColumn] = (),
    *,
    paths: StatusPaths | None = None,
    timezone: str = "UTC",
) -> tuple[str, list[SourceStatus]]:
    """Workflow YAML from the statuses' history, board columns or categories, and the statuses unmapped.

    Stages list status ids (stable across renames), each followed by its name as a comment, so the file
    reads well and keeps working when someone renames a status in the tracker.
    """
    stages = default_stages(statuses, columns, paths)
    if not any(stage["kind"] == "done" for stage in stages):
        raise FlowcoachError(
            "no status of the source looks finished (no done category or name such as Done or Closed):"
            " write a workflow file instead"
        )
    names = {status.id: status.name for status in statuses}
    lines = [
        f"# Proposed by flowcoach from the {BASIS_WORDS[proposal_basis(columns, paths)]}.",
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
