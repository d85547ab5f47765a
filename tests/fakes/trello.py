"""A fake Trello REST API (v1) on 127.0.0.1 that answers with Trello's real payload shapes.

One board of lists and cards whose history is kept as Trello actions, rendered when they happen (an action
is a snapshot: renaming a list later does not change old actions, as on Trello). Tests build it in plain
Python — add cards, move, archive, restore, delete or move them to another board at given times — and
every request is recorded (method, path, query) so tests can assert how a connector talks to Trello.

Served, mirroring the real API (``/1`` prefix; ``key`` and ``token`` query parameters on every request):

- ``GET /1/members/me``, ``GET /1/boards/{id}`` (board id or short link), ``/boards/{id}/lists?filter=``,
  ``/boards/{id}/cards/{all|open|closed}``, ``/boards/{id}/members``;
- ``GET /1/boards/{id}/actions?filter=&limit=&before=&since=``: newest first, ``limit`` at most 1000 (400
  above), ``before``/``since`` are action ids (or ISO dates), ``filter`` names action types and the
  ``updateCard:idList`` / ``updateCard:closed`` sub-filters.

Ids are 24-hex ObjectIds whose first 4 bytes are the creation time in Unix seconds, as Trello's are, so
they sort by time; tests therefore record history in time order (Trello cannot record the past either).

Refusals are Trello's text/plain bodies: 401 ``invalid key`` / ``invalid token`` for bad credentials, 401
``unauthorized permission requested`` when ``private`` hides the board, 400 ``invalid id`` for a malformed
board id, 404 for an unknown one. Scripted faults (:meth:`FakeTrello.fail`) answer the next matching
requests instead; 429 comes without Retry-After, like Trello's.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.server import FakeAnswers, LocalHttpServer

RATE_LIMITED = {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
MAX_LIMIT = 1000


@dataclass
class FakeList:
    id: str
    name: str
    pos: float
    closed: bool = False


@dataclass
class FakeCard:
    id: str
    id_short: int
    short_link: str
    name: str
    id_list: str
    last_activity: dt.datetime
    closed: bool = False
    members: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]


@dataclass
class Fault:
    path: str
    status: int
    times: int | None  # None: every matching request from now on
    body: Any


# Lists as a small team's board has them (names, left to right); the fake can add more.
DEFAULT_LISTS = ("Backlog", "Doing", "Review", "Done")
# A workflow for the default lists, by name (the store maps names as well as ids).
DEFAULT_WORKFLOW_YAML = """
name: Team
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [Backlog], kind: backlog}
  - {name: Doing, statuses: [Doing], kind: active}
  - {name: Review, statuses: [Review], kind: queue}
  - {name: Done, statuses: [Done], kind: done}
