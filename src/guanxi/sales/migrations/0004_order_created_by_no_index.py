"""The orders' single-column index on who entered them goes: nothing lists orders that way, and an
import of the order history writes millions of orders (a user's deletion, which is rare, scans)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from guanxi.core.migration_ops import drop_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0003_purchaseday_customer_one_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="created_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                drop_indexes([("sales_order_created_by_id_1b611bc2", "sales_order", "created_by_id")])
            ],
        ),
    ]
