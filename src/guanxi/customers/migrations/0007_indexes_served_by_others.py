"""Indexes that serve nothing go. The customers' owner and team: cust_owner and cust_team start
with those columns (the department keeps its own index: a manager's search reads it). The audit
trail's copies of the code, credit code, owner, department and team: the trail is read by customer,
by time and by who made the change. The classification changes' author: nothing lists changes by
author. An import of a million customers writes each of these a million times."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from guanxi.core.migration_ops import drop_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_customer_fk_one_index"),
        ("org", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="classificationchange",
                    name="changed_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="owned_customers",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account manager",
                    ),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="org.team",
                        verbose_name="team",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcustomer",
                    name="code",
                    field=models.CharField(
                        blank=True, max_length=64, null=True, verbose_name="customer code"
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcustomer",
                    name="credit_code",
                    field=models.CharField(
                        blank=True, max_length=18, null=True, verbose_name="unified social credit code"
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcustomer",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="org.department",
                        verbose_name="department",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcustomer",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account manager",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcustomer",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="org.team",
                        verbose_name="team",
                    ),
                ),
            ],
            database_operations=[
                drop_indexes(
                    [
                        ("customers_customer_owner_id_fbb2798e", "customers_customer", '"owner_id"'),
                        ("customers_customer_team_id_677425ba", "customers_customer", '"team_id"'),
                        (
                            "customers_historicalcustomer_code_943a3df4",
                            "customers_historicalcustomer",
                            '"code"',
                        ),
                        (
                            "customers_historicalcustomer_code_943a3df4_like",
                            "customers_historicalcustomer",
                            '"code" varchar_pattern_ops',
                        ),
                        (
                            "customers_historicalcustomer_credit_code_084e7e21",
                            "customers_historicalcustomer",
                            '"credit_code"',
                        ),
                        (
                            "customers_historicalcustomer_credit_code_084e7e21_like",
                            "customers_historicalcustomer",
                            '"credit_code" varchar_pattern_ops',
                        ),
                        (
                            "customers_historicalcustomer_owner_id_5d7f3bd8",
                            "customers_historicalcustomer",
                            '"owner_id"',
                        ),
                        (
                            "customers_historicalcustomer_department_id_c487dfeb",
                            "customers_historicalcustomer",
                            '"department_id"',
                        ),
                        (
                            "customers_historicalcustomer_team_id_dd282be3",
                            "customers_historicalcustomer",
                            '"team_id"',
                        ),
                        (
                            "customers_classificationchange_changed_by_id_2bf66a73",
                            "customers_classificationchange",
                            '"changed_by_id"',
                        ),
                    ]
                )
            ],
        ),
    ]
