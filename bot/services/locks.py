"""A lock per board in this process: jobs of one board that must not run at once (evaluations, sends)."""

from __future__ import annotations

import threading
from collections import defaultdict


class BoardLocks:
    """One ``threading.Lock`` per board id, made on first use; each user keeps its own set."""

    def __init__(self) -> None:
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def of(self, board_id: int) -> threading.Lock:
        with self._guard:
            return self._locks[board_id]
