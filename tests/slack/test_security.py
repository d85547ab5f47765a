"""Requests must come from Slack, recently, and from the team the install serves; secrets stay out of logs."""

from __future__ import annotations

import logging
import time

import httpx
from sqlalchemy import select

from bot.store.models import Board
from tests.slack.conftest import RunningApp


def test_a_bad_signature_is_refused(sample_app: RunningApp):
    """A request signed with the wrong secret gets 401 and no answer."""
    sent = sample_app.sender.slash_command("status", signature="v0=" + "0" * 64)
    assert sent.status_code == 401
    assert sample_app.slack.responses == []


def test_a_stale_timestamp_is_refused(sample_app: RunningApp):
    """A correctly signed request older than five minutes gets 401."""
    sent = sample_app.sender.slash_command("status", timestamp=int(time.time()) - 6 * 60)
    assert sent.status_code == 401


def test_a_replayed_request_is_refused(sample_app: RunningApp):
    """A captured request re-sent with a fresh timestamp no longer matches its signature: 401."""
    body = "command=%2Fflow&text=status&team_id=T0000TEAM1&channel_id=C0000FLOW1&user_id=U0000USER1"
    old = int(time.time()) - 10 * 60
    signature = sample_app.sender.sign(body.encode(), old)
    for timestamp in (old, int(time.time())):
        response = httpx.post(
            sample_app.events_url,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(timestamp),
                "X-Slack-Signature": signature,
            },
        )
        assert response.status_code == 401


def test_another_team_cannot_read_this_workspaces_boards(sample_app: RunningApp):
    """A signed request from a team the install does not serve gets no board data."""
    sent = sample_app.sender.slash_command("Payments status", team_id="T0000TEAM2")
    assert "Development" not in sent.text
    time.sleep(0.5)  # a lazy answer, if one were (wrongly) started, would have arrived by now
    assert all("Development" not in str(post.body) for post in sample_app.slack.responses)


def test_another_team_cannot_change_limits(sample_app: RunningApp):
    """A request from another team cannot change this workspace's WIP limits."""
    sample_app.sender.slash_command("Payments limits Review 1", team_id="T0000TEAM2")
    time.sleep(0.5)
    with sample_app.sessions() as session:
        assert session.scalar(select(Board)).coaching_settings == {}


def test_tokens_never_reach_the_logs(sample_app: RunningApp, caplog):
    """With every logger at DEBUG, neither the bot token nor the signing secret is written."""
    caplog.set_level(logging.DEBUG)
    sent = sample_app.sender.slash_command("status")
    sample_app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "xoxb-test-team1" not in logged
    assert sample_app.sender.signing_secret not in logged


def test_health_check_answers(sample_app: RunningApp):
    """`GET /healthz` is 200 while the database answers."""
    response = httpx.get(sample_app.base_url + "/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
