"""The daily digest email of a user's Today (每日工作计划), sent by ``guanxi remind``.

SMTP comes from ``GUANXI_EMAIL_URL`` (``smtp://host:port``, ``smtp+tls://user:pass@host:587``,
``smtp+ssl://user:pass@host:465``); without it, Django's configured email backend is used.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.mailurl import connection_kwargs
from guanxi.today.registry import sections_for


def connection_from_url(url: str | None = None):
    """The SMTP connection of ``url`` (default: ``GUANXI_EMAIL_URL`` now in the environment);
    without one, Django's configured backend (config/settings.py reads the same variable)."""
    url = url if url is not None else os.environ.get("GUANXI_EMAIL_URL", "")
    if not url:
        return get_connection()
    return get_connection(**connection_kwargs(url))


def describe(item) -> str:
    """One line for an item of any app's Today section."""
    customer = getattr(item, "customer", None)
    if customer is None and item.__class__.__name__ == "Customer":
        return str(item)
    parts = []
    for attr in ("scheduled_at", "day", "occurs_on", "period_start"):
        value = getattr(item, attr, None)
        if value is not None:
            value = (
                timezone.localtime(value)
                if hasattr(value, "tzinfo") and getattr(value, "hour", None) is not None
                else value
            )
            parts.append(value.strftime("%m-%d %H:%M") if hasattr(value, "hour") else value.strftime("%m-%d"))
            break
    if customer is not None:
        parts.append(customer.name)
    for attr in ("title", "subject", "text"):
        value = getattr(item, attr, None)
        if value:
            parts.append(str(value)[:80])
            break
    return " · ".join(parts) if parts else str(item)


def compose(user, base_url: str) -> EmailMultiAlternatives | None:
    """The digest of ``user`` (None when Today has nothing, or the user has no email address)."""
    if not user.email or not user.is_active:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        sections = sections_for(user)
        rows = [
            {
                "title": str(s.title),
                "count": s.count,
                "link": base_url.rstrip("/") + s.link if s.link else "",
                "lines": [describe(i) for i in s.items[:8]],
            }
            for s in sections
            if s.count or s.items
        ]
        if not rows:
            return None
        ctx = {"user": user, "rows": rows, "today": timezone.localdate(), "base_url": base_url.rstrip("/")}
        subject = _("Guanxi · today %(day)s: %(n)s items") % {
            "day": timezone.localdate().isoformat(),
            "n": sum(r["count"] for r in rows),
        }
        text = render_to_string("engagement/digest.txt", ctx)
        html = render_to_string("engagement/digest.html", ctx)
    msg = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    msg.attach_alternative(html, "text/html")
    return msg
