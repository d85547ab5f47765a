"""Every connector test is also a contract test: what its fakes were asked and answered must keep to the
vendors' published schemas (tests/contracts), so a fake cannot drift from the real API unnoticed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contracts.fakes_check import contract_problems
from tests.fakes.server import LocalHttpServer


@pytest.fixture(autouse=True)
def fakes_keep_to_the_vendors_schemas() -> Iterator[None]:
    LocalHttpServer.started.clear()
    yield
    fakes, LocalHttpServer.started[:] = list(LocalHttpServer.started), []
    problems = [problem for fake in fakes for problem in contract_problems(fake)]
    assert not problems, "the fakes departed from the vendors' schemas:\n" + "\n".join(problems)
