"""TEMPORARY placeholder so the rest of the app can be tested; the onboarding helper replaces this file."""

from __future__ import annotations

from typing import Any


def open_connect_modal(client: Any, trigger_id: str, *, channel_id: str | None) -> None:
    raise NotImplementedError


def register_onboarding(app: Any, runtime: Any) -> None:
    return None
