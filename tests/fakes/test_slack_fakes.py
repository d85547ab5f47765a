"""The Slack fakes against the real clients: slack_sdk's WebClient and retry handlers, Bolt, signatures.

If these pass, the emulator speaks the protocol slack_sdk speaks (content types, JSON strings in forms, the
upload URL, Basic auth, 429s and dropped connections) and the sender's requests pass Bolt's checks.
"""

from __future__ import annotations

import json
import threading
import time
import types
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack_api import SlackEmulator
from tests.fakes.slack_requests import SlackSender

SECRET = "signing-secret-for-tests"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + b"\x00\xff\r\n"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*WIP* is 7"}}
MODAL = {
    "type": "modal",
    "callback_id": "settings",
    "title": {"type": "plain_text", "text": "Settings"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "wip",
            "label": {"type": "plain_text", "text": "WIP limit"},
            "element": {"type": "plain_text_input", "action_id": "limit"},
        },
        {
            "type": "input",
            "block_id": "channel",
            "optional": True,
            "label": {"type": "plain_text", "text": "Channel"},
            "element": {"type": "channels_select", "action_id": "pick"},
        },
    ],
}


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(base_url=slack.api_url, token="xoxb-test-team1")


def refusal(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


class AppServer:
    """A Bolt app (or nothing) behind a local HTTP endpoint, recording the raw requests it gets."""

    def __init__(self, app: App | None = None) -> None:
        self.app = app
        self.received: list[tuple[dict[str, str], str]] = []  # (headers, body) as they arrived
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                outer.received.append((dict(self.headers), body))
                status, text, headers = 200, "", {}
                if outer.app is not None:
                    headers_in: dict[str, str | Sequence[str]] = {
                        k.lower(): v for k, v in self.headers.items()
                    }
                    answer = outer.app.dispatch(BoltRequest(body=body, headers=headers_in))
                    status, text = answer.status, answer.body
                    headers = {k: v[0] for k, v in answer.headers.items() if k.lower() != "content-length"}
                data = text.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> AppServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"


def test_auth_test_answers_for_each_teams_token(slack: SlackEmulator) -> None:
    """auth.test names the team and bot of the token used, per team; bad tokens get Slack's codes."""
    slack.add_team("T0000TEAM2", "Team Two", "xoxb-test-team2", "U0BOT0002", bot_id="B0BOT0002")
    one = WebClient(base_url=slack.api_url, token="xoxb-test-team1").auth_test()
    two = WebClient(base_url=slack.api_url, token="xoxb-test-team2").auth_test()
    assert (one["team_id"], one["user_id"], one["bot_id"]) == ("T0000TEAM1", "U0BOT0001", "B0BOT0001")
    assert (two["team_id"], two["team"], two["user_id"]) == ("T0000TEAM2", "Team Two", "U0BOT0002")
    assert one["is_enterprise_install"] is False and one["url"] == "https://team-one.slack.com/"
    assert [c.team_id for c in slack.calls_to("auth.test")] == ["T0000TEAM1", "T0000TEAM2"]
    assert refusal(WebClient(base_url=slack.api_url, token="xoxb-nope").auth_test) == "invalid_auth"
    assert refusal(WebClient(base_url=slack.api_url).auth_test) == "not_authed"
    in_form = httpx.post(f"{slack.api_url}auth.test", data={"token": "xoxb-test-team2"}).json()
    assert in_form["team_id"] == "T0000TEAM2"  # a token may also come as a form field
    assert refusal(
        lambda: WebClient(base_url=slack.api_url, token="xoxb-test-team1").api_call("no.such")
    ) == ("unknown_method")
    assert slack.calls[-1].method == "no.such"
    slack.revoke_token("xoxb-test-team2")
    assert refusal(WebClient(base_url=slack.api_url, token="xoxb-test-team2").auth_test) == "token_revoked"


def test_messages_are_posted_updated_and_kept_per_channel(slack: SlackEmulator, client: WebClient) -> None:
    """postMessage (by name or id, in threads), update and ephemeral keep the channel's current state."""
    first = client.chat_postMessage(channel="#team-flow", text="WIP", blocks=[SECTION])
    reply = client.chat_postMessage(channel="C0000FLOW1", text="details", thread_ts=first["ts"])
    assert first["channel"] == "C0000FLOW1" and first["message"]["blocks"] == [SECTION]
    assert abs(float(first["ts"]) - time.time()) < 60 and float(reply["ts"]) > float(first["ts"])
    updated = client.chat_update(channel="C0000FLOW1", ts=first["ts"], text="WIP (updated)")
    assert updated["text"] == "WIP (updated)" and updated["message"]["blocks"] == [SECTION]
    ephemeral = client.chat_postEphemeral(channel="C0000FLOW1", user="U0000USER2", text="only you")
    assert ephemeral["message_ts"] > reply["ts"]
    texts = [(m["text"], m.get("thread_ts")) for m in slack.messages("C0000FLOW1")]
    assert texts == [("WIP (updated)", None), ("details", first["ts"])]
    assert slack.ephemerals("C0000FLOW1")[0]["to_user"] == "U0000USER2"
    link = client.chat_getPermalink(channel="C0000FLOW1", message_ts=first["ts"])["permalink"]
    assert link == f"https://team-one.slack.com/archives/C0000FLOW1/p{first['ts'].replace('.', '')}"
    dm = client.conversations_open(users="U0000USER1")["channel"]["id"]
    assert dm.startswith("D") and client.conversations_open(users="U0000USER1")["channel"]["id"] == dm
    assert client.conversations_info(channel=dm)["channel"]["is_im"] is True
    info = client.conversations_info(channel="C0000GENRL")["channel"]
    assert (info["name"], info["is_channel"], info["is_private"], info["is_member"]) == (
        "general",
        True,
        False,
        True,
    )
    assert client.users_info(user="U0000USER1")["user"]["tz"] == "Europe/Zurich"
    form = {"channel": "C0000GENRL", "text": "as a form", "blocks": json.dumps([SECTION])}
    client.api_call("chat.postMessage", params=form)  # form-encoded, blocks a JSON string: decoded
    assert slack.calls[-1].params["blocks"] == [SECTION] and slack.messages("C0000GENRL")[0]["blocks"] == [
        SECTION
    ]


def test_message_errors_are_slacks(slack: SlackEmulator, client: WebClient) -> None:
    """Unknown or foreign channels, empty messages, bad blocks and unknown ts answer Slack's error codes."""
    slack.add_team("T0000TEAM2", "Team Two", "xoxb-test-team2", "U0BOT0002")
    slack.add_channel("T0000TEAM2", "C0000OTHER", "other")
    assert refusal(lambda: client.chat_postMessage(channel="C0000OTHER", text="x")) == "channel_not_found"
    assert refusal(lambda: client.chat_postMessage(channel="nowhere", text="x")) == "channel_not_found"
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):
        assert refusal(lambda: client.chat_postMessage(channel="general")) == "no_text"
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):
        bad = refusal(lambda: client.chat_postMessage(channel="general", blocks=[{"text": "no type"}]))
    assert bad == "invalid_blocks"
    answer = slack.calls[-1].response or {}
    assert "missing required field: type" in answer["response_metadata"]["messages"][0]
    assert (
        refusal(lambda: client.chat_update(channel="general", ts="1.000000", text="x")) == "message_not_found"
    )
    assert refusal(lambda: client.users_info(user="U0NOBODY")) == "user_not_found"
    assert slack.messages("C0000GENRL") == []


