"""Per-item timelines: start, finish, time in stage and blocked time, hand-computed (spec/metrics.md)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.analytics.builders import at, events, timeline, workflow

DAY = 1.0


def item(rows, asof, item_id="A", **kwargs):
    return timeline(rows, asof, **kwargs).items.loc[item_id]


def stage_days(rows, asof, item_id="A"):
    result = timeline(rows, asof)
    position = result.items.index.get_loc(item_id)
    return dict(zip(result.workflow.stage_names, result.time_in_stage_days[position], strict=True))


def test_empty_log_gives_no_items():
    """An empty event log yields an empty timeline rather than an error."""
    result = timeline([], "2026-01-10")
    assert result.items.empty
    assert result.stays.empty
    assert result.unmapped_statuses == {}


def test_straight_flow_starts_at_commitment_and_finishes_in_done():
    """started_at is the entry into the start stage, finished_at the entry into done; cycle time in days."""
    rows = [
        ("A", "2026-01-01T00:00Z", "created", "To Do"),
        ("A", "2026-01-02T00:00Z", "Selected"),
        ("A", "2026-01-03T12:00Z", "In Progress"),
        ("A", "2026-01-06T00:00Z", "Done"),
    ]
    a = item(rows, "2026-01-10")
    assert a["started_at"] == at("2026-01-02T00:00Z")
    assert a["finished_at"] == at("2026-01-06T00:00Z")
    assert a["cycle_time_days"] == pytest.approx(4.0)
    assert a["finished"] and not a["wip"] and math.isnan(a["age_days"])
    assert stage_days(rows, "2026-01-10") == pytest.approx(
        {"Backlog": 0, "Ready": 1.5, "Development": 2.5, "Review": 0, "Done": 0, "Dropped": 0}
    )


def test_backward_move_sums_both_stays_and_keeps_start():
    """Review → Development is a second Development stay; time in stage adds both, start is unchanged."""
    rows = [
        ("A", "2026-01-01T00:00Z", "In Progress"),
        ("A", "2026-01-03T00:00Z", "In Review"),
        ("A", "2026-01-04T00:00Z", "In Progress"),
        ("A", "2026-01-05T00:00Z", "In Review"),
        ("A", "2026-01-07T00:00Z", "Done"),
    ]
    assert item(rows, "2026-01-10")["cycle_time_days"] == pytest.approx(6.0)
    days = stage_days(rows, "2026-01-10")
    assert days["Development"] == pytest.approx(3.0)
    assert days["Review"] == pytest.approx(3.0)
    assert len(timeline(rows, "2026-01-10").stays) == 5


def test_skipped_stage_starts_when_the_item_got_there():
    """An item that jumps from Backlog straight to Review started when it entered Review."""
    rows = [("A", "2026-01-01T00:00Z", "To Do"), ("A", "2026-01-04T00:00Z", "In Review")]
    a = item(rows, "2026-01-05")
    assert a["started_at"] == at("2026-01-04T00:00Z")
    assert a["wip"] and a["age_days"] == pytest.approx(1.0)


def test_jump_from_backlog_to_done_has_zero_cycle_time():
    """Jumping straight to done starts and finishes at the same instant."""
    rows = [("A", "2026-01-01T00:00Z", "To Do"), ("A", "2026-01-04T00:00Z", "Done")]
    a = item(rows, "2026-01-05")
    assert a["started_at"] == a["finished_at"] == at("2026-01-04T00:00Z")
    assert a["cycle_time_days"] == 0


def test_reopened_item_is_wip_again_and_keeps_its_start():
    """Done → Development makes the item WIP again, aged from its original start; refinishing moves finish."""
    rows = [
        ("A", "2026-01-01T00:00Z", "Selected"),
        ("A", "2026-01-03T00:00Z", "Done"),
        ("A", "2026-01-05T00:00Z", "In Progress"),
    ]
    reopened = item(rows, "2026-01-06")
    assert reopened["wip"] and not reopened["finished"]
    assert reopened["started_at"] == at("2026-01-01T00:00Z")
    assert reopened["age_days"] == pytest.approx(5.0)
    refinished = item([*rows, ("A", "2026-01-08T00:00Z", "Closed")], "2026-01-09")
    assert refinished["finished_at"] == at("2026-01-08T00:00Z")
    assert refinished["cycle_time_days"] == pytest.approx(7.0)
    days = stage_days([*rows, ("A", "2026-01-08T00:00Z", "Closed")], "2026-01-09")
    assert days["Done"] == pytest.approx(
        2.0
    )  # the first stay in done, before the reopen, is part of the cycle


def test_move_within_done_does_not_change_finish():
    """Done → Closed is the same stage: the finish stays at the first entry into done."""
    rows = [
        ("A", "2026-01-01T00:00Z", "Selected"),
        ("A", "2026-01-03T00:00Z", "Done"),
        ("A", "2026-01-04T00:00Z", "Closed"),
    ]
    assert item(rows, "2026-01-05")["finished_at"] == at("2026-01-03T00:00Z")


def test_return_to_backlog_unstarts_and_restarts():
    """Back in the backlog an item is not started; pulled again it starts anew, earlier stays don't count."""
    rows = [
        ("A", "2026-01-01T00:00Z", "Selected"),
        ("A", "2026-01-02T00:00Z", "In Progress"),
        ("A", "2026-01-04T00:00Z", "Backlog"),
    ]
    parked = item(rows, "2026-01-05")
    assert not parked["started"] and not parked["wip"]
    pulled = [*rows, ("A", "2026-01-10T00:00Z", "Selected"), ("A", "2026-01-11T00:00Z", "Done")]
    a = item(pulled, "2026-01-12")
    assert a["started_at"] == at("2026-01-10T00:00Z")
    assert a["cycle_time_days"] == pytest.approx(1.0)
    days = stage_days(pulled, "2026-01-12")
    assert days["Development"] == 0
    assert days["Ready"] == pytest.approx(1.0)


