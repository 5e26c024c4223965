"""Row-level access rules for customers and what hangs off them (registered in apps.py).

- administrators: everything;
- auditors: read and export everything, never edit, no personal contact fields;
- managers: their department's customers (the owner's department, kept on the customer);
- account managers: customers they own, those whose account team they are on, and those of an
  account manager they currently deputise for; only the owner (or deputy) may delete;
- service agents: read every customer and contact to log a call; no personal fields, no credit,
  payment terms or revenue (``view_finance``), no edits;
- analysts: company customers for aggregates, never a contact (personal data).
"""

from django.db.models import Q

from guanxi.org.access import ALL, NONE, covered_user_ids, scope
from guanxi.org.models import Role


def customer_rule(user, action: str):
    role = user.role
    if action == "view_finance":
        # credit, payment terms and revenue: not what a service agent needs to handle a ticket
        if role == Role.SERVICE_AGENT:
            return NONE
        action = "view"
    if role == Role.AUDITOR:
        return ALL if action in ("view", "export", "aggregate") else NONE
    if role == Role.SERVICE_AGENT:
        return ALL if action == "view" else NONE
    if role == Role.ANALYST:
        if action == "aggregate":
            return ALL
        return Q(kind="company") if action == "view" else NONE
    if role == Role.MANAGER:
        if user.department_id is None:
            return Q(owner=user)
        return Q(department_id=user.department_id)
    if role == Role.ACCOUNT_MANAGER:
        covered = covered_user_ids(user)
        if action == "delete":
            return Q(owner_id__in=covered)
        from .models import Customer

        team_ids = Customer.account_team.through.objects.filter(user_id=user.pk).values("customer_id")
        return Q(owner_id__in=covered) | Q(pk__in=team_ids)
    return NONE


def contact_rule(user, action: str):
    from .models import Customer

    role = user.role
    if role == Role.ANALYST and action != "aggregate":
        return NONE
    if role == Role.SERVICE_AGENT and action == "view":
        return ALL
    customer_action = "change" if action == "delete" else action
    condition = customer_rule(user, customer_action)
    if condition is ALL or condition is NONE:
        return condition
    return Q(customer__in=scope(user, Customer.objects.all(), customer_action).values("pk"))


def revenue_reason_rule(user, action: str):
    from .models import Customer

    # the same action on the customer (an analyst's "view" is companies only, like the customer
    # itself); a revenue figure is finance, so reading one needs "view_finance"
    customer_action = {"view": "view_finance"}.get(action, action)
    if customer_action not in ("view_finance", "export", "aggregate"):
        customer_action = "change"
    condition = customer_rule(user, customer_action)
    if condition is ALL or condition is NONE:
        return condition
    return Q(customer__in=scope(user, Customer.objects.all(), customer_action).values("pk"))
