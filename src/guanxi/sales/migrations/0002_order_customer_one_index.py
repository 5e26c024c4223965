"""The orders' single-column customer index goes: ``order_customer_date`` (customer, order_date)
serves every lookup by customer. A plain DROP INDEX (SQLite would otherwise copy the whole table to
change a field's index flag)."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "sales_order_customer_id_798c889f"  # Django's name for the field's index, on both databases


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_code_historicalcustomer_code"),
        ("sales", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="orders",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "sales_order" ("customer_id")',
                ),
            ],
        ),
    ]
