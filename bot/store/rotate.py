"""Re-encrypt every stored secret under a new ``FLOWCOACH_SECRET_KEY``: boards' connector credentials and
OAuth installations' Slack tokens, in one transaction, so a failure leaves every secret under the old key.

Values already readable with the new key are left as they are, so an interrupted or repeated rotation is
safe to run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, select, update

from bot.store.crypto import SecretKeyError, decrypt_secrets, decrypt_text, encrypt_secrets, encrypt_text
from bot.store.models import Base, Board
from bot.store.slack_tables import SEALED, TOKEN_COLUMNS


@dataclass(frozen=True)
class Rotated:
    boards: int  # boards whose credentials were re-encrypted
    tokens: int  # Slack token values re-encrypted
    already: int  # values found under the new key already


def rotate_secret_key(engine: Engine, old_key: str, new_key: str) -> Rotated:
    if old_key == new_key:
        raise SecretKeyError("the old and the new FLOWCOACH_SECRET_KEY are the same: nothing to rotate")
    with engine.begin() as connection:
        boards, already = _boards(connection, old_key, new_key)
        tokens = 0
        for name in ("slack_installations", "slack_bots"):
            rotated, kept = _tokens(connection, Base.metadata.tables[name], old_key, new_key)
            tokens, already = tokens + rotated, already + kept
    return Rotated(boards, tokens, already)


def _boards(connection: Connection, old_key: str, new_key: str) -> tuple[int, int]:
    rotated = already = 0
    rows = connection.execute(select(Board.id, Board.name, Board.connector_secrets)).all()
    for board_id, name, sealed in rows:
        if sealed is None:
            continue
        try:
            decrypt_secrets(sealed, new_key)
            already += 1
            continue
        except SecretKeyError:
            pass
        try:
            values = decrypt_secrets(sealed, old_key)
        except SecretKeyError:
            raise SecretKeyError(
                f"board '{name}': its credentials open with neither the old nor the new key; "
                "nothing was changed"
            ) from None
        connection.execute(
            update(Board)
            .where(Board.id == board_id)
            .values(connector_secrets=encrypt_secrets(values, new_key))
        )
        rotated += 1
    return rotated, already


def _tokens(connection: Connection, table: Table, old_key: str, new_key: str) -> tuple[int, int]:
    columns = [table.c[name] for name in TOKEN_COLUMNS if name in table.c]
    rotated = already = 0
    for row in connection.execute(select(table.c.id, *columns)).mappings():
        changes: dict[str, str] = {}
        for column in columns:
            value = row[column.name]
            if not isinstance(value, str) or not value.startswith(SEALED):
                continue
            token = value.removeprefix(SEALED)
            try:
                decrypt_text(token, new_key)
                already += 1
                continue
            except SecretKeyError:
                pass
            try:
                plain = decrypt_text(token, old_key)
            except SecretKeyError:
                raise SecretKeyError(
                    f"{table.name} row {row['id']}: a Slack token opens with neither the old nor the new "
                    "key; nothing was changed"
                ) from None
            changes[column.name] = SEALED + encrypt_text(plain, new_key)
        if changes:
            connection.execute(update(table).where(table.c.id == row["id"]).values(**changes))
            rotated += len(changes)
    return rotated, already
