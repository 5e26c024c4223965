"""The purchase days' single-column customer index goes: the unique (customer, day) serves every
lookup by customer, and a first load of history writes millions of these rows. A plain DROP INDEX
(SQLite would otherwise copy the whole table to change a field's index flag)."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "sales_purchaseday_customer_id_b2aef2fb"  # Django's name for the field's index, on both databases


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_code_historicalcustomer_code"),
        ("sales", "0002_order_customer_one_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="purchaseday",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "sales_purchaseday" ("customer_id")',
                ),
            ],
        ),
    ]
