"""`/flow connect`, step 3: stages added, moved and removed in the modal, kinds and limits set, stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.slack import ids
from bot.slack.blocks.onboarding_mapping import MAX_STAGE_GROUPS, YAML_BLOCK, stage_block
from bot.store.models import Board
from tests.slack.conftest import RunningApp
from tests.slack.connect_steps import SAMPLE_PROPOSAL, file_step3, proposed, stored_stages
from tests.slack.modals import block, click, initial_values, shown, submit

TEAMS, STEPS = 5, 11


@pytest.fixture
def sample_form(app: RunningApp) -> dict[str, Any]:
    return file_step3(app)


def menu(view: dict[str, Any], op: str, key: int) -> dict[str, Any]:
    """The ⋯ menu option ``op`` of the stage ``key`` (the menu must offer it)."""
    options = block(view, stage_block(key, "menu"))["accessory"]["options"]
    return next(option for option in options if option["value"] == f"{op}:{key}")


def test_a_stage_moves_with_what_was_typed_in_it(app: RunningApp, sample_form: dict[str, Any]):
    """Moving a stage keeps every value typed so far (submitted with the click, never lost) with its stage:
    In Review moves above In Development carrying the WIP limit just typed, and the board name kept."""
    typed = {stage_block(3, "wip"): "3", stage_block(2, "wip"): "4", "connect_name": "Payments flow"}
    moved = click(app, sample_form, ids.CONNECT_STAGE_MENU, menu(sample_form, "up", 3)["value"], typed)
    names = [stage[0] for stage in proposed(moved)]
    assert names[2:4] == ["In Review", "In Development"]
    values = initial_values(moved)
    assert values[stage_block(3, "wip")]["value"] == "3" and values[stage_block(2, "wip")]["value"] == "4"
    assert values["connect_name"]["value"] == "Payments flow"
    assert "Move up" not in str(block(moved, stage_block(0, "menu"))["accessory"])  # the first stage
    assert "Move down" not in str(block(moved, stage_block(6, "menu"))["accessory"])  # the last stage
    back = click(app, moved, ids.CONNECT_STAGE_MENU, "down:3")
    assert [stage[0] for stage in proposed(back)] == [stage[0] for stage in SAMPLE_PROPOSAL]
    assert submit(app, back) == {"response_action": "clear"}
    stored = stored_stages(app, "Payments flow")
    assert [(s[0], s[3]) for s in stored[2:4]] == [("In Development", 4), ("In Review", 3)]


def test_the_sample_workflow_is_built_with_ten_stages_and_limits(
    app: RunningApp, sample_form: dict[str, Any]
):
    """From the proposal to a 10-stage workflow: Review split into a queue and an active stage (a stage
    added below), Triage removed into a stage of its own then that stage removed again, two stages added
    at the end, kinds and WIP limits set, and the board stored exactly so."""
    view = click(app, sample_form, ids.CONNECT_STAGE_MENU, "add:3")  # below In Review: key 7
    view = click(app, view, ids.CONNECT_ADD_STAGE, "add")  # key 8, last
    view = click(app, view, ids.CONNECT_ADD_STAGE, "add")  # key 9, last
    view = click(app, view, ids.CONNECT_ADD_STAGE, "add")  # key 10, last
    assert len(proposed(view)) == 11
    view = click(app, view, ids.CONNECT_STAGE_MENU, "remove:10")
    assert len(proposed(view)) == 10 and stage_block(10, "name") not in shown(view)
    for _ in range(2):  # Deploy (key 8) up above Done and Dropped
        view = click(app, view, ids.CONNECT_STAGE_MENU, "up:8")
    changes = {
        stage_block(3, "name"): "To Review",
        stage_block(3, "kind"): "queue",
        stage_block(3, "statuses"): ["In Review"],
        stage_block(3, "wip"): "3",
        stage_block(7, "name"): "Code Review",
        stage_block(7, "kind"): "active",
        stage_block(7, "statuses"): ["Code Review"],
        stage_block(8, "name"): "Deploy",
        stage_block(8, "kind"): "active",
        stage_block(8, "statuses"): ["Closed"],
        stage_block(8, "wip"): "2",
        stage_block(5, "statuses"): ["Done"],
        stage_block(9, "name"): "Archive",
        stage_block(9, "kind"): "discarded",
        stage_block(9, "statuses"): ["Triage"],
        stage_block(0, "statuses"): ["Backlog", "To Do"],
        stage_block(1, "wip"): "6",
    }
    assert submit(app, view, changes) == {"response_action": "clear"}
    assert stored_stages(app, "Sample") == [
        ("Backlog", "backlog", ["Backlog", "To Do"], None),
        ("Selected for Development", "queue", ["Selected for Development", "Ready for Dev"], 6),
        ("In Development", "active", ["In Development", "In Progress"], None),
        ("To Review", "queue", ["In Review"], 3),
        ("Code Review", "active", ["Code Review"], None),
        ("In Test", "active", ["In Test", "QA"], None),
        ("Deploy", "active", ["Closed"], 2),
        ("Done", "done", ["Done"], None),
        ("Dropped", "discarded", ["Cancelled", "Won't Do"], None),
        ("Archive", "discarded", ["Triage"], None),
    ]


def test_problems_are_shown_next_to_their_inputs(app: RunningApp, sample_form: dict[str, Any]):
    """A stage added and left without a kind, a status in two stages, a limit on a done stage, and the
    backlog moved below started work: each explained on its own input, nothing stored."""
    view = click(app, sample_form, ids.CONNECT_ADD_STAGE, "add")
    answer = submit(
        app,
        view,
        {
            stage_block(7, "name"): "Later",
            stage_block(7, "statuses"): ["QA"],
            stage_block(5, "wip"): "5",
        },
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        stage_block(7, "kind"),
        stage_block(7, "statuses"),
        stage_block(5, "wip"),
    }
    assert "QA is already in stage In Test" in answer["errors"][stage_block(7, "statuses")]
    view = click(app, view, ids.CONNECT_STAGE_MENU, "down:0")  # Backlog below a queue; Later left blank
    answer = submit(app, view)
    assert "backlog stage must come before" in answer["errors"][stage_block(0, "kind")]
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Board)) == 0


def test_an_emptied_form_asks_for_a_stage(app: RunningApp, sample_form: dict[str, Any]):
    """Every stage cleared: blank stages are ignored, so the form asks for one rather than storing nothing."""
    keys = range(len(SAMPLE_PROPOSAL))
    cleared = {stage_block(k, part): None for k in keys for part in ("name", "statuses")}
    answer = submit(app, sample_form, cleared)
    assert "Map at least one stage" in answer["errors"][stage_block(0, "statuses")]


def write_sixty_statuses(folder: Path) -> None:
    """An event log of 60 statuses: five teams' 11 steps each, and five shared (backlog, done, dropped)."""
    rows = ["item_id,timestamp,event,from_status,to_status"]
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for team in range(TEAMS):
        for n in range(4):
            item, at = f"T{team}-{n}", start + dt.timedelta(days=team * 10 + n)
            path = ["Backlog"]
            path += [f"Team {team} step {step:02d}" for step in range(STEPS)]
            path += ["Done" if n % 2 else "Closed"]
            for hour, status in enumerate(path):
                event = "created" if hour == 0 else "status"
                rows.append(f"{item},{(at + dt.timedelta(hours=hour)).isoformat()},{event},,{status}")
    for n, status in enumerate(("Won't Do", "Canceled")):
        rows.append(f"X-{n},{start.isoformat()},created,,Backlog")
        rows.append(f"X-{n},{(start + dt.timedelta(hours=1)).isoformat()},status,Backlog,{status}")
    (folder / "sixty.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_sixty_statuses_make_a_fourteen_stage_form_that_grows_to_the_limit(app: RunningApp):
    """60 statuses from a file: each team's n-th step shares a stage, so 11 active stages between Backlog and
    Done (14 in all); stages are then added up to what a modal holds, and the form says when it is full."""
    write_sixty_statuses(app.runtime.settings.import_dir)
    view = file_step3(app, "sixty.csv", name="Big")
    stages = proposed(view)
    assert len(block(view, stage_block(0, "statuses"))["element"]["options"]) == 60
    assert [(name, kind) for name, kind, _ in stages[:2]] == [
        ("Backlog", "backlog"),
        ("Team 0 step 00", "active"),
    ]
    assert stages[1][2] == [f"Team {team} step 00" for team in range(TEAMS)]
    assert [kind for _, kind, _ in stages] == ["backlog"] + ["active"] * STEPS + ["done", "discarded"]
    assert stages[-1][2] == ["Canceled", "Won't Do"]
    while len(proposed(view)) < MAX_STAGE_GROUPS:
        view = click(app, view, ids.CONNECT_ADD_STAGE, "add")
    assert ids.CONNECT_ADD_STAGE not in shown(view) and "holds 18 stages at most" in shown(view)
    assert "Add a stage below" not in shown(view) and len(view["blocks"]) <= 100
    assert submit(app, view) == {"response_action": "clear"}  # the blank stages added are ignored
    assert len(stored_stages(app, "Big")) == 14


def test_the_form_can_become_yaml(app: RunningApp, sample_form: dict[str, Any]):
    """ "Edit as YAML" turns the form as it stands (a limit just typed included) into workflow YAML."""
    view = click(app, sample_form, ids.CONNECT_EDIT_YAML, "yaml", {stage_block(2, "wip"): "4"})
    text = initial_values(view)[YAML_BLOCK]["value"]
    assert "wip_limit: 4" in text and '"Ready for Dev"  # Ready for Dev' in text
    assert submit(app, view) == {"response_action": "clear"}
    assert stored_stages(app, "Sample")[2] == (
        "In Development",
        "active",
        ["In Development", "In Progress"],
        4,
    )


def test_a_click_on_an_outdated_view_changes_nothing(app: RunningApp, sample_form: dict[str, Any]):
    """Two quick clicks: the second, sent from the view before the first one's update, is refused by Slack
    (its hash is stale), so the form stays as the first click left it instead of undoing it."""
    first = click(app, sample_form, ids.CONNECT_ADD_STAGE, "add")
    again = click(app, sample_form, ids.CONNECT_STAGE_MENU, "remove:0")
    assert proposed(again) == proposed(first) and len(proposed(first)) == len(SAMPLE_PROPOSAL) + 1
