"""A digest slot through the real job function and the Slack emulator: late, missed, refused, retried.

The job takes its slot in the ledger before posting; a slot reached late on its day is posted saying so,
one reached the next day is recorded missed (posting Monday's numbers on Tuesday is noise), and one Slack
refused is given back and delivered by the retry, once.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.sample import SAMPLE_ASOF
from bot.services.jobs import SlotNotDelivered
from bot.store.models import JobSlot
from bot.store.slots import DELIVERED, DUE, MISSED, SlotKey
from tests.slack.conftest import FLOW_CHANNEL, RunningApp, add_sample_board
from tests.slack.test_coach_in_slack import board_jobs


def slot_row(app: RunningApp, key: SlotKey) -> JobSlot:
    with app.sessions() as session:
        row = session.get(JobSlot, (key.kind, key.board_id, key.slot))
        assert row is not None
        return row


def digest_parents(app: RunningApp) -> list:
    return [
        call
        for call in app.slack.calls_to("chat.postMessage")
        if not call.failed and "thread_ts" not in call.params and call.params.get("channel") == FLOW_CHANNEL
    ]


def test_a_digest_posted_40_minutes_late_says_when_it_was_due(app: RunningApp):
    board_id = add_sample_board(app)
    slot = (SAMPLE_ASOF - dt.timedelta(minutes=40)).isoformat()
    board_jobs(app).digest(board_id, slot, "job:1/0")
    parent = app.slack.wait_for("chat.postMessage")[0]
    shown = json.dumps(parent.params["blocks"])
    assert "Posted late: due at 16:20, sent at 17:00" in shown
    row = slot_row(app, SlotKey("digest", board_id, slot))
    assert (row.state, row.note) == (DELIVERED, "40 min late")


def test_a_digest_on_time_says_nothing_of_lateness(app: RunningApp):
    board_id = add_sample_board(app)
    board_jobs(app).digest(board_id, (SAMPLE_ASOF - dt.timedelta(minutes=2)).isoformat(), "job:1/0")
    parent = app.slack.wait_for("chat.postMessage")[0]
    assert "Posted late" not in json.dumps(parent.params["blocks"])


def test_a_digest_reached_after_its_day_is_recorded_missed_and_not_posted(app: RunningApp):
    board_id = add_sample_board(app)
    slot = (SAMPLE_ASOF - dt.timedelta(days=1)).isoformat()
    board_jobs(app).digest(board_id, slot, "job:1/0")
    assert digest_parents(app) == []
    row = slot_row(app, SlotKey("digest", board_id, slot))
    assert row.state == MISSED and row.note is not None and "its day was over" in row.note


def test_a_digest_slack_refused_is_given_back_and_the_retry_posts_it_once(app: RunningApp):
    board_id = add_sample_board(app)
    key = SlotKey("digest", board_id, SAMPLE_ASOF.isoformat())
    app.slack.fail_next("chat.postMessage", status=500, error="internal_error", retry_after=None, times=20)
    jobs = board_jobs(app)
    with pytest.raises(SlotNotDelivered):
        jobs.digest(board_id, key.slot, "job:1/0")
    assert digest_parents(app) == []
    assert slot_row(app, key).state == DUE
    app.slack.clear_faults()

    jobs.digest(board_id, key.slot, "job:1/1")  # the queue's retry of the same job
    jobs.digest(board_id, key.slot, "job:2/0")  # and a second hand-over of the slot
    assert len(digest_parents(app)) == 1
    assert slot_row(app, key).state == DELIVERED
