"""deploy/constraints.txt pins every dependency pyproject.toml declares: CI and images are reproducible."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {normalised(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]) for requirement in requirements}


def pinned() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "deploy" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, separator, version = line.partition("==")
            assert separator and version, f"not an exact pin: {line!r}"
            pins[normalised(name)] = version
    return pins


def test_every_declared_dependency_is_pinned_exactly():
    """A dependency added to pyproject.toml without new constraints fails here, not in a deploy."""
    assert declared() - set(pinned()) == set()


def test_ci_installs_with_the_constraints():
    """.ci/run installs from the pins, so CI tests exactly what a deploy installs."""
    assert "-c deploy/constraints.txt" in (ROOT / ".ci" / "run").read_text()
