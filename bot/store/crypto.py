"""Connector secrets encrypted at rest with ``FLOWCOACH_SECRET_KEY`` (Fernet: AES-128-CBC + HMAC-SHA256).

The key may be any passphrase of 16+ characters or a Fernet key; a passphrase is stretched with SHA-256 so
that operators can use a password manager's output directly.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken

from bot.errors import FlowcoachError

MIN_KEY_LENGTH = 16


class SecretKeyError(FlowcoachError):
    """The secret key is missing, too short, or not the one the secrets were encrypted with."""


def _fernet(secret_key: str | None) -> Fernet:
    if not secret_key:
        raise SecretKeyError(
            "FLOWCOACH_SECRET_KEY is not set: it is required once a connector holds a secret "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if len(secret_key) < MIN_KEY_LENGTH:
        raise SecretKeyError(f"FLOWCOACH_SECRET_KEY: use at least {MIN_KEY_LENGTH} characters")
    key = base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode("utf-8")).digest())
    return Fernet(key)


def encrypt_secrets(values: Mapping[str, str], secret_key: str | None) -> str | None:
    """The encrypted form of ``values`` (``None`` when there is nothing secret to store)."""
    if not values:
        return None
    plain = json.dumps(dict(values), sort_keys=True).encode("utf-8")
    return _fernet(secret_key).encrypt(plain).decode("ascii")


def decrypt_secrets(token: str | None, secret_key: str | None) -> dict[str, str]:
    """The secrets stored as ``token``; a wrong key is a clear error, never garbage."""
    if token is None:
        return {}
    try:
        plain = _fernet(secret_key).decrypt(token.encode("ascii"))
    except InvalidToken:
        raise SecretKeyError(
            "FLOWCOACH_SECRET_KEY does not decrypt this board's credentials: it is not the key they were "
            "stored with"
        ) from None
    values: dict[str, str] = json.loads(plain)
    return values


def encrypt_text(value: str, secret_key: str | None) -> str:
    """One secret string, encrypted (ASCII, about 1.4× the length plus 100 characters)."""
    return _fernet(secret_key).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str, secret_key: str | None) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretKeyError(
            "FLOWCOACH_SECRET_KEY does not decrypt the stored Slack tokens: it is not the key they were "
            "stored with"
        ) from None
