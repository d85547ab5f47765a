"""The coach through Slack: nudges posted once, buttons that act in place, `/flow digest`, `/flow health`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading

from sqlalchemy import select

from bot.sample import SAMPLE_ASOF
from bot.scheduler.jobs import CHECK, SYNC
from bot.scheduler.runner import JobRunner
from bot.services.jobs import BoardJobs
from bot.slack import ids
from bot.slack.notifier import SlackNotifier
from bot.store.models import AlertState
from tests.slack.conftest import FLOW_CHANNEL, USER, RunningApp, add_sample_board


def board_jobs(app: RunningApp, now: dt.datetime = SAMPLE_ASOF) -> BoardJobs:
    """The worker's job functions, speaking in the emulated Slack with the app's bot token."""
    notifier = SlackNotifier(app.runtime.settings, app.runtime.sessions, clock=lambda: now)
    return BoardJobs(app.runtime.sessions, notifier, secret_key=None, clock=lambda: now)


def check_board(app: RunningApp, board_id: int, now: dt.datetime) -> list:
    return [decision.action for decision in board_jobs(app, now).check(board_id, now)]


def run_check(app: RunningApp, board_id: int) -> list:
    return check_board(app, board_id, SAMPLE_ASOF)


def click(app: RunningApp, message: dict, action_id: str):
    """Press a button of a posted message, with the value the message gave it."""
    value = next(
        element["value"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )
    return app.sender.block_action(
        action_id, value, user_id=USER, channel_id=FLOW_CHANNEL, message_ts=message["ts"]
    )


def posted_alerts(app: RunningApp) -> list[dict]:
    return [m for m in app.slack.messages(FLOW_CHANNEL) if "flow_alert" in json.dumps(m.get("blocks", []))]


def test_nudges_are_posted_once_and_survive_a_restart(app: RunningApp):
    """A check posts the board's nudges with buttons; checking again (as after a restart) posts nothing."""
    board_id = add_sample_board(app)
    actions = run_check(app, board_id)
    assert {action.kind for action in actions} <= {"post", "fold"} and actions
    first = posted_alerts(app)
    assert first and all(message.get("ts") for message in first)
    text = json.dumps(first[0]["blocks"])
    assert ids.ALERT_ACKNOWLEDGE in text and ids.ALERT_SNOOZE_HOUR in text
    assert run_check(app, board_id) == []
    assert len(posted_alerts(app)) == len(first)
    with app.sessions() as session:
        rows = session.scalars(select(AlertState).where(AlertState.posted_at.is_not(None))).all()
        assert all(row.message_ts for row in rows)


def test_acknowledge_and_snooze_act_in_place_and_record_who(app: RunningApp):
    """Acknowledge marks the alert and updates its message; snooze sets a time; both name the user."""
    board_id = add_sample_board(app)
    run_check(app, board_id)
    message = posted_alerts(app)[0]
    click(app, message, ids.ALERT_ACKNOWLEDGE)
    update = app.slack.wait_for("chat.update")[-1]
    assert "Acknowledged by <@U0000USER1>" in json.dumps(update.params["blocks"])
    with app.sessions() as session:
        row = session.scalar(select(AlertState).where(AlertState.message_ts == message["ts"]))
        assert row.state == "acknowledged" and row.acted_by == USER
    click(app, message, ids.ALERT_SNOOZE_WEEK)
    app.slack.wait_for("chat.update", count=2)
    with app.sessions() as session:
        row = session.scalar(select(AlertState).where(AlertState.message_ts == message["ts"]))
        assert row.state == "snoozed" and row.snoozed_until is not None
        assert (row.snoozed_until - SAMPLE_ASOF).days == 7


def test_show_items_lists_the_stage_items_privately(app: RunningApp):
    """ "Show items" on a stage alert answers the clicker alone with the stage's items, titles and ages."""
    board_id = add_sample_board(app)
    run_check(app, board_id)
    stage_alert = next(m for m in posted_alerts(app) if ids.ALERT_SHOW_ITEMS in json.dumps(m["blocks"]))
    sent = click(app, stage_alert, ids.ALERT_SHOW_ITEMS)
    answer = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body
    assert answer["response_type"] == "ephemeral" and "PAY-" in answer["text"]
    assert re.search(r"\|PAY-\d+> \S.* · \d+\.\d d", answer["text"]), answer["text"]  # id, title, age


