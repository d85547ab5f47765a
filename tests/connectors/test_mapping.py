"""The first workflow proposed from a tracker's statuses: categories in flow order, dropped work apart."""

from __future__ import annotations

import pytest

from bot.connectors.base import SourceStatus, StatusCategory
from bot.connectors.file import FileConnector, FileSettings
from bot.connectors.files import load_workflow
from bot.connectors.jira_common import BoardColumn
from bot.connectors.mapping import DISCARDED_STAGE, default_stages, status_kind, status_paths
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH


def test_categories_become_backlog_in_progress_and_done_in_flow_order():
    """One stage per category present, backlog → active → done, each listing its status ids."""
    statuses = [
        SourceStatus("3", "Done", "done"),
        SourceStatus("1", "Todo", "new"),
        SourceStatus("2", "Doing", "indeterminate"),
    ]
    assert default_stages(statuses) == [
        {"name": "Backlog", "statuses": ["1"], "kind": "backlog"},
        {"name": "In Progress", "statuses": ["2"], "kind": "active"},
        {"name": "Done", "statuses": ["3"], "kind": "done"},
    ]


def test_statuses_of_dropped_work_get_a_discarded_stage_not_done():
    """Canceled (Linear) or Removed (Azure DevOps) are done for the tracker but must not count as
    throughput: they get a discarded stage of their own, after Done."""
    statuses = [
        SourceStatus("1", "Todo", "new"),
        SourceStatus("3", "Done", "done"),
        SourceStatus("4", "Canceled", "done", discarded=True),
    ]
    stages = default_stages(statuses)
    assert stages[-2] == {"name": "Done", "statuses": ["3"], "kind": "done"}
    assert stages[-1] == {"name": DISCARDED_STAGE, "statuses": ["4"], "kind": "discarded"}


def status(name: str, category: StatusCategory = "indeterminate") -> SourceStatus:
    return SourceStatus(name, name, category)


@pytest.mark.parametrize(
    ("name", "category", "kind"),
    [
        ("Done", "indeterminate", "done"),
        ("Released", "indeterminate", "done"),
        ("Won’t Do", "done", "discarded"),
        ("won't fix", "indeterminate", "discarded"),
        ("Cancelled", "done", "discarded"),
        ("Duplicate", "done", "discarded"),
        ("Rejected", "indeterminate", "discarded"),
        ("To Do", "indeterminate", "backlog"),
        ("Open", "indeterminate", "backlog"),
        ("Anything", "new", "backlog"),
        ("Ready for QA", "indeterminate", "queue"),
        ("Selected for Development", "new", "queue"),
        ("Waiting for customer", "indeterminate", "queue"),
        ("Dev Done", "indeterminate", "queue"),
        ("To Review", "indeterminate", "queue"),
        ("In Review", "indeterminate", "active"),
        ("Doing", "indeterminate", "active"),
        ("Accepted", "done", "done"),
    ],
)
def test_a_status_kind_comes_from_its_name_then_its_category(name: str, category: StatusCategory, kind: str):
    """Names say what categories cannot: Won't Do is dropped work, Dev Done a queue in the middle."""
    assert status_kind(status(name, category)) == kind


def test_history_orders_and_groups_started_statuses_by_their_typical_step():
    """Two teams' paths (3 and 2 items) and one dropped item, computed by hand: among started statuses,
    Ready for Dev and Selected are step 0, Doing and Build step 1, Review step 2 (a return to Doing counts
    its first visit only), so three stages between Backlog and Done, each named after its busiest status."""
    statuses = [status(n) for n in ("Review", "Doing", "Build", "Selected", "Ready for Dev", "Backlog")]
    statuses += [status("Done"), status("Closed"), status("Won't do")]
    paths = {
        ("Backlog", "Ready for Dev", "Doing", "Review", "Doing", "Review", "Done"): 3,
        ("Backlog", "Selected", "Build", "Review", "Closed"): 2,
        ("Backlog", "Won't do"): 1,
    }
    assert default_stages(statuses, paths=paths) == [
        {"name": "Backlog", "statuses": ["Backlog"], "kind": "backlog"},
        {"name": "Ready for Dev", "statuses": ["Ready for Dev", "Selected"], "kind": "queue"},
        {"name": "Doing", "statuses": ["Doing", "Build"], "kind": "active"},
        {"name": "Review", "statuses": ["Review"], "kind": "active"},
        {"name": "Done", "statuses": ["Done", "Closed"], "kind": "done"},
        {"name": DISCARDED_STAGE, "statuses": ["Won't do"], "kind": "discarded"},
    ]


