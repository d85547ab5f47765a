"""Driving modals as a user does: what Slack submits (initial values unless changed) and what it shows next.

Slack submits every input's current value, and an input the user did not touch still holds its initial
value; a ``response_action: "update"`` answer replaces the view in place (same id). The emulator only sees
Web API calls, so these helpers play Slack's part for submissions.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.fakes.slack_api import SlackEmulator
from tests.slack.conftest import RunningApp


def initial_values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each input's initial value, keyed block id → action id, as ``SlackSender`` takes values."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if block.get("type") == "input" else None
        if not element:
            continue
        value: Any = None
        for key in ("initial_value", "initial_conversation", "initial_time", "initial_date"):
            value = value if value is not None else element.get(key)
        if element.get("initial_option"):
            value = element["initial_option"]["value"]
        if element.get("initial_options"):
            value = [option["value"] for option in element["initial_options"]]
        if value is not None:
            values[block["block_id"]] = {element["action_id"]: value}
    return values


def entered(view: dict[str, Any], changes: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """What the inputs of ``view`` hold: their initial values, some changed (block id → value)."""
    values = initial_values(view)
    for block_id, value in (changes or {}).items():
        action_id = next(
            block["element"]["action_id"] for block in view["blocks"] if block.get("block_id") == block_id
        )
        values[block_id] = {action_id: value}
    return values


def submit(
    app: RunningApp, view: dict[str, Any], changes: dict[str, Any] | None = None, **options: Any
) -> dict[str, Any]:
    """Submit ``view`` with its initial values, some changed (block id → value); Slack's answer as JSON."""
    sent = app.sender.view_submission(view, entered(view, changes), **options)
    assert sent.status_code == 200, sent.text
    return sent.json() if sent.text.startswith("{") else {}


def click(
    app: RunningApp,
    view: dict[str, Any],
    action_id: str,
    value: Any = None,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A click on ``action_id`` (a button, or an overflow menu's option ``value``) in a modal whose inputs
    hold their initial values, some changed; the view Slack shows once the app has updated it."""
    before = len(app.slack.calls_to("views.update"))
    sent = app.sender.block_action(action_id, value, view=view, values=entered(view, changes))
    assert sent.status_code == 200, sent.text
    app.slack.wait_for("views.update", count=before + 1)
    return copy.deepcopy(app.slack.views[view["id"]])


def updated(view: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The view Slack shows after a ``response_action: "update"`` answer: the same view id, new content."""
    assert answer.get("response_action") == "update", answer
    return {"id": view["id"], "hash": view.get("hash", ""), **answer["view"]}


def opened(slack: SlackEmulator, callback_id: str) -> dict[str, Any]:
    """The modal ``views.open`` opened with this callback id, as Slack stores it."""
    slack.wait_for("views.open", predicate=lambda call: call.params["view"].get("callback_id") == callback_id)
    return current(slack, callback_id)


def current(slack: SlackEmulator, callback_id: str) -> dict[str, Any]:
    """The latest modal showing ``callback_id`` now (after any ``views.update``), as a copy."""
    return copy.deepcopy([v for v in list(slack.views.values()) if v["callback_id"] == callback_id][-1])


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def shown(view: dict[str, Any]) -> str:
    """Every text of a view, for "does it say…" assertions."""
    return json.dumps(view["blocks"], ensure_ascii=False)
