"""`flowcoach db rotate-key`: every stored secret moves under FLOWCOACH_SECRET_KEY, from an earlier key
(FLOWCOACH_OLD_SECRET_KEYS) or from the unsalted derivation of earlier versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import select

from bot.cli.main import main
from bot.slack.installations import EncryptedInstallationStore
from bot.store.boards import LOCAL_WORKSPACE, add_board
from bot.store.crypto import SecretKey, SecretKeyError, decrypt_secrets, encrypt_secrets, load_secret_key
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.models import Board
from bot.store.slack_tables import SEALED

OLD = "the-old-key-of-at-least-16-chars"
NEW = "the-new-key-of-at-least-16-chars"
CLIENT_ID = "111.222"
WORKFLOW = """\
name: Payments
stages:
  - {name: Doing, statuses: [In Progress], kind: active}
  - {name: Done, statuses: [Done], kind: done}
"""


def legacy_fernet(passphrase: str) -> Fernet:
    """What earlier versions made of FLOWCOACH_SECRET_KEY: one SHA-256, no salt."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest()))


def key_of(url: str, passphrase: str, old: tuple[str, ...] = ()) -> SecretKey:
    engine = make_engine(url)
    try:
        key = load_secret_key(engine, passphrase, old)
    finally:
        engine.dispose()
    assert key is not None
    return key


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path) -> str:
    """Payments' credentials and an OAuth installation's tokens under the old key (salted); Legacy's
    credentials as an earlier version stored them under the new passphrase (unsalted SHA-256)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    for variable in ("FLOWCOACH_OLD_SECRET_KEY", "FLOWCOACH_OLD_SECRET_KEYS"):
        monkeypatch.delenv(variable, raising=False)
    engine = make_engine(database_url)
    upgrade(engine)
    old = load_secret_key(engine, OLD)
    sealed_by_board = {
        "Payments": encrypt_secrets({"token": "jira-token-1"}, old),
        "Legacy": legacy_fernet(NEW).encrypt(b'{"token": "linear-token-2"}').decode(),
    }
    with session_factory(engine).begin() as session:
        for name, sealed in sealed_by_board.items():
            add_board(
                session,
                name,
                connector="jira",
                settings={"url": "https://acme.atlassian.net", "project": "PAY"},
                encrypted_secrets=sealed,
                workflow_yaml=WORKFLOW.replace("Payments", name),
                channel_id=None,
                team_id=LOCAL_WORKSPACE,
            )
    assert old is not None
    EncryptedInstallationStore(CLIENT_ID, engine, old).save(
        Installation(
            app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-team-one", bot_id="B1", bot_user_id="UB"
        )
    )
    engine.dispose()
    return database_url


def stored(url: str) -> dict[str, str]:
    """Every stored ciphertext: the boards' credentials and the Slack tokens, by where they are."""
    engine = make_engine(url)
    found: dict[str, str] = {}
    with engine.connect() as connection:
        for name, sealed in connection.execute(select(Board.name, Board.connector_secrets)):
            found[name] = sealed
        for table in ("slack_installations", "slack_bots"):
            found[table] = connection.scalar(select(Board.metadata.tables[table].c.bot_token))
    engine.dispose()
    return found


def slack_bot_token(url: str, key: SecretKey) -> str | None:
    engine = make_engine(url)
    try:
        bot = EncryptedInstallationStore(CLIENT_ID, engine, key).find_bot(enterprise_id=None, team_id="T1")
    finally:
        engine.dispose()
    return bot.bot_token if bot else None


def test_rotation_moves_every_secret_under_the_new_key_and_can_run_again(database, monkeypatch, capsys):
    """After the rotation every secret opens with the new key alone (no earlier key, no legacy derivation);
    the old key opens none of them; a second run changes nothing and says so."""
    monkeypatch.setenv("FLOWCOACH_OLD_SECRET_KEYS", OLD)
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", NEW)
    assert main(["db", "rotate-key"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # no warning about the legacy derivation it is removing
    assert out.startswith("re-encrypted 4 secrets: the credentials of 2 boards, 2 Slack tokens (0 already")
    assert OLD not in out and NEW not in out

    monkeypatch.delenv("FLOWCOACH_OLD_SECRET_KEYS")
    new, old = key_of(database, NEW), key_of(database, OLD)
    after = stored(database)
    for sealed in after.values():
        assert new.is_current(sealed.removeprefix(SEALED).encode())
        with pytest.raises(SecretKeyError):
            decrypt_secrets(sealed.removeprefix(SEALED), old)
    assert decrypt_secrets(after["Payments"], new) == {"token": "jira-token-1"}
    assert decrypt_secrets(after["Legacy"], new) == {"token": "linear-token-2"}
    assert slack_bot_token(database, new) == "xoxb-team-one"
    with pytest.raises(SecretKeyError):
        slack_bot_token(database, old)

    assert main(["db", "rotate-key"]) == 0
    assert "re-encrypted 0 secrets: the credentials of 0 boards, 0 Slack tokens (4 already under" in (
        capsys.readouterr().out
    )
    assert stored(database) == after


def test_the_single_old_key_variable_still_works(database, monkeypatch, capsys):
    """FLOWCOACH_OLD_SECRET_KEY (or --old-key-env VAR), as rotate-key read the old key before."""
    monkeypatch.setenv("PREVIOUS_KEY", OLD)
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", NEW)
    assert main(["db", "rotate-key", "--old-key-env", "PREVIOUS_KEY"]) == 0
    assert "re-encrypted 4 secrets" in capsys.readouterr().out


def test_a_wrong_old_key_changes_nothing_and_says_so_in_one_line(database, monkeypatch, capsys):
    """With an old key that opens nothing, the command stops before changing anything (Legacy, which the
    new passphrase could move, is left as it was too)."""
    monkeypatch.setenv("FLOWCOACH_OLD_SECRET_KEYS", "not-the-key-it-was-stored-with")
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", NEW)
    before = stored(database)
    assert main(["db", "rotate-key"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("flowcoach: error: board 'Payments'") and err.count("\n") == 1
    assert "FLOWCOACH_OLD_SECRET_KEYS" in err and "not-the-key" not in err and NEW not in err
    assert stored(database) == before
    assert decrypt_secrets(before["Payments"], key_of(database, OLD)) == {"token": "jira-token-1"}


def test_without_the_old_key_it_names_the_variable(database, monkeypatch, capsys):
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", NEW)
    assert main(["db", "rotate-key"]) == 1
    err = capsys.readouterr().err
    assert "FLOWCOACH_OLD_SECRET_KEYS" in err and err.count("\n") == 1


def test_processes_keep_reading_with_the_old_key_listed_before_the_rotation(database, monkeypatch):
    """Deployed with the new key and the old one in FLOWCOACH_OLD_SECRET_KEYS, serve and worker read every
    secret before rotate-key has run: the rotation needs no downtime."""
    key = key_of(database, NEW, (OLD,))
    before = stored(database)
    assert decrypt_secrets(before["Payments"], key) == {"token": "jira-token-1"}
    assert decrypt_secrets(before["Legacy"], key) == {"token": "linear-token-2"}
    assert slack_bot_token(database, key) == "xoxb-team-one"