"""


class FakeTrello(LocalHttpServer):
    """The fake API; use as a context manager (``with FakeTrello() as trello: trello.api_url``)."""

    def __init__(
        self,
        *,
        lists: tuple[str, ...] = DEFAULT_LISTS,
        board_name: str = "Payments",
        key: str = "0123456789abcdef0123456789abcdef",
        token: str = "ATTA-secret-token-0000",
        private: bool = False,
    ) -> None:
        self.key, self.token, self.private = key, token, private
        self.board_name = board_name
        self._seq = 0
        self.board_id = self.object_id(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        self.short_link = "PaYm3nts"
        self.me = {"id": self.object_id(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)), "username": "ann",
                   "fullName": "Ann Lead", "initials": "AL"}  # fmt: skip
        self.members = {self.me["id"]: self.me}
        self.lists: dict[str, FakeList] = {}
        for number, name in enumerate(lists):
            self.add_list(name, pos=16384.0 * (number + 1))
        self.cards: dict[str, FakeCard] = {}
        self.gone: dict[str, FakeCard] = {}  # deleted or moved to another board
        self.actions: list[dict[str, Any]] = []  # newest first, as served
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._next_short = 0
        self._lock = threading.RLock()

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/1"

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundHandler", (Handler,), {"trello": self})

    # -- building and changing the board ---------------------------------------------------------------

    def object_id(self, at: dt.datetime) -> str:
        """A Trello-like ObjectId: creation time in seconds, then a counter (so ids sort like times)."""
        self._seq += 1
        return f"{int(at.timestamp()):08x}{self._seq:016x}"

    def add_list(self, name: str, *, pos: float | None = None, closed: bool = False) -> FakeList:
        at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        pos = pos if pos is not None else max((x.pos for x in self.lists.values()), default=0) + 16384
        entry = FakeList(self.object_id(at), name, pos, closed)
        self.lists[entry.id] = entry
        return entry

    def list_id(self, name_or_id: str) -> str:
        if name_or_id in self.lists:
            return name_or_id
        return next(entry.id for entry in self.lists.values() if entry.name == name_or_id)

    def add_member(self, full_name: str) -> str:
        at = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
        member = {"id": self.object_id(at), "username": full_name.lower().replace(" ", ""),
                  "fullName": full_name, "initials": full_name[:1]}  # fmt: skip
        self.members[member["id"]] = member
        return member["id"]

    def add_card(
        self,
        created: dt.datetime,
        moves: tuple[tuple[dt.datetime, str], ...] | list[tuple[dt.datetime, str]] = (),
        *,
        initial: str = "Backlog",
        name: str | None = None,
        member: str | None = None,
        how: str = "createCard",
    ) -> FakeCard:
        """A card created in ``initial`` (``how``: createCard, copyCard, moveCardToBoard...), then moved."""
        with self._lock:
            self._next_short += 1
            number = self._next_short
            card = FakeCard(
                id=self.object_id(created),
                id_short=number,
                short_link=f"c{number:07d}",
                name=name or f"Card {number}",
                id_list=self.list_id(initial),
                last_activity=created,
                members=[member] if member else [],
            )
            self.cards[card.id] = card
            self._act(how, created, card, {"list": self._list_ref(card.id_list)})
            for at, where in moves:
                self.move(card, where, at)
            return card

    def move(self, card: FakeCard, where: str, at: dt.datetime) -> None:
        with self._lock:
            before, after = card.id_list, self.list_id(where)
            card.id_list, card.last_activity = after, at
            self._act(
                "updateCard",
                at,
                card,
                {"old": {"idList": before}, "listBefore": self._list_ref(before),
                 "listAfter": self._list_ref(after)},
            )  # fmt: skip

    def archive(self, card: FakeCard, at: dt.datetime, *, closed: bool = True) -> None:
        """Archive a card (``closed=False``: send it back to the board)."""
        with self._lock:
            card.closed, card.last_activity = closed, at
            self._act(
                "updateCard", at, card, {"old": {"closed": not closed}, "list": self._list_ref(card.id_list)}
            )

    def rename(self, card: FakeCard, name: str, at: dt.datetime) -> None:
        """A change the connector's action filter does not ask for."""
        with self._lock:
            old, card.name, card.last_activity = card.name, name, at
            self._act("updateCard", at, card, {"old": {"name": old}, "list": self._list_ref(card.id_list)})

    def delete(self, card: FakeCard, at: dt.datetime) -> None:
        with self._lock:
            self.gone[card.id] = self.cards.pop(card.id)
            # Trello's deleteCard keeps only the card's id and number.
            self._act("deleteCard", at, card, {"list": self._list_ref(card.id_list)}, brief=True)

    def move_to_other_board(self, card: FakeCard, at: dt.datetime) -> None:
        with self._lock:
            self.gone[card.id] = self.cards.pop(card.id)
            self._act("moveCardFromBoard", at, card, {"boardTarget": {"id": "5f0000000000000000000001"}})

    def _list_ref(self, list_id: str) -> dict[str, str]:
        return {"id": list_id, "name": self.lists[list_id].name}

    def _act(
        self, kind: str, at: dt.datetime, card: FakeCard, extra: dict[str, Any], *, brief: bool = False
    ) -> None:
        """Record an action as Trello renders it: a snapshot of the card, list and board at that moment."""
        card_ref: dict[str, Any] = {"id": card.id, "idShort": card.id_short}
        if not brief:
            card_ref |= {"name": card.name, "shortLink": card.short_link}
            if kind == "updateCard":
                now = {"idList": card.id_list, "closed": card.closed}
                card_ref |= {key: value for key, value in now.items() if key in extra.get("old", {})}
        action: dict[str, Any] = {
            "id": self.object_id(at),
            "idMemberCreator": self.me["id"],
            "data": {
                "board": {"id": self.board_id, "name": self.board_name, "shortLink": self.short_link},
                "card": card_ref,
                **extra,
            },
            "appCreator": None,
            "type": kind,
            "date": f"{at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z",
            "limits": None,
            "memberCreator": {**self.me, "activityBlocked": False, "avatarHash": None, "nonPublic": {}},
        }
        self.actions.insert(0, action)
        self.actions.sort(key=lambda a: a["id"], reverse=True)

    # -- scripted faults and request log -----------------------------------------------------------------

    def fail(self, path: str, status: int, *, times: int | None = 1, body: Any = None) -> None:
        """Answer the next ``times`` requests whose path (after ``/1``) starts with ``path``."""
        if body is None:
            body = RATE_LIMITED if status == 429 else f"scripted {status}"
        with self._lock:
            self.faults.append(Fault(path, status, times, body))

    def count(self, path: str = "") -> int:
        """How many requests went to a path starting with ``/1`` + ``path``."""
        return sum(1 for r in self.requests if r.path.startswith(f"/1{path}"))

    def receive(self, method: str, path: str, query: dict[str, list[str]]) -> Fault | None:
        self.requests.append(RecordedRequest(method, path, query))
        fault = next((f for f in self.faults if path.startswith(f"/1{f.path}")), None)
        if fault is not None and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        return fault

    # -- payloads ---------------------------------------------------------------------------------------

    def card_json(self, card: FakeCard) -> dict[str, Any]:
        return {
            "id": card.id,
            "idShort": card.id_short,
            "shortLink": card.short_link,
            "name": card.name,
            "shortUrl": f"https://trello.com/c/{card.short_link}",
            "url": f"https://trello.com/c/{card.short_link}/{card.id_short}-card",
            "idList": card.id_list,
            "idBoard": self.board_id,
            "closed": card.closed,
            "dateLastActivity": f"{card.last_activity.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}.000Z",
            "idMembers": list(card.members),
            "idLabels": [],
            "pos": 16384 * card.id_short,
        }

    def list_json(self, entry: FakeList) -> dict[str, Any]:
        return {"id": entry.id, "name": entry.name, "closed": entry.closed, "pos": entry.pos,
                "idBoard": self.board_id, "subscribed": False}  # fmt: skip

    def board_json(self) -> dict[str, Any]:
        return {
            "id": self.board_id,
            "name": self.board_name,
            "desc": "",
            "closed": False,
            "shortLink": self.short_link,
            "url": f"https://trello.com/b/{self.short_link}/payments",
            "shortUrl": f"https://trello.com/b/{self.short_link}",
        }