def test_discarded_item_is_neither_wip_nor_finished():
    """An item in a discarded stage counts nowhere: not WIP, not finished, no cycle time."""
    rows = [("A", "2026-01-01T00:00Z", "In Progress"), ("A", "2026-01-02T00:00Z", "Won't Do")]
    a = item(rows, "2026-01-03")
    assert a["discarded"] and not a["wip"] and not a["finished"]
    assert math.isnan(a["cycle_time_days"])


def test_unmapped_status_leaves_item_in_place_and_is_reported_per_item():
    """A move into a status no stage lists is ignored for stages and counted once per item."""
    rows = [
        ("A", "2026-01-01T00:00Z", "In Progress"),
        ("A", "2026-01-02T00:00Z", "Triage"),
        ("A", "2026-01-03T00:00Z", "Triage"),
        ("B", "2026-01-02T00:00Z", "Triage"),
    ]
    result = timeline(rows, "2026-01-04")
    assert result.unmapped_statuses == {"Triage": 2}
    assert result.workflow.stage_names[result.items.loc["A", "stage"]] == "Development"
    b = result.items.loc["B"]
    assert b["stage"] == -1 and not b["started"]


def test_blocked_time_is_a_union_clipped_to_the_cycle():
    """Repeated blocks don't double count; time blocked before the start is not part of the cycle."""
    rows = [
        ("A", "2026-01-01T00:00Z", "blocked"),
        ("A", "2026-01-02T00:00Z", "Selected"),
        ("A", "2026-01-03T00:00Z", "unblocked"),
        ("A", "2026-01-04T00:00Z", "blocked"),
        ("A", "2026-01-05T00:00Z", "blocked"),
        ("A", "2026-01-06T00:00Z", "unblocked"),
        ("A", "2026-01-08T00:00Z", "Done"),
    ]
    a = item(rows, "2026-01-10")
    assert a["blocked_days"] == pytest.approx(3.0)  # 2nd→3rd, then 4th→6th once
    assert not a["blocked"]


