"""The first workflow proposed from a tracker's statuses: categories in flow order, dropped work apart."""

from __future__ import annotations

from bot.connectors.base import SourceStatus
from bot.connectors.mapping import DISCARDED_STAGE, default_stages


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
