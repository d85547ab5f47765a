"""What Jira Cloud and Data Center share: settings checks, JQL, the sync cursor, and issues → events.

Events follow ``spec/data.md``: per issue one ``created`` event at ``fields.created`` into its first status
(the ``from`` of its earliest status change, else its current status), one ``status`` event per status
change, and ``blocked``/``unblocked`` when the Flagged field is set or cleared. Statuses are Jira's ids, with
the display name alongside, so renaming a status in Jira does not break a board's mapping.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from bot.connectors.base import SourceEvent, SourceItem, SourceStatus, StatusCategory
from bot.connectors.cursor import IsoTime, Mark, SweptSince
from bot.connectors.http import web_address

log = logging.getLogger("flowcoach.jira")

# Explicit fields: Cloud's search/jql returns only ids unless asked, and asking for less is faster anywhere.
ISSUE_FIELDS = ("summary", "issuetype", "status", "created", "updated", "assignee")
FLAGGED = "Flagged"  # the name Jira Software gives its flag field, in changelogs on Cloud and DC alike
_CATEGORIES: dict[str, StatusCategory] = {"new": "new", "indeterminate": "indeterminate", "done": "done"}


@dataclass(frozen=True)
class BoardColumn:
    """A column of a Jira board, left to right, with the ids of the statuses it shows."""

    name: str
    status_ids: tuple[str, ...]


def check_scope(project: str | None, jql: str | None) -> None:
    """Exactly one of project and jql says which issues belong to the board."""
    if bool(project) == bool(jql):
        raise ValueError("give either project (a project key such as PAY) or jql, not both and not neither")


class JiraScope(BaseModel):
    """Settings every Jira flavour shares: the site, and which issues make up the board."""

    url: str = Field(description="site address, e.g. https://acme.atlassian.net")
    project: str | None = Field(default=None, description="project key, e.g. PAY (or give jql instead)")
    jql: str | None = Field(default=None, description="JQL selecting the board's issues (instead of project)")
    board_id: int | None = Field(default=None, description="board id, to read its columns (optional)")

    @field_validator("url")
    @classmethod
    def _site(cls, url: str) -> str:
        return web_address(url, "https://acme.atlassian.net")

    @model_validator(mode="after")
    def _one_scope(self) -> Self:
        check_scope(self.project, self.jql)
        return self


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from Jira's ``2026-01-05T10:15:30.123+0100``."""
    return dt.datetime.fromisoformat(text)


def base_jql(project: str | None, jql: str | None) -> str:
    """The board's issues as JQL, without any ORDER BY (the connector orders its own searches)."""
    if project:
        return f'project = "{project}"'
    assert jql is not None  # the settings validator guarantees one of the two
    return re.sub(r"\s+order\s+by\s+.*$", "", jql.strip(), flags=re.IGNORECASE | re.DOTALL)


def jql_since(scope: str, since: dt.datetime | None, zone: dt.tzinfo, excluding: Sequence[str] = ()) -> str:
    """Issues of ``scope`` updated at or after ``since``, oldest update first, without the keys ``excluding``.

    JQL dates have minute precision and no offset: Jira reads them in the time zone of the user running
    the search, so ``since`` is written in that zone (from ``/myself``) and floored to the minute (see
    :func:`jql_date`). ``excluding`` lets a sync step past a minute holding more issues than a page.
    """
    order = " ORDER BY updated ASC"
    if since is None:
        return f"{scope}{order}"
    without = f" AND key not in ({', '.join(excluding)})" if excluding else ""
    return f'({scope}) AND updated >= "{jql_date(since, zone)}"{without}{order}'


def jql_date(since: dt.datetime, zone: dt.tzinfo) -> str:
    """``since`` as JQL writes a date: in the searching user's ``zone``, floored to the minute.

    When the local time is ambiguous (a DST fall-back hour), it is written an hour earlier: re-reading is
    harmless, missing an hour is not.
    """
    local = since.astimezone(zone)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        local = (since - dt.timedelta(hours=1)).astimezone(zone)
    return f"{local:%Y/%m/%d %H:%M}"


def zone_of(user: Mapping[str, Any]) -> dt.tzinfo:
    """The searching user's time zone from ``/myself``; UTC if Jira does not say or names an unknown zone."""
    name = user.get("timeZone")
    try:
        return zoneinfo.ZoneInfo(str(name)) if name else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("Jira reports an unknown time zone %r; reading JQL dates as UTC", name)
        return dt.UTC