def test_flow_digest_posts_a_parent_with_its_details_in_the_thread(sample_app: RunningApp):
    """`/flow digest` posts the digest in the channel: one parent message, the details as thread replies."""
    sample_app.sender.slash_command("digest")
    posts = sample_app.slack.wait_for("chat.postMessage", count=2)
    parent, replies = posts[0], posts[1:]
    assert parent.params["channel"] == FLOW_CHANNEL and "thread_ts" not in parent.params
    ts = parent.response["ts"]
    sample_app.slack.wait_for("chat.postMessage", count=4)
    replies = sample_app.slack.calls_to("chat.postMessage")[1:]
    assert replies and all(reply.params.get("thread_ts") == ts for reply in replies)


def marks(text: str) -> int:
    """How many criteria a text states (each line starts with ✓ or ✗)."""
    return text.count("✓") + text.count("✗")


def test_flow_health_leads_privately_with_the_verdict_and_three_numbers(sample_app: RunningApp):
    """`/flow health` answers privately with the verdict and its three strongest numbers; every criterion,
    the bottleneck and the trends follow in a second private message (ephemeral messages have no thread)."""
    sent = sample_app.sender.slash_command("health")
    lead, rest = (r.body for r in sample_app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1], 2))
    assert lead["response_type"] == rest["response_type"] == "ephemeral"
    shown = json.dumps(lead["blocks"], ensure_ascii=False)
    assert (
        "*Push:*" in shown or "*Starved pull:*" in shown or "*Flow:*" in shown or "No clear pattern" in shown
    )
    assert marks(shown) == 3 and "%" in shown
    details = json.dumps(rest["blocks"], ensure_ascii=False)
    assert marks(details) > 3 and "Bottleneck" in details and "Throughput" in details


def test_flow_health_share_posts_the_verdict_in_the_channel_and_the_evidence_in_its_thread(
    sample_app: RunningApp,
):
    """With `share`, the verdict and three numbers are one channel message, the rest a reply in its thread."""
    sample_app.sender.slash_command("health share")
    parent, reply = sample_app.slack.wait_for("chat.postMessage", count=2)
    assert parent.params["channel"] == FLOW_CHANNEL and "thread_ts" not in parent.params
    assert reply.params["thread_ts"] == parent.response["ts"]
    assert marks(json.dumps(parent.params["blocks"], ensure_ascii=False)) == 3
    assert "Bottleneck" in json.dumps(reply.params["blocks"], ensure_ascii=False)


def test_a_mention_can_ask_for_health(sample_app: RunningApp):
    """`@flowcoach health` answers in thread with the diagnosis."""
    sample_app.sender.app_mention("<@U0BOT0001> health", channel_id=FLOW_CHANNEL)
    call = sample_app.slack.wait_for("chat.postMessage")[0]
    assert "weekly flow review" in json.dumps(call.params["blocks"])


def test_a_cleared_alert_updates_its_original_message_to_resolved(app: RunningApp):
    """Review over its limit on the sample's Monday 16 November morning, back under it by the afternoon:
    the afternoon's check edits the morning's message in place (no new message) to say it resolved."""
    board_id = add_sample_board(app)
    morning = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
    check_board(app, board_id, morning)
    with app.sessions() as session:
        review = session.scalars(
            select(AlertState).where(AlertState.rule == "wip_limit_exceeded", AlertState.subject == "Review")
        ).one()
    assert review.message_ts and review.resolved_at is None
    posts_before = len(app.slack.calls_to("chat.postMessage"))

    afternoon = dt.datetime(2026, 11, 16, 14, 15, tzinfo=dt.UTC)
    actions = check_board(app, board_id, afternoon)
    assert any(a.kind == "resolve" and a.alert.subject == "Review" for a in actions)
    update = app.slack.wait_for("chat.update", predicate=lambda c: c.params["ts"] == review.message_ts)[0]
    shown = json.dumps(update.params["blocks"])
    assert "Resolved" in shown and "Review" in shown and "flow_alert" not in shown  # no buttons left
    new_top_level = [
        call
        for call in app.slack.calls_to("chat.postMessage")[posts_before:]
        if "thread_ts" not in call.params and "Review" in str(call.params.get("text"))
    ]
    assert new_top_level == []


