"""The search-term table (see customers/search.py): WITHOUT ROWID on SQLite, C collation on
PostgreSQL so that prefix ranges use the B-tree."""

from django.db import migrations


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        sql = (
            "CREATE TABLE customers_searchterm (term TEXT NOT NULL, kind TEXT NOT NULL, "
            "obj_id INTEGER NOT NULL, PRIMARY KEY (term, kind, obj_id)) WITHOUT ROWID"
        )
    elif vendor == "postgresql":
        sql = (
            'CREATE TABLE customers_searchterm (term TEXT COLLATE "C" NOT NULL, kind CHAR(1) NOT NULL, '
            "obj_id BIGINT NOT NULL, PRIMARY KEY (term, kind, obj_id))"
        )
    else:
        sql = (
            "CREATE TABLE customers_searchterm (term VARCHAR(200) NOT NULL, kind CHAR(1) NOT NULL, "
            "obj_id BIGINT NOT NULL, PRIMARY KEY (term, kind, obj_id))"
        )
    schema_editor.execute(sql)


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE customers_searchterm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]
    operations = [migrations.RunPython(create, drop)]
