"""Default coach thresholds the command line needs without loading pydantic (``board_settings`` uses them)."""

from __future__ import annotations

# A file board (``--events``) has no stored settings: its metrics warn when the log is older than this.
DEFAULT_STALE_AFTER_HOURS: float = 2  # an int, as the pydantic default always was
