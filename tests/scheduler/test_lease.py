"""The scheduler lease on SQLite and PostgreSQL: one holder at a time, renewal, expiry, takeover, release."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.lease import acquire_or_renew, current_holder, holder_id, release
from bot.store.db import make_engine, session_factory

T0 = dt.datetime(2026, 3, 27, 8, 0, tzinfo=dt.UTC)
LEASE = "scheduler"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_the_first_holder_gets_it_and_renews_it_while_others_are_refused(sessions):
    """A free lease goes to the first asker; its holder renews it; another holder is refused until expiry."""
    assert acquire_or_renew(sessions, LEASE, "a", 45, now=at(0))
    assert not acquire_or_renew(sessions, LEASE, "b", 45, now=at(1))
    assert acquire_or_renew(sessions, LEASE, "a", 45, now=at(30))  # renewed: now good until 75 s
    assert not acquire_or_renew(sessions, LEASE, "b", 45, now=at(60))
    assert current_holder(sessions, LEASE, now=at(60)) == "a"


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew_it(sessions):
    """After its TTL without renewal the lease goes to a standby; the old holder then gets False."""
    assert acquire_or_renew(sessions, LEASE, "a", 45, now=at(0))
    assert current_holder(sessions, LEASE, now=at(46)) is None
    assert acquire_or_renew(sessions, LEASE, "b", 45, now=at(46))
    assert not acquire_or_renew(sessions, LEASE, "a", 45, now=at(47))
    assert current_holder(sessions, LEASE, now=at(47)) == "b"


def test_release_frees_the_lease_at_once_but_only_for_its_holder(sessions):
    """A clean shutdown hands the lease over without waiting for the TTL; others cannot release it."""
    assert acquire_or_renew(sessions, LEASE, "a", 45, now=at(0))
    assert not release(sessions, LEASE, "b", now=at(1))
    assert not acquire_or_renew(sessions, LEASE, "b", 45, now=at(2))
    assert release(sessions, LEASE, "a", now=at(3))
    assert acquire_or_renew(sessions, LEASE, "b", 45, now=at(3.001))


def test_leases_of_different_names_are_independent(sessions):
    """Each name is its own lease."""
    assert acquire_or_renew(sessions, "one", "a", 45, now=at(0))
    assert acquire_or_renew(sessions, "two", "b", 45, now=at(0))


def test_holder_ids_name_the_host_and_process_and_are_unique():
    """host:pid:uuid, different for two workers of one process."""
    first, second = holder_id(), holder_id()
    assert first != second and first.count(":") == 2


def _race(database_url: str, name: str, contenders: int, now: dt.datetime) -> list[bool]:
    """``contenders`` threads, each on its own engine (as processes would be), ask for the lease at once."""
    engines = [make_engine(database_url) for _ in range(contenders)]
    factories: list[sessionmaker[Session]] = [session_factory(engine) for engine in engines]
    barrier = threading.Barrier(contenders)

    def contend(index: int) -> bool:
        barrier.wait()
        return acquire_or_renew(factories[index], name, f"holder-{index}", 45, now=now)

    try:
        with ThreadPoolExecutor(contenders) as pool:
            return list(pool.map(contend, range(contenders)))
    finally:
        for engine in engines:
            engine.dispose()


def test_racing_for_a_missing_lease_exactly_one_wins(database_url, engine):
    """Eight processes asking for a lease that does not exist yet: the primary key lets one through."""
    for round_ in range(3):
        assert sum(_race(database_url, f"race-{round_}", 8, at(0))) == 1


def test_racing_for_an_expired_lease_exactly_one_takes_it_over(database_url, sessions):
    """Eight standbys racing for an expired lease, several rounds: each round exactly one wins."""
    assert acquire_or_renew(sessions, LEASE, "dead", 45, now=at(0))
    for round_ in range(3):
        now = at(100 * (round_ + 1))  # the previous round's winner has expired by then
        won = _race(database_url, LEASE, 8, now)
        assert sum(won) == 1
        assert current_holder(sessions, LEASE, now=now) == f"holder-{won.index(True)}"
