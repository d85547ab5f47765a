"""The coach through Slack: nudges posted once, buttons that act in place, `/flow digest`, `/flow health`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading

from sqlalchemy import select

from bot.sample import SAMPLE_ASOF
from bot.scheduler.execution import run_logged
from bot.scheduler.jobs import CHECK, SYNC, DueJob
from bot.services.jobs import BoardJobs
from bot.slack import ids
from bot.slack.notifier import SlackNotifier
from bot.store.models import AlertState
from tests.slack.conftest import FLOW_CHANNEL, USER, RunningApp, add_sample_board

SLOT = SAMPLE_ASOF.isoformat()  # a review due at the sample's "now": on time


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


def button_value(message: dict, action_id: str, section: int = 0) -> str:
    """The value of ``action_id`` in the message's ``section``-th set of buttons (its alerts' ids)."""
    actions = [block for block in message["blocks"] if block["type"] == "actions"]
    return next(e["value"] for e in actions[section]["elements"] if e["action_id"] == action_id)


def click_section(app: RunningApp, message: dict, action_id: str, value: str):
    return app.sender.block_action(
        action_id, value, user_id=USER, channel_id=FLOW_CHANNEL, message_ts=message["ts"]
    )


def posted_alerts(app: RunningApp) -> list[dict]:
    return [m for m in app.slack.messages(FLOW_CHANNEL) if "flow_alert" in json.dumps(m.get("blocks", []))]


def test_nudges_are_posted_once_and_survive_a_restart(app: RunningApp):
    """A check posts the board's nudges as one message with buttons; checking again (as after a restart)
    posts nothing."""
    board_id = add_sample_board(app)
    actions = run_check(app, board_id)
    assert {action.kind for action in actions} <= {"post", "fold"} and actions
    first = posted_alerts(app)
    assert len(first) == 1 and first[0].get("ts")  # one message per evaluation
    text = json.dumps(first[0]["blocks"])
    assert ids.ALERT_ACKNOWLEDGE in text and ids.ALERT_SNOOZE_HOUR in text
    assert run_check(app, board_id) == []
    assert len(posted_alerts(app)) == len(first)
    with app.sessions() as session:
        rows = session.scalars(select(AlertState).where(AlertState.posted_at.is_not(None))).all()
        assert rows and {row.message_ts for row in rows} == {first[0]["ts"]}


def test_acknowledge_and_snooze_act_in_place_and_record_who(app: RunningApp):
    """Acknowledge marks the alert and updates its message; snooze sets a time; both name the user."""
    board_id = add_sample_board(app)
    run_check(app, board_id)
    message = posted_alerts(app)[0]
    value = button_value(message, ids.ALERT_ACKNOWLEDGE)
    click(app, message, ids.ALERT_ACKNOWLEDGE)
    update = app.slack.wait_for("chat.update")[-1]
    assert "Acknowledged by <@U0000USER1>" in json.dumps(update.params["blocks"])
    with app.sessions() as session:
        row = session.get(AlertState, int(value.split(",")[0]))
        assert row.state == "acknowledged" and row.acted_by == USER
    click(app, message, ids.ALERT_SNOOZE_WEEK)
    app.slack.wait_for("chat.update", count=2)
    with app.sessions() as session:
        row = session.get(AlertState, int(value.split(",")[0]))
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
    assert "Forecast track record: 85% forecasts of the next 14 days came true" in details


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
    blocks = update.params["blocks"]
    shown = json.dumps(blocks)
    assert "Resolved" in shown and "Review" in shown
    # The message is drawn again whole: Review's section says resolved and lost its buttons; the other
    # signals of that message keep theirs.
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert str(review.id) not in {part for value in values for part in value.split(",")}
    with app.sessions() as session:
        still_open = session.scalars(
            select(AlertState).where(
                AlertState.message_ts == review.message_ts, AlertState.state != "resolved"
            )
        ).all()
    for row in still_open:
        assert any(str(row.id) in value.split(",") for value in values), row.subject
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
    jobs.weekly_review(board_id, SLOT, "job:1/0")
    parent = app.slack.wait_for("chat.postMessage")[0]
    assert parent.params["channel"] == FLOW_CHANNEL and "thread_ts" not in parent.params
    shown = json.dumps(parent.params["blocks"])
    assert any(verdict in shown for verdict in ("Push", "Starved pull", "Flow", "No clear pattern"))
    uploads = app.slack.wait_for("files.completeUploadExternal", count=4)
    assert {call.params.get("thread_ts") for call in uploads} == {parent.response["ts"]}
    assert all(call.params.get("channel_id") == FLOW_CHANNEL for call in uploads)

    jobs.weekly_review(board_id, SLOT, "job:1/0")
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
    run_logged(jobs, DueJob(SYNC, board_id), "test")
    assert jobs.checks == [board_id]  # one sync job, one check

    second = add_sample_board(app, name="Mobile")
    caplog.set_level(logging.WARNING)
    start = threading.Barrier(2)

    def due(kind: str) -> None:
        start.wait()
        run_logged(jobs, DueJob(kind, second), "test")

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
        block["block_id"]
        for call in app.slack.calls_to("chat.postMessage")
        for block in call.params.get("blocks") or []
        if block.get("block_id", "").startswith("alert_")
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
        row = session.get_one(AlertState, int(value.split(",")[0]))
        assert row.state == "acknowledged"


# --- one message per evaluation (issue 14, item 2) -------------------------------------------------------

MONDAY_OPENING = dt.datetime(2026, 11, 16, 7, 30, tzinfo=dt.UTC)  # 08:30 in Zurich, the board's first hour


def sections_of(blocks: list[dict]) -> list[str]:
    """The texts of the message's sections after its header, in order."""
    return [block["text"]["text"] for block in blocks[1:] if block["type"] == "section"]


