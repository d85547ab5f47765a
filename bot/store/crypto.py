"""Secrets encrypted at rest with ``FLOWCOACH_SECRET_KEY`` (Fernet: AES-128-CBC + HMAC-SHA256).

The variable holds either a Fernet key (``Fernet.generate_key()``: 32 random bytes, urlsafe base64), used as
it is, or a passphrase of 16+ characters, stretched with scrypt (n=2**15, r=8, p=1) and a random salt that
the database keeps (``secret_key_params``): a copy of the database is no shortcut to guessing a passphrase,
and the same passphrase gives another key in another installation.

Versions before this one stretched a passphrase with a single SHA-256 and no salt. Secrets stored that way
stay readable (the legacy derivation is the last key tried) until ``flowcoach db rotate-key`` re-encrypts
them; earlier keys given in ``FLOWCOACH_OLD_SECRET_KEYS`` are tried too, so a new key can be deployed
before the stored secrets are moved to it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bot.errors import FlowcoachError
from bot.store.models import SecretKeyParams

MIN_KEY_LENGTH = 16
SCRYPT = "scrypt"
# OWASP's minimum for scrypt: about 0.15 s and 32 MiB once per process and passphrase (the key is cached).
SCRYPT_COST, SCRYPT_BLOCK_SIZE, SCRYPT_PARALLELISM = 2**15, 8, 1
SALT_BYTES = 16
PARAMS_ROW = 1
FERNET_KEY_BYTES = 32
OLD_KEYS_VARIABLE = "FLOWCOACH_OLD_SECRET_KEYS"

log = logging.getLogger(__name__)


class SecretKeyError(FlowcoachError):
    """The secret key is missing, too short, or not the one the secrets were encrypted with."""


@dataclass(frozen=True)
class KdfParams:
    """The salt and cost a passphrase is stretched with, as one database stores them."""

    salt: bytes
    cost: int = SCRYPT_COST
    block_size: int = SCRYPT_BLOCK_SIZE
    parallelism: int = SCRYPT_PARALLELISM


class SecretKey:
    """The key new secrets are encrypted with, and the earlier keys stored secrets may still be under.

    Built once per process and database (:func:`load_secret_key`); it never shows a key in its repr.
    """

    def __init__(self, current: Fernet, earlier: Sequence[Fernet] = ()) -> None:
        self._current = current
        self._earlier = tuple(earlier)
        self._warned = threading.Event()

    def __repr__(self) -> str:
        return f"SecretKey(current, {len(self._earlier)} earlier)"

    def encrypt(self, plain: bytes) -> bytes:
        return self._current.encrypt(plain)

    def decrypt(self, token: bytes) -> bytes:
        """The plain bytes, whichever known key ``token`` is under; :class:`InvalidToken` if none opens it."""
        plain, current = self.opened(token)
        if not current and not self._warned.is_set():  # once per process: each sync would repeat it
            self._warned.set()
            log.warning(
                "some stored secrets are under an earlier key or the legacy key derivation: "
                "run `flowcoach db rotate-key` to re-encrypt them under FLOWCOACH_SECRET_KEY"
            )
        return plain

    def opened(self, token: bytes) -> tuple[bytes, bool]:
        """The plain bytes and whether ``token`` is under the current key; :class:`InvalidToken` if no
        known key opens it."""
        try:
            return self._current.decrypt(token), True
        except InvalidToken:
            pass
        for key in self._earlier:
            try:
                return key.decrypt(token), False
            except InvalidToken:
                continue
        raise InvalidToken

    def is_current(self, token: bytes) -> bool:
        """Whether ``token`` is already encrypted under the current key."""
        try:
            self._current.decrypt(token)
        except InvalidToken:
            return False
        return True


def fernet_key(text: str) -> bytes | None:
    """``text`` as a Fernet key when it is one (urlsafe base64 of 32 bytes), else None (a passphrase)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return text.encode("ascii") if len(raw) == FERNET_KEY_BYTES else None


def needs_params(passphrase: str, old: Sequence[str] = ()) -> bool:
    """Whether any of the keys is a passphrase, to be stretched with the database's salt."""
    return any(fernet_key(key) is None for key in (passphrase, *old))


def make_secret_key(passphrase: str, old: Sequence[str] = (), params: KdfParams | None = None) -> SecretKey:
    """The key of ``FLOWCOACH_SECRET_KEY`` (``passphrase``), with the earlier keys ``old`` to read with.

    ``params`` (the database's salt and cost) is required when any of them is a passphrase.
    """
    current = _derived(passphrase, params, "FLOWCOACH_SECRET_KEY")
    earlier: list[Fernet] = []
    for key in old:
        earlier.append(_derived(key, params, OLD_KEYS_VARIABLE))
    # Last, as they are the least likely to be needed: what versions before the salted derivation made.
    for key in (passphrase, *old):
        earlier.append(_legacy(key))
    return SecretKey(current, earlier)


