"""The Trello connector against the fake Trello on 127.0.0.1 (tests/fakes/trello.py), and into a store."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from analytics.document import metrics_document
from analytics.measures import board_metrics
from analytics.workflow import parse_workflow
from bot.connectors.base import Batch, SourceStatus
from bot.connectors.errors import BadCredentials, NoPermission, NotFound, RateLimited
from bot.connectors.files import read_event_log
from bot.connectors.http import HttpOptions
from bot.connectors.trello import API_URL, TrelloConnector, TrelloSettings
from bot.connectors.trello_actions import ActionCursor
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.eventstore import load_events
from bot.store.models import Event, SyncRun, WorkItem
from tests.fakes.trello import DEFAULT_WORKFLOW_YAML as WORKFLOW
from tests.fakes.trello import FakeTrello

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def trello() -> Iterator[FakeTrello]:
    with FakeTrello() as fake:
        yield fake


@pytest.fixture
def connect() -> Iterator[Callable[..., TrelloConnector]]:
    """Make a connector for a fake (no real sleeping; closed after the test)."""
    made: list[TrelloConnector] = []

    def make(fake: FakeTrello, **options: Any) -> TrelloConnector:
        settings = options.pop("settings", None) or settings_for(fake)
        options.setdefault("http", HttpOptions(sleep=lambda _seconds: None))
        connector = TrelloConnector(settings, **options)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def settings_for(fake: FakeTrello, **changes: str) -> TrelloSettings:
    values = {"board": fake.short_link, "key": fake.key, "token": fake.token, "api_url": fake.api_url}
    return TrelloSettings(**(values | changes))


def events_of(batches: list[Batch]) -> list[dict[str, object]]:
    """Every event without empty fields, by item then time (batches come newest first)."""
    events = [{k: v for k, v in asdict(e).items() if v is not None} for b in batches for e in b.events]
    return sorted(events, key=lambda e: (int(str(e["item_id"])[1:]), e["timestamp"]))


def identity(event: Mapping[str, object]) -> tuple[object, ...]:
    """What the store deduplicates events by."""
    return (event["item_id"], event["timestamp"], event["event"], event.get("to_status"))


def small_board(trello: FakeTrello) -> None:
    """#1: Backlog → Doing → Review → Done; #2: created, never moved, assigned to Bea."""
    trello.add_card(h(0), [(h(1), "Doing"), (h(3), "Review"), (h(5), "Done")], name="Pay by card")
    trello.add_card(h(4), name="Refunds", member=trello.add_member("Bea Dev"))


def test_backfill_delivers_items_and_events_in_the_contract_shape(trello, connect):
    """Created in its first list, then one status event per list move, with list ids and names."""
    small_board(trello)
    ids = {name: trello.list_id(name) for name in ("Backlog", "Doing", "Review", "Done")}
    batches = list(connect(trello).fetch(None))
    assert events_of(batches) == [
        {"item_id": "#1", "timestamp": h(0), "event": "created", "to_status": ids["Backlog"],
         "to_status_name": "Backlog"},
        {"item_id": "#1", "timestamp": h(1), "event": "status", "from_status": ids["Backlog"],
         "to_status": ids["Doing"], "to_status_name": "Doing"},
        {"item_id": "#1", "timestamp": h(3), "event": "status", "from_status": ids["Doing"],
         "to_status": ids["Review"], "to_status_name": "Review"},
        {"item_id": "#1", "timestamp": h(5), "event": "status", "from_status": ids["Review"],
         "to_status": ids["Done"], "to_status_name": "Done"},
        {"item_id": "#2", "timestamp": h(4), "event": "created", "to_status": ids["Backlog"],
         "to_status_name": "Backlog"},
    ]  # fmt: skip
    items = {item.item_id: item for batch in batches for item in batch.items}
    assert items["#1"].title == "Pay by card" and items["#1"].status == "Done"
    assert items["#1"].url == "https://trello.com/c/c0000001" and items["#1"].created_at == h(0)
    assert items["#2"].assignee == "Bea Dev" and items["#2"].status == "Backlog"


def test_history_spanning_several_pages_is_delivered_whole_one_batch_per_page(trello, connect):
    """With 2 actions per page, a card's 7 actions arrive over 4 pages and batches, none lost or repeated."""
    trello.add_card(h(0), [(h(i), name) for i, name in enumerate(["Doing", "Review", "Doing"] * 2, start=1)])
    batches = list(connect(trello, page_size=2).fetch(None))
    assert len(batches) == 4 == trello.count("/boards/PaYm3nts/actions")
    assert [len(batch.events) for batch in batches] == [2, 2, 2, 1]
    events = events_of(batches)
    assert [e["timestamp"] for e in events] == [h(i) for i in range(7)]
    assert [e["to_status_name"] for e in events] == ["Backlog", *["Doing", "Review", "Doing"] * 2]
    befores = [r.query.get("before") for r in trello.requests if r.path.endswith("/actions")]
    assert befores[0] is None and all(befores[1:])  # paged backwards from the newest action


