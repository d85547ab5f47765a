"""the salt and cost of the key derivation of FLOWCOACH_SECRET_KEY

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Left empty: the first process that needs the key inserts the one row with a fresh random salt
    # (bot/store/crypto.py kdf_params). Secrets stored before this migration stay readable through the
    # legacy derivation until `flowcoach db rotate-key` moves them under the salted key.
    op.create_table(
        "secret_key_params",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kdf", sa.String(length=16), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("block_size", sa.Integer(), nullable=False),
        sa.Column("parallelism", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_key_params")),
    )


def downgrade() -> None:
    op.drop_table("secret_key_params")
