"""The board's workflow: ordered stages, what each tracker status means, and the team's policies.

The YAML format is defined in ``shared/spec/data.md``. Every validation problem is reported at once, each
message naming the stage and the field, so a user fixes the file in one pass.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from analytics.words import with_article

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class StageKind(enum.StrEnum):
    """What being in a stage means for flow."""

    BACKLOG = "backlog"  # not started: outside the system, never WIP
    QUEUE = "queue"  # started and waiting
    ACTIVE = "active"  # started and being worked on
    DONE = "done"
    DISCARDED = "discarded"  # abandoned: not WIP, not throughput, no cycle time

    @property
    def is_wip(self) -> bool:
        return self in (StageKind.QUEUE, StageKind.ACTIVE)


class WorkflowError(ValueError):
    """The workflow file is invalid; ``problems`` lists every issue found."""

    def __init__(self, problems: Sequence[str], source: str = "workflow") -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__(f"{source}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Stage:
    """One column of the board, in flow order."""

    name: str
    statuses: tuple[str, ...]
    kind: StageKind
    wip_limit: int | None = None


@dataclass(frozen=True)
class SLE:
    """Service level expectation: ``percentile`` of cycle times over the last ``window_days``."""

    percentile: float = 85.0
    window_days: int = 90


@dataclass(frozen=True)
class Workflow:
    """A validated workflow. Build it with :func:`parse_workflow` or :func:`load_workflow`."""

    name: str
    stages: tuple[Stage, ...]
    timezone: str = "UTC"
    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    working_hours: tuple[dt.time, dt.time] = (dt.time(9, 0), dt.time(18, 0))
    wip_limit: int | None = None
    start: str | None = None
    sle: SLE = field(default_factory=SLE)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    @property
    def start_index(self) -> int:
        """Index of the commitment point: ``start``, else the first queue/active stage."""
        if self.start is not None:
            return self.stage_names.index(self.start)
        return next(i for i, stage in enumerate(self.stages) if stage.kind.is_wip)

    @property
    def wip_stage_indexes(self) -> tuple[int, ...]:
        return tuple(i for i, stage in enumerate(self.stages) if stage.kind.is_wip)

    def status_to_stage_index(self) -> dict[str, int]:
        """Map every listed tracker status to the index of its stage."""
        return {status: i for i, stage in enumerate(self.stages) for status in stage.statuses}

    def stage(self, name: str) -> Stage:
        return self.stages[self.stage_names.index(name)]


# libyaml's safe loader when PyYAML was built with it: the same documents, six times faster to parse, which
# matters when a worker reads a thousand boards' workflows in a minute.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_workflow(text: str, source: str = "workflow") -> Workflow:
    """Parse workflow YAML text and validate it."""
    try:
        document = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader, only faster)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise WorkflowError([f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"], source) from exc
    if not isinstance(document, Mapping):
        raise WorkflowError(["expected a mapping with 'name' and 'stages'"], source)
    return workflow_from_mapping(document, source)


def workflow_from_mapping(document: Mapping[str, Any], source: str = "workflow") -> Workflow:
    """Validate a workflow given as a mapping (the parsed YAML document)."""
    problems: list[str] = []
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("name: required, a non-empty text")
        name = "board"
    timezone = _timezone(document.get("timezone", "UTC"), problems)
    working_days = _working_days(document.get("working_days", list(WEEKDAYS[:5])), problems)
    working_hours = _working_hours(document.get("working_hours", ["09:00", "18:00"]), problems)
    wip_limit = _optional_limit(document.get("wip_limit"), "wip_limit", problems)
    sle = _sle(document.get("sle", {}), problems)
    stages = _stages(document.get("stages"), problems)
    start = document.get("start")
    _check_stage_order(stages, problems)
    if start is not None:
        names = [stage.name for stage in stages]
        if start not in names:
            problems.append(f"start: '{start}' is not a stage name")
        elif not stages[names.index(start)].kind.is_wip:
            problems.append(f"start: stage '{start}' must be a queue or active stage")
    unknown = sorted(set(document) - _TOP_LEVEL_KEYS)
    if unknown:
        problems.append(f"unknown field(s): {', '.join(map(str, unknown))}")
    if problems:
        raise WorkflowError(problems, source)
    return Workflow(
        name=str(name).strip(),
        stages=tuple(stages),
        timezone=timezone,
        working_days=working_days,
        working_hours=working_hours,
        wip_limit=wip_limit,
        start=start,
        sle=sle,
    )


_TOP_LEVEL_KEYS = {"name", "timezone", "working_days", "working_hours", "stages", "wip_limit", "start", "sle"}
_STAGE_KEYS = {"name", "statuses", "kind", "wip_limit"}


def _timezone(value: object, problems: list[str]) -> str:
    if not isinstance(value, str):
        problems.append("timezone: expected an IANA name such as Europe/Zurich")
        return "UTC"
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone: '{value}' is not an IANA time zone name (e.g. Europe/Zurich)")
        return "UTC"
    return value


def _working_days(value: object, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problems.append("working_days: expected a list such as [mon, tue, wed, thu, fri]")
        return WEEKDAYS[:5]
    days = [str(day).strip().lower()[:3] for day in value]
    bad = [str(day) for day, short in zip(value, days, strict=True) if short not in WEEKDAYS]
    if bad:
        problems.append(f"working_days: unknown day(s) {', '.join(bad)}; use mon … sun")
        return WEEKDAYS[:5]
    return tuple(day for day in WEEKDAYS if day in days)


def _working_hours(value: object, problems: list[str]) -> tuple[dt.time, dt.time]:
    default = (dt.time(9, 0), dt.time(18, 0))
    if not isinstance(value, list) or len(value) != 2:
        problems.append('working_hours: expected ["HH:MM", "HH:MM"]')
        return default
    times = []
    for text in value:
        match = _TIME_OF_DAY.match(str(text))
        if match is None:
            problems.append(f"working_hours: '{text}' is not a time of day HH:MM")
            return default
        times.append(dt.time(int(match.group(1)), int(match.group(2))))
    if times[0] >= times[1]:
        problems.append("working_hours: the first time must be before the second")
        return default
    return times[0], times[1]


def _optional_limit(value: object, where: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"{where}: expected a whole number ≥ 1, got {value!r}")
        return None
    return value


def _sle(value: object, problems: list[str]) -> SLE:
    if not isinstance(value, Mapping):
        problems.append("sle: expected {percentile: 85, window_days: 90}")
        return SLE()
    percentile = value.get("percentile", 85)
    window_days = value.get("window_days", 90)
    ok = True
    if isinstance(percentile, bool) or not isinstance(percentile, int | float) or not 0 < percentile < 100:
        problems.append(f"sle.percentile: expected a number between 0 and 100, got {percentile!r}")
        ok = False
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        problems.append(f"sle.window_days: expected a whole number of days ≥ 1, got {window_days!r}")
        ok = False
    unknown = sorted(set(value) - {"percentile", "window_days"})
    if unknown:
        problems.append(f"sle: unknown field(s) {', '.join(map(str, unknown))}")
    return SLE(float(percentile), int(window_days)) if ok else SLE()


def _stages(value: object, problems: list[str]) -> list[Stage]:
    if not isinstance(value, list) or not value:
        problems.append("stages: required, a list of stages in flow order")
        return []
    stages: list[Stage] = []
    seen_status: dict[str, str] = {}
    for position, raw in enumerate(value, start=1):
        if not isinstance(raw, Mapping):
            problems.append(f"stages[{position}]: expected a mapping with name, statuses and kind")
            continue
        name = raw.get("name")
        label = f"stage '{name}'" if isinstance(name, str) and name.strip() else f"stages[{position}]"
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{label}: name: required")
            name = f"stage {position}"
        elif name in {stage.name for stage in stages}:
            problems.append(f"{label}: name: used by another stage")
        kind_text = raw.get("kind")
        try:
            kind = StageKind(str(kind_text).lower())
        except ValueError:
            allowed = ", ".join(kind.value for kind in StageKind)
            problems.append(f"{label}: kind: '{kind_text}' is not one of {allowed}")
            kind = StageKind.QUEUE
        statuses = _statuses(raw.get("statuses"), label, problems)
        for status in statuses:
            if status in seen_status and seen_status[status] != name:
                problems.append(
                    f"{label}: statuses: '{status}' is already mapped to stage '{seen_status[status]}'"
                )
            seen_status.setdefault(status, name)
        wip_limit = _optional_limit(raw.get("wip_limit"), f"{label}: wip_limit", problems)
        if wip_limit is not None and not kind.is_wip:
            problems.append(f"{label}: wip_limit: only queue and active stages hold WIP")
        unknown = sorted(set(raw) - _STAGE_KEYS)
        if unknown:
            problems.append(f"{label}: unknown field(s) {', '.join(map(str, unknown))}")
        stages.append(Stage(name.strip(), statuses, kind, wip_limit))
    return stages


def _statuses(value: object, label: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list) or not value:
        problems.append(f"{label}: statuses: required, a list of tracker statuses (names or ids)")
        return ()
    # Ids may be written unquoted in YAML (e.g. 10001); statuses are compared as text.
    return tuple(dict.fromkeys(str(status).strip() for status in value if str(status).strip()))


def _check_stage_order(stages: Sequence[Stage], problems: list[str]) -> None:
    if not stages:
        return
    kinds = [stage.kind for stage in stages]
    if StageKind.DONE not in kinds:
        problems.append("stages: at least one stage must have kind: done")
    if not any(kind.is_wip for kind in kinds):
        problems.append("stages: at least one stage must have kind: queue or active")
    first_done = next((i for i, kind in enumerate(kinds) if kind is StageKind.DONE), len(kinds))
    last_backlog = max((i for i, kind in enumerate(kinds) if kind is StageKind.BACKLOG), default=-1)
    for i, stage in enumerate(stages):
        if stage.kind.is_wip and i > first_done:
            problems.append(
                f"stage '{stage.name}': kind: {with_article(stage.kind.value)} stage must come before every "
                "done stage"
            )
    first_started = min(
        (i for i, kind in enumerate(kinds) if kind.is_wip or kind is StageKind.DONE), default=0
    )
    if last_backlog > first_started:
        problems.append(
            f"stage '{stages[last_backlog].name}': kind: a backlog stage must come before every started stage"
        )
