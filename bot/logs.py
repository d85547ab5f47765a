"""Logging for every flowcoach process: level and format from the settings, the context of the Slack request
or scheduled job being handled on every line, and Slack tokens scrubbed from whatever a library logs.

``log_context(job="sync", board_id=3)`` adds fields to every record logged inside it, on this thread and in
work submitted from it through :class:`ContextThreadPool`; ``LOG_FORMAT=json`` writes them as JSON fields,
the text format appends them as ``key=value``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TextIO, TypeVar

from bot.errors import FlowcoachError

_CONTEXT: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "flowcoach_log_context", default=None
)
# Fields callers pass with ``extra=`` that belong in the JSON too.
EXTRA_FIELDS = ("job", "board_id", "slot")
# Slack tokens (xoxb-, xoxp-, xapp-, xoxe-…) and bearer credentials, wherever a library puts them in a line.
_SECRETS = re.compile(r"\b(xox[a-z]|xapp|xoxe)-[A-Za-z0-9-]+|(?<=Bearer )[A-Za-z0-9._~+/=-]+")
REDACTED = "[redacted]"
LOG_FORMATS = ("text", "json")
# A command line tool's log says only what went wrong unless asked for more; serve and worker log INFO.
CLI_DEFAULT_LEVEL = "WARNING"
LIBRARY_LOGGERS = ("apscheduler", "alembic", "slack_bolt", "slack_sdk", "httpx", "httpcore", "urllib3")

P = ParamSpec("P")
T = TypeVar("T")


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` to every record logged inside the block (nested blocks add to the outer ones)."""
    token = _CONTEXT.set((_CONTEXT.get() or {}) | fields)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> dict[str, object]:
    return dict(_CONTEXT.get() or {})


class ContextThreadPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's log context (a request's lazy answer keeps its id)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)  # type: ignore[arg-type]


class ContextFilter(logging.Filter):
    """Copies the log context onto each record, and scrubs tokens from its message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _CONTEXT.get() or {}
        for name, value in context.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        record.context_fields = tuple(context) + tuple(f for f in EXTRA_FIELDS if f in record.__dict__)
        message = record.getMessage()
        scrubbed = redact(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def redact(text: str) -> str:
    return _SECRETS.sub(REDACTED, text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        return line + "".join(f" {name}={value}" for name, value in fields.items()) if fields else line

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the request or job context as fields."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        document |= _fields(record)
        if record.exc_info:
            document["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(document, default=str)


def _fields(record: logging.LogRecord) -> dict[str, object]:
    names = getattr(record, "context_fields", ())
    return {name: getattr(record, name) for name in names if hasattr(record, name)}


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # its stream is a property
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not when the handler was made: a test
    that runs the command in-process captures it, and a finished test's stream is never written to."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # always sys.stderr


def configure_logging(level_name: str, log_format: str, *, replace: bool = True) -> None:
    """Log to stderr at ``level_name``, as text or JSON, with the context and token scrubbing on every line.

    Libraries log at WARNING and above unless the level is DEBUG: their INFO lines repeat ours or say
    nothing an operator needs. ``replace=False`` replaces only a handler installed here before, leaving
    any other (a test runner's) in place.
    """
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        raise FlowcoachError(f"LOG_LEVEL: unknown level '{level_name}' (use DEBUG, INFO, WARNING…)")
    if log_format not in LOG_FORMATS:
        raise FlowcoachError(f"LOG_FORMAT: unknown format '{log_format}' (use text or json)")
    handler = StderrHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    kept = [] if replace else [other for other in root.handlers if not isinstance(other, StderrHandler)]
    root.handlers[:] = [*kept, handler]
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))


def configure_cli_logging(environ: Mapping[str, str]) -> None:
    """``LOG_LEVEL`` and ``LOG_FORMAT`` for any command, read straight from the environment: loading the
    settings (pydantic) here would slow every command, and most need none. Without ``LOG_LEVEL`` only
    warnings and errors are logged, so a command's own output stays what it prints."""
    configure_logging(
        environ.get("LOG_LEVEL") or CLI_DEFAULT_LEVEL, environ.get("LOG_FORMAT") or "text", replace=False
    )
