"""The customers app's section of Today: revenue changes whose reason the user owes (C1)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.today.registry import Section

from .selectors import reasons_owed


def reasons_owed_section(user):
    qs = reasons_owed(user, only_mine=True)
    items = list(qs[:10])
    if not items:
        return None
    return Section(
        key="reasons_owed",
        title=_("Reasons owed for revenue changes"),
        template="customers/today_reasons.html",
        items=items,
        count=qs.count(),
        order=50,
        link=reverse("customers:reasons"),
    )
