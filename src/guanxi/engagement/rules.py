"""Row-level access of the engagement app (registered in apps.py).

Visits, plans, summaries, overrides, greeting tasks and gifts belong to a customer: a user may do
with them what the user may do with that customer (view/export/aggregate as on the customer; change
and delete need the right to change the customer). Cadence policies and message templates are
company settings: everyone signed in reads them, administrators change them. A work summary is its
author's; the author's manager (same department) reads it.
"""

from django.db.models import Q

from guanxi.customers.rules import customer_rule
from guanxi.org.access import ALL, NONE, scope
from guanxi.org.models import Role


def customer_child_rule(user, action: str):
    from guanxi.customers.models import Customer

    customer_action = action if action in ("view", "export", "aggregate", "view_personal") else "change"
    condition = customer_rule(user, customer_action)
    if condition is ALL or condition is NONE:
        return condition
    return Q(customer__in=scope(user, Customer.objects.all(), customer_action).values("pk"))


def policy_rule(user, action: str):
    return ALL if action in ("view", "aggregate") else NONE


def daily_summary_rule(user, action: str):
    if action in ("view", "export") and user.role == Role.MANAGER and user.department_id:
        return Q(user=user) | Q(user__department_id=user.department_id)
    if action in ("view", "export") and user.role == Role.AUDITOR:
        return ALL
    return Q(user=user)