def test_incremental_sync_delivers_only_what_changed_since_the_cursor(trello, connect):
    """After a backfill, the next sync asks from the newest action seen and returns just the new events."""
    small_board(trello)
    connector = connect(trello, page_size=2)
    cursor = list(connector.fetch(None))[-1].cursor
    nothing = list(connector.fetch(cursor))
    assert [e for b in nothing for e in b.events] == [] and nothing[-1].cursor == cursor
    [card] = [c for c in trello.cards.values() if c.id_short == 2]
    trello.move(card, "Doing", h(10))
    trello.rename(card, "Refunds v2", h(11))  # not a flow event: filtered out by Trello
    trello.add_card(h(12), name="New")
    batches = list(connector.fetch(cursor))
    assert [(e["item_id"], e["event"], e["timestamp"]) for e in events_of(batches)] == [
        ("#2", "status", h(10)),
        ("#3", "created", h(12)),
    ]
    since = [
        r.query["since"][0] for r in trello.requests if r.path.endswith("/actions") and "since" in r.query
    ]
    assert since and set(since[-1:]) == {json.loads(cursor)["since"]}
    items = {item.item_id: item for batch in batches for item in batch.items}
    assert items["#2"].title == "Refunds v2" and items["#2"].status == "Doing"


def test_killed_sync_resumed_from_its_last_batch_loses_and_duplicates_nothing(trello, connect):
    """Stopping after the first page and resuming from its cursor gives exactly the clean sync's events,
    also when new actions happen between the kill and the resume (they come with the next sync)."""
    for n in range(5):
        trello.add_card(h(n), [(h(n + 0.25), "Doing"), (h(n + 0.5), "Done")])
    clean = events_of(list(connect(trello, page_size=4).fetch(None)))
    assert len(clean) == 15
    first = next(iter(connect(trello, page_size=4).fetch(None)))
    assert 0 < len(first.events) < len(clean)
    trello.add_card(h(9), name="Meanwhile")
    rest = list(connect(trello, page_size=4).fetch(first.cursor))
    resumed = events_of([first, *rest])
    assert resumed == clean
    later = list(connect(trello, page_size=4).fetch(rest[-1].cursor))
    assert [(e["item_id"], e["event"]) for e in events_of(later)] == [("#6", "created")]
    every = resumed + events_of(later)
    assert max(Counter(map(identity, every)).values()) == 1


def test_archiving_is_a_status_event_and_deleted_or_moved_cards_are_removed(trello, connect):
    """Archive/restore move a card to and from the Archived pseudo-status; a deleted card and one moved to
    another board are reported in Batch.removed (with a row to mark), a card that stays is not."""
    kept = trello.add_card(h(0), [(h(1), "Done")])
    trello.archive(kept, h(2))
    trello.archive(kept, h(3), closed=False)
    trello.archive(kept, h(4))
    deleted = trello.add_card(h(5))
    moved = trello.add_card(h(6))
    trello.delete(deleted, h(7))
    trello.move_to_other_board(moved, h(8))
    batches = list(connect(trello, page_size=3).fetch(None))
    done = trello.list_id("Done")
    assert [(e["timestamp"], e.get("from_status"), e["to_status"]) for e in events_of(batches)[2:5]] == [
        (h(2), done, "archived"),
        (h(3), "archived", done),
        (h(4), done, "archived"),
    ]
    removed = {key for batch in batches for key in batch.removed}
    assert removed == {"#2", "#3"}
    items = {item.item_id: item for batch in batches for item in batch.items}
    assert items["#1"].status == "Archived" and {"#2", "#3"} <= set(items)


def test_a_card_created_while_syncing_is_not_mistaken_for_a_removed_one(trello, connect, monkeypatch):
    """A card created after cards/all was read gets its events and is not reported removed (no departure)."""
    small_board(trello)
    receive = trello.receive

    def card_appears_before_actions_are_read(method, path, query):
        if path.endswith("/actions") and len(trello.cards) == 2:
            trello.add_card(h(20), name="Racing")
        return receive(method, path, query)

    monkeypatch.setattr(trello, "receive", card_appears_before_actions_are_read)
    batches = list(connect(trello).fetch(None))
    assert ("#3", "created") in {(e["item_id"], e["event"]) for e in events_of(batches)}
    assert [key for batch in batches for key in batch.removed] == []


