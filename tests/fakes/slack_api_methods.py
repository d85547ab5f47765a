"""The Web API methods the Slack emulator answers (see ``slack_api``), one function per method.

Each takes the emulator (its lock held) and the decoded request, and returns Slack's success payload or
raises ``SlackError`` with the code Slack itself answers — ``channel_not_found``, ``no_text``,
``invalid_blocks``, ``exchanged_trigger_id``, ``hash_conflict``, ``invalid_code``… — so the bot's error
handling meets the strings it will meet in production. Argument problems Slack reports as
``invalid_arguments`` carry ``response_metadata.messages`` in Slack's ``[ERROR] … [json-pointer:…]`` form.

The checks are the ones that catch real bugs cheaply: Block Kit limits (50 blocks a message, 100 a view,
3000 characters a section, 24 a modal title, no empty texts, unique block ids), single-use triggers, view
hashes, channel membership and teams (a token of one workspace cannot reach another's channels).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.slack_api import SlackEmulator


@dataclass(frozen=True)
class Upload:
    file_id: str
    filename: str
    title: str
    content: bytes
    channel_id: str | None
    thread_ts: str | None
    initial_comment: str | None
    blocks: list[dict[str, Any]] | None
    team_id: str | None = None


@dataclass
class Team:
    id: str
    name: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    domain: str
    bot_name: str = "flowcoach"
    scope: str | None = None  # the bot token's scopes; None: the emulator's DEFAULT_SCOPE


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    user: str | None = None  # the other party of a DM (``D…`` ids from conversations.open)


@dataclass
class User:
    id: str
    name: str
    tz: str | None = "Europe/Zurich"  # None: Slack leaves ``tz`` out (e.g. for some guests and bots)
    team_id: str = "T0000TEAM1"
    is_bot: bool = False


@dataclass
class PendingFile:
    id: str
    team_id: str
    filename: str
    length: int
    content: bytes | None = None


@dataclass
class OAuthCode:
    team_id: str
    team_name: str
    bot_token: str
    user_id: str
    bot_user_id: str
    bot_id: str
    scope: str


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "team"


class SlackError(Exception):
    """An ``ok: false`` answer."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error, self.messages = error, list(messages)

    def payload(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            answer["response_metadata"] = {"messages": self.messages}
        return answer


@dataclass
class Request:
    params: dict[str, Any]
    token: str | None
    team: Team | None  # the token's team; None for oauth.v2.access
    basic: tuple[str, str] | None  # HTTP Basic credentials (client id, secret)
    team_id: str | None = None  # set by oauth.v2.access: the team the exchanged code installed

    def arg(self, name: str) -> Any:
        value = self.params.get(name)
        return None if value in (None, "") else value

    def need(self, name: str) -> Any:
        value = self.arg(name)
        if value is None:
            raise SlackError("invalid_arguments", f"[ERROR] missing required field: {name}")
        return value

    @property
    def bot(self) -> Team:
        assert self.team is not None
        return self.team


# -- Block Kit checks -------------------------------------------------------------------------------


def _text_problems(obj: Any, here: str, limit: int, *, plain: bool = False) -> list[str]:
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        return [f"[ERROR] must be a text object of type {' or '.join(kinds)} [json-pointer:{here}]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"[ERROR] must be more than 0 characters [json-pointer:{here}/text]"]
    if len(text) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{here}/text]"]
    return []


def block_problems(blocks: list[Any], limit: int, pointer: str) -> list[str]:
    """What Slack would reject in a list of blocks, in its message format (empty when fine)."""
    problems = (
        []
        if len(blocks) <= limit
        else [f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"]
    )
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"[ERROR] missing required field: type [json-pointer:{here}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not 0 < len(block_id) <= 255:
                problems.append(
                    f"[ERROR] must be between 1 and 255 characters [json-pointer:{here}/block_id]"
                )
            elif block_id in seen:
                problems.append(f"[ERROR] duplicate block_id: {block_id} [json-pointer:{here}/block_id]")
            else:
                seen.add(block_id)
        kind = block["type"]
        if kind == "section":
            if "text" not in block and not block.get("fields"):
                problems.append(f"[ERROR] must provide either text or fields [json-pointer:{here}]")
            if "text" in block:
                problems += _text_problems(block["text"], f"{here}/text", 3000)
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{here}/fields]")
            for j, item in enumerate(fields):
                problems += _text_problems(item, f"{here}/fields/{j}", 2000)
        elif kind == "header":
            problems += _text_problems(block.get("text"), f"{here}/text", 150, plain=True)
        elif kind in ("actions", "context"):
            elements, most = block.get("elements"), 25 if kind == "actions" else 10
            if not isinstance(elements, list) or not 0 < len(elements) <= most:
                problems.append(
                    f"[ERROR] must have between 1 and {most} items [json-pointer:{here}/elements]"
                )
        elif kind == "input":
            problems += _text_problems(block.get("label"), f"{here}/label", 2000, plain=True)
            if not isinstance(block.get("element"), dict):
                problems.append(f"[ERROR] missing required field: element [json-pointer:{here}]")
        for name in ("element", "accessory"):
            if isinstance(block.get(name), dict):
                problems += _option_problems(block[name], f"{here}/{name}")
        for j, element in enumerate(block.get("elements") or [] if kind == "actions" else []):
            if isinstance(element, dict):
                problems += _option_problems(element, f"{here}/elements/{j}")
    return problems


# Menus: how many options Slack takes (overflow menus hold 2 to 5), and the length of each option's parts.
OPTION_COUNTS = {"overflow": (2, 5), "checkboxes": (1, 10), "radio_buttons": (1, 10)}
CHOICE_ELEMENTS = ("checkboxes", "radio_buttons")  # their options may be mrkdwn
MOST_OPTIONS = 100
OPTION_TEXT, OPTION_VALUE = 75, 150


def _option_problems(element: dict[str, Any], here: str) -> list[str]:
    """What Slack rejects in a menu: too many (or too few) options, option text or value too long."""
    options = element.get("options")
    if not isinstance(options, list):
        return []
    least, most = OPTION_COUNTS.get(str(element.get("type")), (1, MOST_OPTIONS))
    problems = []
    if not least <= len(options) <= most:
        problems.append(f"[ERROR] must have between {least} and {most} items [json-pointer:{here}/options]")
    for k, option in enumerate(options):
        plain = element.get("type") not in CHOICE_ELEMENTS
        problems += _text_problems(option.get("text"), f"{here}/options/{k}/text", OPTION_TEXT, plain=plain)
        if not 0 < len(str(option.get("value") or "")) <= OPTION_VALUE:
            pointer = f"{here}/options/{k}/value"
            problems.append(f"[ERROR] must be 1 to {OPTION_VALUE} characters [json-pointer:{pointer}]")
    return problems


def _blocks(request: Request) -> list[dict[str, Any]] | None:
    if "blocks" not in request.params:
        return None
    blocks = request.params["blocks"]
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if problems := block_problems(blocks, 50, "/blocks"):
        raise SlackError("invalid_blocks", *problems)
    return blocks


def _view(request: Request, *types: str) -> dict[str, Any]:
    view = request.need("view")
    if not isinstance(view, dict):
        raise SlackError(
            "invalid_arguments", "[ERROR] failed to match all allowed schemas [json-pointer:/view]"
        )
    problems = []
    if view.get("type") not in types:
        problems.append(f"[ERROR] must be one of {', '.join(types)} [json-pointer:/view/type]")
    if view.get("type") == "modal":
        problems += _text_problems(view.get("title"), "/view/title", 24, plain=True)
        for button in ("submit", "close"):
            if button in view:
                problems += _text_problems(view[button], f"/view/{button}", 24, plain=True)
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
    else:
        problems += block_problems(blocks, 100, "/view/blocks")
        inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if view.get("type") == "modal" and inputs and "submit" not in view:
            problems.append(
                "[ERROR] must provide a submit property when using input blocks [json-pointer:/view]"
            )
    for name, most in (("callback_id", 255), ("external_id", 255), ("private_metadata", 3000)):
        if len(str(view.get(name) or "")) > most:
            problems.append(f"[ERROR] must be less than {most + 1} characters [json-pointer:/view/{name}]")
    if problems:
        raise SlackError("invalid_arguments", *problems)
    return view


# -- lookups ----------------------------------------------------------------------------------------


def _channel(slack: SlackEmulator, request: Request, ref: Any, *, ids_only: bool = False) -> Channel:
    """A channel of the caller's team by id or name, or a user's DM with the app (by user id)."""
    team = request.bot
    ref = str(ref or "") if ids_only else str(ref or "").lstrip("#")
    channel = slack.channels.get(ref)
    if channel is None and not ids_only and ref in slack.users and ref.startswith(("U", "W")):
        channel = slack.channels[slack.dm_id(team.id, ref)]
    if channel is None and not ids_only:
        channel = next((c for c in slack.channels.values() if c.team_id == team.id and c.name == ref), None)
    if channel is None or channel.team_id != team.id or (channel.is_private and not channel.is_member):
        raise SlackError("channel_not_found")
    return channel


def _postable(slack: SlackEmulator, request: Request, ref: Any, *, ids_only: bool = False) -> Channel:
    channel = _channel(slack, request, ref, ids_only=ids_only)
    if not channel.is_member:
        # As Slack answers a bot outside the channel: a private channel does not exist for it; a public one
        # takes its posts only with chat:write.public.
        if channel.is_private:
            raise SlackError("channel_not_found")
        if "chat:write.public" not in slack.DEFAULT_SCOPE.split(","):
            raise SlackError("not_in_channel")
    return channel


def _member_of(slack: SlackEmulator, request: Request, ref: Any) -> Channel:
    """A channel the bot is in: sharing a file needs membership, chat:write.public does not cover it."""
    channel = _channel(slack, request, ref, ids_only=True)
    if not channel.is_member:
        raise SlackError("channel_not_found" if channel.is_private else "not_in_channel")
    return channel


def _user(slack: SlackEmulator, user_id: Any) -> dict[str, Any]:
    user = slack.users.get(str(user_id or ""))
    if user is None:
        raise SlackError("user_not_found")
    answer: dict[str, Any] = {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": False,
        "real_name": user.name.title(),
        "is_bot": user.is_bot,
        "is_admin": False,
        "profile": {"real_name": user.name.title(), "display_name": user.name, "team": user.team_id},
    }
    if user.tz is not None:
        zone = zoneinfo.ZoneInfo(user.tz)
        offset = dt.datetime.now(zone).utcoffset() or dt.timedelta()
        answer |= {
            "tz": user.tz,
            "tz_label": dt.datetime.now(zone).tzname(),
            "tz_offset": int(offset.total_seconds()),
        }
    return answer


# -- methods ----------------------------------------------------------------------------------------


def auth_test(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    team = request.bot
    return {
        "url": f"https://{team.domain}.slack.com/",
        "team": team.name,
        "user": team.bot_name,
        "team_id": team.id,
        "user_id": team.bot_user_id,
        "bot_id": team.bot_id,
        "is_enterprise_install": False,
    }


def _message(
    slack: SlackEmulator, request: Request, ts: str, blocks: list[dict[str, Any]] | None
) -> dict[str, Any]:
    team = request.bot
    message: dict[str, Any] = {
        "user": team.bot_user_id,
        "type": "message",
        "ts": ts,
        "bot_id": team.bot_id,
        "app_id": slack.app_id,
        "text": request.arg("text") or "",
        "team": team.id,
        "bot_profile": {"id": team.bot_id, "app_id": slack.app_id, "name": team.bot_name, "team_id": team.id},
    }
    if blocks is not None:
        message["blocks"] = blocks
    for name in ("attachments", "thread_ts", "metadata"):
        if request.arg(name) is not None:
            message[name] = request.arg(name)
    return message


def _content(request: Request) -> list[dict[str, Any]] | None:
    blocks = _blocks(request)
    if request.arg("text") is None and not blocks and not request.arg("attachments"):
        raise SlackError("no_text")
    if len(str(request.arg("text") or "")) > 40_000:
        raise SlackError("msg_too_long")
    return blocks


def chat_post_message(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    channel = _postable(slack, request, request.arg("channel"))
    blocks = _content(request)
    message = _message(slack, request, slack.next_ts(), blocks)
    slack.store_message(channel.id, message)
    return {"channel": channel.id, "ts": message["ts"], "message": message}


def chat_post_ephemeral(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    channel = _postable(slack, request, request.arg("channel"))
    _user(slack, request.arg("user"))
    blocks = _content(request)
    message = _message(slack, request, slack.next_ts(), blocks) | {"to_user": request.arg("user")}
    slack.add_ephemeral(channel.id, message)
    return {"message_ts": message["ts"]}


def chat_update(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    channel = _channel(slack, request, request.arg("channel"))
    message = slack.find_message(channel.id, str(request.arg("ts") or ""))
    if message is None:
        raise SlackError("message_not_found")
    if message.get("bot_id") != request.bot.bot_id:
        raise SlackError("cant_update_message")
    blocks = _content(request)  # Slack keeps what an update leaves out; ``blocks: []`` removes them
    if request.arg("text") is not None:
        message["text"] = request.arg("text")
    if blocks is not None:
        message["blocks"] = blocks
    if request.arg("attachments") is not None:
        message["attachments"] = request.arg("attachments")
    message["edited"] = {"user": request.bot.bot_user_id, "ts": slack.next_ts()}
    return {"channel": channel.id, "ts": message["ts"], "text": message["text"], "message": dict(message)}


def chat_get_permalink(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    channel = _channel(slack, request, request.arg("channel"))
    ts = str(request.arg("message_ts") or "")
    if slack.find_message(channel.id, ts) is None:
        raise SlackError("message_not_found")
    url = f"https://{request.bot.domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
    return {"channel": channel.id, "permalink": url}


def conversations_info(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    channel = _channel(slack, request, request.need("channel"))
    info: dict[str, Any] = {"id": channel.id, "created": 1_700_000_000, "is_archived": False}
    if channel.user:
        return {"channel": info | {"is_im": True, "user": channel.user, "is_org_shared": False}}
    info |= {
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_private": channel.is_private,
        "is_member": channel.is_member,
        "is_general": channel.name == "general",
        "context_team_id": channel.team_id,
    }
    return {"channel": info}


class MissingScope(SlackError):
    def __init__(self, needed: str, granted: list[str]) -> None:
        super().__init__("missing_scope")
        self.needed, self.granted = needed, granted

    def payload(self) -> dict[str, Any]:
        return super().payload() | {"needed": self.needed, "provided": ",".join(self.granted)}


def _readable(slack: SlackEmulator, request: Request) -> Channel:
    """A channel whose messages the bot may read: the history scope of its kind, and a member of it."""
    channel = _channel(slack, request, request.arg("channel"), ids_only=True)
    needed = "groups:history" if channel.is_private else "channels:history"
    granted = (request.bot.scope or slack.DEFAULT_SCOPE).split(",")
    if needed not in granted:
        raise MissingScope(needed, granted)
    if not channel.is_member:
        raise SlackError("not_in_channel")
    return channel


def conversations_history(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    """Newest first, after ``oldest``; metadata only with ``include_all_metadata``, as Slack answers."""
    channel = _readable(slack, request)
    oldest = float(request.arg("oldest") or 0)
    limit = min(int(request.arg("limit") or 100), 999)
    with_metadata = str(request.arg("include_all_metadata")).lower() in ("1", "true")
    newest_first = sorted(
        (m for m in slack.messages(channel.id) if float(m["ts"]) > oldest and "thread_ts" not in m),
        key=lambda m: float(m["ts"]),
        reverse=True,
    )
    shown = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in newest_first]
    start = int(request.arg("cursor") or 0)
    page = shown[start : start + limit]
    more = start + limit < len(shown)
    return {
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def conversations_replies(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    """A thread: its parent first, then its replies, oldest first; metadata only with
    ``include_all_metadata``; the same scopes as ``conversations.history``."""
    channel = _readable(slack, request)
    ts = str(request.need("ts"))
    with_metadata = str(request.arg("include_all_metadata")).lower() in ("1", "true")
    thread = [m for m in slack.messages(channel.id) if m["ts"] == ts or m.get("thread_ts") == ts]
    if not any(m["ts"] == ts for m in thread):
        raise SlackError("thread_not_found")
    thread.sort(key=lambda m: float(m["ts"]))
    limit = min(int(request.arg("limit") or 1000), 1000)
    start = int(request.arg("cursor") or 0)
    page = thread[start : start + limit]
    more = start + limit < len(thread)
    return {
        "messages": [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in page],
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def conversations_open(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    users = [u.strip() for u in str(request.arg("users") or "").split(",") if u.strip()]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("not_supported", "[ERROR] the emulator opens DMs with one user only")
    _user(slack, users[0])
    return {"channel": {"id": slack.dm_id(request.bot.id, users[0])}}


def users_info(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    return {"user": _user(slack, request.arg("user"))}


def team_info(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    team = request.bot
    return {"team": {"id": team.id, "name": team.name, "domain": team.domain, "email_domain": "", "icon": {}}}


def bots_info(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    wanted = request.arg("bot") or request.bot.bot_id
    team = next((t for t in slack.teams.values() if t.bot_id == wanted), None)
    if team is None:
        raise SlackError("bot_not_found")
    bot = {"id": team.bot_id, "deleted": False, "name": team.bot_name, "updated": 1_700_000_000}
    return {"bot": bot | {"app_id": slack.app_id, "user_id": team.bot_user_id, "icons": {}}}


def files_get_upload_url(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    filename, length = request.need("filename"), request.need("length")
    try:
        size = int(length)
    except ValueError:
        raise SlackError("invalid_arguments", "[ERROR] must be an integer [json-pointer:/length]") from None
    file_id = slack.new_id("F")
    slack.files[file_id] = PendingFile(file_id, request.bot.id, str(filename), size)
    return {"upload_url": f"{slack.url}/upload/{file_id}", "file_id": file_id}


def files_complete_upload(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    files = request.need("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") for f in files):
        raise SlackError("invalid_arguments", "[ERROR] must be an array of {id, title} [json-pointer:/files]")
    channels = [c.strip() for c in str(request.arg("channels") or "").split(",") if c.strip()]
    channels = [slack.dm_id(request.bot.id, c) if c in slack.users else c for c in channels]  # user ids too
    if request.arg("channel_id"):
        channels.insert(0, str(request.arg("channel_id")))
    targets = [_member_of(slack, request, c).id for c in channels]
    pending = [slack.files.get(str(f["id"])) for f in files]
    if any(p is None or p.team_id != request.bot.id or p.content is None for p in pending):
        raise SlackError("file_not_found")
    blocks = _blocks(request)
    comment, thread_ts = request.arg("initial_comment"), request.arg("thread_ts")
    answer = []
    for item, upload in zip(files, pending, strict=True):
        assert upload is not None and upload.content is not None
        title = str(item.get("title") or upload.filename)
        shared: list[str | None] = [*targets] or [None]
        for channel_id in shared:  # one record per channel shared to
            slack.uploads.append(
                Upload(
                    upload.id,
                    upload.filename,
                    title,
                    upload.content,
                    channel_id,
                    thread_ts,
                    comment,
                    blocks,
                    upload.team_id,
                )
            )
        answer.append(
            {
                "id": upload.id,
                "created": 1_764_000_000,
                "name": upload.filename,
                "title": title,
                "mimetype": "",
                "user": request.bot.bot_user_id,
                "size": len(upload.content),
                "mode": "hosted",
                "is_external": False,
                "is_public": bool(targets),
                "url_private": f"https://files.slack.com/files-pri/{request.bot.id}-{upload.id}/{upload.filename}",
                "permalink": f"https://{request.bot.domain}.slack.com/files/{request.bot.bot_user_id}/{upload.id}",
                "channels": targets,
            }
        )
    for channel_id in targets:  # the share appears as a message from the bot, as in Slack
        message = _message(slack, request, slack.next_ts(), None)
        message |= {"text": comment or "", "upload": True, "files": [{"id": f["id"]} for f in answer]}
        slack.store_message(channel_id, message)
    return {"files": answer}


def files_delete(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    """Delete a file the bot uploaded: gone from every channel it was shared to, with its share message."""
    file_id = str(request.need("file"))
    shared = [u for u in slack.uploads if u.file_id == file_id and u.team_id == request.bot.id]
    if not shared:
        raise SlackError("file_not_found")
    slack.uploads[:] = [u for u in slack.uploads if u not in shared]
    slack.drop_file_messages(file_id)
    return {}


def _use_trigger(slack: SlackEmulator, trigger_id: str) -> None:
    if not trigger_id:
        raise SlackError("invalid_trigger_id")
    if trigger_id in slack.triggers_expired or slack.trigger_age(trigger_id) > slack.trigger_lifetime:
        raise SlackError("expired_trigger_id")
    if trigger_id in slack.triggers_used:
        raise SlackError("exchanged_trigger_id")
    slack.triggers_used.add(trigger_id)


def _view_payload(
    slack: SlackEmulator,
    request: Request,
    view: dict[str, Any],
    view_id: str,
    root_id: str,
    previous: str | None,
) -> dict[str, Any]:
    team = request.bot
    stored = {
        "id": view_id,
        "team_id": team.id,
        "type": view.get("type"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": slack.new_hash(),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": root_id,
        "previous_view_id": previous,
        "app_id": slack.app_id,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": team.id,
        "bot_id": team.bot_id,
    }
    for name in ("title", "submit", "close"):
        stored[name] = view.get(name)
    external = view.get("external_id")
    if external:
        owner = slack.external_ids.get((team.id, external))
        if owner not in (None, view_id):
            raise SlackError("duplicate_external_id")
        slack.external_ids[(team.id, external)] = view_id
    slack.views[view_id] = stored
    return stored


def views_open(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    view = _view(request, "modal")
    _use_trigger(slack, str(request.arg("trigger_id") or request.arg("interactivity_pointer") or ""))
    view_id = slack.new_id("V")
    return {"view": _view_payload(slack, request, view, view_id, view_id, None)}


def views_push(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    view = _view(request, "modal")
    _use_trigger(slack, str(request.arg("trigger_id") or request.arg("interactivity_pointer") or ""))
    team_id = request.bot.id
    modals = [v for v in slack.views.values() if v["type"] == "modal" and v["team_id"] == team_id]
    top = modals[-1] if modals else None  # the trigger came from the latest modal: the best guess here
    if top is not None and sum(1 for v in modals if v["root_view_id"] == top["root_view_id"]) >= 3:
        raise SlackError("push_limit_reached")
    view_id = slack.new_id("V")
    root = top["root_view_id"] if top else view_id
    return {"view": _view_payload(slack, request, view, view_id, root, top["id"] if top else None)}


def views_update(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    view = _view(request, "modal", "home")
    view_id = request.arg("view_id") or slack.external_ids.get(
        (request.bot.id, str(request.arg("external_id")))
    )
    if request.arg("view_id") is None and request.arg("external_id") is None:
        raise SlackError("invalid_arguments", "[ERROR] either view_id or external_id is required")
    current = slack.views.get(str(view_id))
    if current is None or current["team_id"] != request.bot.id:
        raise SlackError("not_found")
    if request.arg("hash") is not None and request.arg("hash") != current["hash"]:
        raise SlackError("hash_conflict")
    updated = _view_payload(
        slack, request, view, current["id"], current["root_view_id"], current["previous_view_id"]
    )
    for user_id, home in list(slack.home_views.items()):
        if home["id"] == updated["id"]:
            slack.home_views[user_id] = updated
    return {"view": updated}


def views_publish(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    view = _view(request, "home")
    user_id = str(request.need("user_id"))
    _user(slack, user_id)
    key = (request.bot.id, user_id)
    view_id = slack.home_ids.setdefault(key, slack.new_id("V"))
    current = slack.views.get(view_id)
    if current is not None and request.arg("hash") is not None and request.arg("hash") != current["hash"]:
        raise SlackError("hash_conflict")
    published = _view_payload(slack, request, view, view_id, view_id, None)
    slack.home_views[user_id] = published
    return {"view": published}


def oauth_v2_access(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    client_id, secret = request.basic or (request.arg("client_id"), request.arg("client_secret"))
    if client_id != slack.client_id:
        raise SlackError("invalid_client_id")
    if secret != slack.client_secret:
        raise SlackError("bad_client_secret")
    if request.arg("grant_type") == "refresh_token":
        raise SlackError("invalid_refresh_token")
    code = slack.codes.pop(str(request.arg("code") or ""), None)
    if code is None:
        raise SlackError("invalid_code")
    team = slack.teams.get(code.team_id)
    if team is None:
        team = slack.add_team(
            code.team_id, code.team_name, code.bot_token, code.bot_user_id, bot_id=code.bot_id
        )
    else:
        team.bot_token = code.bot_token
        slack.tokens[code.bot_token] = team.id
    request.team_id = team.id
    if code.user_id not in slack.users:
        slack.add_user(code.user_id, code.user_id.lower(), team_id=team.id)
    return {
        "app_id": slack.app_id,
        "authed_user": {"id": code.user_id},
        "scope": code.scope,
        "token_type": "bot",
        "access_token": code.bot_token,
        "bot_user_id": team.bot_user_id,
        "team": {"id": team.id, "name": team.name},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def apps_connections_open(slack: SlackEmulator, request: Request) -> dict[str, Any]:
    """Socket Mode: the WebSocket URL to connect to (app-level tokens only)."""
    if not (request.token or "").startswith("xapp-"):
        raise SlackError("not_allowed_token_type")
    if slack.socket_mode_url is None:
        raise SlackError("invalid_app_token")  # what Slack says when the app has Socket Mode off
    return {"url": slack.socket_mode_url}


Method = Callable[["SlackEmulator", Request], dict[str, Any]]
# name → (implementation, needs a token)
METHODS: dict[str, tuple[Method, bool]] = {
    "auth.test": (auth_test, True),
    "chat.postMessage": (chat_post_message, True),
    "chat.postEphemeral": (chat_post_ephemeral, True),
    "chat.update": (chat_update, True),
    "chat.getPermalink": (chat_get_permalink, True),
    "conversations.info": (conversations_info, True),
    "conversations.history": (conversations_history, True),
    "conversations.replies": (conversations_replies, True),
    "conversations.open": (conversations_open, True),
    "users.info": (users_info, True),
    "team.info": (team_info, True),
    "bots.info": (bots_info, True),
    "files.getUploadURLExternal": (files_get_upload_url, True),
    "files.completeUploadExternal": (files_complete_upload, True),
    "files.delete": (files_delete, True),
    "views.open": (views_open, True),
    "views.push": (views_push, True),
    "views.update": (views_update, True),
    "views.publish": (views_publish, True),
    "oauth.v2.access": (oauth_v2_access, False),
    "apps.connections.open": (apps_connections_open, True),
}
