"""Migration operations shared by the apps."""

from __future__ import annotations

from django.db import migrations


def drop_indexes(indexes: list[tuple[str, str, str]]) -> migrations.RunPython:
    """Drop these indexes, each ``(name, table, columns)`` with Django's own name, where they exist;
    undone by creating them again (a ``varchar_pattern_ops`` one on PostgreSQL only). Used with
    ``SeparateDatabaseAndState`` where a field only loses its index: SQLite would otherwise copy the
    whole table to change the field."""

    def forward(apps, schema_editor):
        for name, _table, _columns in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def backward(apps, schema_editor):
        pg = schema_editor.connection.vendor == "postgresql"
        for name, table, columns in indexes:
            if "varchar_pattern_ops" in columns and not pg:
                continue
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')

    return migrations.RunPython(forward, backward)
