"""Counts in words, the same wherever a number of things is printed: analytics' warnings and chart captions,
and (through ``bot.formatting``) the command line and Slack."""

from __future__ import annotations


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 item", "2,000 items": thousands separated, the noun in the plural (``plural``, else with an s)
    unless there is one."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def with_article(word: str) -> str:
    """ "a queue", "an active": the indefinite article chosen by the first letter, which is right for the
    words flowcoach puts after it (stage kinds, status names it writes itself)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
