"""A stored board's connector, with its credentials decrypted: the one place that opens them."""

from __future__ import annotations

from bot.connectors.base import Connector
from bot.connectors.http import HttpOptions
from bot.connectors.registry import build_connector
from bot.store.boards import board_workflow
from bot.store.crypto import SecretKey, decrypt_secrets
from bot.store.models import Board


def board_connector(board: Board, secret_key: SecretKey | None, http: HttpOptions | None = None) -> Connector:
    """Build the board's connector from its settings and its secrets decrypted with ``secret_key``;
    ``http`` when its requests need other options (guarded, for a board connected from Slack)."""
    values = dict(board.connector_settings)
    if board.connector_secrets:
        values |= decrypt_secrets(board.connector_secrets, secret_key)
    return build_connector(board.connector, values, board_workflow(board), http)
