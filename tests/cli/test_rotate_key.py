"""`flowcoach db rotate-key`: every stored secret moves from the old FLOWCOACH_SECRET_KEY to the new one."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.cli.main import main
from bot.slack.installations import EncryptedInstallationStore
from bot.store.boards import LOCAL_WORKSPACE, add_board
from bot.store.crypto import SecretKeyError, decrypt_secrets, encrypt_secrets
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.models import Board

OLD = "the-old-key-of-at-least-16-chars"
NEW = "the-new-key-of-at-least-16-chars"
CLIENT_ID = "111.222"
WORKFLOW = """\
name: Payments
stages:
  - {name: Doing, statuses: [In Progress], kind: active}
  - {name: Done, statuses: [Done], kind: done}
"""


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A database holding a board's credentials and an OAuth installation's tokens under the old key."""
    url = f"sqlite:///{tmp_path / 'flowcoach.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        add_board(
            session,
            "Payments",
            connector="jira",
            settings={"url": "https://acme.atlassian.net", "project": "PAY"},
            encrypted_secrets=encrypt_secrets({"token": "jira-token-1"}, OLD),
            workflow_yaml=WORKFLOW,
            channel_id=None,
            team_id=LOCAL_WORKSPACE,
        )
    EncryptedInstallationStore(CLIENT_ID, engine, OLD).save(
        Installation(
            app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-team-one", bot_id="B1", bot_user_id="UB"
        )
    )
    engine.dispose()
    return url


def stored_secrets(url: str, key: str = NEW) -> tuple[str | None, str | None]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        sealed = session.query(Board).one().connector_secrets
    bot = EncryptedInstallationStore(CLIENT_ID, engine, key).find_bot(enterprise_id=None, team_id="T1")
    engine.dispose()
    return sealed, bot.bot_token if bot else None


def test_rotation_moves_every_secret_to_the_new_key_and_can_run_again(database, monkeypatch, capsys):
    """After the rotation the board's token and the Slack bot token open with the new key only; a second run
    changes nothing and says so."""
    monkeypatch.setenv("FLOWCOACH_OLD_SECRET_KEY", OLD)
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", NEW)
    assert main(["db", "rotate-key"]) == 0
    out = capsys.readouterr().out
    assert "1 board and 2 Slack tokens" in out  # the installation's and its bot's copies
    sealed, bot_token = stored_secrets(database)
    assert decrypt_secrets(sealed, NEW) == {"token": "jira-token-1"} and bot_token == "xoxb-team-one"
    with pytest.raises(SecretKeyError):
        decrypt_secrets(sealed, OLD)

    assert main(["db", "rotate-key"]) == 0
    assert "0 boards and 0 Slack tokens under the new key (3 already were)" in capsys.readouterr().out


def test_a_wrong_old_key_changes_nothing_and_says_so_in_one_line(database, monkeypatch, capsys):
    """With an old key that opens nothing, the command stops before changing anything."""
    monkeypatch.setenv("FLOWCOACH_OLD_SECRET_KEY", "not-the-key-it-was-stored-with")
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", NEW)
    before = stored_secrets(database, OLD)
    assert main(["db", "rotate-key"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("flowcoach: error: board 'Payments'") and err.count("\n") == 1
    assert stored_secrets(database, OLD) == before == (before[0], "xoxb-team-one")
    assert decrypt_secrets(before[0], OLD) == {"token": "jira-token-1"}


def test_without_the_old_key_it_names_the_variable(database, monkeypatch, capsys):
    monkeypatch.delenv("FLOWCOACH_OLD_SECRET_KEY", raising=False)
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", NEW)
    assert main(["db", "rotate-key"]) == 1
    assert "FLOWCOACH_OLD_SECRET_KEY" in capsys.readouterr().err
