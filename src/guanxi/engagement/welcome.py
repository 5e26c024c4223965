"""The welcome gift (首购礼, C7): a customer's first purchase gives its account manager a greeting
task. Registered with ``guanxi.sales.hooks.on_first_purchase`` in apps.py (sales does not know us)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation

from .models import CareTask, Occasion


def welcome_gift(customer, order) -> CareTask | None:
    """One welcome-gift task per customer, for its owner, addressed to the primary contact; made in
    the order's transaction, so a rolled-back order leaves no task."""
    if not customer.owner_id:
        return None
    contact = customer.contacts.order_by("-is_primary", "id").first()
    with translation.override(settings.LANGUAGE_CODE):  # stored in the site's language, as festivals
        title = str(Occasion.WELCOME.label)
    task, _created = CareTask.objects.get_or_create(
        customer=customer,
        key="welcome",
        defaults={
            "contact": contact,
            "occasion": Occasion.WELCOME,
            "title": title[:100],
            "occurs_on": timezone.localdate(),
            "assignee_id": customer.owner_id,
        },
    )
    return task
