"""The synthetic boards the benchmarks use: the written file is the generated frame, and it is valid."""

from __future__ import annotations

import pandas as pd

from analytics.measures import board_metrics
from analytics.workflow import parse_workflow
from benchmarks.synthetic import DEFAULT_END, make_board, write_board
from bot.connectors.files import load_workflow, read_event_log


def test_written_board_reads_back_as_generated(tmp_path):
    """write_board's CSV parses cleanly and holds exactly make_board's events."""
    events_path, workflow_path = write_board(tmp_path, 300, seed=3)
    workflow = load_workflow(workflow_path)
    log = read_event_log(events_path, workflow)
    frame, yaml_text = make_board(300, seed=3)
    assert parse_workflow(yaml_text) == workflow
    assert len(log.events) == len(frame.drop_duplicates(["item_id", "timestamp", "event", "to_status"]))
    assert set(log.events["item_id"]) == set(frame["item_id"])
    assert log.warnings == ()


def test_synthetic_board_has_flow_to_measure():
    """A generated board has finished items, WIP, and a forecastable throughput at its end."""
    frame, yaml_text = make_board(2_000, seed=1)
    workflow = parse_workflow(yaml_text)
    from analytics.eventlog import events_from_records

    events = events_from_records(frame.to_dict("records"), workflow.timezone).events
    metrics = board_metrics(events, workflow, pd.Timestamp(DEFAULT_END))
    assert metrics.throughput_total > 0
    assert metrics.wip_total > 0
    assert metrics.cycle_time.p85 is not None
