"""the coach's outbox: every nudge message stored with its alerts before it is sent

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nudges used to be sent right after the evaluation that decided them: a post Slack refused for longer
    # than the client's retries (a 429 storm) or a worker killed in between lost the message for good.
    op.create_table(
        "nudge_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("alert_ids", sa.JSON(), nullable=False),
        sa.Column("fold", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("first", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("target_ts", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("thread_ts", sa.String(length=40), nullable=True),
        sa.Column("posted_ts", sa.String(length=40), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["boards.id"], name=op.f("fk_nudge_outbox_board_id_boards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_outbox")),
    )
    op.create_index("ix_nudge_outbox_board_id_state", "nudge_outbox", ["board_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_nudge_outbox_board_id_state", table_name="nudge_outbox")
    op.drop_table("nudge_outbox")
