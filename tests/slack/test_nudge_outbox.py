"""Nudges through the coach's outbox, the real job function and the Slack emulator: a post Slack refuses
for longer than the client's retries waits for a later check (the board's later nudges behind it), a post
whose answer was lost is found in the channel instead of posted twice, a message whose alerts all cleared
while it waited is not posted, and under 429 storms every nudge arrives exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections import Counter

import pytest
from sqlalchemy import select

from bot.sample import SAMPLE_ASOF
from bot.slack import delivery
from bot.slack.notifier import SlackNotifier
from bot.store.models import AlertState, Board, NudgeOutboxEntry
from bot.store.nudge_outbox import DROPPED, SENT, WAITING, add_message
from tests.slack.conftest import FLOW_CHANNEL, RunningApp, add_sample_board
from tests.slack.test_coach_in_slack import board_jobs

TALKATIVE = {  # a board that speaks often: a budget of one message a day, the rest folded into a thread
    "thresholds": {
        "max_alerts_per_day": 1,
        "cooldown_hours": 1,
        "stale_after_hours": 168,
        "starving_after_hours": 2,
        "blocked_after_hours": 3,
    }
}


def entries(app: RunningApp) -> list[NudgeOutboxEntry]:
    with app.sessions() as session:
        return list(session.scalars(select(NudgeOutboxEntry).order_by(NudgeOutboxEntry.id)).all())


def posts(app: RunningApp) -> list:
    """The chat.postMessage calls Slack carried out (not the ones an injected fault refused)."""
    return [call for call in app.slack.calls_to("chat.postMessage") if not call.failed and call.error is None]


def key_of(call) -> str | None:
    metadata = call.params.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return ((metadata or {}).get("event_payload") or {}).get("key")


def deliver(app: RunningApp, board_id: int, now: dt.datetime) -> None:
    """What a check delivers after evaluating: the board's waiting entries."""
    jobs = board_jobs(app, now)
    SlackNotifier(app.runtime.settings, app.runtime.sessions, clock=lambda: now).nudges(
        jobs._address(board_id)
    )


def check(app: RunningApp, board_id: int, now: dt.datetime) -> list:
    return board_jobs(app, now).check(board_id, now)


def test_a_nudge_slack_refuses_past_the_retries_waits_for_the_next_check_and_goes_out_once(app: RunningApp):
    board_id = add_sample_board(app)
    app.slack.fail_next(
        "chat.postMessage", retry_after=0, times=4
    )  # the first try and the client's 3 retries
    assert check(app, board_id, SAMPLE_ASOF)
    [waiting] = entries(app)
    assert waiting.state == "pending" and waiting.attempts == 1 and "ratelimited" in (waiting.note or "")
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > SAMPLE_ASOF
    assert posts(app) == []

    soon = SAMPLE_ASOF + dt.timedelta(seconds=5)  # before the wait Slack was given: nothing is tried
    check(app, board_id, soon)
    assert posts(app) == []
    later = SAMPLE_ASOF + dt.timedelta(minutes=15)
    assert check(app, board_id, later) == []  # nothing new decided: the waiting message goes out
    [sent] = posts(app)
    assert key_of(sent) == f"nudge:{waiting.id}"
    [entry] = entries(app)
    assert entry.state == SENT and entry.posted_ts == sent.response["ts"]
    with app.sessions() as session:
        rows = session.scalars(select(AlertState).where(AlertState.board_id == board_id)).all()
        assert {row.message_ts for row in rows if row.posted_at is not None} == {entry.posted_ts}
    check(app, board_id, later + dt.timedelta(minutes=15))
    assert len(posts(app)) == 1


def test_a_post_whose_answer_was_lost_is_found_in_the_channel_not_posted_again(app: RunningApp):
    """Slack took the post, its answer never came back (as when the worker is killed then): the entry
    stays ``posting``; the next check finds the message by its metadata and records it, posting nothing."""
    board_id = add_sample_board(app)
    app.slack.lose_next_answer("chat.postMessage")
    check(app, board_id, SAMPLE_ASOF)
    [entry] = entries(app)
    assert entry.state == "posting"
    assert len(posts(app)) == 1  # it is in the channel, though its sender does not know
    check(app, board_id, SAMPLE_ASOF + dt.timedelta(minutes=15))
    [entry] = entries(app)
    assert entry.state == SENT and entry.note == "found in the channel"
    assert entry.posted_ts == posts(app)[0].response["ts"] and len(posts(app)) == 1
    assert app.slack.calls_to("conversations.history")


