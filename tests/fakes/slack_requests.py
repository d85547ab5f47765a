"""Requests to a running Bolt app made the way Slack makes them: signed, and in Slack's own shapes.

Why not call the listeners directly: what breaks in production is at the edges — a signature check, a
form-encoded slash command, an interaction ``payload=`` field, an ``event_callback`` envelope with its
``authorizations``, a retried event with ``X-Slack-Retry-Num``. ``SlackSender`` posts exactly those bodies
over HTTP with a valid v0 signature (``v0:{timestamp}:{body}``, HMAC-SHA256 with the signing secret), so a
test exercises Bolt's verification, parsing and routing as Slack would. ``timestamp=`` and ``signature=``
on every method let a test send stale or forged requests.

With a ``SlackEmulator`` the payloads use its workspace (team domain, channel and user names, the bot's
user id, current messages and views), slash commands get one of its response URLs, and mentions are
posted to its channel first, so a listener's follow-up API calls find what they refer to.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

if TYPE_CHECKING:
    from tests.fakes.slack_api import SlackEmulator

# What each stateful element reports in ``state.values`` (and in a block action), by element type.
SELECTED = {
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "overflow": "selected_option",
    "multi_static_select": "selected_options",
    "multi_external_select": "selected_options",
    "checkboxes": "selected_options",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "rich_text_input": "rich_text_value",
}
_counter = itertools.count(1)


@dataclass(frozen=True)
class Sent:
    """What a request got back, with the response URL and trigger id it carried (for follow-ups)."""

    response: httpx.Response
    response_url: str | None
    trigger_id: str | None
    payload: dict[str, Any]  # what was sent (form fields, event envelope or interaction payload)

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.text

    def json(self) -> Any:
        return self.response.json()


def new_trigger_id() -> str:
    """A fresh id in the shape of Slack's (``13345224609.738474920.8088930838d88f008e0``)."""
    return f"{next(_counter)}.{int(time.time() * 1000)}.{secrets.token_hex(16)}"


def _option(element: dict[str, Any] | None, value: Any) -> dict[str, Any]:
    options = list((element or {}).get("options") or [])
    for group in (element or {}).get("option_groups") or []:
        options += group.get("options") or []
    found = next((o for o in options if o.get("value") == value), None)
    return found or {"text": {"type": "plain_text", "text": str(value)}, "value": value}


def selection(kind: str, value: Any, element: dict[str, Any] | None = None) -> dict[str, Any]:
    """How Slack reports ``value`` held by an element of type ``kind`` (``None``: nothing chosen)."""
    name = SELECTED.get(kind, "value")
    if value is None:
        return {"type": kind, name: [] if name.endswith("s") else None}
    if name == "selected_option":
        return {"type": kind, name: _option(element, value)}
    if name == "selected_options":
        return {"type": kind, name: [_option(element, v) for v in value]}
    return {"type": kind, name: value}


