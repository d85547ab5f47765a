"""Logs: JSON or text at LOG_LEVEL, the request's or job's context on every line, Slack tokens scrubbed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.errors import FlowcoachError
from bot.logs import ContextThreadPool, configure_logging, log_context

log = logging.getLogger("flowcoach.test")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_lines_carry_the_context_of_the_job(restore_logging, capsys):
    """Inside a job's context every line has its fields, nested contexts add to the outer one."""
    configure_logging("INFO", "json")
    with log_context(job="sync", board_id=3):
        log.info("synced %d events", 12)
        with log_context(slot="2026-11-24T09:30:00+01:00"):
            log.warning("late")
    log.info("outside")
    lines = json_lines(capsys.readouterr().err)
    assert lines[0] | {"time": None} == {
        "time": None,
        "level": "INFO",
        "logger": "flowcoach.test",
        "message": "synced 12 events",
        "job": "sync",
        "board_id": 3,
    }
    assert lines[1]["slot"] == "2026-11-24T09:30:00+01:00" and lines[1]["job"] == "sync"
    assert "job" not in lines[2]


def test_tokens_are_scrubbed_from_messages_arguments_and_tracebacks(restore_logging, capsys):
    """Whatever logs a Slack token or a bearer credential (a library, an error message), it never reaches
    the output."""
    configure_logging("DEBUG", "text")
    log.info("calling with token %s", "xoxb-1234-5678-abcdefgh")
    log.debug("header Authorization: Bearer s3cr3t-t0ken.value")
    try:
        raise RuntimeError("refused xapp-1-A0-123-abc")
    except RuntimeError:
        log.exception("failed")
    err = capsys.readouterr().err
    assert "xoxb-1234" not in err and "s3cr3t" not in err and "xapp-1-A0" not in err
    assert err.count("[redacted]") >= 3


def test_work_submitted_to_the_answer_pool_keeps_the_request_context(restore_logging, capsys):
    """A Slack request's lazy answer runs on another thread but logs with the request's id."""
    configure_logging("INFO", "json")
    with ContextThreadPool(max_workers=1) as pool, log_context(request_id="abc123", request="/flow status"):
        pool.submit(log.info, "answered").result()
    (line,) = json_lines(capsys.readouterr().err)
    assert line["request_id"] == "abc123" and line["request"] == "/flow status"


def test_library_info_lines_are_quiet_unless_debugging(restore_logging):
    """At INFO, APScheduler and httpx say only warnings; at DEBUG everything."""
    configure_logging("INFO", "text")
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
    configure_logging("DEBUG", "text")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG


def test_an_unknown_level_names_the_variable(restore_logging):
    with pytest.raises(FlowcoachError, match="LOG_LEVEL: unknown level 'LOUD'"):
        configure_logging("LOUD", "text")
