"""What Jira Cloud and Data Center share: settings checks, JQL, the sync cursor, and issues → events.

Events follow ``spec/data.md``: per issue one ``created`` event at ``fields.created`` into its first status
(the ``from`` of its earliest status change, else its current status), one ``status`` event per status
change, and ``blocked``/``unblocked`` when the Flagged field is set or cleared. Statuses are Jira's ids, with
the display name alongside, so renaming a status in Jira does not break a board's mapping.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from bot.connectors.base import SourceEvent, SourceItem, SourceStatus, StatusCategory

log = logging.getLogger("flowcoach.jira")

# Explicit fields: Cloud's search/jql returns only ids unless asked, and asking for less is faster anywhere.
ISSUE_FIELDS = ("summary", "issuetype", "status", "created", "updated", "assignee")
FLAGGED = "Flagged"  # the name Jira Software gives its flag field, in changelogs on Cloud and DC alike
CURSOR_VERSION = 1
_CATEGORIES: dict[str, StatusCategory] = {"new": "new", "indeterminate": "indeterminate", "done": "done"}


@dataclass(frozen=True)
class BoardColumn:
    """A column of a Jira board, left to right, with the ids of the statuses it shows."""

    name: str
    status_ids: tuple[str, ...]


def clean_url(url: str) -> str:
    """The site URL without a trailing slash; it must be http(s)."""
    url = url.strip().rstrip("/")
    if not re.match(r"https?://[^/\s]+", url):
        raise ValueError(
            "must start with https:// (or http://) and name the site, e.g. https://acme.atlassian.net"
        )
    return url


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
        return clean_url(url)

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


def jql_since(scope: str, since: dt.datetime | None, zone: dt.tzinfo) -> str:
    """Issues of ``scope`` updated at or after ``since``, oldest update first.

    JQL dates have minute precision and no offset: Jira reads them in the time zone of the user running
    the search, so ``since`` is written in that zone (from ``/myself``) and floored to the minute. When the
    local time is ambiguous (a DST fall-back hour), it is written an hour earlier: re-reading is harmless,
    missing an hour is not.
    """
    order = " ORDER BY updated ASC"
    if since is None:
        return f"{scope}{order}"
    local = since.astimezone(zone)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        local = (since - dt.timedelta(hours=1)).astimezone(zone)
    return f'({scope}) AND updated >= "{local:%Y/%m/%d %H:%M}"{order}'


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


class KeySet:
    """Issue keys as sorted runs of numbers per project: ``{"PAY": "1-480,482-20000"}`` when encoded.

    Jira numbers a project's issues consecutively, so even 20,000 keys are a handful of runs, and adding a
    key or encoding the set costs in proportion to the runs — the cursor is written after every page.
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._runs: dict[str, list[list[int]]] = {}
        for key in keys:
            self.add(key)

    def add(self, key: str) -> None:
        project, _, number = key.rpartition("-")
        n, runs = int(number), self._runs.setdefault(project, [])
        i = bisect.bisect_right(runs, n, key=lambda run: run[0])  # runs[i - 1] starts at or before n
        if i and runs[i - 1][1] >= n:
            return
        joins_left, joins_right = bool(i) and runs[i - 1][1] == n - 1, i < len(runs) and runs[i][0] == n + 1
        if joins_left and joins_right:
            runs[i - 1][1] = runs.pop(i)[1]
        elif joins_left:
            runs[i - 1][1] = n
        elif joins_right:
            runs[i][0] = n
        else:
            runs.insert(i, [n, n])

    def __contains__(self, key: object) -> bool:
        project, _, number = str(key).rpartition("-")
        runs = self._runs.get(project, [])
        i = bisect.bisect_right(runs, int(number), key=lambda run: run[0]) if number.isdigit() else 0
        return bool(i) and runs[i - 1][1] >= int(number)

    def keys(self) -> set[str]:
        return {f"{p}-{n}" for p, runs in self._runs.items() for a, b in runs for n in range(a, b + 1)}

    def encode(self) -> dict[str, str]:
        return {
            project: ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
            for project, runs in sorted(self._runs.items())
            if runs
        }

    @classmethod
    def decode(cls, encoded: Mapping[str, str]) -> KeySet:
        keys = cls()
        for project, text in encoded.items():
            for run in filter(None, text.split(",")):
                first, _, last = run.partition("-")
                keys._runs.setdefault(project, []).append([int(first), int(last or first)])
            keys._runs[project].sort()
        return keys


@dataclass
class SyncState:
    """The cursor: how far the board is synced, what was just delivered, which keys exist, when last swept.

    ``updated`` is the newest ``fields.updated`` seen (Jira's clock, so no skew). ``recent`` maps the keys
    updated within the overlap window to that ``updated``: the overlap re-reads them every sync, and an issue
    whose ``updated`` has not moved was already delivered, so it costs no changelog request. ``known`` is
    every key delivered, for the sweep to tell which vanished (a :class:`KeySet`).
    """

    updated: dt.datetime | None = None
    recent: dict[str, str] = field(default_factory=dict)
    known: KeySet = field(default_factory=KeySet)
    swept_at: dt.datetime | None = None

    @classmethod
    def load(cls, cursor: str | None) -> SyncState:
        """The state a cursor describes; no cursor, or one from another version, starts a full backfill."""
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            if data.get("version") != CURSOR_VERSION:
                raise ValueError(f"cursor version {data.get('version')!r}")
            return cls(
                updated=_time_or_none(data.get("updated")),
                recent=dict(data.get("recent") or {}),
                known=KeySet.decode(data.get("known") or {}),
                swept_at=_time_or_none(data.get("swept_at")),
            )
        except (ValueError, TypeError, AttributeError) as error:
            log.warning("unreadable Jira sync cursor (%s); syncing everything again", error)
            return cls()

    def dump(self) -> str:
        return json.dumps(
            {
                "version": CURSOR_VERSION,
                "updated": self.updated.isoformat() if self.updated else None,
                "recent": dict(sorted(self.recent.items())),
                "known": self.known.encode(),
                "swept_at": self.swept_at.isoformat() if self.swept_at else None,
            },
            separators=(",", ":"),
        )

    def delivered(self, issue: Mapping[str, Any]) -> bool:
        """Whether this exact version of the issue (same key, same ``updated``) was delivered already."""
        key, updated = str(issue["key"]), (issue.get("fields") or {}).get("updated")
        return updated is not None and self.recent.get(key) == _utc(parse_time(updated)) and key in self.known

    def observe(self, issues: Iterable[Mapping[str, Any]], overlap: dt.timedelta) -> None:
        """Record issues as delivered: advance ``updated``, remember the recent ones and every key."""
        for issue in issues:
            key, updated = str(issue["key"]), (issue.get("fields") or {}).get("updated")
            self.known.add(key)
            if updated is None:
                continue
            stamp = parse_time(updated)
            self.updated = max(self.updated, stamp) if self.updated else stamp
            self.recent[key] = _utc(stamp)
        if self.updated is not None:
            # A minute more than the overlap: the JQL floors its date to the minute.
            horizon = _utc(self.updated - overlap - dt.timedelta(minutes=1))
            self.recent = {k: v for k, v in self.recent.items() if v >= horizon and k in self.known}


def chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``values`` in slices of ``size`` (``itertools.batched`` arrives only in Python 3.12)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _utc(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _time_or_none(text: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(text)) if text else None
