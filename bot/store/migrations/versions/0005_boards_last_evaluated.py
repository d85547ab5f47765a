"""boards remember when the coach last evaluated them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A WIP nudge names the item just pulled in only when it entered the stage since the previous
    # evaluation (spec/coaching.md); boards evaluated before this column have no such instant (null).
    with op.batch_alter_table("boards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_evaluated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("boards", schema=None) as batch_op:
        batch_op.drop_column("last_evaluated_at")
