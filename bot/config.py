"""Configuration from the environment (and a ``.env`` file), failing fast with the variable's name."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.connectors.guard import AddressPolicy
from bot.connectors.http import HttpOptions
from bot.errors import FlowcoachError
from bot.store.urls import sqlalchemy_url


def default_database_url() -> str:
    """A SQLite file in the user's data directory, created on first use."""
    directory = Path(platformdirs.user_data_dir("flowcoach", appauthor=False))
    return f"sqlite:///{directory / 'flowcoach.db'}"


class Settings(BaseSettings):
    """Every variable of ``spec/slack.md`` that the current processes read."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default_factory=default_database_url, validation_alias="DATABASE_URL")
    secret_key: SecretStr | None = Field(default=None, validation_alias="FLOWCOACH_SECRET_KEY")
    # Earlier keys, comma-separated: secrets still under them stay readable while a rotation is under way.
    old_secret_keys: SecretStr | None = Field(default=None, validation_alias="FLOWCOACH_OLD_SECRET_KEYS")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_format: str = Field(default="text", validation_alias="LOG_FORMAT")
    # Jobs one `flowcoach worker` runs at a time on PostgreSQL. The coach computes more than it waits, so
    # beyond the cores a process can use, add processes (replicas) rather than raise this.
    worker_concurrency: int = Field(default=4, ge=1, le=64, validation_alias="FLOWCOACH_WORKER_CONCURRENCY")
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    host: str = Field(default="0.0.0.0", min_length=1, validation_alias="HOST")  # noqa: S104  # containers
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    # The only folder `/flow connect` may read event-log files from; unset, Slack offers no file boards.
    import_dir: Path | None = Field(default=None, validation_alias="FLOWCOACH_IMPORT_DIR")
    # Private hosts, domains or networks that boards connected from Slack may reach (an intranet's Jira).
    allowed_hosts: str = Field(default="", validation_alias="FLOWCOACH_ALLOWED_HOSTS")

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        return sqlalchemy_url(value)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"  # slack_sdk joins method names onto it

    @field_validator("allowed_hosts")
    @classmethod
    def _allowed_hosts(cls, value: str) -> str:
        AddressPolicy.parse(value)  # a typo must stop the process, not silently allow or refuse
        return value

    @property
    def secret_key_text(self) -> str | None:
        """``FLOWCOACH_SECRET_KEY`` as the crypto functions take it (None when unset)."""
        return self.secret_key.get_secret_value() if self.secret_key is not None else None

    @property
    def old_secret_key_texts(self) -> tuple[str, ...]:
        """``FLOWCOACH_OLD_SECRET_KEYS``, split at commas (Fernet keys and generated keys have none)."""
        if self.old_secret_keys is None:
            return ()
        return tuple(key.strip() for key in self.old_secret_keys.get_secret_value().split(",") if key.strip())

    @property
    def address_policy(self) -> AddressPolicy:
        """What boards connected from Slack may reach beyond the public internet."""
        return AddressPolicy.parse(self.allowed_hosts)

    @property
    def slack_tracker_http(self) -> HttpOptions:
        """How requests to a tracker address a Slack member typed go out: only to public addresses and those
        the operator allowed, checked when each connection opens (at connect time and on every sync)."""
        return HttpOptions(guard=self.address_policy)

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value


def load_settings() -> Settings:
    """Read the settings; a bad value stops with one line naming the variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(map(str, first["loc"])) or "configuration"  # the environment variable's name
        raise FlowcoachError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None
