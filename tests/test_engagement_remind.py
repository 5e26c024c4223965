"""``guanxi remind``: the daily digest, received by a real SMTP server (aiosmtpd) on localhost."""

from __future__ import annotations

import datetime
import email
import socket
from email import policy
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from guanxi.engagement import services


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(
                (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default))
            )
            return "250 OK"

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_digest_reaches_a_real_smtp_server(world, smtp_server, monkeypatch):
    inbox, port = smtp_server
    o = world.org
    o.rep1a.email = "rep1a@example.cn"
    o.rep1a.save()
    o.rep2a.email = "rep2a@example.cn"
    o.rep2a.save()
    at = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(15, 0)))
    services.create_plan(actor=o.rep1a, customer_id=world.A.pk, data={"scheduled_at": at})
    monkeypatch.setenv("GUANXI_EMAIL_URL", f"smtp://127.0.0.1:{port}")
    out = StringIO()
    call_command("remind", base_url="https://crm.example.cn", stdout=out)
    assert "digests sent: 2 of 2" in out.getvalue()
    by_rcpt = {tuple(r): m for r, m in inbox.messages}
    msg = by_rcpt[("rep1a@example.cn",)]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert world.A.name in text and world.A.name in html
    assert "https://crm.example.cn/engagement/plans/" in text
    assert (
        world.A.name not in by_rcpt[("rep2a@example.cn",)].get_body(preferencelist=("plain",)).get_content()
    )
    assert timezone.localdate().isoformat() in msg["Subject"]


def test_remind_options(world, monkeypatch):
    monkeypatch.setenv("GUANXI_EMAIL_URL", "pigeon://loft")
    o = world.org
    o.rep1a.email = "rep1a@example.cn"
    o.rep1a.save()
    with pytest.raises(CommandError):
        call_command("remind", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("remind", user=["nobody"], stdout=StringIO())
    out = StringIO()
    call_command("remind", dry_run=True, user=["rep1a"], stdout=out)
    assert "rep1a@example.cn" in out.getvalue()
