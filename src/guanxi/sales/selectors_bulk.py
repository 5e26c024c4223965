"""Set-based reads of sales data for analytics (no row-level scope: the caller is the system and
its results are scoped when they are read)."""

from __future__ import annotations

import datetime

from django.db import connection


def overdue_receivables(as_of: datetime.date) -> dict[int, float]:
    """Customer id → amount of invoices issued by ``as_of``, due before it and still unpaid
    (payments received after ``as_of`` do not count)."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT i.customer_id,
                      SUM(i.amount - COALESCE((SELECT SUM(p.amount) FROM sales_payment p
                                               WHERE p.invoice_id = i.id AND p.paid_on <= %s), 0))
               FROM sales_invoice i
               WHERE i.state <> 'void' AND i.issue_date <= %s AND i.due_date < %s
               GROUP BY i.customer_id""",
            [as_of, as_of, as_of],
        )
        return {cid: float(v) for cid, v in cur.fetchall() if v and float(v) > 0.005}