def state_values(view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A view's ``state.values``: every input (empty unless given in ``values``), as Slack sends them.

    ``values`` maps block id → action id → plain value ("text", an option value, a list of them, a
    channel id…); a value that is already a dict with a ``type`` is passed through as it is.
    """
    state: dict[str, dict[str, Any]] = {}
    for i, block in enumerate(view.get("blocks") or []):
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict) and element.get("action_id"):
            block_id, action_id = block.get("block_id") or f"b{i}", element["action_id"]
            given = values.get(block_id, {}).get(action_id)
            answer = given if isinstance(given, dict) and "type" in given else None
            state.setdefault(block_id, {})[action_id] = answer or selection(element["type"], given, element)
    for block_id, actions in values.items():
        for action_id, given in actions.items():
            if action_id not in state.get(block_id, {}):
                answer = given if isinstance(given, dict) and "type" in given else None
                state.setdefault(block_id, {})[action_id] = answer or selection("plain_text_input", given)
    return state


def find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str | None, dict[str, Any] | None]:
    """The block id and element with ``action_id`` in a message's or view's blocks, if any."""
    for i, block in enumerate(blocks or []):
        candidates = [block.get("accessory"), block.get("element"), *(block.get("elements") or [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id") or f"b{i}", element
    return None, None


class SlackSender:
    """Signed requests to a Bolt app's endpoint; close it (or use ``with``) when done."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        team_id: str = "T0000TEAM1",
        emulator: SlackEmulator | None = None,
        api_app_id: str | None = None,
        verification_token: str = "legacy-verification-token",
        timeout: float = 10.0,
    ) -> None:
        self.events_url, self.signing_secret, self.team_id = events_url, signing_secret, team_id
        self.emulator = emulator
        self.api_app_id = api_app_id or (emulator.app_id if emulator else "A0000APP01")
        self.verification_token = verification_token
        self._client = httpx.Client(timeout=timeout)
        self._closer = weakref.finalize(self, self._client.close)  # no socket left to a forgotten sender

    def close(self) -> None:
        self._closer()

    def __enter__(self) -> SlackSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- signing and sending ------------------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int) -> str:
        """Slack's v0 signature of ``body`` sent at ``timestamp``."""
        base = f"v0:{timestamp}:".encode() + body
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Post a raw body, signed (or with ``signature`` instead of the right one)."""
        stamp = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature if signature is not None else self.sign(body, stamp),
        }
        return self._client.post(self.events_url, content=body, headers=sent | (headers or {}))

    def _form(self, fields: dict[str, str], timestamp: int | None, signature: str | None) -> httpx.Response:
        body = urlencode(fields).encode()
        return self.post(body, "application/x-www-form-urlencoded", timestamp=timestamp, signature=signature)

    # -- what the emulator knows ----------------------------------------------------------------------------

    def _team(self, team_id: str | None) -> tuple[str, str, str]:
        """(team id, domain, bot user id)."""
        team_id = team_id or self.team_id
        team = self.emulator.team_for(team_id) if self.emulator else None
        return (team_id, team.domain, team.bot_user_id) if team else (team_id, team_id.lower(), "U0BOT0001")

    def _user(self, user_id: str, team_id: str) -> dict[str, str]:
        user = self.emulator.users.get(user_id) if self.emulator else None
        name = user.name if user else user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": team_id}

    def _channel_name(self, channel_id: str) -> str:
        channel = self.emulator.channels.get(channel_id) if self.emulator else None
        if channel is None:
            return channel_id.lower()
        return "directmessage" if channel.user else "privategroup" if channel.is_private else channel.name

    def _response_url(self, given: str | None) -> str:
        if given is not None:
            return given
        if self.emulator is not None:
            return self.emulator.response_url()
        return f"https://hooks.slack.com/commands/{self.team_id}/{next(_counter)}/{secrets.token_hex(12)}"

    # -- slash commands ---------------------------------------------------------------------------------

    def slash_command(
        self,
        text: str,
        *,
        command: str = "/flow",
        channel_id: str = "C0000FLOW1",
        user_id: str = "U0000USER1",
        team_id: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Sent:
        """``/flow text`` typed by ``user_id`` in ``channel_id``: Slack's form body, field for field."""
        team, domain, _ = self._team(team_id)
        url, trigger = self._response_url(response_url), trigger_id or new_trigger_id()
        fields = {
            "token": self.verification_token,
            "team_id": team,
            "team_domain": domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user(user_id, team)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": url,
            "trigger_id": trigger,
        }
        return Sent(self._form(fields, timestamp, signature), url, trigger, fields)

    # -- events ---------------------------------------------------------------------------------------------

    def event(
        self,
        event: dict[str, Any],
        *,
        team_id: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Sent:
        """An Events API ``event_callback`` envelope around ``event``; a retry when ``retry_num`` is given."""
        team, _, bot_user = self._team(team_id)
        envelope = {
            "token": self.verification_token,
            "team_id": team,
            "context_team_id": team,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": bot_user,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope).encode()
        response = self.post(
            body, "application/json", timestamp=timestamp, signature=signature, headers=headers
        )
        return Sent(response, None, None, envelope)

    def app_mention(
        self,
        text: str,
        *,
        channel_id: str = "C0000FLOW1",
        user_id: str = "U0000USER1",
        ts: str | None = None,
        thread_ts: str | None = None,
        team_id: str | None = None,
        **options: Any,
    ) -> Sent:
        """``@flowcoach text`` in a channel (the mention is prepended unless ``text`` has it)."""
        team, _, bot_user = self._team(team_id)
        if f"<@{bot_user}>" not in text:
            text = f"<@{bot_user}> {text}"
        if ts is None and self.emulator is not None and channel_id in self.emulator.channels:
            ts = self.emulator.add_message(channel_id, text, user=user_id, thread_ts=thread_ts)["ts"]
        ts = ts or f"{time.time():.6f}"
        event = {
            "type": "app_mention",
            "user": user_id,
            "text": text,
            "ts": ts,
            "team": team,
            "channel": channel_id,
            "event_ts": ts,
            "client_msg_id": secrets.token_hex(16),
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, team_id=team, **options)

    def app_home_opened(self, user_id: str, *, team_id: str | None = None, **options: Any) -> Sent:
        """The user opened the app's Home tab (its current view attached, as Slack does)."""
        team, _, _ = self._team(team_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.emulator.dm_id(team, user_id) if self.emulator else "D0000000001",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        home = self.emulator.home_views.get(user_id) if self.emulator else None
        if home is not None:
            event["view"] = home
        return self.event(event, team_id=team, **options)

    def url_verification(
        self, challenge: str, *, timestamp: int | None = None, signature: str | None = None
    ) -> Sent:
        payload = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        body = json.dumps(payload).encode()
        return Sent(
            self.post(body, "application/json", timestamp=timestamp, signature=signature), None, None, payload
        )

    # -- interactions ---------------------------------------------------------------------------------------

    def interaction(
        self, payload: dict[str, Any], *, timestamp: int | None = None, signature: str | None = None
    ) -> Sent:
        """Any interaction payload, sent as Slack sends them: a form with one ``payload`` field of JSON."""
        response = self._form({"payload": json.dumps(payload)}, timestamp, signature)
        return Sent(response, payload.get("response_url"), payload.get("trigger_id"), payload)

    def block_action(
        self,
        action_id: str,
        value: Any = None,
        *,
        user_id: str = "U0000USER1",
        channel_id: str | None = None,
        message_ts: str | None = None,
        view: dict[str, Any] | None = None,
        values: dict[str, dict[str, Any]] | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        team_id: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Sent:
        """A click (or choice) on ``action_id`` in a message (``channel_id``) or a view (``view``).

        In a message: the emulator's message at ``message_ts`` (the channel's latest bot message by
        default) is attached, and the element's block id and type are read from its blocks. In a view
        (modal or Home tab): the view is attached with ``state.values`` built from ``values``.
        """
        team, domain, _ = self._team(team_id)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, team),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or new_trigger_id(),
            "team": {"id": team, "domain": domain},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        blocks: list[dict[str, Any]] = []
        if view is not None:
            view = dict(view) | {"state": {"values": state_values(view, values or {})}}
            payload |= {"container": {"type": "view", "view_id": view.get("id")}, "view": view}
            blocks = view.get("blocks") or []
        else:
            assert channel_id is not None, "a block action happens in a message (channel_id) or a view"
            message = self._message(channel_id, message_ts)
            payload |= {
                "container": {
                    "type": "message",
                    "message_ts": message["ts"],
                    "channel_id": channel_id,
                    "is_ephemeral": False,
                },
                "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
                "message": message,
                "state": {"values": {}},
                "response_url": self._response_url(response_url),
            }
            blocks = message.get("blocks") or []
        block_id, element = find_element(blocks, action_id)
        kind = (element or {}).get("type", "button")
        action = {"action_id": action_id, "block_id": block_id or "b0", "action_ts": f"{time.time():.6f}"}
        if kind == "button":
            action |= {"type": "button", "value": value}
            if element and "text" in element:
                action["text"] = element["text"]
        else:
            action |= selection(kind, value, element)
        payload["actions"] = [action]
        return self.interaction(payload, timestamp=timestamp, signature=signature)

    def _message(self, channel_id: str, ts: str | None) -> dict[str, Any]:
        messages = self.emulator.messages(channel_id) if self.emulator else []
        if ts is not None:
            found = next((m for m in messages if m["ts"] == ts), None)
        else:
            found = next((m for m in reversed(messages) if m.get("bot_id")), None)
        return found or {"type": "message", "ts": ts or f"{time.time():.6f}", "text": "", "blocks": []}

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]] | None = None,
        *,
        user_id: str = "U0000USER1",
        team_id: str | None = None,
        trigger_id: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> Sent:
        """The user submitted ``view`` (as views.open answered it, or as built) with ``values`` entered."""
        team, domain, _ = self._team(team_id)
        view_id = view.get("id") or f"V{secrets.token_hex(5).upper()}"
        submitted = {
            "id": view_id,
            "team_id": team,
            "type": "modal",
            "private_metadata": "",
            "callback_id": "",
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": team,
            "bot_id": "B0BOT0001",
        } | dict(view)
        if self.emulator is not None and (owner := self.emulator.team_for(team)) is not None:
            submitted["bot_id"] = owner.bot_id
        submitted["state"] = {"values": state_values(view, values or {})}
        payload = {
            "type": "view_submission",
            "team": {"id": team, "domain": domain},
            "user": self._user(user_id, team),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or new_trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self.interaction(payload, timestamp=timestamp, signature=signature)
