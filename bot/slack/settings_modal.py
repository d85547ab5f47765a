"""TEMPORARY placeholder so the rest of the app can be tested; the onboarding helper replaces this file."""

from __future__ import annotations

from typing import Any


def open_settings_modal(client: Any, trigger_id: str, board: Any) -> None:
    raise NotImplementedError


def register_settings(app: Any, runtime: Any) -> None:
    return None
