"""Indexes for the inbox search on PostgreSQL (nothing on SQLite).

``icontains`` compiles to ``UPPER(col::text) LIKE UPPER('%word%')`` and ``iexact`` to
``UPPER(col::text) = UPPER('word')`` on PostgreSQL, so each index is on the same ``UPPER``
expression: trigram GIN indexes (``pg_trgm``) for the substring searches, B-tree for the
exact ones. They live here, beside the search that needs them, and are raw SQL so the model
state (and SQLite) is unchanged.
"""

from django.db import migrations

TRIGRAM = (
    ("guests_guest", "first_name"),
    ("guests_guest", "last_name"),
    ("guests_guest", "email"),
    ("channels_out_inboundmessage", "body"),
)
EXACT = (
    ("guests_reservation", "room_number"),
    ("guests_reservation", "external_ref"),
)


def _name(table: str, column: str, kind: str) -> str:
    return f"inbox_q_{table.split('_', 1)[1]}_{column}_{kind}"[:63]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in TRIGRAM:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{_name(table, column, "trgm")}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )
    for table, column in EXACT:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{_name(table, column, "upper")}" ON "{table}" '
            f'((UPPER("{column}"::text)))'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in TRIGRAM:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_name(table, column, "trgm")}"')
    for table, column in EXACT:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_name(table, column, "upper")}"')


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("guests", "0004_open_admin_permission"),
        ("channels_out", "0012_inbox_replies"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
