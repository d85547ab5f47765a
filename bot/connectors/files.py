"""Event-log and workflow files opened for the analytics core, which parses bytes and text but opens nothing.

The file connector, the command line's ``--events``/``--workflow`` and the demo all read files here, so a
file that cannot be read gives the same one-line error everywhere.
"""

from __future__ import annotations

from pathlib import Path

from analytics.eventlog import EventLog, TextLimits, parse_event_log
from analytics.workflow import Workflow, WorkflowError, parse_workflow

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


def read_event_log(
    path: str | Path, workflow: Workflow, *, lenient: bool = False, limits: TextLimits | None = None
) -> EventLog:
    """Read an event-log file: JSON Lines (``.jsonl``/``.ndjson``), else CSV, long or wide.

    Parsing, validation and errors as :func:`analytics.eventlog.parse_event_log`; ``OSError`` propagates.
    """
    file_path = Path(path)
    json_lines = file_path.suffix.lower() in JSON_LINES_SUFFIXES
    return parse_event_log(
        file_path.read_bytes(), workflow, source=str(path), json_lines=json_lines, lenient=lenient,
        limits=limits,
    )


def load_workflow(path: str | Path) -> Workflow:
    """Read and validate a workflow YAML file; errors name the file, the stage and the field."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowError([f"cannot read the file ({exc.strerror or exc})"], source=str(file_path)) from exc
    return parse_workflow(text, source=str(file_path))
