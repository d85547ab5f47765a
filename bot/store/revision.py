"""The newest migration's revision, read from the migration files without importing Alembic.

A read-only command (``bot/store/boardread.py``) and the event-log copies (``bot/store/eventlog_copy.py``)
ask it on every run; Alembic's own answer (``bot.store.db.head_revision``) costs its import. A test holds
the two equal.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@functools.cache
def head_revision() -> str | None:
    """The revision no other migration revises; ``None`` if there is not exactly one."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.add(_literal(found["revision"]))
            revised.add(_literal(found.get("down_revision", "None")))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def _literal(text: str) -> str:
    return text.strip("'\"")
