"""One small, identical board history for each tracker's fake, and the settings a user types to reach it.

Every tracker gets the same story, told in its own statuses (``T0`` is 2026-01-05 09:00 UTC):

- two items created, started at +1 h / +2 h and finished at +26 h / +50 h (the throughput);
- one item created and started at +4 h, still in progress (the WIP);
- one item created at +5 h and never moved (the backlog).

So at ``ASOF`` with a 30-day window a correct sync gives throughput 2, WIP 1, 4 items in all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.azure_devops import FakeAzureDevOps
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.linear import FakeLinear
from tests.fakes.trello import FakeTrello

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
ASOF = dt.datetime(2026, 1, 20, 0, 0, tzinfo=dt.UTC)
ITEMS, THROUGHPUT, WIP = 4, 2, 1


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@dataclass(frozen=True)
class Tracker:
    """A connector, its fake, the story told in its statuses, and the settings that reach the fake."""

    name: str
    make: Callable[[], Any]  # the fake, not started
    seed: Callable[[Any], None]
    settings: Callable[[Any], dict[str, str]]  # plain settings
    secret: str  # the secret setting's name
    token: Callable[[Any], str]
    statuses: tuple[str, ...]  # status names the proposed workflow must name


def _linear(fake: FakeLinear) -> None:
    fake.add_issue(h(0), [(h(1), "In Progress"), (h(26), "Done")])
    fake.add_issue(h(0), [(h(2), "In Progress"), (h(50), "Done")])
    fake.add_issue(h(3), [(h(4), "In Progress")])
    fake.add_issue(h(5))


def _github(fake: FakeGitHub) -> None:
    fake.add_item(h(0), [(h(0.5), "Todo"), (h(1), "In Progress"), (h(26), "Done")])
    fake.add_item(h(0), [(h(0.5), "Todo"), (h(2), "In Progress"), (h(50), "Done")])
    fake.add_item(h(3), [(h(3.5), "Todo"), (h(4), "In Progress")])
    fake.add_item(h(5), [(h(5.5), "Todo")])


def _trello(fake: FakeTrello) -> None:
    fake.add_card(h(0), [(h(1), "Doing"), (h(26), "Done")])
    fake.add_card(h(0), [(h(2), "Doing"), (h(50), "Done")])
    fake.add_card(h(3), [(h(4), "Doing")])
    fake.add_card(h(5))


def _azure(fake: FakeAzureDevOps) -> None:
    fake.add_item(h(0), [(h(1), "Active"), (h(26), "Closed")])
    fake.add_item(h(0), [(h(2), "Active"), (h(50), "Closed")])
    fake.add_item(h(3), [(h(4), "Active")])
    fake.add_item(h(5))


def _gitlab(fake: FakeGitLab) -> None:
    fake.add_issue(h(0), [(h(1), "Doing"), (h(26), "Done")], initial="Todo")
    fake.add_issue(h(0), [(h(2), "Doing"), (h(50), "Done")], initial="Todo")
    fake.add_issue(h(3), [(h(4), "Doing")], initial="Todo")
    fake.add_issue(h(5), initial="Todo")


TRACKERS = {
    tracker.name: tracker
    for tracker in (
        Tracker(
            "github",
            FakeGitHub,
            _github,
            lambda f: {"owner": f.owner, "project_number": str(f.project_number), "api_url": f.url},
            "token",
            lambda f: f.token,
            ("Todo", "In Progress", "In Review", "Done"),
        ),
        Tracker(
            "linear",
            FakeLinear,
            _linear,
            lambda f: {"team_key": f.team_key, "api_url": f.url},
            "api_key",
            lambda f: f.api_key,
            ("Backlog", "Todo", "In Progress", "In Review", "Done", "Canceled"),
        ),
        Tracker(
            "trello",
            FakeTrello,
            _trello,
            lambda f: {"board": f.short_link, "key": f.key, "api_url": f.api_url},
            "token",
            lambda f: f.token,
            ("Backlog", "Doing", "Review", "Done"),
        ),
        Tracker(
            "azure-devops",
            FakeAzureDevOps,
            _azure,
            lambda f: {"organization": f.organization, "project": f.project, "api_url": f.url},
            "pat",
            lambda f: f.pat,
            ("New", "Active", "Resolved", "Closed"),
        ),
        Tracker(
            "gitlab",
            FakeGitLab,
            _gitlab,
            lambda f: {"project": f"{f.group}/web", "api_url": f.api_url},
            "token",
            lambda f: f.token,
            ("Todo", "Doing", "Review", "Done"),
        ),
    )
}