def test_the_weekly_review_posts_its_diagnosis_with_the_four_charts_in_the_thread(app: RunningApp):
    """The worker's weekly review: one message with the diagnosis, four PNG charts in its thread; the same
    slot run again (a retry, a second worker) posts nothing."""
    board_id = add_sample_board(app)
    jobs = board_jobs(app)
    jobs.weekly_review(board_id, "2026-11-16T09:30:00+01:00")
    parent = app.slack.wait_for("chat.postMessage")[0]
    assert parent.params["channel"] == FLOW_CHANNEL and "thread_ts" not in parent.params
    shown = json.dumps(parent.params["blocks"])
    assert any(verdict in shown for verdict in ("Push", "Starved pull", "Flow", "No clear pattern"))
    uploads = app.slack.wait_for("files.completeUploadExternal", count=4)
    assert {call.params.get("thread_ts") for call in uploads} == {parent.response["ts"]}
    assert all(call.params.get("channel_id") == FLOW_CHANNEL for call in uploads)

    jobs.weekly_review(board_id, "2026-11-16T09:30:00+01:00")
    assert len(app.slack.calls_to("chat.postMessage")) == 1
    assert len(app.slack.calls_to("files.completeUploadExternal")) == 4


class CountingJobs(BoardJobs):
    """The real job functions, counting how often a board's rules are checked."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.checks: list[int] = []
        self._lock = threading.Lock()

    def check(self, board_id: int, at: dt.datetime) -> list:
        with self._lock:
            self.checks.append(board_id)
        return super().check(board_id, at)


def test_one_sync_job_checks_once_and_a_check_due_with_it_posts_nothing_twice(app: RunningApp, caplog):
    """A board's first sync job and a check job fall due together (the worker log once showed `UNIQUE
    constraint failed: alert_states…` here): the sync job checks exactly once, both evaluations are
    serialised, and every nudge reaches the channel once."""
    board_id = add_sample_board(app)
    notifier = SlackNotifier(app.runtime.settings, app.runtime.sessions, clock=lambda: SAMPLE_ASOF)
    jobs = CountingJobs(app.runtime.sessions, notifier, secret_key=None, clock=lambda: SAMPLE_ASOF)
    runner = JobRunner(jobs, trigger_of=lambda _job: None, holds_lease=lambda: True, lookback_s=60)
    runner.accept()

    runner.run(SYNC, board_id)
    assert jobs.checks == [board_id]  # one sync job, one check

    second = add_sample_board(app, name="Mobile")
    caplog.set_level(logging.WARNING)
    start = threading.Barrier(2)

    def due(kind: str) -> None:
        start.wait()
        runner.run(kind, second)

    threads = [threading.Thread(target=due, args=(kind,)) for kind in (SYNC, CHECK)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert jobs.checks.count(second) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    with app.sessions() as session:
        keys = session.execute(
            select(AlertState.rule, AlertState.subject).where(AlertState.board_id == second)
        ).all()
    assert keys and len(keys) == len(set(keys))
    posted = [
        call.params["blocks"][-1]["block_id"]
        for call in app.slack.calls_to("chat.postMessage")
        if call.params.get("blocks") and call.params["blocks"][-1].get("block_id", "").startswith("alert_")
    ]
    assert posted and len(posted) == len(set(posted))


def test_a_replayed_button_click_changes_nothing(app: RunningApp):
    """The same signed "snooze a week" click sent again after the team acknowledged the nudge does not
    snooze it again: a request that acts is answered once."""
    import time

    board_id = add_sample_board(app)
    run_check(app, board_id)
    message = posted_alerts(app)[0]
    value = next(
        element["value"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.ALERT_SNOOZE_WEEK
    )
    stamp = int(time.time())
    snooze = app.sender.block_action(
        ids.ALERT_SNOOZE_WEEK,
        value,
        user_id=USER,
        channel_id=FLOW_CHANNEL,
        message_ts=message["ts"],
        timestamp=stamp,
    )
    app.slack.wait_for("chat.update")
    click(app, message, ids.ALERT_ACKNOWLEDGE)
    app.slack.wait_for("chat.update", count=2)
    replay = app.sender.interaction(snooze.payload, timestamp=stamp)
    assert (replay.status_code, replay.text) == (200, "")
    time.sleep(0.5)  # a replayed click, if it (wrongly) ran, would have updated the message by now
    assert len(app.slack.calls_to("chat.update")) == 2
    with app.sessions() as session:
        row = session.scalar(select(AlertState).where(AlertState.message_ts == message["ts"]))
        assert row.state == "acknowledged"
