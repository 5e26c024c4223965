"""Row-level access of analytics (registered in apps.py).

A run's company-wide figures (fitted parameters, totals) are for those who read company figures:
administrators, managers, analysts and auditors; account managers see the runs too (the date and
state), but every per-customer result follows the customer: a score row is visible to whoever may
see that customer's finance (``view_finance``); analysts read and export the scores of company
customers (not of individuals) and count every score in aggregates.
"""

from django.db.models import Q

from guanxi.customers.rules import customer_rule
from guanxi.org.access import ALL, NONE, scope
from guanxi.org.models import Role


def run_rule(user, action: str):
    if action in ("view", "aggregate"):
        return ALL if user.role != Role.SERVICE_AGENT else NONE
    if action == "export":
        return ALL if user.role in (Role.MANAGER, Role.ANALYST, Role.AUDITOR) else NONE
    return NONE


def score_rule(user, action: str):
    from guanxi.customers.models import Customer

    if user.role == Role.ANALYST:
        # analysts read and export the scores of company customers (never individuals: personal
        # data) and count everything in aggregates; a join, not a million-id IN list
        if action == "aggregate":
            return ALL
        return Q(customer__kind="company") if action in ("view", "export") else NONE
    customer_action = {"view": "view_finance"}.get(action, action)
    if customer_action not in ("view_finance", "export", "aggregate"):
        return NONE
    condition = customer_rule(user, customer_action)
    if condition is ALL or condition is NONE:
        return condition
    return Q(customer_id__in=scope(user, Customer.objects.all(), customer_action).values("pk"))
