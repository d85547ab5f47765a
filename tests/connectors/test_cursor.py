"""The shared cursor base: versioned JSON, a backfill for anything unusable, and the updated-since shapes."""

from __future__ import annotations

import datetime as dt

from bot.connectors.cursor import IsoTime, KeySet, SweptSince, UpdatedSince, VersionedCursor

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


class Scoped(VersionedCursor):
    SOURCE = "Test"
    LOG = "flowcoach.test"
    VERSION = 3
    FIRST_KEYS = ("scope",)

    page: int = 0
    at: IsoTime | None = None
    scope: str


def test_dump_leads_with_the_version_then_the_first_keys_and_load_reads_it_back():
    state = Scoped(scope="/projects/7", page=2, at=dt.datetime(2026, 1, 5, 10, 0, tzinfo=PLUS_ONE))
    cursor = state.dump()
    assert cursor == '{"version":3,"scope":"/projects/7","page":2,"at":"2026-01-05T10:00:00+01:00"}'
    assert Scoped.load(cursor, scope="/projects/7") == state


def test_no_cursor_or_an_unusable_one_is_a_fresh_state_with_a_warning(caplog):
    fresh = Scoped(scope="/projects/7")
    for cursor in (None, "", "{", "null", '{"version":2,"page":1}', '{"version":3,"page":"x"}'):
        assert Scoped.load(cursor, scope="/projects/7") == fresh
    assert Scoped.load('{"version":3,"scope":"/groups/1","page":5}', scope="/projects/7") == fresh
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 5 and all(w.startswith("unreadable Test sync cursor (") for w in warnings)
    assert "cursor version 2" in warnings[2] and "/groups/1" in warnings[4]


def test_updated_since_skips_delivered_versions_and_forgets_what_left_the_overlap():
    state = UpdatedSince()
    state.observe([("A", T0), ("B", T0 + dt.timedelta(minutes=10)), ("C", None)], dt.timedelta(minutes=5))
    assert state.updated == T0 + dt.timedelta(minutes=10)
    assert state.recent == {"B": "2026-01-05T09:10:00.000Z"}  # A is older than the 5 minutes kept
    assert state.delivered("B", T0 + dt.timedelta(minutes=10))
    assert not state.delivered("B", T0 + dt.timedelta(minutes=11)) and not state.delivered("C", None)


def test_swept_since_needs_a_known_key_and_a_sweep_keeps_only_the_keys_found():
    state = SweptSince()
    state.observe([("PAY-1", T0), ("PAY-2", T0)], dt.timedelta(minutes=5))
    assert state.known == KeySet(["PAY-1", "PAY-2"]) and state.delivered("PAY-1", T0)
    assert state.sweep_due(T0, dt.timedelta(hours=24))
    state.swept(["PAY-2", "PAY-3"], T0)
    assert state.known == KeySet(["PAY-2", "PAY-3"]) and state.recent == {"PAY-2": "2026-01-05T09:00:00.000Z"}
    assert not state.delivered("PAY-1", T0)
    assert not state.sweep_due(T0 + dt.timedelta(hours=23), dt.timedelta(days=1))