def test_finishing_closes_a_block_and_open_block_counts_to_asof():
    """A block left open ends at finish; on a WIP item it runs to asof and the item shows as blocked."""
    finished = [
        ("A", "2026-01-01T00:00Z", "In Progress"),
        ("A", "2026-01-02T00:00Z", "blocked"),
        ("A", "2026-01-03T00:00Z", "Done"),
        ("A", "2026-01-05T00:00Z", "In Progress"),
    ]
    a = item(finished, "2026-01-06")
    assert a["blocked_days"] == pytest.approx(1.0)  # closed by finishing; the reopen does not resume it
    assert not a["blocked"]
    open_block = [("B", "2026-01-01T00:00Z", "In Progress"), ("B", "2026-01-02T12:00Z", "blocked")]
    b = item(open_block, "2026-01-04", item_id="B")
    assert b["blocked"] and b["blocked_days"] == pytest.approx(1.5)


def test_events_after_asof_do_not_exist():
    """Evaluated before its finish, an item is still WIP, and later attributes are not visible yet."""
    rows = [("A", "2026-01-01T00:00Z", "In Progress"), ("A", "2026-01-05T00:00Z", "Done")]
    a = item(rows, "2026-01-03")
    assert a["wip"] and a["age_days"] == pytest.approx(2.0)
    assert timeline(rows, "2025-12-31").items.empty


def test_attributes_take_the_last_non_empty_value():
    """Title and other attributes follow the item's last non-empty value in time."""
    from analytics.eventlog import events_from_records
    from analytics.timeline import build_timeline

    log = events_from_records(
        [
            {"item_id": "A", "timestamp": "2026-01-02T00:00Z", "to_status": "Done", "title": "Renamed"},
            {"item_id": "A", "timestamp": "2026-01-01T00:00Z", "to_status": "Selected", "title": "First"},
            {"item_id": "A", "timestamp": "2026-01-03T00:00Z", "to_status": "Done", "title": ""},
        ],
        "UTC",
    ).events
    assert build_timeline(log, workflow(), at("2026-01-04")).items.loc["A", "title"] == "Renamed"


def test_naive_times_are_local_to_the_workflow_zone_across_dst():
    """Naive timestamps are board-local: a cycle across the spring DST change is 23 h shorter than 2 days."""
    rows = [("A", "2026-03-28T12:00", "Selected"), ("A", "2026-03-30T12:00", "Done")]
    result = timeline(rows, "2026-04-01T00:00Z", timezone="Europe/Zurich")
    assert result.items.loc["A", "cycle_time_days"] == pytest.approx(2 - 1 / 24)
    assert result.items.loc["A", "started_at"] == pd.Timestamp("2026-03-28T11:00Z")


def test_asof_must_be_aware():
    """A naive asof is refused instead of being silently read as UTC."""
    from analytics.timeline import build_timeline

    with pytest.raises(ValueError, match="timezone-aware"):
        build_timeline(events([]), workflow(), pd.Timestamp("2026-01-01"))


def test_discarding_from_the_backlog_starts_nothing_and_ends_blocks():
    """Dropping an item is not starting it; a block open when an item is dropped ends there."""
    dropped = [("A", "2026-01-01T00:00Z", "To Do"), ("A", "2026-01-02T00:00Z", "Won't Do")]
    assert not item(dropped, "2026-01-03")["started"]
    abandoned = [
        ("B", "2026-01-01T00:00Z", "In Progress"),
        ("B", "2026-01-02T00:00Z", "blocked"),
        ("B", "2026-01-04T00:00Z", "Won't Do"),
    ]
    b = item(abandoned, "2026-01-10", item_id="B")
    assert b["started"] and b["discarded"] and not b["blocked"]
    assert b["blocked_days"] == pytest.approx(2.0)


def test_done_after_dropped_finishes_when_it_reached_done():
    """Won't Do → Done: the item starts and finishes on reaching done: cycle time 0, not negative."""
    rows = [("A", "2026-01-01T00:00Z", "Won't Do"), ("A", "2026-01-03T00:00Z", "Done")]
    a = item(rows, "2026-01-04")
    assert a["finished_at"] == a["started_at"] == at("2026-01-03T00:00Z")
    assert a["cycle_time_days"] == 0
