"""Emails to the customer (C8): on acknowledgement, on resolution (with the personal link to
confirm or reopen) and with the outcome of a suggestion — in the ticket's reply language, through
Django's configured email backend (config/settings.py: SMTP from ``GUANXI_EMAIL_URL``)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Ticket, TicketEvent

log = logging.getLogger(__name__)

KINDS = ("acknowledged", "resolved", "outcome")


def address_of(ticket: Ticket) -> str:
    """The contact's email, else the reporter's (public form), else the customer's."""
    if ticket.contact_id and ticket.contact.email:
        return ticket.contact.email
    return ticket.reporter_email or ticket.customer.email or ""


def personal_link(ticket: Ticket) -> str:
    return settings.GUANXI_BASE_URL.rstrip("/") + reverse("service:public_ticket", args=[ticket.public_token])


def compose(ticket: Ticket, kind: str) -> EmailMessage | None:
    to = address_of(ticket)
    if not to:
        return None
    ctx = {"ticket": ticket, "customer": ticket.customer, "link": personal_link(ticket)}
    with translation.override(ticket.reply_language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"service/email/{kind}_subject.txt", ctx).split())
        body = render_to_string(f"service/email/{kind}.txt", ctx)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def _send(ticket_id: int, kind: str) -> None:
    ticket = Ticket.objects.select_related("contact", "customer").filter(pk=ticket_id).first()
    if ticket is None:  # deleted meanwhile
        return
    message = compose(ticket, kind)
    if message is None:
        note = _("No email to the customer (%(kind)s): no address.") % {"kind": label(kind)}
    else:
        try:
            message.send()
        except Exception as e:  # the ticket's change is committed; record the failure on its timeline
            log.warning("service email for ticket %s failed: %s", ticket_id, e)
            note = _("Email to the customer (%(kind)s) to %(to)s failed: %(error)s") % {
                "kind": label(kind),
                "to": message.to[0],
                "error": str(e)[:200],
            }
        else:
            note = _("Email to the customer (%(kind)s) sent to %(to)s.") % {
                "kind": label(kind),
                "to": message.to[0],
            }
    TicketEvent.objects.create(ticket=ticket, type=TicketEvent.Type.EMAIL, note=note)


def label(kind: str) -> str:
    return {
        "acknowledged": _("acknowledgement"),
        "resolved": _("resolution"),
        "outcome": _("outcome of the suggestion"),
    }[kind]


_muted: ContextVar[bool] = ContextVar("guanxi_service_mail_muted", default=False)


@contextmanager
def muted():
    """No email to customers inside (demo data: its customers are invented)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def send_after_commit(ticket: Ticket, kind: str) -> None:
    """Send once the ticket's transaction has committed (never for a rolled-back change)."""
    assert kind in KINDS
    if _muted.get():
        return
    ticket_id = ticket.pk
    transaction.on_commit(lambda: _send(ticket_id, kind))
