"""procrastinate's tables, types and functions on PostgreSQL, created and dropped by our Alembic migrations.

procrastinate ships its schema as one SQL file for a fresh database and numbered SQL files for upgrades; we
apply the fresh schema of the pinned version (``deploy/constraints.txt``) inside migration 0006, so that
``flowcoach db upgrade`` still migrates everything in one command. A later procrastinate upgrade comes with
an Alembic migration that runs procrastinate's own migration files between the two versions.
"""

from __future__ import annotations

from sqlalchemy import Connection

QUEUE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
QUEUE_TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def queue_schema_sql() -> str:
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()


def create_job_queue(connection: Connection) -> None:
    """Create procrastinate's schema in the migration's transaction (PostgreSQL only)."""
    # The driver's own execute: the file holds many statements and $$-quoted function bodies with colons
    # that SQLAlchemy's text() would read as bind parameters. The driver still reads %-signs as
    # placeholders (SQLAlchemy passes it an empty parameter list), so they are doubled, as procrastinate's
    # own SchemaManager.apply_schema does.
    connection.exec_driver_sql(queue_schema_sql().replace("%", "%%"))


def drop_job_queue(connection: Connection) -> None:
    """Remove everything ``create_job_queue`` made: its tables (with their triggers), functions and types."""
    for table in QUEUE_TABLES:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    functions = connection.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND starts_with(p.proname, 'procrastinate_')"
    ).scalars()
    for signature in list(functions):
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for type_name in QUEUE_TYPES:
        connection.exec_driver_sql(f"DROP TYPE IF EXISTS {type_name} CASCADE")
