"""Emails to the customer (C8 / issue 6 item 7): on acknowledgement and on resolution (with the
personal confirm/reopen link) and with a suggestion's outcome, in the ticket's reply language
(Chinese by default), sent after the commit through Django's email backends; recorded on the
timeline."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.core.mailurl import email_settings
from guanxi.service import services
from guanxi.service.models import Ticket, TicketEvent
from test_engagement_remind import smtp_server  # noqa: F401  (the aiosmtpd fixture)
from test_service import ticket_data


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.GUANXI_BASE_URL = "https://crm.example.cn"


def _open(world, **kw) -> Ticket:
    return services.create_ticket(actor=world.org.service, data=ticket_data(world, **kw))


def _step(t: Ticket, action: str, actor, note: str = "x") -> Ticket:
    t.refresh_from_db()
    return services.transition(actor=actor, ticket_id=t.pk, action=action, version=t.version, note=note)


def _with_email(contact, address="li.jianguo@huadong-jm.cn"):
    contact.email = address
    contact.save(update_fields=["email"])


def test_acknowledgement_mail_in_chinese_by_default(world, django_capture_on_commit_callbacks):
    _with_email(world.A1)
    t = _open(world)
    assert t.reply_language == "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        t = _step(t, "acknowledge", world.org.service)
    assert len(mail.outbox) == 1
    m = mail.outbox[0]
    assert m.to == ["li.jianguo@huadong-jm.cn"]
    assert m.subject == f"我们已受理您的请求 {t.number}：轴承尺寸超差"
    assert "已受理" in m.body and world.A.name in m.body
    assert f"https://crm.example.cn/service/t/{t.public_token}/" in m.body
    ev = TicketEvent.objects.get(ticket=t, type="email")
    assert "li.jianguo@huadong-jm.cn" in ev.note and ev.actor is None


def test_resolution_mail_in_english_carries_the_personal_link(world, django_capture_on_commit_callbacks):
    _with_email(world.A1)
    t = _open(world, reply_language="en")
    assert t.reply_language == "en"
    for action in ("acknowledge", "start"):
        t = _step(t, action, world.org.service)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        t = _step(t, "resolve", world.org.service, "补发合格品 200 件")
    assert len(mail.outbox) == 1
    m = mail.outbox[0]
    assert m.subject == f"Your request {t.number} has been resolved: 轴承尺寸超差"
    assert "Please confirm" in m.body and "补发合格品 200 件" in m.body
    link = f"https://crm.example.cn/service/t/{t.public_token}/"
    assert link in m.body
    # the link is the customer's page to confirm or reopen
    assert reverse("service:public_ticket", args=[t.public_token]) in link
    assert Client().get(link.removeprefix("https://crm.example.cn")).status_code == 200


def test_the_customer_address_when_the_contact_has_none_and_a_note_when_nobody_has_one(
    world, django_capture_on_commit_callbacks
):
    _with_email(world.A1, "")
    t = _open(world)
    with django_capture_on_commit_callbacks(execute=True):
        _step(t, "acknowledge", world.org.service)
    assert [m.to for m in mail.outbox] == [[world.A.email]]
    world.A.email = ""
    world.A.save(update_fields=["email"])
    mail.outbox.clear()
    t2 = _open(world)
    with django_capture_on_commit_callbacks(execute=True):
        _step(t2, "acknowledge", world.org.service)
    assert mail.outbox == []
    assert "没有邮箱地址" in TicketEvent.objects.get(ticket=t2, type="email").note


def test_nothing_is_sent_before_the_commit_nor_for_a_refused_change(
    world, django_capture_on_commit_callbacks
):
    _with_email(world.A1)
    t = _open(world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _step(t, "acknowledge", world.org.service)
    assert len(callbacks) == 1 and mail.outbox == []  # only once the transaction commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Conflict):
            services.transition(actor=world.org.service, ticket_id=t.pk, action="start", version=1, note="x")
    assert callbacks == [] and mail.outbox == []


def test_the_reply_language_is_checked_and_set_through_the_form_the_api_and_the_public_page(world, api_as):
    with pytest.raises(ValidationFailed) as e:
        _open(world, reply_language="fr")
    assert "reply_language" in e.value.errors
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(world.org.service)
    data = {k: v for k, v in ticket_data(world).items() if k not in ("customer_id", "contact_id")}
    resp = c.post(
        reverse("service:create"),
        {
            **data,
            "customer": world.A.pk,
            "contact": world.A1.pk,
            "department": world.org.service_dept.pk,
            "reply_language": "en",
        },
    )
    assert resp.status_code == 302 and Ticket.objects.get().reply_language == "en"
    api = api_as(world.org.service)
    resp = api.post(
        "tickets", {**ticket_data(world), "occurred_at": "2025-03-01T10:00:00+08:00", "reply_language": "en"}
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["reply_language"] == "en"
    # the public page: the language the customer used
    link = services.public_link(actor=world.org.service, customer_id=world.A.pk)
    public = {
        "kind": "inquiry",
        "subject": "s",
        "description": "d",
        "reporter_name": "n",
        "reporter_email": "a@b.cn",
    }
    Client(HTTP_ACCEPT_LANGUAGE="en").post(reverse("service:public_form", args=[link.token]), public)
    Client(HTTP_ACCEPT_LANGUAGE="zh-hans").post(reverse("service:public_form", args=[link.token]), public)
    assert list(
        Ticket.objects.filter(channel="web_form").order_by("pk").values_list("reply_language", flat=True)
    ) == [
        "en",
        "zh-hans",
    ]


def test_a_public_ticket_is_answered_at_the_reporters_address(world, django_capture_on_commit_callbacks):
    link = services.public_link(actor=world.org.service, customer_id=world.A.pk)
    t = services.submit_public(
        token=link.token,
        data={
            "kind": "inquiry",
            "subject": "发票",
            "description": "d",
            "reporter_name": "王",
            "reporter_email": "wang@khq.cn",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        _step(t, "acknowledge", world.org.service)
    assert [m.to for m in mail.outbox] == [["wang@khq.cn"]]


def test_the_outcome_of_a_suggestion_is_mailed(world, django_capture_on_commit_callbacks):
    _with_email(world.A1)
    o = world.org
    t = _open(world, kind="suggestion", cause="", expectation="")
    t = services.evaluate_suggestion(
        actor=o.service,
        ticket_id=t.pk,
        version=t.version,
        data={"evaluation": "declined", "evaluation_reason": "成本过高"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.record_outcome(
            actor=o.service, ticket_id=t.pk, version=t.version, message="感谢建议，暂不采纳：成本过高。"
        )
    assert len(mail.outbox) == 1
    m = mail.outbox[0]
    assert m.subject.startswith("关于您的建议") and "暂不采纳：成本过高" in m.body
    assert TicketEvent.objects.filter(ticket=t, type="email").count() == 1


def _use(settings, url: str) -> None:
    """The EMAIL_* settings config/settings.py makes of GUANXI_EMAIL_URL=url."""
    for name, value in email_settings(url).items():
        setattr(settings, name, value)


def test_the_email_url_becomes_djangos_settings(monkeypatch, tmp_path):
    import runpy

    import guanxi.config.settings as s

    monkeypatch.setenv("GUANXI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GUANXI_EMAIL_URL", raising=False)
    assert runpy.run_path(s.__file__)["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    monkeypatch.setenv("GUANXI_EMAIL_URL", "smtp+tls://crm%40example.cn:p%40ss@smtp.example.cn")
    conf = runpy.run_path(s.__file__)
    assert conf["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (conf["EMAIL_HOST"], conf["EMAIL_PORT"], conf["EMAIL_USE_TLS"], conf["EMAIL_USE_SSL"]) == (
        "smtp.example.cn",
        587,
        True,
        False,
    )
    assert (conf["EMAIL_HOST_USER"], conf["EMAIL_HOST_PASSWORD"]) == ("crm@example.cn", "p@ss")
    monkeypatch.setenv("GUANXI_EMAIL_URL", "pigeon://loft")
    with pytest.raises(ImproperlyConfigured, match="unknown scheme"):
        runpy.run_path(s.__file__)


def test_the_mails_reach_a_real_smtp_server(world, request, settings, django_capture_on_commit_callbacks):
    inbox, port = request.getfixturevalue("smtp_server")
    _use(settings, f"smtp://127.0.0.1:{port}")
    _with_email(world.A1)
    t = _open(world, reply_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        t = _step(t, "acknowledge", world.org.service)
    with django_capture_on_commit_callbacks(execute=True):
        t = _step(t, "start", world.org.service)
        t = _step(t, "resolve", world.org.service, "fixed")
    assert [r for r, _ in inbox.messages] == [["li.jianguo@huadong-jm.cn"]] * 2
    subjects = [str(m["Subject"]).strip() for _, m in inbox.messages]
    assert subjects[0].startswith("We have received your request") and "resolved" in subjects[1]
    body = inbox.messages[1][1].get_body(preferencelist=("plain",)).get_content()
    assert f"https://crm.example.cn/service/t/{t.public_token}/" in body
    assert TicketEvent.objects.filter(ticket=t, type="email").count() == 2


def test_a_failing_server_is_recorded_and_the_change_stays(
    world, settings, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _use(settings, f"smtp://127.0.0.1:{port}")  # nobody listens
    _with_email(world.A1)
    t = _open(world, reply_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        t = _step(t, "acknowledge", world.org.service)
    t.refresh_from_db()
    assert t.state == "acknowledged"
    assert "失败" in TicketEvent.objects.get(ticket=t, type="email").note


def test_demo_data_sends_no_mail(world, django_capture_on_commit_callbacks):
    from guanxi.service.mail import muted

    _with_email(world.A1)
    t = _open(world)
    with muted(), django_capture_on_commit_callbacks(execute=True):
        _step(t, "acknowledge", world.org.service)
    assert mail.outbox == [] and not TicketEvent.objects.filter(ticket=t, type="email").exists()
