"""One evaluation of a board, the same live and in replay: signals → rules → lifecycle → actions.

The live worker loads alerts from the database and carries the actions out in Slack; replay keeps alerts
in memory and records what would have been posted. Both call :func:`evaluate_at` with a :class:`Coach`.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

import pandas as pd

from analytics.signals import BoardSignals
from analytics.workflow import Workflow
from analytics.workhours import WorkCalendar, is_working_time, working_days_back, working_seconds
from bot.coach.lifecycle import Action, Alert, Policy, step
from bot.coach.rules import Context, evaluate
from bot.store.board_settings import Thresholds

EVALUATION_MINUTES = 15
HOUR = 3600.0


@dataclass(frozen=True)
class Coach:
    """A board's calendar and thresholds, with the time arithmetic the rules and lifecycle need."""

    calendar: WorkCalendar
    thresholds: Thresholds

    @classmethod
    def of(cls, workflow: Workflow, thresholds: Thresholds) -> Coach:
        return cls(WorkCalendar.of(workflow), thresholds)

    def working_hours(self, since: pd.Timestamp, now: pd.Timestamp) -> float:
        return working_seconds(since, now, self.calendar) / HOUR

    def window_start(self, now: pd.Timestamp) -> pd.Timestamp:
        return working_days_back(now, self.thresholds.queue_window_days, self.calendar)

    def cooldown_over(self, since: pd.Timestamp, now: pd.Timestamp) -> bool:
        return self.working_hours(since, now) >= self.thresholds.cooldown_hours

    def context(self, previous_evaluation: pd.Timestamp | None = None) -> Context:
        day_hours = self.calendar.day_seconds / HOUR
        return Context(self.thresholds, self.working_hours, previous_evaluation, day_hours)

    def local_date(self, moment: pd.Timestamp) -> object:
        return pd.Timestamp(moment).tz_convert(self.calendar.timezone).date()

    def policy(
        self,
        now: pd.Timestamp,
        *,
        stale: bool,
        posts_today: int,
        channel_snoozed_until: pd.Timestamp | None = None,
        last_message_at: pd.Timestamp | None = None,
    ) -> Policy:
        return Policy(
            working=is_working_time(now, self.calendar),
            stale=stale,
            channel_snoozed_until=channel_snoozed_until,
            posts_today=posts_today,
            max_posts_per_day=self.thresholds.max_alerts_per_day,
            cooldown_over=self.cooldown_over,
            last_message_at=last_message_at,
        )


def evaluate_at(
    coach: Coach,
    signals: BoardSignals,
    alerts: MutableMapping[tuple[str, str], Alert],
    policy: Policy,
    previous_evaluation: pd.Timestamp | None = None,
) -> list[Action]:
    """Run every rule on the signals and step the alerts' lifecycle; the actions to carry out.
    ``previous_evaluation``: the evaluation before this one (what "just pulled in" is measured from)."""
    open_keys = [key for key, alert in alerts.items() if alert.is_open]
    results = evaluate(signals, coach.context(previous_evaluation), open_keys)
    return step(alerts, results, pd.Timestamp(signals.asof), policy)


def evaluation_moments(since: pd.Timestamp, until: pd.Timestamp) -> list[pd.Timestamp]:
    """Every quarter hour from ``since`` (rounded up) to ``until``, as the worker evaluates."""
    # Rounded in UTC: rounding a local time in the hour clocks repeat raises (which of the two is it?).
    start = pd.Timestamp(since)
    first = start.tz_convert("UTC").ceil(f"{EVALUATION_MINUTES}min")
    moments = pd.date_range(first, pd.Timestamp(until).tz_convert("UTC"), freq=f"{EVALUATION_MINUTES}min")
    return list(moments.tz_convert(start.tz))
