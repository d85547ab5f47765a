"""A board's settings edited from Slack: calendar, digest time, coach thresholds and WIP limits.

They live in ``Board.coaching_settings`` and overlay the board's workflow file rather than rewrite it, so a
hand-written workflow keeps its comments and layout, and ``board show`` can tell what Slack changed.
Defaults are those of ``spec/coaching.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from analytics.workflow import Workflow
from bot.store.threshold_defaults import DEFAULT_STALE_AFTER_HOURS

BOARD_LIMIT_KEY = "*"  # in ``wip_limits``: the limit of the whole started system
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Thresholds(BaseModel):
    """When the coach speaks; ``spec/coaching.md`` gives the meaning of each."""

    model_config = ConfigDict(extra="ignore")

    queue_min_net: int = Field(default=3, ge=1, le=100)
    queue_window_days: int = Field(default=5, ge=1, le=30)
    starving_after_hours: float = Field(default=8, gt=0, le=24 * 14)
    blocked_after_hours: float = Field(default=16, gt=0, le=24 * 30)
    cooldown_hours: float = Field(default=4, ge=0, le=24 * 7)
    max_alerts_per_day: int = Field(default=6, ge=1, le=50)
    stale_after_hours: float = Field(default=DEFAULT_STALE_AFTER_HOURS, gt=0, le=24 * 7)


class BoardSettings(BaseModel):
    """Overrides of the workflow's calendar and limits (``None``: as in the workflow), and coach settings."""

    model_config = ConfigDict(extra="ignore")

    timezone: str | None = None
    working_days: tuple[str, ...] | None = None
    working_hours: tuple[dt.time, dt.time] | None = None
    digest_time: dt.time = dt.time(9, 30)
    wip_limits: dict[str, int | None] = Field(default_factory=dict)  # stage name (or "*") → limit, None: none
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone '{value}' (use an IANA name such as Europe/Zurich)"
                ) from None
        return value

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value or any(day not in WEEKDAYS for day in value):
                raise ValueError(f"working days must be some of {', '.join(WEEKDAYS)}")
            return tuple(day for day in WEEKDAYS if day in value)
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: tuple[dt.time, dt.time] | None) -> tuple[dt.time, dt.time] | None:
        if value is not None and value[0] >= value[1]:
            raise ValueError("the working day must start before it ends")
        return value

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def load_board_settings(stored: dict[str, Any] | None) -> BoardSettings:
    return BoardSettings.model_validate(stored or {})


def apply_settings(workflow: Workflow, settings: BoardSettings) -> Workflow:
    """The workflow as the board runs it: calendar and WIP limits overridden where the settings say so."""
    stages = tuple(
        dataclasses.replace(stage, wip_limit=settings.wip_limits[stage.name])
        if stage.name in settings.wip_limits and stage.kind.is_wip
        else stage
        for stage in workflow.stages
    )
    changes: dict[str, Any] = {"stages": stages}
    if BOARD_LIMIT_KEY in settings.wip_limits:
        changes["wip_limit"] = settings.wip_limits[BOARD_LIMIT_KEY]
    if settings.timezone is not None:
        changes["timezone"] = settings.timezone
    if settings.working_days is not None:
        changes["working_days"] = settings.working_days
    if settings.working_hours is not None:
        changes["working_hours"] = settings.working_hours
    return dataclasses.replace(workflow, **changes)