def test_without_history_scope_a_lost_answer_means_posting_again_with_a_warning(app: RunningApp, caplog):
    board_id = add_sample_board(app)
    team = app.slack.teams["T0000TEAM1"]
    team.scope = app.slack.DEFAULT_SCOPE.replace(",channels:history", "")
    app.slack.lose_next_answer("chat.postMessage")
    check(app, board_id, SAMPLE_ASOF)
    caplog.set_level(logging.WARNING, logger="flowcoach.slack")
    check(app, board_id, SAMPLE_ASOF + dt.timedelta(minutes=15))
    assert len(posts(app)) == 2  # at least once: it cannot tell
    assert entries(app)[0].state == SENT
    assert any("cannot read channel" in record.getMessage() for record in caplog.records)


def test_a_message_whose_alerts_all_cleared_while_it_waited_is_not_posted(app: RunningApp):
    board_id = add_sample_board(app)
    app.slack.fail_next("chat.postMessage", retry_after=0, times=4)
    check(app, board_id, SAMPLE_ASOF)
    [entry] = entries(app)
    with app.runtime.sessions.begin() as session:
        for alert_id in entry.alert_ids:
            session.get_one(AlertState, alert_id).state = "resolved"
    deliver(app, board_id, SAMPLE_ASOF + dt.timedelta(minutes=15))  # (a check would see them again)
    assert posts(app) == []
    [entry] = entries(app)
    assert entry.state == DROPPED and entry.note == "every alert cleared before it could be posted"


def test_a_nudge_slack_refuses_for_good_is_dropped_with_why_and_the_next_ones_go_out(app: RunningApp, caplog):
    board_id = add_sample_board(app)
    app.slack.fail_next("chat.postMessage", status=200, error="msg_too_long", retry_after=None)
    caplog.set_level(logging.WARNING, logger="flowcoach.slack")
    check(app, board_id, SAMPLE_ASOF)
    [entry] = entries(app)
    assert entry.state == DROPPED and entry.note == "Slack refused it: msg_too_long"
    assert any("msg_too_long" in record.getMessage() for record in caplog.records)


def test_a_nudge_that_waited_a_day_is_dropped(app: RunningApp):
    board_id = add_sample_board(app)
    app.slack.fail_next("chat.postMessage", retry_after=0, times=4)
    check(app, board_id, SAMPLE_ASOF)
    app.slack.rate_limit_storm("chat.postMessage", 1.0, retry_after=0)
    check(app, board_id, SAMPLE_ASOF + dt.timedelta(hours=3))
    app.slack.clear_faults()
    check(app, board_id, SAMPLE_ASOF + dt.timedelta(hours=25))
    first = entries(app)[0]
    assert first.state == DROPPED and first.note == "not delivered within 24 hours"
    assert first.attempts == 2