def _fields(payload: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """Trello's ``fields=a,b`` keeps only those fields (and always the id)."""
    if "fields" not in query or query["fields"] == "all":
        return payload
    wanted = set(query["fields"].split(",")) | {"id"}
    return {k: v for k, v in payload.items() if k in wanted}


def _matches(action: dict[str, Any], filters: set[str]) -> bool:
    kind, old = action["type"], action["data"].get("old", {})
    if not filters or "all" in filters or kind in filters:
        return True
    return kind == "updateCard" and any(f"updateCard:{name}" in filters for name in old)


def _bound(value: str, action: dict[str, Any]) -> str:
    """What to compare an action with: its id for an id bound, its date for a date bound."""
    return str(action["id"] if re.fullmatch(r"[0-9a-f]{24}", value) else action["date"])


class Handler(FakeAnswers, BaseHTTPRequestHandler):
    trello: FakeTrello

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        trello = self.trello
        with trello._lock:
            fault = trello.receive("GET", parts.path, query)
            if fault is not None:
                self._send(fault.status, fault.body)
                return
            arg = {k: v[-1] for k, v in query.items()}
            if arg.get("key") != trello.key:
                self._send(401, "invalid key")
                return
            if arg.get("token") != trello.token:
                self._send(401, "invalid token")
                return
            status, payload = self._route(parts.path, arg)
        self._send(status, payload)

    def _route(self, path: str, arg: dict[str, str]) -> tuple[int, Any]:
        trello = self.trello
        if path == "/1/members/me":
            return 200, _fields(trello.me | {"url": f"https://trello.com/{trello.me['username']}"}, arg)
        m = re.fullmatch(r"/1/boards/([^/]+)(?:/(lists|cards|members|actions)(?:/([a-z]+))?)?", path)
        if m is None:
            return 404, "Cannot GET " + path
        board, what, sub = m.groups()
        if not re.fullmatch(r"[0-9a-fA-F]{24}|[A-Za-z0-9]{8}", board):
            return 400, "invalid id"
        if board not in (trello.board_id, trello.short_link):
            return 404, "The requested resource was not found."
        if trello.private:
            return 401, "unauthorized permission requested"
        if what is None:
            return 200, _fields(trello.board_json(), arg)
        if what == "lists":
            wanted = arg.get("filter", "open")
            lists = sorted(trello.lists.values(), key=lambda x: x.pos)
            lists = [x for x in lists if wanted == "all" or x.closed == (wanted == "closed")]
            return 200, [_fields(trello.list_json(x), arg) for x in lists]
        if what == "members":
            return 200, [_fields(member, arg) for member in trello.members.values()]
        if what == "cards":
            wanted = sub or arg.get("filter", "visible")
            cards = [c for c in trello.cards.values() if wanted == "all" or c.closed == (wanted == "closed")]
            return 200, [_fields(trello.card_json(c), arg) for c in sorted(cards, key=lambda c: c.id)]
        return self._actions(arg)

    def _actions(self, arg: dict[str, str]) -> tuple[int, Any]:
        limit = int(arg.get("limit", 50))
        if not 0 <= limit <= MAX_LIMIT:
            return 400, "invalid value for limit"
        filters = set(filter(None, arg.get("filter", "all").split(",")))
        found = [a for a in self.trello.actions if _matches(a, filters)]
        if before := arg.get("before"):
            found = [a for a in found if _bound(before, a) < before]
        if since := arg.get("since"):
            found = [a for a in found if _bound(since, a) > since]
        return 200, found[:limit]
