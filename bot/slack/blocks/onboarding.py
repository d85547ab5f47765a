"""Block Kit for `/flow connect`: steps 1 and 2, the interim "checking" view, the board's first message.

Pure builders: whatever the listeners learnt arrives as arguments, the state carried between steps as the
``private_metadata`` text. Every input block holds one element whose action id is ``VALUE``, so a block id
alone names a value in ``view.state.values``, which :func:`input_value` reads back. Step 3 (the status →
stage mapping) is in ``onboarding_mapping``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    Block,
    ConversationFilter,
    ConversationSelectElement,
    InputInteractiveElement,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.connectors.registry import CONNECTORS, ConnectorKind
from bot.formatting import count_of, shorten
from bot.slack import ids, texts
from bot.slack.blocks.common import context, escape, section
from bot.slack.blocks.inputs import VALUE, input_block

CONNECTOR_BLOCK = "connect_connector"
CHANNEL_BLOCK = "connect_channel"
NAME_BLOCK = "connect_name"
SCOPE_FIELDS = ("project", "jql", "board_id")  # asked after the credentials, in this order
MAX_OPTIONS = 100  # Slack's limit for a select menu
MAX_OPTION_TEXT = 75
MAX_NAME = 80
FIELD_MAX_LENGTH = {"url": 300, "email": 254, "project": 50, "jql": 800, "token": 900, "path": 500}


def field_block(name: str) -> str:
    return f"connect_field_{name}"


def source_name(kind: ConnectorKind) -> str:
    return texts.CONNECT_CONNECTOR_NAMES.get(kind.name, kind.description)


def can_list_projects(kind: ConnectorKind) -> bool:
    """Whether the connector can offer its projects as a choice (it has both ``project`` and ``jql``)."""
    fields = kind.settings_model.model_fields
    return "project" in fields and "jql" in fields and callable(getattr(kind.build, "projects", None))


def _asked_order(kind: ConnectorKind) -> list[str]:
    """Jira asks what to read after the credentials (it can then offer the projects); the others ask what
    they require first, then the options, the API address last (only self-hosted installs change it)."""
    fields = kind.settings_model.model_fields
    if can_list_projects(kind):
        return sorted(fields, key=lambda name: name in SCOPE_FIELDS and SCOPE_FIELDS.index(name) + 1)
    secrets = kind.secret_fields
    return sorted(
        fields, key=lambda name: (name == "api_url", not fields[name].is_required() and name not in secrets)
    )


def option(value: str, text: str, description: str | None = None) -> Option:
    return Option(value=value, text=shorten(text, MAX_OPTION_TEXT), description=description)


def connect_modal(
    callback_id: str, blocks: Sequence[Block], metadata: str = "", submit: str | None = None
) -> View:
    """A step of the connect modal: Cancel while it can be submitted, Close once nothing is left to do."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=texts.CONNECT_TITLE,
        submit=submit,
        close=texts.CONNECT_CANCEL if submit else texts.CONNECT_CLOSE,
        blocks=list(blocks),
        private_metadata=metadata,
    )


# --- step 1 -------------------------------------------------------------------------------------------------


def choose_view(*, channel_id: str | None, connectors: Sequence[str]) -> View:
    """Step 1: the source, the board's channel (the one the command came from, if any) and its name."""
    options = [
        option(name, source_name(kind), texts.CONNECT_CONNECTOR_HELP.get(name))
        for name, kind in CONNECTORS.items()
        if name in connectors
    ]
    # A direct message cannot be a board's channel (and the menu's filter excludes it).
    initial = channel_id if channel_id and not channel_id.startswith("D") else None
    channels = ConversationSelectElement(
        action_id=VALUE,
        initial_conversation=initial,
        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
    )
    blocks: list[Block] = [
        section(texts.CONNECT_INTRO),
        input_block(
            CONNECTOR_BLOCK,
            texts.CONNECT_CONNECTOR_LABEL,
            StaticSelectElement(
                action_id=VALUE, placeholder=texts.CONNECT_CONNECTOR_PLACEHOLDER, options=options
            ),
        ),
        input_block(CHANNEL_BLOCK, texts.CONNECT_CHANNEL_LABEL, channels, hint=texts.CONNECT_CHANNEL_HINT),
        input_block(
            NAME_BLOCK,
            texts.CONNECT_NAME_LABEL,
            PlainTextInputElement(action_id=VALUE, max_length=MAX_NAME),
            hint=texts.CONNECT_NAME_HINT,
        ),
    ]
    return connect_modal(ids.CONNECT_CHOOSE, blocks, submit=texts.CONNECT_NEXT)


# --- step 2 -------------------------------------------------------------------------------------------------