def test_files_upload_v2_delivers_the_bytes_intact(slack: SlackEmulator, client: WebClient) -> None:
    """files_upload_v2's three steps work end to end and the PNG arrives byte for byte."""
    answer = client.files_upload_v2(
        channel="C0000FLOW1", content=PNG, filename="cfd.png", title="CFD", initial_comment="This week"
    )
    assert answer["file"]["title"] == "CFD" and answer["file"]["name"] == "cfd.png"
    [upload] = slack.uploads
    assert upload.content == PNG and upload.file_id == answer["file"]["id"]
    assert (upload.filename, upload.title, upload.channel_id, upload.initial_comment) == (
        "cfd.png",
        "CFD",
        "C0000FLOW1",
        "This week",
    )
    assert slack.messages("C0000FLOW1")[-1]["files"] == [{"id": upload.file_id}]
    assert slack.calls_to("files.getUploadURLExternal")[0].params["length"] in (len(PNG), str(len(PNG)))
    started = client.files_getUploadURLExternal(filename="notes.txt", length=3)
    multipart = httpx.post(started["upload_url"], files={"filename": ("notes.txt", b"abc")})
    assert (multipart.status_code, multipart.text) == (200, "OK - 3")  # curl -F style is accepted too
    client.files_completeUploadExternal(files=[{"id": started["file_id"], "title": "Notes"}])
    assert slack.uploads[-1].content == b"abc" and slack.uploads[-1].channel_id is None
    refused = refusal(lambda: client.files_upload_v2(channel="C0NOWHERE", content=b"x", filename="a.txt"))
    assert refused == "channel_not_found"
    never_uploaded = client.files_getUploadURLExternal(filename="b.txt", length=1)["file_id"]
    missing = refusal(
        lambda: client.files_completeUploadExternal(files=[{"id": never_uploaded, "title": "b"}])
    )
    assert missing == "file_not_found"


