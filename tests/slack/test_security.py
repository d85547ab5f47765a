"""Requests must come from Slack, recently, and from the team the install serves; secrets stay out of logs."""

from __future__ import annotations

import http.server
import logging
import threading
import time
from urllib.parse import urlencode

import httpx
import pytest
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


@pytest.mark.parametrize("timestamp", ["abc", "1e9", "", "1700000000.5", "+1700000000", "-5"])
def test_a_malformed_timestamp_is_refused_and_nothing_is_sent_anywhere(
    sample_app: RunningApp, timestamp: str, caplog
):
    """A non-numeric timestamp used to make the verifier raise: 500, the body logged, and "something went
    wrong" POSTed to the response_url of the unverified body. Now: 401, nothing sent, nothing of it logged."""
    caplog.set_level(logging.DEBUG)
    listener = Listener()
    with listener:
        body = urlencode(
            {
                "command": "/flow",
                "text": "status secret-words",
                "team_id": "T0000TEAM1",
                "channel_id": "C0000FLOW1",
                "user_id": "U0000USER1",
                "response_url": listener.url,
                "trigger_id": "1.2.3",
            }
        )
        response = httpx.post(
            sample_app.events_url,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": sample_app.sender.sign(body.encode(), int(time.time())),
            },
        )
        time.sleep(0.5)  # a lazy answer, had one started, would have posted by now
    assert response.status_code == 401
    assert listener.requests == []
    assert sample_app.slack.responses == []
    assert "secret-words" not in caplog.text and listener.url not in caplog.text


def test_a_bad_signature_is_logged_as_refused_never_with_its_body(sample_app: RunningApp, caplog):
    caplog.set_level(logging.DEBUG)
    sent = sample_app.sender.slash_command("status private-words", signature="v0=" + "1" * 64)
    assert sent.status_code == 401
    assert "refused a request that is not signed by Slack" in caplog.text
    assert "private-words" not in caplog.text


def test_a_signed_command_without_a_team_is_refused(sample_app: RunningApp):
    """Signed, but bound to no workspace: it may neither read nor change the boards."""
    fields = {
        "command": "/flow",
        "text": "limits Review 9",
        "channel_id": "C0000FLOW1",
        "user_id": "U0000USER1",
        "response_url": sample_app.slack.response_url(),
        "trigger_id": "1.2.3",
    }
    response = sample_app.sender.post(urlencode(fields).encode(), "application/x-www-form-urlencoded")
    assert response.status_code == 200 and "another workspace" in response.text
    time.sleep(0.5)
    assert sample_app.slack.responses == []
    with sample_app.sessions() as session:
        settings = session.scalars(select(Board.coaching_settings)).one()
    assert "9" not in str(settings or "")


class Listener:
    """A local HTTP server that records any request made to it (it must receive none)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                listener.requests.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_a_signed_request_replayed_within_five_minutes_changes_nothing(sample_app: RunningApp):
    """A captured `limits Review 1` sent again after the team chose 3 does not undo their choice, and its
    notice is not posted again: each signature is answered once (across server processes: a database claim).
    """
    fields = {
        "command": "/flow",
        "text": "Payments limits Review 1",
        "team_id": "T0000TEAM1",
        "channel_id": "C0000FLOW1",
        "user_id": "U0000USER1",
        "response_url": sample_app.slack.response_url("captured"),
        "trigger_id": "1.2.3",
    }
    body, timestamp = urlencode(fields).encode(), int(time.time())
    first = sample_app.sender.post(body, "application/x-www-form-urlencoded", timestamp=timestamp)
    assert first.status_code == 200
    sample_app.slack.wait_for_response("captured")
    sample_app.sender.slash_command("Payments limits Review 3")
    sample_app.slack.wait_for_response(count=2)

    for _ in range(2):
        replay = sample_app.sender.post(body, "application/x-www-form-urlencoded", timestamp=timestamp)
        assert (replay.status_code, replay.text) == (200, "")
    time.sleep(0.5)  # a replayed answer, if one were (wrongly) started, would have arrived by now
    assert len([post for post in sample_app.slack.responses if post.key == "captured"]) == 1
    with sample_app.sessions() as session:
        assert session.scalar(select(Board)).coaching_settings["wip_limits"] == {"Review": 3}


def test_old_request_claims_are_forgotten(sample_app: RunningApp):
    """Signatures are remembered only as long as Slack's five-minute window could accept them again."""
    import datetime as dt

    from bot.store.claims import claim, forget_claims
    from bot.store.models import DeliveryClaim

    sessions = sample_app.runtime.sessions
    assert claim(sessions, "request:v0=old") and claim(sessions, "digest:1:old")
    with sessions.begin() as session:
        for row in session.scalars(select(DeliveryClaim)):
            row.claimed_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    assert claim(sessions, "request:v0=new")
    assert forget_claims(sessions, "request:", older_than=dt.timedelta(minutes=10)) == 1
    with sessions() as session:
        assert sorted(session.scalars(select(DeliveryClaim.key))) == ["digest:1:old", "request:v0=new"]


def test_only_requests_that_act_are_remembered(sample_app: RunningApp):
    """Commands that change something or speak to the channel are claimed; questions are not (no write on
    the busiest path), nor is anything the acknowledgement refused."""
    from bot.slack.subcommands import SUBCOMMANDS
    from bot.store.models import DeliveryClaim

    acting = ["limits Review 3", "limits Review off", "snooze 2h", "snooze off", "digest", "status share",
              "Payments cycle 30d share", "help share"]  # fmt: skip
    asking = ["status", "limits", "snooze", "cycle 30d", "forecast 20", "help", "dance", "limits Review x"]
    assert [text for text in acting if not SUBCOMMANDS.acts(text)] == []
    assert [text for text in asking if SUBCOMMANDS.acts(text)] == []

    for text in ("status", "forecast 20", "limits"):
        sample_app.sender.slash_command(text)
    sample_app.slack.wait_for_response(count=3)
    with sample_app.sessions() as session:
        assert session.scalars(select(DeliveryClaim.key)).all() == []
    sample_app.sender.slash_command("snooze 2h")
    with sample_app.sessions() as session:
        assert [key[:11] for key in session.scalars(select(DeliveryClaim.key))] == ["request:v0="]
