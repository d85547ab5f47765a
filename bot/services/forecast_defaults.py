"""Forecast settings the command line shows in its help, in a module that imports nothing (no numpy)."""

from __future__ import annotations

DEFAULT_TRIALS = 10_000
