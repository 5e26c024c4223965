"""Indexes that only cost (every import of a million customers or orders writes each of them a
million times) are gone, and the lookups they would have served use the composite indexes that
start with the same column."""

from __future__ import annotations

import pytest
from django.db import connection

from guanxi.customers.models import ClassificationChange, Customer
from guanxi.sales.models import Order

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cur:
        found = connection.introspection.get_constraints(cur, table)
    return {
        name: c["columns"]
        for name, c in found.items()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    }


def _leading(table: str) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for cols in _indexes(table).values():
        out.setdefault(cols[0], []).append(cols)
    return out


def test_no_single_column_index_where_a_composite_serves_or_nothing_reads():
    history = Customer.history.model._meta.db_table
    gone = {
        Customer._meta.db_table: ["owner_id", "team_id"],
        history: ["code", "credit_code", "owner_id", "department_id", "team_id"],
        Order._meta.db_table: ["created_by_id"],
        ClassificationChange._meta.db_table: ["changed_by_id"],
    }
    for table, columns in gone.items():
        lead = _leading(table)
        for column in columns:
            assert [column] not in lead.get(column, []), (table, column)
    # what is read stays indexed: the customers' list indexes, the audit trail by customer, time
    # and author, the orders by customer and date
    lead = _leading(Customer._meta.db_table)
    assert {"owner_id", "department_id", "team_id"} <= set(lead)
    assert all(len(cols) > 1 for c in ("owner_id", "team_id") for cols in lead[c])
    assert ["department_id"] in lead["department_id"]  # a manager's search reads it (measured)
    assert {"id", "history_date", "history_user_id"} <= set(_leading(history))
    assert {"customer_id", "order_date", "number"} <= set(_leading(Order._meta.db_table))


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL enable_seqscan = off")  # a test's tiny table would be scanned
            cur.execute("EXPLAIN " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " ".join(str(r) for r in cur.fetchall())


@pytest.mark.parametrize(("field", "index"), [("owner", "cust_owner"), ("team", "cust_team")])
def test_a_lookup_by_owner_or_team_reads_the_list_index(org, field, index):
    value = {"owner": org.rep1a, "team": org.rep1a.team}[field]
    assert index in _plan(Customer.objects.filter(**{field: value}).values("pk"))


def test_deleting_a_user_still_clears_who_entered_their_orders(world):
    from guanxi.sales import services

    order = services.create_order(
        actor=world.org.manager1, customer_id=world.A.pk, data={"lines": [{"amount": "10"}]}
    )
    world.org.manager1.owned_customers.update(owner=world.org.rep1a)
    world.org.manager1.delete()
    order.refresh_from_db()
    assert order.created_by_id is None
