"""how late a digest or review was delivered, as a column (it was only in the note's words)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_by_s", sa.Integer(), nullable=True))
    # Slots delivered late before this column existed said so only in their note ("12 min late").
    op.execute(
        "UPDATE job_slots SET late_by_s = 60 * CAST(substr(note, 1, instr(note, ' ') - 1) AS INTEGER) "
        "WHERE note LIKE '% min late'"
        if op.get_bind().dialect.name == "sqlite"
        else "UPDATE job_slots SET late_by_s = 60 * CAST(split_part(note, ' ', 1) AS INTEGER) "
        "WHERE note LIKE '% min late'"
    )


def downgrade() -> None:
    with op.batch_alter_table("job_slots", schema=None) as batch_op:
        batch_op.drop_column("late_by_s")
