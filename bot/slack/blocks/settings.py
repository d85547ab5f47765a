"""Block Kit for `/flow settings`: a board's channel, calendar, digest time and the coach's thresholds.

The form shows the values the board runs with (the workflow file overlaid with what Slack changed before),
so a user edits what is true now. The SLE percentile is left to the workflow file: it changes what "aging"
means for every past report, which deserves more thought than a form field invites.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.slack import ids, texts
from bot.slack.blocks.common import escape, section
from bot.slack.blocks.inputs import VALUE, input_block
from bot.store.board_settings import WEEKDAYS, Thresholds

CHANNEL_BLOCK = "settings_channel"
TIMEZONE_BLOCK = "settings_timezone"
DAYS_BLOCK = "settings_days"
START_BLOCK = "settings_start"
END_BLOCK = "settings_end"
DIGEST_BLOCK = "settings_digest"
MAX_TIMEZONE = 64


def threshold_block(name: str) -> str:
    return f"settings_threshold_{name}"


@dataclass(frozen=True)
class SettingsForm:
    """A board's settings as the form shows them (and as the confirmation compares them)."""

    board: str
    channel_id: str | None
    timezone: str
    working_days: tuple[str, ...]
    working_hours: tuple[dt.time, dt.time]
    digest_time: dt.time
    thresholds: Thresholds


def clock_time(value: dt.time) -> str:
    """``09:30``: what a timepicker holds and shows."""
    return f"{value:%H:%M}"


def number(value: float) -> str:
    """``8`` rather than ``8.0``; ``1.5`` stays."""
    return f"{value:g}"


def settings_view(board_id: int, form: SettingsForm) -> View:
    """The settings modal of one board; ``private_metadata`` is the board's id (checked again on submit)."""
    days = [Option(value=day, text=texts.SETTINGS_DAY_NAMES[day]) for day in WEEKDAYS]
    blocks: list[Block] = [
        section(texts.SETTINGS_INTRO.format(board=escape(form.board))),
        input_block(
            CHANNEL_BLOCK,
            texts.SETTINGS_CHANNEL_LABEL,
            ConversationSelectElement(
                action_id=VALUE,
                initial_conversation=form.channel_id,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
            hint=texts.SETTINGS_CHANNEL_HINT,
            optional=True,
        ),
        input_block(
            TIMEZONE_BLOCK,
            texts.SETTINGS_TIMEZONE_LABEL,
            PlainTextInputElement(action_id=VALUE, initial_value=form.timezone, max_length=MAX_TIMEZONE),
            hint=texts.SETTINGS_TIMEZONE_HINT,
        ),
        input_block(
            DAYS_BLOCK,
            texts.SETTINGS_DAYS_LABEL,
            CheckboxesElement(
                action_id=VALUE,
                options=days,
                initial_options=[option for option in days if option.value in form.working_days] or None,
            ),
        ),
        input_block(
            START_BLOCK,
            texts.SETTINGS_START_LABEL,
            TimePickerElement(action_id=VALUE, initial_time=clock_time(form.working_hours[0])),
        ),
        input_block(
            END_BLOCK,
            texts.SETTINGS_END_LABEL,
            TimePickerElement(action_id=VALUE, initial_time=clock_time(form.working_hours[1])),
            hint=texts.SETTINGS_HOURS_HINT,
        ),
        input_block(
            DIGEST_BLOCK,
            texts.SETTINGS_DIGEST_LABEL,
            TimePickerElement(action_id=VALUE, initial_time=clock_time(form.digest_time)),
        ),
        DividerBlock(),
        section(texts.SETTINGS_THRESHOLDS_INTRO),
    ]
    for name, field in Thresholds.model_fields.items():
        value = getattr(form.thresholds, name)
        element = NumberInputElement(
            action_id=VALUE,
            is_decimal_allowed=field.annotation is float,
            initial_value=number(value),
            min_value=0,
        )
        label = texts.SETTINGS_THRESHOLD_LABELS.get(name, name)
        blocks.append(input_block(threshold_block(name), label, element))
    return View(
        type="modal",
        callback_id=ids.SETTINGS,
        title=texts.SETTINGS_TITLE,
        submit=texts.SETTINGS_SAVE,
        close=texts.SETTINGS_CANCEL,
        blocks=blocks,
        private_metadata=str(board_id),
    )


def settings_notice_view(text: str) -> View:
    """What replaces the form when it cannot be saved at all (e.g. the board is not this workspace's)."""
    return View(
        type="modal",
        callback_id=ids.SETTINGS,
        title=texts.SETTINGS_TITLE,
        close=texts.SETTINGS_CANCEL,
        blocks=[section(text)],
    )


def changes(before: SettingsForm, after: SettingsForm) -> list[tuple[str, str, str]]:
    """(what, before, after) for every setting that differs, in the form's order, as people read them."""

    def shown(form: SettingsForm) -> dict[str, str]:
        values = {
            texts.SETTINGS_CHANGE_NAMES["channel"]: (
                f"<#{form.channel_id}>" if form.channel_id else texts.SETTINGS_NO_CHANNEL
            ),
            texts.SETTINGS_CHANGE_NAMES["timezone"]: form.timezone,
            texts.SETTINGS_CHANGE_NAMES["working_days"]: ", ".join(form.working_days),
            texts.SETTINGS_CHANGE_NAMES["working_hours"]: "–".join(map(clock_time, form.working_hours)),
            texts.SETTINGS_CHANGE_NAMES["digest_time"]: clock_time(form.digest_time),
        }
        for name in Thresholds.model_fields:
            label = texts.SETTINGS_THRESHOLD_LABELS.get(name, name)
            values[label] = number(getattr(form.thresholds, name))
        return values

    old, new = shown(before), shown(after)
    return [(what, old[what], new[what]) for what in new if old[what] != new[what]]


def confirmation_text(board: str, user_id: str, changed: Sequence[tuple[str, str, str]]) -> str:
    if not changed:
        return texts.SETTINGS_UNCHANGED.format(board=escape(board))
    channel = texts.SETTINGS_CHANGE_NAMES["channel"]  # a channel mention is markup: not escaped

    def safe(what: str, value: str) -> str:
        return value if what == channel else escape(value)

    lines = [
        texts.SETTINGS_CHANGE.format(what=what, before=safe(what, old), after=safe(what, new))
        for what, old, new in changed
    ]
    return "\n".join([texts.SETTINGS_SAVED.format(board=escape(board), user=user_id), *lines])