def test_connecting_a_board_posts_what_it_sees_as_one_message_system_signals_first(app: RunningApp):
    """The issue's flood: connected on Monday morning, the sample board used to draw 6 top-level nudges at
    once, the WIP limit folded away and PAY-205 and PAY-237 taking two slots each (aging and blocked). Now:
    one message headed "Payments — what I see now", the WIP limit first, then each item once with all its
    reasons and its own buttons; no overflow thread."""
    board_id = add_sample_board(app)
    actions = check_board(app, board_id, MONDAY_OPENING)
    assert [a.kind for a in actions].count("post") == len(actions) >= 6
    [message] = posted_alerts(app)
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert blocks[0]["text"]["text"] == "*Payments* — what I see now"
    assert "what I see now" in message["text"]
    texts_ = sections_of(blocks)
    assert texts_[0].startswith("*WIP limit exceeded* · *Development*"), texts_
    items = texts_[1:]
    for item in ("PAY-205", "PAY-237", "PAY-252"):
        assert sum(f"|{item}>" in text.splitlines()[0] for text in items) == 1, (item, items)  # once
    [pay_205] = [text for text in items if "|PAY-205>" in text.splitlines()[0]]
    assert "Item past the SLE" in pay_205 and "Item blocked" in pay_205
    assert "Who can unblock it today?" in pay_205  # one next step, the one that moves it
    # Buttons per section: the WIP limit's (with "Show items"), then one set per item.
    actions_blocks = [block for block in blocks if block["type"] == "actions"]
    assert len(actions_blocks) == 1 + 3
    assert ids.ALERT_SHOW_ITEMS in json.dumps(actions_blocks[0])
    assert ids.ALERT_SHOW_ITEMS not in json.dumps(actions_blocks[1:])
    assert [m for m in app.slack.messages(FLOW_CHANNEL) if "thread_ts" in m] == []


def set_budget(app: RunningApp, board_id: int, budget: int) -> None:
    from bot.store.models import Board

    with app.runtime.sessions.begin() as session:
        board = session.get_one(Board, board_id)
        board.coaching_settings = {
            **(board.coaching_settings or {}),
            "thresholds": {"max_alerts_per_day": budget},
        }