def load_secret_key(engine: Engine, passphrase: str | None, old: Sequence[str] = ()) -> SecretKey | None:
    """The key for the database behind ``engine`` (None when ``FLOWCOACH_SECRET_KEY`` is unset)."""
    if not passphrase:
        return None
    params = kdf_params(engine) if needs_params(passphrase, old) else None
    return make_secret_key(passphrase, old, params)


def kdf_params(engine: Engine) -> KdfParams:
    """The database's salt and cost, created with a fresh random salt by the first process that asks.

    Processes starting together may each try to insert it: the primary key lets one win, and every one of
    them then reads the winner's row, so all of them derive the same key.
    """
    row = _params_row(engine)
    if row is None:
        salt = base64.urlsafe_b64encode(os.urandom(SALT_BYTES)).decode("ascii")
        try:
            with engine.begin() as connection:
                connection.execute(
                    insert(SecretKeyParams).values(
                        id=PARAMS_ROW,
                        kdf=SCRYPT,
                        salt=salt,
                        cost=SCRYPT_COST,
                        block_size=SCRYPT_BLOCK_SIZE,
                        parallelism=SCRYPT_PARALLELISM,
                    )
                )
        except IntegrityError:
            pass  # another process stored its salt first: the one read next
        row = _params_row(engine)
        assert row is not None
    if row.kdf != SCRYPT:
        raise SecretKeyError(
            f"the database's secret key derivation is {row.kdf!r}, which this version of flowcoach does not "
            "know: upgrade flowcoach"
        )
    return KdfParams(base64.urlsafe_b64decode(row.salt), row.cost, row.block_size, row.parallelism)


def _params_row(engine: Engine) -> SecretKeyParams | None:
    with engine.connect() as connection:
        found = connection.execute(select(SecretKeyParams).where(SecretKeyParams.id == PARAMS_ROW)).first()
    return SecretKeyParams(**found._mapping) if found is not None else None


def _derived(key: str, params: KdfParams | None, variable: str) -> Fernet:
    given = fernet_key(key)
    if given is not None:
        return Fernet(given)
    _check_length(key, variable)
    if params is None:
        raise ValueError("a passphrase needs the database's salt and cost (kdf_params)")
    return Fernet(_stretched(key, params))


@functools.lru_cache(maxsize=8)
def _stretched(passphrase: str, params: KdfParams) -> bytes:
    # scrypt is slow on purpose; one derivation per process and passphrase keeps each decrypt fast.
    kdf = Scrypt(salt=params.salt, length=32, n=params.cost, r=params.block_size, p=params.parallelism)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


def _legacy(key: str) -> Fernet:
    """The key versions before the salted derivation made of any key, a Fernet key included."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode("utf-8")).digest()))


def _check_length(key: str, variable: str) -> None:
    if len(key) < MIN_KEY_LENGTH:
        raise SecretKeyError(f"{variable}: use at least {MIN_KEY_LENGTH} characters, or a Fernet key")


def required_key(key: SecretKey | None) -> SecretKey:
    """``key``, or the error that says how to set one."""
    if key is None:
        raise SecretKeyError(
            "FLOWCOACH_SECRET_KEY is not set: it is required once a connector holds a secret (generate one "
            "with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        )
    return key


def encrypt_secrets(values: Mapping[str, str], key: SecretKey | None) -> str | None:
    """The encrypted form of ``values`` (``None`` when there is nothing secret to store)."""
    if not values:
        return None
    plain = json.dumps(dict(values), sort_keys=True).encode("utf-8")
    return required_key(key).encrypt(plain).decode("ascii")


def decrypt_secrets(token: str | None, key: SecretKey | None) -> dict[str, str]:
    """The secrets stored as ``token``; a wrong key is a clear error, never garbage."""
    if token is None:
        return {}
    try:
        plain = required_key(key).decrypt(token.encode("ascii"))
    except InvalidToken:
        raise SecretKeyError(
            "FLOWCOACH_SECRET_KEY does not decrypt this board's credentials: it is not the key they were "
            f"stored with (give that one in {OLD_KEYS_VARIABLE} while rotating)"
        ) from None
    values: dict[str, str] = json.loads(plain)
    return values


def encrypt_text(value: str, key: SecretKey | None) -> str:
    """One secret string, encrypted (ASCII, about 1.4× the length plus 100 characters)."""
    return required_key(key).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str, key: SecretKey | None) -> str:
    try:
        return required_key(key).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretKeyError(
            "FLOWCOACH_SECRET_KEY does not decrypt the stored Slack tokens: it is not the key they were "
            f"stored with (give that one in {OLD_KEYS_VARIABLE} while rotating)"
        ) from None
