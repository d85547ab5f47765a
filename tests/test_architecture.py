"""Project-wide rules: analytics stays pure, and every command is documented."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

from bot.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_ANALYTICS = (
    "bot",
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "httpx",
    "requests",
    "urllib",
    "socket",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_analytics_imports_nothing_from_the_application_or_the_network():
    """analytics is the pure core: no bot, Slack, database or HTTP imports (ARCHITECTURE.md)."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & set(FORBIDDEN_IN_ANALYTICS))
        for path in (ROOT / "analytics").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_analytics_reads_no_clock():
    """Time is a parameter in analytics: no now(), today() or time.time() calls."""
    clock = re.compile(r"\b(datetime\.now|date\.today|Timestamp\.now|time\.time|datetime\.utcnow)\(")
    users = [
        str(p.relative_to(ROOT)) for p in (ROOT / "analytics").rglob("*.py") if clock.search(p.read_text())
    ]
    assert users == []


def test_every_command_is_documented_in_the_readme():
    """Each `flowcoach` subcommand has a section in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    [subparsers] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    commands = sorted(subparsers.choices)
    assert commands == [
        "backtest", "board", "boards", "charts", "db", "demo", "digest", "forecast", "health", "jobs",
        "metrics", "replay", "serve", "sync", "worker",
    ]  # fmt: skip
    documented = {
        "boards": "flowcoach boards",
        "db": "### `flowcoach db upgrade`",
        "sync": "`flowcoach sync`",
    }
    missing = [
        command for command in commands if documented.get(command, f"### `flowcoach {command}`") not in readme
    ]
    assert missing == []


def test_analytics_opens_no_files():
    """analytics parses the bytes and text it is given; bot.connectors.files opens the files."""
    opening = re.compile(r"\bopen\(|\.read_text\(|\.read_bytes\(|\.write_bytes\(|\.write_text\(|\bpathlib\b")
    users = [
        str(p.relative_to(ROOT)) for p in (ROOT / "analytics").rglob("*.py") if opening.search(p.read_text())
    ]
    assert users == []


def test_the_layer_contracts_hold():
    """import-linter's contracts (pyproject.toml, [tool.importlinter]): the layers of docs/architecture.md."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