def test_two_boards_in_one_channel_each_have_their_own_budget_and_overflow_thread(app: RunningApp):
    """Payments and Mobile speak in the same channel, each with a budget of 1 message a day. Each board's
    first check is its own message (Mobile's is not folded into Payments' budget); the afternoon's new
    signal of each goes into that board's own "more flow signals" thread."""
    payments = add_sample_board(app)
    mobile = add_sample_board(app, name="Mobile")
    for board_id in (payments, mobile):
        set_budget(app, board_id, 1)
    morning = dt.datetime(2026, 11, 16, 9, 45, tzinfo=dt.UTC)
    for board_id in (payments, mobile):
        assert {a.kind for a in check_board(app, board_id, morning)} == {"post"}
    top = [m for m in app.slack.messages(FLOW_CHANNEL) if "thread_ts" not in m]
    assert [m["blocks"][0]["text"]["text"] for m in top] == [
        "*Payments* — what I see now",
        "*Mobile* — what I see now",
    ]

    afternoon = dt.datetime(2026, 11, 16, 14, 0, tzinfo=dt.UTC)  # Test goes over its limit at 15:00 Zurich
    for board_id in (payments, mobile):
        assert "fold" in {a.kind for a in check_board(app, board_id, afternoon)}
    messages = app.slack.messages(FLOW_CHANNEL)
    parents = [m for m in messages if "thread_ts" not in m and "More flow signals" in m["text"]]
    assert [("Payments" in m["text"], "Mobile" in m["text"]) for m in parents] == [
        (True, False),
        (False, True),
    ]
    for parent, name in zip(parents, ("Payments", "Mobile"), strict=True):
        [folded] = [m for m in messages if m.get("thread_ts") == parent["ts"]]
        assert re.fullmatch(rf"\*{name}\* — \d+ flow signals?", folded["blocks"][0]["text"]["text"])
        assert "*Test*" in json.dumps(folded["blocks"])
    # A new day, a new budget: Wednesday's signal is at the top of the channel again, no longer a first look.
    wednesday = dt.datetime(2026, 11, 18, 9, 15, tzinfo=dt.UTC)
    kinds = [a.kind for a in check_board(app, payments, wednesday)]
    assert "post" in kinds and "fold" not in kinds
    latest = [m for m in app.slack.messages(FLOW_CHANNEL) if "thread_ts" not in m][-1]
    assert re.fullmatch(r"\*Payments\* — \d+ flow signals?", latest["blocks"][0]["text"]["text"])
    assert "Whole board" in json.dumps(latest["blocks"]) or "whole board" in json.dumps(latest["blocks"])


def test_buttons_on_a_grouped_message_act_on_their_own_alerts(app: RunningApp):
    """Acknowledging an item acts on all its reasons and nothing else; snoozing the WIP limit acts on it
    alone; each click draws the whole message again, every other section as it was."""
    board_id = add_sample_board(app)
    check_board(app, board_id, MONDAY_OPENING)
    [message] = posted_alerts(app)
    before = sections_of(message["blocks"])
    item_value = next(
        value
        for index in range(4)
        if "," in (value := button_value(message, ids.ALERT_ACKNOWLEDGE, index))  # an item with two reasons
    )
    click_section(app, message, ids.ALERT_ACKNOWLEDGE, item_value)
    update = app.slack.wait_for("chat.update")[-1]
    assert update.params["ts"] == message["ts"]
    after = update.params["blocks"]
    assert len(sections_of(after)) == len(before)  # nothing dropped
    assert json.dumps(after).count("Acknowledged by <@U0000USER1>") == 1
    acknowledged = {int(part) for part in item_value.split(",")}
    with app.sessions() as session:
        rows = session.scalars(select(AlertState).where(AlertState.message_ts == message["ts"])).all()
    assert {row.id for row in rows if row.state == "acknowledged"} == acknowledged
    assert all(row.acted_by == USER for row in rows if row.id in acknowledged)

    wip_value = button_value(message, ids.ALERT_SNOOZE_HOUR, 0)
    click_section(app, message, ids.ALERT_SNOOZE_HOUR, wip_value)
    update = app.slack.wait_for("chat.update", count=2)[-1]
    shown = json.dumps(update.params["blocks"])
    assert "Snoozed until" in shown and "Acknowledged by <@U0000USER1>" in shown  # both choices on show
    with app.sessions() as session:
        states = {row.id: row.state for row in session.scalars(select(AlertState))}
    assert states[int(wip_value)] == "snoozed"
    assert {alert_id for alert_id, state in states.items() if state == "acknowledged"} == acknowledged
    assert [state for alert_id, state in states.items() if alert_id not in {*acknowledged, int(wip_value)}]
    assert all(
        state == "open"
        for alert_id, state in states.items()
        if alert_id not in {*acknowledged, int(wip_value)}
    )
