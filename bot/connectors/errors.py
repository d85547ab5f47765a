"""Connector failures, each with a message a team lead can act on (no stack traces, no secrets)."""

from __future__ import annotations

from bot.errors import FlowcoachError


class ConnectorError(FlowcoachError):
    """A source could not be read; ``str(error)`` says what happened and what to do."""

    retryable = False


class BadCredentials(ConnectorError):
    """401: the token or password was refused."""


class NoPermission(ConnectorError):
    """403: the credentials work but may not read this project or board."""


class NotFound(ConnectorError):
    """404: the project, board or endpoint does not exist (or is invisible to these credentials)."""


class Gone(ConnectorError):
    """410: the endpoint was removed by the vendor."""


class RateLimited(ConnectorError):
    """429 even after waiting as the source asked."""

    retryable = True


class Unreachable(ConnectorError):
    """The source did not answer (DNS, connection, TLS or timeout) even after retries."""

    retryable = True


class ServerError(ConnectorError):
    """5xx even after retries."""

    retryable = True


class UnstorableData(ConnectorError):
    """The source gave values the store cannot keep (too long, a NUL character); nothing of them is stored."""


class UnexpectedResponse(ConnectorError):
    """The source answered something this connector does not understand (wrong URL, proxy page, new API)."""
