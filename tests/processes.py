"""Stopping what a test started: the whole process group, so no server outlives its test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop_group(process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM the process group of ``process`` (started with ``start_new_session=True``), then SIGKILL it if
    it has not ended in ``timeout`` seconds. A shell or a gunicorn master is only the leader: terminating it
    alone leaves its children (the server, the workers) running with no parent."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    with contextlib.suppress(ProcessLookupError):  # children that ignored SIGTERM after their leader left
        os.killpg(process.pid, signal.SIGKILL)
