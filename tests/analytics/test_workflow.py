"""The workflow file: parsing, defaults, and validation messages naming the stage and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics.workflow import StageKind, WorkflowError, parse_workflow
from bot.connectors.files import load_workflow

SPEC_EXAMPLE = Path(__file__).with_name("data") / "spec_workflow.yml"

MINIMAL = """
name: Tiny
stages:
  - {name: Doing, statuses: [In Progress], kind: active}
  - {name: Done, statuses: [Done], kind: done}
"""


def problems(text: str) -> tuple[str, ...]:
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(text, source="wf.yml")
    return caught.value.problems


def test_minimal_workflow_gets_the_documented_defaults():
    """Time zone UTC, Monday–Friday 09:00–18:00, SLE p85 over 90 days, start at the first WIP stage."""
    workflow = parse_workflow(MINIMAL)
    assert workflow.timezone == "UTC"
    assert workflow.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert workflow.working_hours == (dt.time(9), dt.time(18))
    assert (workflow.sle.percentile, workflow.sle.window_days) == (85, 90)
    assert workflow.start_index == 0 and workflow.wip_limit is None


def test_the_spec_example_parses():
    """The example in spec/data.md is a valid workflow with its stages, kinds, limits and start."""
    workflow = load_workflow(SPEC_EXAMPLE)
    assert workflow.stage_names == ("Backlog", "Ready", "Development", "Review", "Done", "Dropped")
    assert workflow.stage("Development").kind is StageKind.ACTIVE
    assert workflow.stage("Review").wip_limit == 3
    assert workflow.start == "Ready" and workflow.start_index == 1
    assert workflow.status_to_stage_index()["Selected for Development"] == 1
    assert workflow.timezone == "Europe/Zurich"


def test_numeric_status_ids_are_compared_as_text():
    """Status ids written unquoted in YAML (10001) match the text ids trackers deliver."""
    workflow = parse_workflow(MINIMAL.replace("[In Progress]", "[10001, In Progress]"))
    assert workflow.status_to_stage_index()["10001"] == 0


def test_every_problem_is_reported_with_stage_and_field():
    """All problems come at once; each names the stage and the field."""
    text = """
name: Bad
timezone: Mars/Olympus
stages:
  - {name: Doing, statuses: [In Progress], kind: activ, wip_limit: 0}
  - {name: Done, statuses: [Done, In Progress], kind: done, wip_limit: 3}
  - {name: Late, statuses: [Late], kind: queue}
"""
    found = problems(text)
    assert any("timezone" in p and "Mars/Olympus" in p for p in found)
    assert any(p.startswith("stage 'Doing': kind:") for p in found)
    assert any(p.startswith("stage 'Doing': wip_limit:") for p in found)
    assert any(p.startswith("stage 'Done': statuses:") and "'In Progress'" in p for p in found)
    assert any(p.startswith("stage 'Done': wip_limit:") for p in found)
    assert any(p.startswith("stage 'Late': kind:") and "before every done stage" in p for p in found)


def test_a_done_stage_is_required():
    """A board with nothing that finishes cannot have throughput or cycle time."""
    text = "name: X\nstages:\n  - {name: Doing, statuses: [A], kind: active}\n"
    assert any("kind: done" in p for p in problems(text))


def test_start_must_name_a_wip_stage():
    """The commitment point must be a queue or active stage of this workflow."""
    assert any("start:" in p for p in problems(MINIMAL + "start: Nowhere\n"))
    assert any("queue or active" in p for p in problems(MINIMAL + "start: Done\n"))


def test_backlog_after_started_stages_is_rejected():
    """A backlog stage after work has started would make "started" ambiguous."""
    text = """
name: X
stages:
  - {name: Doing, statuses: [A], kind: active}
  - {name: Parked, statuses: [P], kind: backlog}
  - {name: Done, statuses: [D], kind: done}
"""
    assert any(p.startswith("stage 'Parked': kind:") for p in problems(text))


def test_started_stages_after_done_are_named_with_the_right_article():
    """It used to say "a active stage must come before every done stage"."""
    text = """
name: X
stages:
  - {name: Done, statuses: [D], kind: done}
  - {name: Doing, statuses: [A], kind: active}
  - {name: Waiting, statuses: [W], kind: queue}
"""
    found = problems(text)
    assert "stage 'Doing': kind: an active stage must come before every done stage" in found
    assert "stage 'Waiting': kind: a queue stage must come before every done stage" in found


def test_policy_fields_are_checked():
    """Working days and hours, SLE and unknown fields get clear messages."""
    text = (
        MINIMAL
        + 'working_days: [mon, funday]\nworking_hours: ["18:00", "09:00"]\nsle: {percentile: 120}\nwip: 3\n'
    )
    found = problems(text)
    assert any("working_days" in p and "funday" in p for p in found)
    assert any("working_hours" in p for p in found)
    assert any("sle.percentile" in p for p in found)
    assert any("unknown field" in p and "wip" in p for p in found)


def test_yaml_syntax_errors_name_the_line():
    """Broken YAML reports the line of the problem, not a parser traceback."""
    found = problems("name: X\nstages: [\n  - {name: a\n")
    assert any("line" in p and "YAML" in p for p in found)


def test_missing_file_is_a_workflow_error(tmp_path):
    """A path that does not exist is reported as a workflow problem naming the file."""
    with pytest.raises(WorkflowError, match=r"missing\.yml"):
        load_workflow(tmp_path / "missing.yml")
