"""Row-level access of sales data (registered in apps.py).

Orders, invoices, payments and the purchase facts are what we sell and lend the customer: reading
them needs ``view_finance`` on the customer (so a service agent handling a ticket sees none), export
and aggregate follow the customer, writing needs the right to change the customer. Products and
categories are the company's catalogue: everyone signed in reads them, administrators change them.
"""

from django.db.models import Q

from guanxi.customers.rules import customer_rule
from guanxi.org.access import ALL, NONE, scope


def _customer_condition(user, customer_action: str, path: str):
    from guanxi.customers.models import Customer

    condition = customer_rule(user, customer_action)
    if condition is ALL or condition is NONE:
        return condition
    return Q(**{f"{path}__in": scope(user, Customer.objects.all(), customer_action).values("pk")})


def _action(action: str) -> str:
    if action == "view":
        return "view_finance"
    if action in ("export", "aggregate", "view_finance"):
        return action
    return "change"


def order_rule(user, action: str):
    return _customer_condition(user, _action(action), "customer")


def payment_rule(user, action: str):
    return _customer_condition(user, _action(action), "invoice__customer")


def line_rule(user, action: str):
    return _customer_condition(user, _action(action), "order__customer")


def catalogue_rule(user, action: str):
    return ALL if action in ("view", "export", "aggregate") else NONE


def product_month_rule(user, action: str):
    """Company-wide sales by product: for those who read company figures (managers, analysts,
    auditors), not for account managers or service agents."""
    from guanxi.org.models import Role

    if action in ("view", "export", "aggregate") and user.role in (Role.MANAGER, Role.ANALYST, Role.AUDITOR):
        return ALL
    return NONE
