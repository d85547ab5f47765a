"""``FLOWCOACH_SECRET_KEY`` (issue 19 item 7): a passphrase is stretched with scrypt and a random salt the
database keeps; a Fernet key is used as it is; what the unsalted SHA-256 derivation stored stays readable."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Engine, delete, select

from bot.store.crypto import (
    KdfParams,
    SecretKeyError,
    decrypt_secrets,
    encrypt_secrets,
    kdf_params,
    load_secret_key,
    make_secret_key,
)
from bot.store.db import make_engine, upgrade
from bot.store.models import SecretKeyParams

PASSPHRASE = "correct horse battery staple"
SECRETS = {"token": "s3cr3t-api-token"}


def other_database(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    upgrade(engine)
    return engine


def legacy_fernet(passphrase: str) -> Fernet:
    """What flowcoach made of FLOWCOACH_SECRET_KEY before the salted derivation: one SHA-256, no salt."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest()))


def test_secrets_round_trip_and_wrong_keys_are_clear_errors(engine):
    """Secrets decrypt with the same key only; a missing or wrong key is a message, not garbage."""
    key = load_secret_key(engine, PASSPHRASE)
    token = encrypt_secrets(SECRETS, key)
    assert token is not None and "s3cr3t" not in token
    assert decrypt_secrets(token, load_secret_key(engine, PASSPHRASE)) == SECRETS
    with pytest.raises(SecretKeyError, match="not the key") as wrong:
        decrypt_secrets(token, load_secret_key(engine, "another key of enough length"))
    assert "\n" not in str(wrong.value) and PASSPHRASE not in str(wrong.value)
    with pytest.raises(SecretKeyError, match="FLOWCOACH_SECRET_KEY is not set"):
        encrypt_secrets({"token": "x"}, None)
    with pytest.raises(SecretKeyError, match="at least 16 characters"):
        load_secret_key(engine, "short")
    assert encrypt_secrets({}, None) is None
    assert load_secret_key(engine, None) is None
    assert PASSPHRASE not in repr(key)


def test_ciphertexts_of_the_legacy_key_still_decrypt(engine, caplog):
    """Credentials stored by earlier versions (unsalted SHA-256 of the passphrase) open with the same
    FLOWCOACH_SECRET_KEY, with one warning naming the command that moves them; new ones are no longer made
    that way."""
    stored = legacy_fernet(PASSPHRASE).encrypt(b'{"token": "from-an-earlier-version"}').decode()
    key = load_secret_key(engine, PASSPHRASE)
    with caplog.at_level(logging.WARNING, logger="bot.store.crypto"):
        for _ in range(3):
            assert decrypt_secrets(stored, key) == {"token": "from-an-earlier-version"}
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "flowcoach db rotate-key" in warnings[0]
    assert PASSPHRASE not in warnings[0] and "from-an-earlier-version" not in warnings[0]
    fresh = encrypt_secrets(SECRETS, key)
    assert fresh is not None
    with pytest.raises(InvalidToken):
        legacy_fernet(PASSPHRASE).decrypt(fresh.encode())


def test_new_ciphertexts_use_scrypt_with_the_salt_the_database_stores(engine, tmp_path):
    """The key is scrypt(passphrase, the stored salt, n=2**15, r=8, p=1): another installation with the same
    passphrase has another salt, so neither can read the other's secrets."""
    token = encrypt_secrets(SECRETS, load_secret_key(engine, PASSPHRASE))
    assert token is not None
    with engine.connect() as connection:
        row = connection.execute(select(SecretKeyParams)).one()
    assert (row.kdf, row.cost, row.block_size, row.parallelism) == ("scrypt", 2**15, 8, 1)
    salt = base64.urlsafe_b64decode(row.salt)
    assert len(salt) == 16
    derived = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(PASSPHRASE.encode())
    opened = Fernet(base64.urlsafe_b64encode(derived)).decrypt(token.encode())
    assert opened == b'{"token": "s3cr3t-api-token"}'

    elsewhere = other_database(tmp_path)
    try:
        assert kdf_params(elsewhere).salt != salt
        with pytest.raises(SecretKeyError, match="not the key"):
            decrypt_secrets(token, load_secret_key(elsewhere, PASSPHRASE))
    finally:
        elsewhere.dispose()


def test_a_generated_fernet_key_is_used_as_it_is(engine):
    """`Fernet.generate_key()` output needs no stretching and no salt: the ciphertext opens with it directly,
    and what an earlier version stored under the same value (it hashed even Fernet keys) still opens."""
    generated = Fernet.generate_key().decode()
    token = encrypt_secrets(SECRETS, load_secret_key(engine, generated))
    assert token is not None
    assert Fernet(generated.encode()).decrypt(token.encode()) == b'{"token": "s3cr3t-api-token"}'
    with engine.connect() as connection:
        assert connection.execute(select(SecretKeyParams)).first() is None  # nothing to stretch, no salt
    earlier = legacy_fernet(generated).encrypt(b'{"token": "old"}').decode()
    assert decrypt_secrets(earlier, load_secret_key(engine, generated)) == {"token": "old"}


def test_processes_starting_together_agree_on_one_salt(engine):
    """Several processes reaching an empty table at once each try to store a salt; one wins and every one of
    them derives the key from the winner's."""
    with engine.begin() as connection:
        connection.execute(delete(SecretKeyParams))
    engines = [make_engine(str(engine.url.render_as_string(hide_password=False))) for _ in range(6)]
    start, salts, errors = threading.Barrier(len(engines)), [], []

    def one(own: Engine) -> None:
        start.wait()
        try:
            salts.append(kdf_params(own).salt)
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=one, args=(own,)) for own in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for own in engines:
        own.dispose()
    assert errors == [] and len(salts) == len(engines) and len(set(salts)) == 1
    assert kdf_params(engine).salt == salts[0]


def test_earlier_keys_are_read_and_never_written():
    """An earlier key (FLOWCOACH_OLD_SECRET_KEYS) opens what it stored; new secrets use the current one."""
    params = KdfParams(salt=b"0123456789abcdef")
    old = "the-old-key-of-at-least-16-chars"
    stored = encrypt_secrets(SECRETS, make_secret_key(old, (), params))
    rotating = make_secret_key(PASSPHRASE, (old,), params)
    assert decrypt_secrets(stored, rotating) == SECRETS
    fresh = encrypt_secrets(SECRETS, rotating)
    with pytest.raises(SecretKeyError):
        decrypt_secrets(fresh, make_secret_key(old, (), params))