def statuses_from(payload: Sequence[Mapping[str, Any]]) -> list[SourceStatus]:
    """Statuses from ``/status`` (flat) or ``/project/{key}/statuses`` (per issue type), each id once."""
    flat: Iterable[Mapping[str, Any]] = (
        (status for issue_type in payload for status in issue_type.get("statuses", []))
        if payload and "statuses" in payload[0]
        else payload
    )
    found: dict[str, SourceStatus] = {}
    for status in flat:
        key = str((status.get("statusCategory") or {}).get("key", ""))
        # "undefined" (No Category) and anything newer: treat as started, so it is never silently backlog.
        category = _CATEGORIES.get(key, "indeterminate")
        found.setdefault(str(status["id"]), SourceStatus(str(status["id"]), str(status["name"]), category))
    return list(found.values())


def columns_from(configuration: Mapping[str, Any]) -> list[BoardColumn]:
    """Board columns from the Agile ``/board/{id}/configuration`` answer."""
    columns = (configuration.get("columnConfig") or {}).get("columns") or []
    return [
        BoardColumn(str(c["name"]), tuple(str(s["id"]) for s in c.get("statuses") or [])) for c in columns
    ]


def item_from(issue: Mapping[str, Any], site: str) -> SourceItem:
    """A work item from a search result (``status`` is the display name, for people reading the store)."""
    fields = issue.get("fields") or {}
    return SourceItem(
        item_id=str(issue["key"]),
        title=fields.get("summary"),
        type=(fields.get("issuetype") or {}).get("name"),
        url=f"{site}/browse/{issue['key']}",
        created_at=parse_time(fields["created"]) if fields.get("created") else None,
        status=(fields.get("status") or {}).get("name"),
        assignee=(fields.get("assignee") or {}).get("displayName"),
    )


def events_from(issue: Mapping[str, Any], histories: Iterable[Mapping[str, Any]]) -> list[SourceEvent]:
    """The issue's events from its change histories (any order, any fields; others are ignored)."""
    key, fields = str(issue["key"]), issue.get("fields") or {}
    ordered = sorted(histories, key=lambda h: (parse_time(h["created"]), _numeric(h.get("id"))))
    changes: list[SourceEvent] = []
    first: Mapping[str, Any] | None = None
    for history in ordered:
        at = parse_time(history["created"])
        for item in history.get("items") or []:
            if item.get("fieldId") == "status" or (
                item.get("field") == "status" and item.get("fieldtype") == "jira"
            ):
                first = first or item
                changes.append(
                    SourceEvent.of(key, at, "status", item.get("from"), item.get("to"), item.get("toString"))
                )
            elif item.get("field") == FLAGGED:
                was, now = bool(item.get("fromString")), bool(item.get("toString"))
                if was != now:
                    reason = item.get("toString") or None
                    changes.append(SourceEvent.of(key, at, "blocked" if now else "unblocked", reason=reason))
    status = fields.get("status") or {}
    if first is not None and first.get("from"):
        start_id, start_name = first.get("from"), first.get("fromString")
    else:
        start_id, start_name = status.get("id"), status.get("name")
    created = [SourceEvent.of(key, parse_time(fields["created"]), "created", None, start_id, start_name)]
    return created + changes if fields.get("created") else changes


def _numeric(value: object) -> int:
    """A history id as a number, so two changes in the same millisecond keep Jira's order."""
    text = str(value or "")
    return int(text) if text.isdigit() else 0


class SyncState(SweptSince):
    """Jira's cursor (see :class:`SweptSince`): ``updated`` is the newest ``fields.updated`` seen."""

    SOURCE = "Jira"
    LOG = "flowcoach.jira"

    updated: IsoTime | None = None  # in the offset Jira gave it, as Jira cursors have always been written

    @staticmethod
    def stamp(moment: dt.datetime) -> str:
        """UTC with milliseconds, ending ``+00:00`` rather than ``Z``: what Jira cursors have always held."""
        return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def mark(issue: Mapping[str, Any]) -> Mark:
    """An issue's key and ``fields.updated``, what the cursor tells delivered versions of an issue by."""
    updated = (issue.get("fields") or {}).get("updated")
    return str(issue["key"]), None if updated is None else parse_time(updated)
