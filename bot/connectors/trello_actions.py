"""Trello's raw data → flowcoach's: lists → statuses, cards → items, actions → events, and the sync cursor.

Everything here is pure (no HTTP), so the mapping rules are testable on their own. Shapes are Trello's REST
API v1: lists from ``/boards/{id}/lists``, cards from ``/boards/{id}/cards/all``, actions from
``/boards/{id}/actions``. Each action maps to at most one event on its own, so a page of actions needs no
other page to be turned into events (pages come newest first, so a card's creation is often on a later page).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.connectors.base import SourceEvent, SourceItem, SourceStatus, StatusCategory
from bot.connectors.cursor import VersionedCursor

# The actions that place a card in a list, move it, archive or restore it, or take it off the board.
ARRIVALS = ("createCard", "copyCard", "convertToCardFromCheckItem", "moveCardToBoard")
DEPARTURES = ("deleteCard", "moveCardFromBoard")
ACTION_FILTER = ",".join((*ARRIVALS, "updateCard:idList", "updateCard:closed", *DEPARTURES))
CARD_FIELDS = "id,idShort,shortLink,name,shortUrl,idList,closed,dateLastActivity,idMembers"
# Archiving a card is not a list move, but it takes the card off the board's columns: a pseudo-status keeps
# that fact in the event log, and the workflow decides what it means (see ``ARCHIVED``).
ARCHIVED_ID = "archived"
ARCHIVED = SourceStatus(ARCHIVED_ID, "Archived", "done")
_DONE_NAME = re.compile(r"\b(done|complete|completed|shipped|released|finished|closed)\b", re.IGNORECASE)


def statuses_from(lists: Iterable[Mapping[str, Any]]) -> list[SourceStatus]:
    """Every list (archived ones too: old cards passed through them), left to right, then ``Archived``.

    Trello has no status categories, so they are guessed from the board's shape: a list named like
    Done/Complete/Shipped is ``done``, otherwise the leftmost open list is ``new`` (the backlog), and every
    other list ``indeterminate``.
    """
    ordered = sorted(lists, key=lambda entry: float(entry.get("pos") or 0))
    first_open = next((str(entry["id"]) for entry in ordered if not entry.get("closed")), None)
    found = []
    for entry in ordered:
        name = str(entry.get("name") or entry["id"])
        category: StatusCategory
        if _DONE_NAME.search(name):
            category = "done"
        elif str(entry["id"]) == first_open:
            category = "new"
        else:
            category = "indeterminate"
        found.append(SourceStatus(str(entry["id"]), name, category))
    return [*found, ARCHIVED]


def item_key(card: Mapping[str, Any]) -> str:
    """``#12``: the card number Trello shows, unique and never reused on a board (the id if it is absent)."""
    number = card.get("idShort")
    return f"#{number}" if number is not None else str(card["id"])


def created_at(object_id: str) -> dt.datetime | None:
    """When a Trello object was created: its id is an ObjectId, whose first 4 bytes are Unix seconds."""
    try:
        return dt.datetime.fromtimestamp(int(object_id[:8], 16), dt.UTC)
    except ValueError:
        return None


def item_from(
    card: Mapping[str, Any], list_names: Mapping[str, str], member_names: Mapping[str, str]
) -> SourceItem:
    """A work item from a card of ``cards/all`` (``status`` is the list's name, or Archived)."""
    members = [member_names[m] for m in card.get("idMembers") or [] if m in member_names]
    status = ARCHIVED.name if card.get("closed") else list_names.get(str(card.get("idList")))
    return SourceItem(
        item_id=item_key(card),
        title=card.get("name"),
        type=None,  # Trello cards have no type; labels are free-form and many per card
        url=card.get("shortUrl"),
        created_at=created_at(str(card["id"])),
        status=status,
        assignee=members[0] if members else None,
    )


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from Trello's ``2026-01-05T09:00:00.000Z``."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def event_from(action: Mapping[str, Any]) -> SourceEvent | None:
    """The event one action means, or ``None`` (a departure, or an update that moved nothing)."""
    kind, data = action.get("type"), action.get("data") or {}
    card = data.get("card") or {}
    if not card:
        return None
    at, key = parse_time(str(action["date"])), item_key(card)
    if kind in ARRIVALS:
        place = data.get("list") or {}
        where = place.get("id") or card.get("idList")
        return SourceEvent.of(key, at, "created", None, where, place.get("name"))
    if kind != "updateCard":
        return None
    old = data.get("old") or {}
    if "listAfter" in data:
        before, after = data.get("listBefore") or {}, data["listAfter"] or {}
        return SourceEvent.of(key, at, "status", before.get("id"), after.get("id"), after.get("name"))
    if "closed" in old and bool(old["closed"]) != bool(card.get("closed")):
        place = data.get("list") or {}
        where = place.get("id") or card.get("idList")
        if card.get("closed"):
            return SourceEvent.of(key, at, "status", where, ARCHIVED_ID, ARCHIVED.name)
        return SourceEvent.of(key, at, "status", ARCHIVED_ID, where, place.get("name"))
    return None


class ActionCursor(VersionedCursor):
    """Where the sync stands in the board's action history, which Trello pages newest first.

    A *run* reads every action newer than ``since`` (all of them when ``None``), page by page backwards:
    ``newest`` is the newest action of the run (from its first page) and ``before`` the oldest one
    delivered so far. A killed run resumes with the same ``since`` and ``before``, so it neither re-reads
    nor skips a page; when the run reaches ``since`` (a short page), ``newest`` becomes the next ``since``.
    Actions made while a run pages backwards are newer than ``newest`` and wait for the next run.
    """

    SOURCE = "Trello"
    LOG = "flowcoach.trello"

    since: str | None = None
    newest: str | None = None
    before: str | None = None

    def observe(self, page: list[Mapping[str, Any]], *, last: bool) -> None:
        """Count a delivered page (newest action first); ``last`` when it reached the end of the run."""
        if page:
            self.newest = self.newest or str(page[0]["id"])
            self.before = str(page[-1]["id"])
        if last:
            self.since, self.newest, self.before = self.newest or self.since, None, None