def credentials_view(
    kind: ConnectorKind,
    metadata: str,
    *,
    values: Mapping[str, str] | None = None,
    kept_secrets: bool = False,
    secret_key_missing: bool = False,
    problem: str | None = None,
    notice: str | None = None,
    projects: Sequence[tuple[str, str]] | None = None,
) -> View:
    """Step 2: one input per setting of the connector, secrets empty (kept server-side when entered before).

    ``projects`` (key, name) turns the project field into a menu once the credentials could list them.
    """
    values = values or {}
    blocks: list[Block] = []
    if problem:
        blocks.append(section(texts.CONNECT_PROBLEM.format(problem=escape(problem))))
    if secret_key_missing:
        blocks.append(section(texts.CONNECT_PROBLEM.format(problem=texts.CONNECT_NO_KEY)))
    if notice:
        blocks.append(section(notice))
    blocks.append(section(texts.CONNECT_CREDENTIALS_INTRO.format(source=escape(source_name(kind)))))
    fields = kind.settings_model.model_fields
    for name in _asked_order(kind):
        field = fields[name]
        label = texts.CONNECT_FIELD_LABELS_OF.get(kind.name, {}).get(name) or texts.CONNECT_FIELD_LABELS.get(
            name, name.replace("_", " ").capitalize()
        )
        hint = field.description or None
        optional = not field.is_required()
        element: InputInteractiveElement
        if name in kind.secret_fields:
            template = texts.CONNECT_HINT_KEPT if kept_secrets else texts.CONNECT_HINT_ENCRYPTED
            hint = template.format(description=(field.description or label).rstrip("."))
            optional = optional or kept_secrets
            element = PlainTextInputElement(action_id=VALUE, max_length=FIELD_MAX_LENGTH.get(name, 900))
        elif name == "project" and projects and len(projects) <= MAX_OPTIONS:
            options = [option(key, f"{key} — {title}") for key, title in projects]
            chosen = next((o for o in options if o.value == values.get(name)), None)
            element = StaticSelectElement(
                action_id=VALUE,
                placeholder=texts.CONNECT_PROJECT_PLACEHOLDER,
                options=options,
                initial_option=chosen,
            )
        elif field.annotation in (int, int | None):
            element = NumberInputElement(
                action_id=VALUE, is_decimal_allowed=False, min_value=1, initial_value=values.get(name)
            )
        else:
            element = PlainTextInputElement(
                action_id=VALUE,
                initial_value=values.get(name) or None,
                max_length=FIELD_MAX_LENGTH.get(name, 500),
                multiline=name == "jql" or None,
            )
        if name == "project" and can_list_projects(kind) and projects is None:
            hint = f"{hint}. {texts.CONNECT_PROJECT_LATER}" if hint else texts.CONNECT_PROJECT_LATER
        blocks.append(input_block(field_block(name), label, element, hint=hint, optional=optional))
    return connect_modal(ids.CONNECT_CREDENTIALS, blocks, metadata, submit=texts.CONNECT_CHECK)


def checking_view(kind: ConnectorKind) -> View:
    """Shown while the source is asked: Slack closes a modal whose submission is not answered within 3 s."""
    blocks = [section(texts.CONNECT_CHECKING.format(source=escape(source_name(kind))))]
    return connect_modal(ids.CONNECT_CHECKING, blocks)


# --- after the modal ----------------------------------------------------------------------------------------


def ready_blocks(
    *,
    board: str,
    source: str,
    items: int,
    events: int,
    wip_by_stage: Mapping[str, int] | None,
    finished: int | None,
) -> list[Block]:
    """The board's first message in its channel: what was loaded, WIP now (if known), what to try next."""
    headline = texts.CONNECT_READY.format(
        board=escape(board),
        items=count_of(items, "item"),
        events=count_of(events, "event"),
        source=escape(source),
    )
    blocks: list[Block] = [section(headline)]
    if wip_by_stage is not None and finished is not None:
        wip = {stage: count for stage, count in wip_by_stage.items() if count}
        stages = " · ".join(f"{escape(stage)} {count}" for stage, count in wip.items())
        now = texts.CONNECT_READY_WIP.format(stages=stages, total=sum(wip.values()))
        finished_line = texts.CONNECT_READY_FINISHED.format(count=finished)
        blocks.append(section(f"{now if wip else texts.CONNECT_READY_NO_WIP}\n{finished_line}"))
    blocks.append(context(texts.CONNECT_READY_NEXT))
    return blocks


def sync_failed_blocks(*, board: str, problem: str) -> list[Block]:
    return [
        section(texts.CONNECT_SYNC_FAILED.format(board=escape(board), problem=escape(problem))),
        context(texts.CONNECT_SYNC_FAILED_NEXT.format(board=escape(board))),
    ]


# --- reading submissions back -------------------------------------------------------------------------------
