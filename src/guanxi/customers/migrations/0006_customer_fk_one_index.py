"""The revenue figures' and classification changes' single-column customer indexes go: the unique
(customer, month) and ``classchg_customer`` (customer, -changed_at) serve every lookup by customer,
and an import of a million customers writes a million of these rows. Plain DROP INDEX statements
(SQLite would otherwise copy the whole table to change a field's index flag)."""

import django.db.models.deletion
from django.db import migrations, models

REVENUE = "customers_revenuefigure_customer_id_5904b51a"  # Django's names, on both databases
CHANGES = "customers_classificationchange_customer_id_3b05d177"


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_code_historicalcustomer_code"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="revenuefigure",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="revenue_figures",
                        to="customers.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="classificationchange",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="classification_changes",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{REVENUE}"',
                    reverse_sql=f'CREATE INDEX "{REVENUE}" ON "customers_revenuefigure" ("customer_id")',
                ),
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{CHANGES}"',
                    reverse_sql=f'CREATE INDEX "{CHANGES}" ON "customers_classificationchange" ("customer_id")',
                ),
            ],
        ),
    ]