def test_views_open_update_publish_and_conflicts(slack: SlackEmulator, client: WebClient) -> None:
    """Views get ids and hashes; a stale hash, a reused or expired trigger and a long title are refused."""
    opened = client.views_open(trigger_id="1.2.abc", view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["root_view_id"] == opened["id"]
    assert opened["state"] == {"values": {}} and opened["callback_id"] == "settings"
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert slack.views[opened["id"]]["hash"] == updated["hash"]
    stale = refusal(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL))
    assert stale == "hash_conflict"
    assert refusal(lambda: client.views_update(view_id="V0NOPE", view=MODAL)) == "not_found"
    assert refusal(lambda: client.views_open(trigger_id="1.2.abc", view=MODAL)) == "exchanged_trigger_id"
    slack.expire_trigger("3.4.old")
    assert refusal(lambda: client.views_open(trigger_id="3.4.old", view=MODAL)) == "expired_trigger_id"
    long_title = MODAL | {"title": {"type": "plain_text", "text": "A title far too long for a modal"}}
    assert refusal(lambda: client.views_open(trigger_id="5.6.new", view=long_title)) == "invalid_arguments"
    home = {"type": "home", "blocks": [SECTION]}
    published = client.views_publish(user_id="U0000USER1", view=home)["view"]
    assert slack.home_views["U0000USER1"]["id"] == published["id"]
    again = client.views_publish(user_id="U0000USER1", view=home, hash=published["hash"])["view"]
    assert again["id"] == published["id"] and again["hash"] != published["hash"]


def test_oauth_v2_access_installs_a_team(slack: SlackEmulator) -> None:
    """oauth_v2_access (Basic auth) answers Slack's shape; the new token then works; bad codes are refused."""
    slack.register_oauth_code("code-1", "T0000TEAM3", "Team Three", "xoxb-test-team3", user_id="U0000USER2")
    anonymous = WebClient(base_url=slack.api_url)
    answer = anonymous.oauth_v2_access(client_id="111.222", client_secret="emulator-secret", code="code-1")
    assert answer["token_type"] == "bot" and answer["access_token"] == "xoxb-test-team3"
    assert answer["team"] == {"id": "T0000TEAM3", "name": "Team Three"} and answer["enterprise"] is None
    assert answer["authed_user"] == {"id": "U0000USER2"} and answer["app_id"] == slack.app_id
    assert "code" in slack.calls[-1].params and "client_secret" not in slack.calls[-1].params
    assert slack.calls[-1].team_id == "T0000TEAM3"
    auth = WebClient(base_url=slack.api_url, token="xoxb-test-team3").auth_test()
    assert (auth["team_id"], auth["user_id"]) == ("T0000TEAM3", answer["bot_user_id"])

    def exchange(code: str, secret: str = "emulator-secret") -> str:
        return refusal(
            lambda: anonymous.oauth_v2_access(client_id="111.222", client_secret=secret, code=code)
        )

    assert exchange("code-1") == "invalid_code"  # codes are single-use
    assert exchange("never-issued") == "invalid_code"
    assert exchange("code-1", secret="wrong") == "bad_client_secret"


