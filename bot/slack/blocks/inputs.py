"""Modal inputs, written and read back the same way by every modal (connect, settings).

Each input block holds one element whose action id is ``VALUE``, so a block id alone names a value in
``view.state.values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import InputBlock, InputInteractiveElement

from bot.formatting import shorten

VALUE = "value"
MAX_LABEL = 2000  # Slack's limit for an input's label


def input_block(
    block_id: str,
    label: str,
    element: InputInteractiveElement,
    *,
    hint: str | None = None,
    optional: bool = False,
) -> InputBlock:
    """An input whose one element has the action id ``VALUE``."""
    return InputBlock(
        block_id=block_id, label=shorten(label, MAX_LABEL), element=element, hint=hint, optional=optional
    )


def input_value(values: Mapping[str, Mapping[str, Any]], block_id: str) -> Any:
    """What was entered in a block: stripped text, an option's value, a list of them, a channel, a time.

    ``None`` for anything left empty (Slack reports empty inputs as ``None`` or leaves them out).
    """
    element = (values.get(block_id) or {}).get(VALUE) or {}
    if "selected_option" in element:
        return (element["selected_option"] or {}).get("value")
    if "selected_options" in element:
        return [option["value"] for option in element["selected_options"] or []]
    for key in ("selected_conversation", "selected_channel", "selected_time", "selected_date"):
        if key in element:
            return element[key] or None
    value = element.get("value")
    return value.strip() or None if isinstance(value, str) else value
