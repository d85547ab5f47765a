"""Errors that carry a user-facing message to the one place that reports them (the CLI, later Slack)."""

from __future__ import annotations


class FlowcoachError(Exception):
    """A problem the user can fix; ``str(error)`` is the whole message, without a traceback."""


class UsageError(FlowcoachError):
    """A command-line argument is malformed or inconsistent."""