def test_rate_limits_without_retry_after_back_off_exponentially(trello, connect):
    """Trello's 429 has no Retry-After: the connector waits backoff·2ⁿ and the sync still completes."""
    small_board(trello)
    trello.fail("/boards/PaYm3nts/actions", 429, times=3)
    waits: list[float] = []
    batches = list(connect(trello, http=HttpOptions(backoff=0.5, sleep=waits.append)).fetch(None))
    assert waits == [0.5, 1.0, 2.0]
    assert len(events_of(batches)) == 5


def test_rate_limit_that_never_lifts_is_reported(trello, connect):
    """After the configured retries, a lasting 429 is a RateLimited error."""
    trello.fail("/boards", 429, times=None)
    with pytest.raises(RateLimited, match="rate-limiting"):
        list(connect(trello, http=HttpOptions(max_retries=2, sleep=lambda _seconds: None)).fetch(None))
    assert trello.count("/boards") == 3


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"token": "wrong-token"}, BadCredentials, "refused the API key and token"),
        ({"key": "wrong-key"}, BadCredentials, "refused the API key and token"),
        ({"board": "Unkn0wn1"}, NotFound, "no board Unkn0wn1"),
        ({"board": "0123456789abcdef01234567"}, NotFound, "no board"),
    ],
)
def test_refusals_become_friendly_errors(trello, connect, change, error, words):
    """Bad key or token → BadCredentials, an unknown board → NotFound; the token is never in the message."""
    with pytest.raises(error, match=words) as raised:
        connect(trello, settings=settings_for(trello, **change)).check()
    assert trello.token not in str(raised.value) and "wrong-token" not in str(raised.value)


def test_a_board_the_member_may_not_see_is_no_permission(trello, connect):
    """Trello's 401 'unauthorized permission requested' and a 403 both mean NoPermission."""
    trello.private = True
    with pytest.raises(NoPermission, match="may not read this board"):
        connect(trello).check()
    trello.private = False
    trello.fail("/boards/PaYm3nts/actions", 403)
    with pytest.raises(NoPermission):
        list(connect(trello).fetch(None))


def test_check_names_the_board_and_the_member(trello, connect):
    """check() verifies token and board and says which board, how many open lists, and as whom."""
    trello.add_list("Old", closed=True)
    assert connect(trello).check() == "Trello board 'Payments' (PaYm3nts) with 4 lists, as Ann Lead (@ann)"


def test_statuses_are_the_lists_with_categories_guessed_from_the_board(trello, connect):
    """First open list → new, Done-like names → done, others (archived lists too) → indeterminate."""
    trello.lists[trello.list_id("Backlog")].closed = True  # an archived first list is not the backlog
    old = trello.add_list("Parked", closed=True)
    shipped = trello.add_list("Shipped 🚀")
    assert [(s.name, s.category) for s in connect(trello).statuses()] == [
        ("Backlog", "indeterminate"),
        ("Doing", "new"),
        ("Review", "indeterminate"),
        ("Done", "done"),
        ("Parked", "indeterminate"),
        ("Shipped 🚀", "done"),
        ("Archived", "done"),
    ]
    assert SourceStatus(old.id, "Parked", "indeterminate") in connect(trello).statuses()
    assert shipped.id in {s.id for s in connect(trello).statuses()}


def test_settings_hide_the_token_and_accept_a_board_address(trello):
    """The token is a SecretStr (repr, str and dumps hide it); a board URL becomes its short link."""
    settings = TrelloSettings(board="https://trello.com/b/PaYm3nts/payments", key="k", token="s3cr3t-tok")
    assert settings.board == "PaYm3nts" and settings.api_url == API_URL
    for shown in (repr(settings), str(settings), json.dumps(settings.model_dump(mode="json"))):
        assert "s3cr3t-tok" not in shown
    with pytest.raises(ValidationError, match="short link"):
        TrelloSettings(board="not a board", key="k", token="t")


def test_the_token_never_reaches_the_logs(trello, connect, caplog):
    """Every request carries the token in its query; no log line (httpx's too) shows it, even on errors."""
    small_board(trello)
    trello.fail("/boards/PaYm3nts/actions", 429)
    with caplog.at_level(logging.DEBUG):
        list(connect(trello).fetch(None))
        with pytest.raises(BadCredentials):
            connect(trello, settings=settings_for(trello, key="wrong-key")).check()
    assert all(r.query["token"] == [trello.token] for r in trello.requests)
    lines = [record.getMessage() for record in caplog.records]
    assert any("/1/boards/PaYm3nts/actions" in line for line in lines)  # httpx logged the URLs, redacted
    assert not any(trello.token in line for line in lines)


