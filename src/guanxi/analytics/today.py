"""The analytics section of Today: the user's own customers at risk of churning (流失预警) that have
no win-back task yet."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from guanxi.org.models import Role
from guanxi.today.registry import Section

from . import selectors


def churn_section(user):
    # for those who own customers: account managers, managers, administrators
    if not (user.is_admin or user.role in (Role.ACCOUNT_MANAGER, Role.MANAGER)):
        return None
    run = selectors.latest_run(user)
    if run is None:
        return None
    qs = selectors.at_risk_for_owner(user, run)
    items = list(qs[:10])
    if not items:
        return None
    selectors.decorate(run, items)
    query = urlencode({"owner": user.pk, "min_risk": selectors.AT_RISK})
    return Section(
        key="churn_risk",
        title=_("Customers at risk of churning"),
        template="analytics/today_churn.html",
        items=items,
        count=qs.count(),
        order=25,
        link=reverse("analytics:churn") + "?" + query,
    )
