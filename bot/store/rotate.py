"""Re-encrypt every stored secret under the current ``FLOWCOACH_SECRET_KEY``: boards' connector credentials
and OAuth installations' Slack tokens, in one transaction, so a failure leaves every secret as it was.

Whatever the key can read (an earlier key of ``FLOWCOACH_OLD_SECRET_KEYS``, or the unsalted SHA-256
derivation of versions before the salted one) is moved under the current key. Values already under it are
left as they are, so an interrupted or repeated rotation is safe to run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlalchemy import Connection, Engine, Table, select, update

from bot.store.crypto import OLD_KEYS_VARIABLE, SecretKey, SecretKeyError
from bot.store.models import Base, Board
from bot.store.slack_tables import SEALED, TOKEN_COLUMNS


@dataclass(frozen=True)
class Rotated:
    boards: int  # boards whose credentials were re-encrypted
    tokens: int  # Slack token values re-encrypted
    already: int  # values found under the current key already

    @property
    def secrets(self) -> int:
        return self.boards + self.tokens


def rotate_secret_key(engine: Engine, key: SecretKey) -> Rotated:
    with engine.begin() as connection:
        boards, already = _boards(connection, key)
        tokens = 0
        for name in ("slack_installations", "slack_bots"):
            rotated, kept = _tokens(connection, Base.metadata.tables[name], key)
            tokens, already = tokens + rotated, already + kept
    return Rotated(boards, tokens, already)


def _rotated(sealed: str, key: SecretKey, what: str) -> str | None:
    """``sealed`` under the current key, or None when it is already."""
    try:
        plain, current = key.opened(sealed.encode("ascii"))
    except InvalidToken:
        raise SecretKeyError(
            f"{what} open with neither FLOWCOACH_SECRET_KEY nor an earlier key: give the key they were "
            f"stored with in {OLD_KEYS_VARIABLE}; nothing was changed"
        ) from None
    return None if current else key.encrypt(plain).decode("ascii")


def _boards(connection: Connection, key: SecretKey) -> tuple[int, int]:
    rotated = already = 0
    rows = connection.execute(select(Board.id, Board.name, Board.connector_secrets)).all()
    for board_id, name, sealed in rows:
        if sealed is None:
            continue
        fresh = _rotated(sealed, key, f"board '{name}': its credentials")
        if fresh is None:
            already += 1
            continue
        connection.execute(update(Board).where(Board.id == board_id).values(connector_secrets=fresh))
        rotated += 1
    return rotated, already


def _tokens(connection: Connection, table: Table, key: SecretKey) -> tuple[int, int]:
    columns = [table.c[name] for name in TOKEN_COLUMNS if name in table.c]
    rotated = already = 0
    for row in connection.execute(select(table.c.id, *columns)).mappings():
        changes: dict[str, str] = {}
        for column in columns:
            value = row[column.name]
            if not isinstance(value, str) or not value.startswith(SEALED):
                continue
            what = f"{table.name} row {row['id']}: its Slack tokens"
            fresh = _rotated(value.removeprefix(SEALED), key, what)
            if fresh is None:
                already += 1
            else:
                changes[column.name] = SEALED + fresh
        if changes:
            connection.execute(update(table).where(table.c.id == row["id"]).values(**changes))
            rotated += len(changes)
    return rotated, already
