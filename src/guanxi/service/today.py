"""The service desk's section of Today: tickets near their deadline or past it (C8)."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from guanxi.today.registry import Section

from . import selectors, services


def tickets_section(user):
    services.escalate_now_and_then()
    items, count = selectors.today_tickets(user)
    if not items:
        return None
    return Section(
        key="service_tickets",
        title=_("Tickets near their deadline or past it"),
        template="service/today_tickets.html",
        items=items,
        count=count,
        order=30,
        link=reverse("service:list") + "?" + urlencode({"state": "open", "breached": "1"}),
    )
