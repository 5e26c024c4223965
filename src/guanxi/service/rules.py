"""Row-level access to tickets (registered in apps.py).

- administrators: everything;
- service agents: see and work every ticket;
- auditors: read and export every ticket, never change one;
- analysts: aggregates only, no ticket rows;
- managers and account managers: the tickets of the customers in their scope (the same action on
  the customer); a manager also those of their department, and anyone the tickets assigned to them.
"""

from django.db.models import Q

from guanxi.org.access import ALL, NONE, scope
from guanxi.org.models import Role


def ticket_rule(user, action: str):
    from guanxi.customers.models import Customer

    role = user.role
    if role == Role.SERVICE_AGENT:
        return ALL if action in ("view", "change", "export", "aggregate") else NONE
    if role == Role.AUDITOR:
        return ALL if action in ("view", "export", "aggregate") else NONE
    if role == Role.ANALYST:
        return ALL if action == "aggregate" else NONE
    if action == "delete":
        return NONE
    customer_action = "view" if action in ("view", "export", "aggregate") else "change"
    cond = Q(customer__in=scope(user, Customer.objects.all(), customer_action).values("pk")) | Q(
        assignee=user
    )
    if role == Role.MANAGER and user.department_id:
        cond |= Q(department_id=user.department_id)
    return cond


def child_rule(user, action: str):
    """Events, files and improvement actions: as their ticket."""
    from .models import Ticket

    cond = ticket_rule(user, "view" if action in ("view", "export", "aggregate") else "change")
    if cond is ALL or cond is NONE:
        return cond
    return Q(
        ticket__in=scope(user, Ticket.objects.all(), "view" if action == "view" else "change").values("pk")
    )


def campaign_rule(user, action: str):
    """Campaigns themselves hold no customer data: every role reads them (the links and answers
    are scoped by their customer)."""
    return ALL if action in ("view", "aggregate") else NONE


def invitation_rule(user, action: str):
    from guanxi.customers.models import Customer

    role = user.role
    if role == Role.SERVICE_AGENT:
        return ALL if action in ("view", "aggregate") else NONE
    if role == Role.AUDITOR:
        return ALL if action in ("view", "export", "aggregate") else NONE
    if role == Role.ANALYST:
        return ALL if action == "aggregate" else NONE
    if action not in ("view", "export", "aggregate"):
        return NONE
    return Q(customer__in=scope(user, Customer.objects.all(), "view").values("pk"))
