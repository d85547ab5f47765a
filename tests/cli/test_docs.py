"""The user reference (docs/*.md) and the `flowcoach` parser agree: nothing documented is missing from the
command, and no command or option of it goes undocumented in docs/cli.md."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

from bot.cli.main import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"
REFERENCE = ("cli.md", "metrics.md", "coaching.md")
GLOBAL_OPTIONS = {"--debug", "--help", "-h"}
CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`\n]+)`", re.S)
COMMAND = re.compile(r"(?<![@\w./-])flowcoach((?:[ \t]+[^\s]+)+)")
HEADING = re.compile(r"^#{2,4} ", re.M)


Command = tuple[tuple[str, ...], argparse.ArgumentParser]  # the words after `flowcoach`, and their parser


def subcommand_choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[Command]:
    """Every command that runs something (no further subcommand), with its parser."""
    children = subcommand_choices(parser)
    if not children:
        yield path, parser
    for name, child in children.items():
        yield from commands(child, (*path, name))


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions for name in action.option_strings} - GLOBAL_OPTIONS


def documented_command_lines(text: str) -> Iterator[str]:
    """The text after `flowcoach` in every code span and code block line that names the command."""
    for block, span in CODE.findall(text):
        for line in (block or span).splitlines():
            for match in COMMAND.finditer(line.removeprefix("$ ")):
                yield match.group(1)


def resolve(words: list[str]) -> tuple[tuple[str, ...], argparse.ArgumentParser, list[str]] | None:
    """The command the words name, its parser and the words after it; None for prose such as
    `flowcoach: error` (a word that is not a command)."""
    parser = build_parser()
    path: tuple[str, ...] = ()
    while words and (child := subcommand_choices(parser).get(words[0].strip(":`"))) is not None:
        path, parser, words = (*path, words[0].strip(":`")), child, words[1:]
    return (path, parser, words) if path else None


def test_every_documented_command_and_option_exists():
    """Each `flowcoach …` in the reference names a real command, and each --option it shows is one of that
    command's options: the docs cannot promise a flag the command does not take."""
    problems = []
    for name in REFERENCE:
        for line in documented_command_lines((DOCS / name).read_text(encoding="utf-8")):
            resolved = resolve(line.split())
            if resolved is None:
                if re.match(r"\s+[a-z]", line) and not line.split()[0].endswith(":"):
                    problems.append(f"{name}: no command `flowcoach{line}`")
                continue
            path, parser, rest = resolved
            flags = set(re.findall(r"--[a-z][a-z-]*", " ".join(rest)))
            unknown = sorted(flags - options(parser) - GLOBAL_OPTIONS)
            if unknown:
                problems.append(f"{name}: `flowcoach {' '.join(path)}` has no {', '.join(unknown)}")
    assert problems == []


def test_every_command_and_option_is_documented_in_cli_md():
    """docs/cli.md has a section per command, headed `flowcoach <command>`, naming every option it takes."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    sections = {}
    for chunk in HEADING.split(text)[1:]:
        heading, _, body = chunk.partition("\n")
        if match := re.fullmatch(r"`flowcoach ([a-z -]+)`", heading.strip()):
            sections[match.group(1)] = body
    missing = []
    for path, parser in commands(build_parser()):
        name = " ".join(path)
        if name not in sections:
            missing.append(f"no section `flowcoach {name}`")
            continue
        for option in sorted(options(parser)):
            if not re.search(rf"`{re.escape(option)}\b", sections[name]):
                missing.append(f"`flowcoach {name}`: {option}")
    assert missing == []