def test_a_queue_and_an_active_status_at_the_same_step_get_two_stages_queue_first():
    """Step 0 holds Waiting (queue) for some items and Doing (active) for others: two stages, the queue
    first, since a stage has one kind."""
    statuses = [status("Doing"), status("Waiting"), status("Done")]
    paths = {("Waiting", "Done"): 1, ("Doing", "Done"): 1}
    assert [(s["name"], s["kind"]) for s in default_stages(statuses, paths=paths)] == [
        ("Waiting", "queue"), ("Doing", "active"), ("Done", "done")
    ]  # fmt: skip


def test_without_a_done_name_the_last_status_items_stay_in_is_done():
    """No name or category says finished: Shipped-to-client, where 4 of the 4 items reaching it end, is."""
    statuses = [status("Intake"), status("Build"), status("Shipped to client")]
    paths = {("Intake", "Build", "Shipped to client"): 4, ("Intake", "Build"): 2}
    stages = default_stages(statuses, paths=paths)
    assert stages[-1] == {"name": "Done", "statuses": ["Shipped to client"], "kind": "done"}


def test_status_paths_count_items_per_path_and_drop_repeated_events():
    """Rows in time order: a status re-sent back to back counts once; a return to an earlier one is kept."""
    rows = [("A", "To Do"), ("B", "To Do"), ("A", "Doing"), ("A", "Doing"), ("B", "Doing"), ("A", "To Do")]
    assert status_paths(rows) == {("To Do", "Doing", "To Do"): 1, ("To Do", "Doing"): 1}


def test_the_sample_event_log_proposes_the_sample_workflow():
    """The bundled event log has no categories; its history gives the stages of the bundled workflow (kinds
    as their names say; the sample's workflow calls Review a queue, a choice names cannot make)."""
    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    connector = FileConnector(FileSettings(path=str(SAMPLE_EVENTS_PATH)), workflow)
    stages = default_stages(connector.statuses(), paths=connector.status_paths())
    assert [set(s["statuses"]) for s in stages] == [
        set(stage.statuses) | ({"Triage"} if stage.kind == "backlog" else set()) for stage in workflow.stages
    ]
    kinds = ["backlog", "queue", "active", "active", "active", "done", "discarded"]
    assert [s["kind"] for s in stages] == kinds


def test_categories_with_a_waiting_status_not_yet_started_give_a_ready_queue():
    """Without history: a "to do" status named as a commitment queue becomes a Ready stage after Backlog."""
    statuses = [
        SourceStatus("1", "To Do", "new"),
        SourceStatus("2", "Selected for Development", "new"),
        SourceStatus("3", "In Progress", "indeterminate"),
        SourceStatus("4", "Done", "done"),
        SourceStatus("5", "Won't Do", "done"),
    ]
    assert [(s["name"], s["statuses"], s["kind"]) for s in default_stages(statuses)] == [
        ("Backlog", ["1"], "backlog"),
        ("Ready", ["2"], "queue"),
        ("In Progress", ["3"], "active"),
        ("Done", ["4"], "done"),
        (DISCARDED_STAGE, ["5"], "discarded"),
    ]


def test_columns_keep_dropped_work_apart():
    """A board's Done column showing Won't Do too: Done stays done, Won't Do gets the discarded stage."""
    statuses = [SourceStatus("1", "To Do", "new"), SourceStatus("2", "Doing", "indeterminate")]
    statuses += [SourceStatus("3", "Done", "done"), SourceStatus("4", "Won't Do", "done")]
    columns = [BoardColumn("To Do", ("1",)), BoardColumn("Doing", ("2",)), BoardColumn("Done", ("3", "4"))]
    assert [(s["name"], s["statuses"], s["kind"]) for s in default_stages(statuses, columns)] == [
        ("To Do", ["1"], "backlog"),
        ("Doing", ["2"], "active"),
        ("Done", ["3"], "done"),
        (DISCARDED_STAGE, ["4"], "discarded"),
    ]