@pytest.mark.parametrize("share", [0.3, 0.6])
def test_nudges_in_a_storm_of_429s_each_arrive_once_replies_after_their_parents(
    app: RunningApp, share: float, monkeypatch: pytest.MonkeyPatch
):
    """Two talkative boards in one channel, checked every three hours for five days while Slack answers
    429 to ``share`` of the posts, then calm for three hours. The client's own retries are off here, so
    ``share`` of the attempts wait for a later check (with them, a nudge waits only when four 429s come in
    a row: the hardest case is the one tested). Every message the coach decided is in the channel exactly
    once (or dropped because all its alerts cleared while it waited), each reply after its parent, one
    "more flow signals" thread per board and day, and nothing left waiting."""
    monkeypatch.setattr(delivery, "RATE_LIMIT_RETRIES", 0)
    boards = [add_sample_board(app, name=f"Team {number}") for number in range(2)]
    with app.runtime.sessions.begin() as session:
        for board_id in boards:
            session.get_one(Board, board_id).coaching_settings = TALKATIVE
    app.slack.rate_limit_storm("chat.postMessage", share, retry_after=0, seed=int(share * 10))
    waited = set()
    instants = [SAMPLE_ASOF + dt.timedelta(hours=3 * step) for step in range(40)]  # Fri 17:00 to Wed
    for number, now in enumerate(instants):
        for board_id in boards:
            check(app, board_id, now)
        waited |= {entry.id for entry in entries(app) if entry.state in WAITING}
        if number == len(instants) - 1:
            app.slack.clear_faults()
    calm = instants[-1]
    for step in range(1, 4):
        for board_id in boards:
            check(app, board_id, calm + dt.timedelta(hours=step))

    outbox = entries(app)
    assert [entry.id for entry in outbox if entry.state in WAITING] == []
    lost = [
        entry
        for entry in outbox
        if entry.state == DROPPED and not (entry.note or "").startswith("every alert")
    ]
    assert lost == []
    sent_keys = Counter(key_of(call) for call in posts(app))
    assert {key: count for key, count in sent_keys.items() if count > 1} == {}
    for entry in outbox:
        if entry.state == SENT and entry.kind != "redraw":
            assert sent_keys[f"nudge:{entry.id}"] == 1, entry.id
    assert len(outbox) >= 10
    assert waited, "the storm made no nudge wait: the test proves nothing"

    order = {call.response["ts"]: index for index, call in enumerate(posts(app))}
    for index, call in enumerate(posts(app)):
        if "thread_ts" in call.params:
            assert order[call.params["thread_ts"]] < index  # the parent went out first
    by_id = {entry.id: entry for entry in outbox}
    started = [
        int(str(key_of(call)).removeprefix("nudge-thread:"))
        for call in posts(app)
        if str(key_of(call)).startswith("nudge-thread:")
    ]
    threads = Counter(  # by board and the local day each went out (its message just after it)
        (by_id[entry_id].board_id, by_id[entry_id].finished_at.astimezone(SAMPLE_ASOF.tzinfo).date())
        for entry_id in started
    )
    assert max(threads.values(), default=1) == 1
    with app.sessions() as session:
        unplaced = session.scalars(
            select(AlertState).where(AlertState.posted_at.is_not(None), AlertState.message_ts.is_(None))
        ).all()
        dropped_alerts = {
            alert_id for entry in outbox if entry.state == DROPPED for alert_id in entry.alert_ids or []
        }
        assert {row.id for row in unplaced} <= dropped_alerts
    assert all(call.params.get("channel") == FLOW_CHANNEL for call in posts(app))
    sys.stdout.write(  # the figures for benchmarks/README.md, with -s
        f"share {share}: {len(outbox)} entries, {len(waited)} waited, "
        f"{sum(entry.state == SENT for entry in outbox)} sent, "
        f"{sum(entry.state == DROPPED for entry in outbox)} dropped (all cleared), 0 lost, 0 twice, "
        f"{len(started)} threads; "
        f"{len([c for c in app.slack.calls_to('chat.postMessage') if c.failed])} posts refused\n"
    )


def test_folds_of_one_day_share_one_thread_even_when_starting_it_was_cut_short(app: RunningApp):
    """The first fold's "more flow signals" post reached Slack but its answer was lost; then its own
    reply was refused past the retries. Its thread is found by its metadata (not started twice), the
    second fold waits behind the first, and both land in that one thread, in order."""
    board_id = add_sample_board(app)
    check(app, board_id, SAMPLE_ASOF)  # the day's message
    [message] = entries(app)
    first_alert, second_alert = message.alert_ids[:2]
    with app.runtime.sessions.begin() as session:  # two later evaluations over the budget, as the coach
        for alert_id in (first_alert, second_alert):  # stores them
            add_message(session, board_id, FLOW_CHANNEL, [alert_id], fold=True, first=False, now=SAMPLE_ASOF)
    later = SAMPLE_ASOF + dt.timedelta(minutes=20)

    app.slack.lose_next_answer("chat.postMessage")  # the thread's first message
    deliver(app, board_id, later)
    assert [entry.state for entry in entries(app)] == ["sent", "posting", "pending"]
    app.slack.fail_next("chat.postMessage", retry_after=0, times=4)  # then the first fold's reply
    deliver(app, board_id, later + dt.timedelta(minutes=1))
    first_fold, second_fold = entries(app)[1:]
    assert first_fold.state == "pending" and first_fold.thread_ts is not None
    assert second_fold.state == "pending" and second_fold.attempts == 0  # it waited behind the first
    deliver(app, board_id, later + dt.timedelta(minutes=15))

    sent = posts(app)
    threads = [call for call in sent if key_of(call) == f"nudge-thread:{first_fold.id}"]
    assert len(threads) == 1 and threads[0].response["ts"] == first_fold.thread_ts
    replies = [call for call in sent if call.params.get("thread_ts") == first_fold.thread_ts]
    assert [key_of(call) for call in replies] == [f"nudge:{first_fold.id}", f"nudge:{second_fold.id}"]
    assert [entry.state for entry in entries(app)] == ["sent", "sent", "sent"]
    with app.sessions() as session:
        for alert_id, call in zip((first_alert, second_alert), replies, strict=True):
            row = session.get_one(AlertState, alert_id)
            assert row.message_ts == call.response["ts"] and row.details["thread_ts"] == first_fold.thread_ts
