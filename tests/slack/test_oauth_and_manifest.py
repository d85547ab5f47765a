"""OAuth installs into several workspaces, kept apart; the manifest declares exactly what the app serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import yaml
from sqlalchemy import text

from bot.slack.app import BOT_SCOPES, EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH
from bot.slack.subcommands import SUBCOMMANDS
from bot.store.boards import add_board
from tests.fakes.slack_requests import SlackSender
from tests.slack.conftest import SIGNING_SECRET, RunningApp

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"
CLIENT = {"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "emulator-secret"}


def install(app: RunningApp, team_id: str, bot_token: str) -> httpx.Response:
    """Walk Slack's install flow as a browser would: install page, state cookie, redirect with a code."""
    page = httpx.get(app.base_url + INSTALL_PATH)
    assert page.status_code == 200
    state = re.search(r"state=([^&\"]+)", page.text).group(1)
    cookie = page.headers["set-cookie"].split(";")[0]
    code = f"code-{team_id}"
    app.slack.register_oauth_code(code, team_id=team_id, team_name=f"Team {team_id}", bot_token=bot_token)
    # The state cookie is Secure; over plain http the test hands it back itself.
    return httpx.get(
        app.base_url + REDIRECT_PATH, params={"code": code, "state": state}, headers={"Cookie": cookie}
    )


def test_oauth_install_stores_the_workspace_and_serves_it(start_app, database_url):
    """Installing from /slack/install exchanges the code, stores the bot, and the new team can use /flow."""
    app = start_app(database_url, **CLIENT)
    app.slack.add_team("T0000TEAM2", "Team Two", "xoxb-team2", "U0BOT0002")
    finished = install(app, "T0000TEAM2", "xoxb-team2")
    assert finished.status_code == 200
    assert app.slack.calls_to("oauth.v2.access")
    with app.sessions() as session:
        stored = session.execute(text("SELECT team_id, bot_token FROM slack_bots")).all()
        installed = session.execute(text("SELECT bot_token FROM slack_installations")).scalars().all()
    assert [row.team_id for row in stored] == ["T0000TEAM2"]
    # Tokens are encrypted at rest: a copy of the database hands out no workspace's bot.
    assert all("xoxb-team2" not in (token or "") for token in [row.bot_token for row in stored] + installed)
    assert stored[0].bot_token.startswith("enc:v1:")
    sent = app.sender.slash_command("help", team_id="T0000TEAM2")
    assert "/flow status" in sent.text


def test_boards_of_one_workspace_are_invisible_to_another(start_app, sqlite_url):
    """Two installed teams: each sees only its own boards, even when naming the other's board."""
    app = start_app(sqlite_url, **CLIENT)
    for team, token, bot in (
        ("T0000TEAM2", "xoxb-team2", "U0BOT0002"),
        ("T0000TEAM3", "xoxb-team3", "U0BOT0003"),
    ):
        app.slack.add_team(team, f"Team {team}", token, bot)
        assert install(app, team, token).status_code == 200
    workflow = (Path(__file__).resolve().parents[2] / "bot" / "sample" / "workflow.yml").read_text()
    with app.runtime.sessions.begin() as session:
        add_board(
            session, "Secret", connector="file", settings={"path": "x.csv"}, encrypted_secrets=None,
            workflow_yaml=workflow, channel_id="C0000FLOW1", team_id="T0000TEAM2",
        )  # fmt: skip
    sent = app.sender.slash_command("Secret limits", team_id="T0000TEAM3")
    answer = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body
    assert "no board named 'Secret'" in answer["text"]
    sent = app.sender.slash_command("Secret limits", team_id="T0000TEAM2")
    answer = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body
    assert "Secret" in json.dumps(answer["blocks"])


def test_a_team_that_never_installed_gets_no_answer(start_app, sqlite_url):
    """In OAuth mode a request from a team without an installation is not served."""
    app = start_app(sqlite_url, **CLIENT)
    sent = app.sender.slash_command("help", team_id="T0000NOPE")
    assert "/flow status" not in sent.text


def test_the_manifest_declares_what_the_app_serves(start_app, sqlite_url):
    """Every command and event of the manifest is handled by the app; URLs and scopes match the app's."""
    app = start_app(sqlite_url)
    manifest = yaml.safe_load(MANIFEST.read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    urls = [command["url"] for command in features["slash_commands"]]
    urls += [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    assert {httpx.URL(url).path for url in urls} == {EVENTS_PATH}
    assert [httpx.URL(url).path for url in manifest["oauth_config"]["redirect_urls"]] == [REDIRECT_PATH]
    sender = SlackSender(app.events_url, SIGNING_SECRET, emulator=app.slack)
    for command in features["slash_commands"]:
        assert sender.slash_command("help", command=command["command"]).status_code == 200
    assert sender.slash_command("help", command="/notours").status_code == 404
    for event in settings["event_subscriptions"]["bot_events"]:
        sent = sender.event({"type": event, "user": "U0000USER1", "channel": "C0000FLOW1", "text": "hi",
                             "ts": "1764000000.000100", "tab": "home"})  # fmt: skip
        assert sent.status_code == 200, event
    assert sender.event({"type": "reaction_added", "user": "U0000USER1"}).status_code == 404
    assert features["app_home"]["home_tab_enabled"] is True


def test_the_manifest_usage_hint_names_every_subcommand():
    """The manifest's usage hint for `/flow` names the registry's subcommands in help's order, no others."""
    [command] = yaml.safe_load(MANIFEST.read_text())["features"]["slash_commands"]
    alternatives = command["usage_hint"].removeprefix("[board] ").split(" | ")
    named = list(dict.fromkeys(alternative.split()[0] for alternative in alternatives))
    assert named == SUBCOMMANDS.names
