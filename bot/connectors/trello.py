"""Trello: a board's lists as statuses, its cards as items, and its action history as events.

- Auth: an API key and a user token sent as ``key``/``token`` query parameters (Trello's documented scheme).
  The HTTP layer never logs query strings and error messages name only the path, so the token stays out of
  logs and messages.
- History: ``GET /boards/{id}/actions`` filtered to card arrivals, list moves, archiving and departures,
  ``limit`` actions per page, newest first, paged backwards with ``before`` and bounded by ``since`` (both
  action ids); see :class:`~bot.connectors.trello_actions.ActionCursor` for why a killed sync resumes exactly.
- Rate limits: Trello answers 429 without Retry-After (100 requests per 10 s per token), so the HTTP layer
  backs off exponentially; ``backoff`` is configurable.
- 401 means two things on Trello: a bad key or token ("invalid token"), or a board the token's member may
  not see ("unauthorized permission requested"); the body tells them apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator

from analytics.workflow import Workflow
from bot.connectors.base import Batch, ClosesOnExit, ProgressCallback, SourceItem, SourceStatus
from bot.connectors.errors import BadCredentials, NoPermission, NotFound, UnexpectedResponse
from bot.connectors.http import HttpClient, HttpOptions, web_address
from bot.connectors.trello_actions import (
    ACTION_FILTER,
    CARD_FIELDS,
    DEPARTURES,
    ActionCursor,
    event_from,
    item_from,
    item_key,
    statuses_from,
)

API_URL = "https://api.trello.com/1"
PAGE_SIZE = 1000  # Trello's maximum ``limit`` for actions
_BOARD = re.compile(r"[0-9a-fA-F]{24}|[A-Za-z0-9]{8}")
_BOARD_URL = re.compile(r"https?://(?:www\.)?trello\.com/b/([A-Za-z0-9]{8})(?:[/?#].*)?")
_REFUSED_CREDENTIALS = ("invalid token", "invalid key", "expired token", "invalid app token")


class TrelloSettings(BaseModel):
    """A Trello board and the key and token that may read it."""

    board: str = Field(description="board id, short link (the 8 characters after /b/) or the board's address")
    key: str = Field(description="API key of your Trello Power-Up (https://trello.com/power-ups/admin)")
    token: SecretStr = Field(description="user token authorised for that key with read scope")
    api_url: str = Field(default=API_URL, description="Trello REST API address (change only for testing)")

    @field_validator("board")
    @classmethod
    def _board(cls, board: str) -> str:
        board = board.strip()
        if match := _BOARD_URL.fullmatch(board):
            return match.group(1)
        if not _BOARD.fullmatch(board):
            raise ValueError(
                "give the board's address (https://trello.com/b/AbCd1234/...), its short link (AbCd1234) "
                "or its 24-character id"
            )
        return board

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, url: str) -> str:
        return web_address(url, API_URL)


class TrelloConnector(ClosesOnExit):
    """One Trello board as a flowcoach board (see the module docstring).

    Keyword options (tests and benchmarks set them; boards use the defaults): ``http`` how the HTTP client
    waits and retries; ``page_size`` is actions per request and per batch.
    """

    def __init__(
        self,
        settings: TrelloSettings,
        workflow: Workflow | None = None,
        *,
        http: HttpOptions = HttpOptions(),
        page_size: int = PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE}")
        self.board = settings.board
        self.page_size = page_size
        self._auth = {"key": settings.key, "token": settings.token.get_secret_value()}
        self.http = HttpClient(settings.api_url, service="Trello", options=http)

    def close(self) -> None:
        self.http.close()

    # -- the Connector protocol ----------------------------------------------------------------------------

    def check(self) -> str:
        """Who the token belongs to, and that it may read the board and its lists."""
        me = self._get("/members/me", fields="fullName,username")
        who = me.get("fullName") or me.get("username") or "this account"
        if me.get("username"):
            who = f"{who} (@{me['username']})"
        board = self._get(f"/boards/{self.board}", fields="name,shortLink,closed")
        lists = [entry for entry in self._lists() if not entry.get("closed")]
        archived = " (archived board)" if board.get("closed") else ""
        return (
            f"Trello board '{board.get('name', self.board)}' ({board.get('shortLink', self.board)})"
            f"{archived} with {len(lists)} lists, as {who}"
        )

    def statuses(self) -> list[SourceStatus]:
        """The board's lists, archived ones included, plus the ``Archived`` pseudo-status of cards."""
        return statuses_from(self._lists())

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        """One batch per page of actions newer than the cursor (all of them without one), newest first."""
        state = ActionCursor.load(cursor)
        list_names = {str(entry["id"]): str(entry.get("name")) for entry in self._lists()}
        members = self._get(f"/boards/{self.board}/members", fields="fullName,username")
        member_names = {str(m["id"]): str(m.get("fullName") or m.get("username")) for m in members}
        cards = {
            str(card["id"]): card for card in self._get(f"/boards/{self.board}/cards/all", fields=CARD_FIELDS)
        }
        done = 0
        while True:
            params = {"filter": ACTION_FILTER, "limit": self.page_size}
            params |= {name: value for name in ("since", "before") if (value := getattr(state, name))}
            page: list[Mapping[str, Any]] = self._get(f"/boards/{self.board}/actions", **params)
            last = len(page) < self.page_size
            state.observe(page, last=last)
            yield self._batch(page, cards, list_names, member_names, state.dump())
            done += len(page)
            if progress is not None:
                progress(done, None)
            if last:
                return

    # -- reading -------------------------------------------------------------------------------------------

    def _lists(self) -> list[Mapping[str, Any]]:
        lists: list[Mapping[str, Any]] = self._get(
            f"/boards/{self.board}/lists", filter="all", fields="id,name,closed,pos"
        )
        return lists

    def _batch(
        self,
        page: list[Mapping[str, Any]],
        cards: Mapping[str, Mapping[str, Any]],
        list_names: Mapping[str, str],
        member_names: Mapping[str, str],
        cursor: str,
    ) -> Batch:
        """The page's events, the current attributes of the cards it touches, and the cards that left.

        A card is reported removed only when a departure (deleted, moved to another board) is on this page
        and the card is not on the board now. Cards absent from ``cards/all`` for another reason (created
        after it was read) get events but no item, so nothing here hides them.
        """
        events = tuple(event for action in page if (event := event_from(action)) is not None)
        touched: dict[str, Mapping[str, Any]] = {}
        departed: dict[str, Mapping[str, Any]] = {}
        for action in page:
            card = (action.get("data") or {}).get("card") or {}
            if "id" not in card:
                continue
            touched.setdefault(str(card["id"]), card)
            if action.get("type") in DEPARTURES and str(card["id"]) not in cards:
                departed.setdefault(str(card["id"]), card)
        items = [
            item_from(cards[card_id], list_names, member_names) for card_id in touched if card_id in cards
        ]
        # A departed card needs a row for the removal to mark: on a backfill its departure comes first.
        items += [SourceItem(item_id=item_key(card), title=card.get("name")) for card in departed.values()]
        removed = tuple(sorted({item_key(card) for card in departed.values()}))
        return Batch(items=tuple(items), events=events, cursor=cursor, removed=removed)

    def _get(self, path: str, **params: Any) -> Any:
        """GET a Trello path with the key and token, with Trello's refusals turned into friendly errors."""
        response = self.http.request(
            "GET", path, params={**params, **self._auth}, expected=(200, 400, 401, 403, 404)
        )
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError:
                raise UnexpectedResponse(
                    f"Trello answered {response.request.url.path} with something other than JSON: check "
                    "the api_url setting (it should be https://api.trello.com/1)"
                ) from None
        reason = response.text.strip().lower()
        if status == 401 and any(refusal in reason for refusal in _REFUSED_CREDENTIALS):
            raise BadCredentials(
                "Trello refused the API key and token (401): check the key at "
                "https://trello.com/power-ups/admin and authorise a new token for it"
            )
        if status in (401, 403):
            raise NoPermission(
                f"Trello denied access to board {self.board} ({status}): the key and token work, but the "
                "token's member may not read this board; ask a board admin to add that member, or authorise "
                "a token with read scope"
            )
        if status == 404 or (status == 400 and "invalid id" in reason):
            raise NotFound(
                f"Trello has no board {self.board} that this token can see ({status}): the short link is "
                "the 8 characters after /b/ in the board's address"
            )
        raise UnexpectedResponse(
            f"Trello answered {status} on {response.request.url.path}, which flowcoach did not expect: "
            "check the connector settings"
        )
