"""how far a digest or review got in the channel: its parent message, and how many parts after it

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A delivery cut short (Slack answering 429 for minutes, a worker killed) resumes from here: the
    # parent is never posted twice, nor a reply or chart that went out.
    with op.batch_alter_table("job_slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posted_ts", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("parts_done", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("job_slots", schema=None) as batch_op:
        batch_op.drop_column("parts_done")
        batch_op.drop_column("posted_ts")
