"""a columnar copy of each board's event log, written after each sync

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Reading 155k events row by row was most of `flowcoach metrics --board` on a large board. Empty after
    # the upgrade: each board's next sync writes its copy, and until then reads go row by row as before.
    op.create_table(
        "event_log_copies",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("schema_revision", sa.String(length=32), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("columns", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["boards.id"], name=op.f("fk_event_log_copies_board_id_boards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("board_id", name=op.f("pk_event_log_copies")),
    )


def downgrade() -> None:
    op.drop_table("event_log_copies")