# -- into the store ------------------------------------------------------------------------------------------


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def busy_board(trello: FakeTrello) -> None:
    """12 cards through the flow at different paces, one archived when done, one deleted."""
    cards = []
    for n in range(12):
        start = h(n * 5)
        path = [(start + dt.timedelta(hours=2 + n % 3), "Doing"), (start + dt.timedelta(hours=9), "Review")]
        if n < 10:
            path.append((start + dt.timedelta(hours=20 + n), "Done"))
        cards.append(trello.add_card(start, path))
    trello.archive(cards[0], h(200))
    trello.delete(cards[11], h(201))


def new_board(sessions, name: str) -> int:
    with sessions.begin() as session:
        return add_board(
            session, name, connector="trello", settings={}, encrypted_secrets=None, workflow_yaml=WORKFLOW
        ).id


def event_count(sessions, board_id: int) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.board_id == board_id))


def test_store_resumes_a_killed_sync_and_its_metrics_equal_the_same_events_as_a_file(
    trello, connect, sessions, tmp_path
):
    """Through sync_board into SQLite: a sync killed after one page resumes to the clean sync's events, the
    deleted card is hidden, and board metrics from the store equal those from the events written as CSV."""
    busy_board(trello)
    clean_board, killed_board = new_board(sessions, "Clean"), new_board(sessions, "Killed")
    sync_board(sessions, clean_board, connect(trello, page_size=7))

    class KilledAfterOnePage(TrelloConnector):
        def fetch(self, cursor, progress=None):
            for number, batch in enumerate(super().fetch(cursor, progress)):
                if number == 1:
                    raise KeyboardInterrupt
                yield batch

    killed = KilledAfterOnePage(settings_for(trello), page_size=7)
    with pytest.raises(KeyboardInterrupt), killed:
        sync_board(sessions, killed_board, killed)
    assert 0 < event_count(sessions, killed_board) < event_count(sessions, clean_board)
    sync_board(sessions, killed_board, connect(trello, page_size=7))
    assert event_count(sessions, killed_board) == event_count(sessions, clean_board) == 12 * 3 + 10 + 1
    with sessions() as session:
        runs = session.scalars(select(SyncRun.status).where(SyncRun.board_id == killed_board)).all()
        removed = session.scalars(select(WorkItem.item_id).where(WorkItem.removed_at.is_not(None))).all()
    assert runs == ["interrupted", "ok"] and set(removed) == {"#12"}

    workflow = parse_workflow(WORKFLOW)
    with sessions() as session:
        stored = load_events(session, killed_board, workflow)
    assert "#12" not in set(stored["item_id"]) and "#11" in set(stored["item_id"])
    path = tmp_path / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "timestamp", "event", "from_status", "to_status", "title", "url"])
        batches = list(connect(trello).fetch(None))
        gone = {key for batch in batches for key in batch.removed}
        items = {item.item_id: item for batch in batches for item in batch.items}
        for batch in batches:
            for event in batch.events:
                if event.item_id in gone:
                    continue  # the store hides removed items; the file leaves them out
                name = event.to_status_name or event.to_status or ""
                item = items[event.item_id]
                stamp = event.timestamp.isoformat()
                writer.writerow([item.item_id, stamp, event.event, "", name, item.title, item.url])
    from_file = read_event_log(path, workflow).events
    asof = pd.Timestamp("2026-01-20T00:00Z")
    stored_metrics = board_metrics(stored, workflow, asof)
    assert metrics_document(stored_metrics) == metrics_document(board_metrics(from_file, workflow, asof))
    assert stored_metrics.throughput_total == 10


# Written by the connector before cursors shared one base (commit a464682), as stored boards hold them.
OLD_CURSOR = (
    '{"version":1,"since":"5f1a0000000000000000aaaa","newest":"5f1b0000000000000000bbbb",'
    '"before":"5f1a8000000000000000cccc"}'
)


def test_a_cursor_stored_by_earlier_versions_reads_back_the_same_and_is_written_the_same():
    """Same run position from an old cursor, and the same bytes written back."""
    state = ActionCursor.load(OLD_CURSOR)
    assert (state.since, state.newest, state.before) == (
        "5f1a0000000000000000aaaa", "5f1b0000000000000000bbbb", "5f1a8000000000000000cccc"
    )  # fmt: skip
    assert state.dump() == OLD_CURSOR
    assert ActionCursor().dump() == '{"version":1,"since":null,"newest":null,"before":null}'
    assert ActionCursor.load("{") == ActionCursor()