def test_rate_limited_call_is_retried_and_applied_once(
    slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 with Retry-After 1 is waited out by RateLimitErrorRetryHandler; the message lands once."""
    monkeypatch.setattr(builtin_handlers, "random", types.SimpleNamespace(random=lambda: 0.0))  # no jitter
    client = WebClient(
        base_url=slack.api_url, token="xoxb-test-team1", retry_handlers=[RateLimitErrorRetryHandler()]
    )
    slack.fail_next("chat.postMessage", retry_after=1)
    client.chat_postMessage(channel="C0000FLOW1", text="throughput")
    failed, delivered = slack.calls_to("chat.postMessage")
    assert failed.failed and failed.error == "ratelimited" and not delivered.failed
    assert delivered.at - failed.at >= 1.0
    assert [m["text"] for m in slack.messages("C0000FLOW1")] == ["throughput"]
    assert slack.wait_for("chat.postMessage") == [delivered]
    slack.fail_next("chat.postMessage", retry_after=None, error="ratelimited")
    bare = WebClient(base_url=slack.api_url, token="xoxb-test-team1", retry_handlers=[])
    assert refusal(lambda: bare.chat_postMessage(channel="C0000FLOW1", text="x")) == "ratelimited"


def test_dropped_connection_is_retried(slack: SlackEmulator) -> None:
    """A connection closed before any answer is retried by ConnectionErrorRetryHandler and applied once."""
    handler = ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.0))
    client = WebClient(base_url=slack.api_url, token="xoxb-test-team1", retry_handlers=[handler])
    slack.drop_next("chat.postMessage")
    client.chat_postMessage(channel="C0000FLOW1", text="cycle time")
    assert [c.failed for c in slack.calls_to("chat.postMessage")] == [True, False]
    assert [m["text"] for m in slack.messages("C0000FLOW1")] == ["cycle time"]


def test_response_urls_record_what_is_posted(slack: SlackEmulator) -> None:
    """Posts to a response URL are recorded as Slack accepts them; empty ones get 400 no_text."""
    url = slack.response_url("cmd-1")
    assert WebhookClient(url).send(text="done", response_type="ephemeral").status_code == 200
    assert WebhookClient(url).send_dict({"response_type": "in_channel"}).status_code == 400
    accepted, rejected = slack.wait_for_response("cmd-1", count=2)
    assert accepted.body == {"text": "done", "response_type": "ephemeral"} and accepted.status == 200
    assert (rejected.status, rejected.body) == (400, {"response_type": "in_channel"})
    slack.fail_next_response(status=500)
    assert WebhookClient(url).send(text="again").status_code == 500
    with pytest.raises(AssertionError, match=r"cmd-1 500"):
        slack.wait_for_response("cmd-1", count=3, timeout=0.05)


def test_wait_for_fails_with_the_calls_received(slack: SlackEmulator, client: WebClient) -> None:
    """wait_for times out with a listing of what did arrive, so a failing test says why."""
    client.auth_test()
    with pytest.raises(AssertionError, match=r"(?s)chat\.postMessage.*auth\.test team=T0000TEAM1 ok"):
        slack.wait_for("chat.postMessage", timeout=0.05)


def test_sender_signature_verifies(slack: SlackEmulator) -> None:
    """SlackSender's requests carry a v0 signature SignatureVerifier accepts; forged ones don't verify."""
    verifier = SignatureVerifier(SECRET)
    with AppServer() as endpoint, SlackSender(endpoint.url, SECRET, emulator=slack) as sender:
        sent = sender.slash_command("status", channel_id="C0000FLOW1")
        sender.event({"type": "app_home_opened", "user": "U0000USER1"}, retry_num=1)
        sender.block_action("flow_post_status", "board-1", channel_id="C0000FLOW1")
        sender.slash_command("status", signature="v0=forged")
    assert sent.response_url is not None and sent.response_url.startswith(slack.url)
    valid = [
        verifier.is_valid(body, h["X-Slack-Request-Timestamp"], h["X-Slack-Signature"])
        for h, body in endpoint.received
    ]
    assert valid == [True, True, True, False]
    assert endpoint.received[1][0]["X-Slack-Retry-Num"] == "1"
    assert (
        "team_domain=team-one" in endpoint.received[0][1]
        and "channel_name=team-flow" in endpoint.received[0][1]
    )


def test_a_bolt_app_answers_the_sender_through_the_emulator(slack: SlackEmulator) -> None:
    """A real Bolt app acks a signed /flow, responds, posts, opens a modal, gets a click and a submission."""
    app = App(signing_secret=SECRET, client=WebClient(base_url=slack.api_url, token="xoxb-test-team1"))
    submitted: list[dict[str, Any]] = []
    clicked: list[dict[str, Any]] = []
    button = {
        "type": "button",
        "action_id": "post",
        "value": "board-1",
        "text": {"type": "plain_text", "text": "Post"},
    }

    @app.command("/flow")
    def flow(ack: Any, respond: Any, say: Any, client: WebClient, body: dict[str, Any]) -> None:
        ack("On it")
        respond(text=f"status of {body['text']}")
        say(
            text="board status",
            blocks=[SECTION, {"type": "actions", "block_id": "buttons", "elements": [button]}],
        )
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.action("post")
    def post(ack: Any, body: dict[str, Any]) -> None:
        clicked.append(body)  # before ack: the HTTP answer goes out on ack
        ack()

    @app.view("settings")
    def save(ack: Any, view: dict[str, Any]) -> None:
        submitted.append(view["state"]["values"])
        ack()

    with AppServer(app) as endpoint, SlackSender(endpoint.url, SECRET, emulator=slack) as sender:
        sent = sender.slash_command("board-1")
        assert (sent.status_code, sent.text) == (200, "On it")
        assert sent.response_url is not None
        key = sent.response_url.rsplit("/", 1)[1]
        assert slack.wait_for_response(key)[0].body["text"] == "status of board-1"
        [said] = slack.wait_for("chat.postMessage")
        assert said.params["blocks"][0] == SECTION and said.params["channel"] == "C0000FLOW1"
        assert sender.block_action("post", "board-1", channel_id="C0000FLOW1").status_code == 200
        [click] = clicked
        assert click["actions"][0] | {"action_ts": "-"} == {
            "action_id": "post",
            "block_id": "buttons",
            "type": "button",
            "value": "board-1",
            "text": button["text"],
            "action_ts": "-",
        }
        assert said.response is not None and click["container"]["message_ts"] == said.response["ts"]
        [opened] = slack.wait_for("views.open", predicate=lambda c: c.params["trigger_id"] == sent.trigger_id)
        assert opened.error is None
        view = next(iter(slack.views.values()))
        assert sender.view_submission(view, {"wip": {"limit": "5"}}).status_code == 200
        assert sender.url_verification("challenge-1").json() == {"challenge": "challenge-1"}
        stale = sender.slash_command("x", timestamp=int(time.time()) - 600)
        assert stale.status_code == 401
    assert submitted == [
        {
            "wip": {"limit": {"type": "plain_text_input", "value": "5"}},
            "channel": {"pick": {"type": "channels_select", "selected_channel": None}},
        }
    ]
