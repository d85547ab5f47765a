"""procrastinate's job queue (PostgreSQL), the ledger of digest and review slots, no APScheduler job store

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_slots",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatches", sa.Integer(), nullable=False),
        sa.Column("taken_by", sa.String(length=200), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["boards.id"], name=op.f("fk_job_slots_board_id_boards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("kind", "board_id", "slot", name=op.f("pk_job_slots")),
    )
    with op.batch_alter_table("job_slots", schema=None) as batch_op:
        batch_op.create_index("ix_job_slots_state_due_at", ["state", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_slots_board_id"), ["board_id"], unique=False)
    # The scheduler keeps its jobs in memory now: the slot ledger, not a persisted next run time, is what
    # lets a new leader find the digests that fell due while no scheduler ran.
    op.drop_table("apscheduler_jobs")
    if op.get_bind().dialect.name == "postgresql":
        from bot.store.job_queue_schema import create_job_queue

        create_job_queue(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from bot.store.job_queue_schema import drop_job_queue

        drop_job_queue(op.get_bind())
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False
        )
    with op.batch_alter_table("job_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_slots_board_id"))
        batch_op.drop_index("ix_job_slots_state_due_at")
    op.drop_table("job_slots")
