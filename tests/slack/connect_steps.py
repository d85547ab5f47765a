"""Driving `/flow connect` as a user does: its steps, and what the mapping form shows and stores."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from analytics.workflow import parse_workflow
from bot.slack import ids
from bot.slack.blocks.onboarding import CONNECTOR_BLOCK, NAME_BLOCK, field_block
from bot.store.models import Board
from tests.fakes.jira import FakeJira
from tests.slack.conftest import FLOW_CHANNEL, RunningApp
from tests.slack.modals import initial_values, opened, submit, updated

TOKEN = "tok-Zq81-do-not-leak-4711"


def choose(app: RunningApp, connector: str, name: str = "Team") -> dict[str, Any]:
    """Step 1 submitted: `/flow connect` in #team-flow, then the source and the board's name."""
    app.sender.slash_command("connect", channel_id=FLOW_CHANNEL)
    first = opened(app.slack, ids.CONNECT_CHOOSE)
    answer = submit(app, first, {CONNECTOR_BLOCK: connector, NAME_BLOCK: name})
    return updated(first, answer)


def credentials(app: RunningApp, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Step 2 submitted: answered at once with the "checking" view; the next step once the source answered."""
    before = len(app.slack.calls_to("views.update"))
    answer = submit(app, view, {field_block(name): value for name, value in values.items()})
    assert updated(view, answer)["callback_id"] == ids.CONNECT_CHECKING
    call = app.slack.wait_for("views.update", count=before + 1)[-1]
    assert call.params["view_id"] == view["id"]
    return app.slack.views[view["id"]]


def jira_values(jira: FakeJira, **changes: str) -> dict[str, str]:
    return {"url": jira.url, "email": jira.email, "token": TOKEN, "project": "PAY"} | changes


def ready_message(app: RunningApp) -> dict[str, Any]:
    calls = app.slack.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == FLOW_CHANNEL)
    return calls[0].params


def file_step3(app: RunningApp, path: str = "events.csv", name: str = "Sample") -> dict[str, Any]:
    """The file connector's step 3 for an event log of the import folder (the path is all it needs)."""
    step2 = choose(app, "file", name=name)
    assert [b["block_id"] for b in step2["blocks"] if b["type"] == "input"] == [field_block("path")]
    return credentials(app, step2, {"path": path})


SAMPLE_PROPOSAL = [
    ("Backlog", "backlog", ["Backlog", "To Do", "Triage"]),
    ("Selected for Development", "queue", ["Selected for Development", "Ready for Dev"]),
    ("In Development", "active", ["In Development", "In Progress"]),
    ("In Review", "active", ["In Review", "Code Review"]),
    ("In Test", "active", ["In Test", "QA"]),
    ("Done", "done", ["Done", "Closed"]),
    ("Dropped", "discarded", ["Cancelled", "Won't Do"]),
]


def proposed(view: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """The stages a mapping form shows, in order: (name, kind, status ids)."""
    values = initial_values(view)
    keys = [b["block_id"].split("_")[2] for b in view["blocks"] if b.get("block_id", "").endswith("_menu")]
    return [
        (
            values.get(f"connect_stage_{key}_name", {}).get("value"),
            values.get(f"connect_stage_{key}_kind", {}).get("value"),
            values.get(f"connect_stage_{key}_statuses", {}).get("value", []),
        )
        for key in keys
    ]


def stored_stages(app: RunningApp, name: str) -> list[tuple[str, str, list[str], int | None]]:
    with app.sessions() as session:
        text = session.scalar(select(Board.workflow_yaml).where(Board.name == name))
    workflow = parse_workflow(text)
    return [(s.name, s.kind.value, list(s.statuses), s.wip_limit) for s in workflow.stages]
