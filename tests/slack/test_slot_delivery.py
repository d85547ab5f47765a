"""A digest slot through the real job function and the Slack emulator: late, missed, refused, retried.

The job takes its slot in the ledger before posting; a slot reached late on its day is posted saying so,
one reached the next day is recorded missed (posting Monday's numbers on Tuesday is noise), and one Slack
refused is given back and delivered by the retry, once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

import pytest

from bot.sample import SAMPLE_ASOF
from bot.services.jobs import Progress, SlotNotDelivered
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
    assert (row.state, row.note, row.late_by_s) == (DELIVERED, "40 min late", 40 * 60)


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


def died_while_posting(app: RunningApp, board_id: int, slot: str, *, posted: bool) -> SlotKey:
    """A worker took the slot, marked it posting, maybe posted it, and died before noting the outcome."""
    from bot.services.reports import board_digest
    from bot.slack.notifier import SlackNotifier
    from bot.store.models import Board
    from bot.store.slots import posting, take

    key = SlotKey("digest", board_id, slot)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    assert take(app.runtime.sessions, key, "job:1/0", hold_for=dt.timedelta(minutes=3), now=past)
    assert posting(app.runtime.sessions, key, "job:1/0")
    if posted:
        with app.sessions() as session:
            data = board_digest(session, session.get_one(Board, board_id), SAMPLE_ASOF)
        address = board_jobs(app)._address(board_id)
        notifier = SlackNotifier(app.runtime.settings, app.runtime.sessions)

        def killed(_ts: str, _parts: int) -> bool:  # Slack took the parent; the worker died before noting it
            raise RuntimeError("SIGKILL")

        progress = Progress(None, 0, killed)
        assert not notifier.digest(address, dataclasses.replace(data, delivery_key=str(key)), progress)
        assert len(digest_parents(app)) == 1
    return key


@pytest.mark.parametrize("posted", [True, False])
def test_a_slot_whose_worker_died_while_posting_is_posted_only_if_it_is_not_in_the_channel(
    app: RunningApp, posted: bool
):
    board_id = add_sample_board(app)
    key = died_while_posting(app, board_id, SAMPLE_ASOF.isoformat(), posted=posted)
    board_jobs(app).digest(board_id, key.slot, "job:1/1")  # the retry, another attempt
    assert len(digest_parents(app)) == 1
    row = slot_row(app, key)
    assert row.state == DELIVERED
    assert (row.note == "found in the channel after an interrupted post") is posted
    history = app.slack.calls_to("conversations.history")
    assert history and history[0].params["include_all_metadata"] in ("1", "true", True)


def test_without_history_scope_a_slot_interrupted_mid_post_is_posted_again_with_a_warning(
    app: RunningApp, caplog
):
    """At-least-once when the channel cannot be read: a digest twice beats a digest lost."""
    board_id = add_sample_board(app)
    key = died_while_posting(app, board_id, SAMPLE_ASOF.isoformat(), posted=True)
    team = app.slack.teams["T0000TEAM1"]
    team.scope = app.slack.DEFAULT_SCOPE.replace(",channels:history", "")
    caplog.set_level(logging.WARNING)
    board_jobs(app).digest(board_id, key.slot, "job:1/1")
    assert len(digest_parents(app)) == 2
    assert slot_row(app, key).state == DELIVERED
    assert any("it may appear twice" in record.getMessage() for record in caplog.records)
    refused = app.slack.calls_to("conversations.history")[0]
    assert refused.error == "missing_scope"


@pytest.mark.parametrize("share", [0.3, 0.6])
def test_a_digest_in_a_storm_of_429s_is_delivered_whole_and_once_by_its_retries(
    app: RunningApp, share: float
):
    """Slack answers 429 to 30 % / 60 % of posts: each attempt posts what it can and notes it; the queue's
    retries resume after the last part that went out. In the end: the parent once, then every reply of
    the thread once, in order; nothing lost."""
    board_id = add_sample_board(app)
    key = SlotKey("digest", board_id, SAMPLE_ASOF.isoformat())
    app.slack.rate_limit_storm("chat.postMessage", share, retry_after=0, seed=int(share * 10))
    jobs = board_jobs(app)
    for attempt in range(30):  # the queue retries a job that raised; 30 is far beyond what this needs
        try:
            jobs.digest(board_id, key.slot, f"job:1/{attempt}")
        except SlotNotDelivered:
            continue
        break
    assert slot_row(app, key).state == DELIVERED, f"not delivered in {attempt + 1} attempts"
    sent = [call for call in app.slack.calls_to("chat.postMessage") if not call.failed]
    refused = [call for call in app.slack.calls_to("chat.postMessage") if call.failed]
    assert refused, "the storm refused nothing"
    parents = [call for call in sent if "thread_ts" not in call.params]
    assert len(parents) == 1
    replies = [call for call in sent if "thread_ts" in call.params]
    assert {call.params["thread_ts"] for call in replies} == {parents[0].response["ts"]}
    app.slack.clear_faults()
    calm = board_jobs(app)
    calm_key = SlotKey("digest", board_id, (SAMPLE_ASOF - dt.timedelta(minutes=1)).isoformat())
    before = len(app.slack.calls_to("chat.postMessage"))
    calm.digest(board_id, calm_key.slot, "job:2/0")  # the same digest without a storm: the replies expected
    expected = [
        json.dumps(call.params["blocks"]) for call in app.slack.calls_to("chat.postMessage")[before + 1 :]
    ]
    assert [json.dumps(call.params["blocks"]) for call in replies] == expected


def test_a_digest_whose_worker_died_mid_thread_resumes_after_the_replies_already_out(app: RunningApp):
    """The worker noted the parent, posted the first reply and died before noting it: the next one reads
    the thread (each reply carries its slot and number), posts only the replies still missing."""
    from bot.services.reports import board_digest
    from bot.slack.notifier import SlackNotifier
    from bot.store.models import Board
    from bot.store.slots import posting, record_progress, take

    board_id = add_sample_board(app)
    key = SlotKey("digest", board_id, SAMPLE_ASOF.isoformat())
    sessions = app.runtime.sessions
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    assert take(sessions, key, "job:1/0", hold_for=dt.timedelta(minutes=3), now=past)
    assert posting(sessions, key, "job:1/0")
    with app.sessions() as session:
        data = board_digest(session, session.get_one(Board, board_id), SAMPLE_ASOF)

    def noted(ts: str, parts: int) -> bool:
        if parts == 1:
            raise RuntimeError("SIGKILL")  # Slack took the first reply; the worker died before noting it
        return record_progress(sessions, key, "job:1/0", ts, parts, hold_for=dt.timedelta(seconds=-1))

    progress = Progress(None, 0, noted)
    notifier = SlackNotifier(app.runtime.settings, sessions)
    assert not notifier.digest(
        board_jobs(app)._address(board_id), dataclasses.replace(data, delivery_key=str(key)), progress
    )
    before = [call for call in app.slack.calls_to("chat.postMessage") if not call.failed]
    assert len(before) == 2  # the parent and the first reply

    board_jobs(app).digest(board_id, key.slot, "job:1/1")
    sent = [call for call in app.slack.calls_to("chat.postMessage") if not call.failed]
    parents = [call for call in sent if "thread_ts" not in call.params]
    replies = [call for call in sent if "thread_ts" in call.params]
    parts = [call.params["metadata"]["event_payload"]["part"] for call in replies]
    assert len(parents) == 1 and parts == list(range(1, len(parts) + 1)) and len(parts) >= 2
    assert slot_row(app, key).state == DELIVERED
