"""The server-rendered pages of customers, contacts, classification, audit and export (issue #3).

Data is made through the services in fixtures local to this file; pages are fetched with Django's
test client as users of different roles.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from stdnum.cn import uscc

from guanxi.core.models import ExportLog
from guanxi.customers import services
from guanxi.customers.models import Customer
from guanxi.org.models import Department, Role, Team, User


def _code(n: int) -> str:
    body = f"91110000{n:09d}"
    return body + uscc.calc_check_digit(body)


def _user(username, role, department=None, team=None, name=""):
    return User.objects.create_user(
        username=username, password="x-Pass-123", role=role, department=department, team=team,
        display_name=name or username,
    )  # fmt: skip


@pytest.fixture
def ui(db):
    """A sales department with two reps, a service agent, an auditor and an admin; rep ``ana``
    owns 60 customers (so the list has two pages of 50), rep ``bo`` owns one, and the first of
    ana's customers has a contact with personal fields."""
    w = SimpleNamespace()
    w.sales = Department.objects.create(name="销售一部", kind="sales")
    w.team = Team.objects.create(name="华东组", department=w.sales)
    w.admin = _user("root", Role.ADMIN, name="管理员")
    w.ana = _user("ana", Role.ACCOUNT_MANAGER, w.sales, w.team, "张伟")
    w.bo = _user("bo", Role.ACCOUNT_MANAGER, w.sales, w.team, "王芳")
    w.service = _user("svc", Role.SERVICE_AGENT, name="客服小陈")
    w.auditor = _user("aud", Role.AUDITOR, name="审计员")
    w.customers = []
    for i in range(60):
        w.customers.append(
            services.create_customer(
                actor=w.ana,
                data={
                    "name": f"华东测试{i:02d}有限公司",
                    "industry": "C",
                    "province": "上海",
                    "city": "上海",
                    "phone": f"021-5{i:03d}1234",
                    "value_level": "strategic" if i % 3 == 0 else "ordinary",
                    "annual_revenue": 1_000_000 + i * 1000,
                    "credit_code": _code(i + 1),
                },
            )
        )
    w.first = w.customers[0]
    w.other = services.create_customer(
        actor=w.bo,
        data={"name": "岭南电子科技有限公司", "industry": "I", "province": "广东", "phone": "020-38881234"},
    )
    w.contact = services.create_contact(
        actor=w.ana,
        customer_id=w.first.pk,
        data={
            "name": "李建国",
            "title": "采购总监",
            "mobile": "13800138000",
            "decision_role": "decider",
            "birthday_calendar": "lunar",
            "birthday_month": 8,
            "birthday_day": 15,
            "interests": "围棋和钓鱼",
            "family": "已婚，一个女儿",
        },
    )
    return w


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def _form_data(customer: Customer, **changes) -> dict:
    """The edit form as a browser would post it, from the page's own inputs."""
    data = {}
    for name in services.CUSTOMER_FIELDS:
        value = getattr(customer, name if name != "owner" else "owner_id")
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else str(value)
    data["version"] = str(customer.version)
    data["tags"] = ""
    data.update(changes)
    return data


def _names_in_table(html: str) -> list[str]:
    return re.findall(r'class="gx-name[^"]*" href="/customers/\d+/">([^<]+)</a>', html)


# --- list -----------------------------------------------------------------------------------------


def test_list_filters_sorts_and_pages(ui):
    c = client_for(ui.ana)
    r = c.get(reverse("customers:list"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "60 customers" in html
    assert "Page 1 of 2" in html
    names = _names_in_table(html)
    assert len(names) == 50 and names[0] == "华东测试00有限公司"
    assert "岭南电子科技有限公司" not in html  # bo's customer is out of ana's scope
    # every classification scheme has its filter
    for scheme in ("lifecycle_stage", "value_level", "maintenance_tier", "strategic_type", "abc_class"):
        assert f'name="{scheme}"' in html

    r = c.get(reverse("customers:list"), {"value_level": "strategic", "sort": "-annual_revenue"})
    html = r.content.decode()
    assert "20 customers" in html
    names = _names_in_table(html)
    assert names[0] == "华东测试57有限公司" and names[-1] == "华东测试00有限公司"

    r = c.get(reverse("customers:list"), {"offset": 50})
    html = r.content.decode()
    assert "Page 2 of 2" in html
    assert len(_names_in_table(html)) == 10


def test_list_htmx_swaps_only_the_table(ui):
    c = client_for(ui.ana)
    r = c.get(
        reverse("customers:list"),
        {"value_level": "strategic"},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert html.lstrip().startswith("<div") or 'id="customer-results"' in html[:400]
    assert "<html" not in html and 'id="customer-filters"' not in html
    assert "20 customers" in html


# --- card and history -----------------------------------------------------------------------------


def test_card_shows_history_after_an_edit(ui):
    c = client_for(ui.ana)
    cu = Customer.objects.get(pk=ui.first.pk)
    r = c.post(reverse("customers:edit", args=[cu.pk]), _form_data(cu, payment_terms="月结45天"))
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Customer.objects.get(pk=cu.pk).payment_terms == "月结45天"
    r = c.get(reverse("customers:detail", args=[cu.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert "Audit trail" in html
    assert "Payment terms" in html and "月结45天" in html
    assert "张伟" in html  # who
    assert "李建国" in html  # contacts table
    r = c.get(reverse("customers:history", args=[cu.pk]))
    assert "月结45天" in r.content.decode()


def test_edit_with_a_stale_version_shows_the_conflict_and_saves_nothing(ui):
    c = client_for(ui.ana)
    cu = Customer.objects.get(pk=ui.first.pk)
    stale = _form_data(cu, payment_terms="mine")
    services.update_customer(
        actor=ui.ana, customer_id=cu.pk, version=cu.version, data={"payment_terms": "theirs"}
    )
    r = c.post(reverse("customers:edit", args=[cu.pk]), stale)
    html = r.content.decode()
    assert r.status_code == 409
    assert "Someone else saved this record" in html
    assert 'value="mine"' in html  # the user's input is kept
    assert Customer.objects.get(pk=cu.pk).payment_terms == "theirs"


def test_invalid_credit_code_shows_the_field_error_in_place(ui):
    c = client_for(ui.ana)
    cu = Customer.objects.get(pk=ui.first.pk)
    bad = _code(999)[:-1] + ("0" if _code(999)[-1] != "0" else "1")
    r = c.post(reverse("customers:edit", args=[cu.pk]), _form_data(cu, credit_code=bad))
    html = r.content.decode()
    assert r.status_code == 200
    assert re.search(r'id="id_credit_code"[^>]*is-invalid|is-invalid[^>]*id="id_credit_code"', html)
    assert 'id="id_credit_code_errors"' in html
    assert "check character" in html
    assert Customer.objects.get(pk=cu.pk).credit_code == ui.first.credit_code


def test_create_form_saves_through_the_service(ui):
    c = client_for(ui.ana)
    r = c.post(
        reverse("customers:create"),
        {
            "kind": "company",
            "name": "新客户有限公司",
            "industry": "C",
            "province": "北京",
            "phone": "010-62751234",
            "owner": str(ui.ana.pk),
            "lifecycle_stage": "potential",
            "tags": "重点, 制造业",
        },
    )
    assert r.status_code == 302
    cu = Customer.objects.get(name="新客户有限公司")
    assert r["Location"] == reverse("customers:detail", args=[cu.pk])
    assert sorted(cu.tags.values_list("name", flat=True)) == ["制造业", "重点"]


def test_out_of_scope_card_is_404(ui):
    c = client_for(ui.ana)
    assert c.get(reverse("customers:detail", args=[ui.other.pk])).status_code == 404
    assert c.get(reverse("customers:edit", args=[ui.other.pk])).status_code == 404


# --- personal fields ------------------------------------------------------------------------------


def test_personal_fields_hidden_from_a_service_agent(ui):
    owner_view = (
        client_for(ui.ana).get(reverse("customers:contact_detail", args=[ui.contact.pk])).content.decode()
    )
    assert "围棋和钓鱼" in owner_view and "已婚" in owner_view
    c = client_for(ui.service)
    for url in (
        reverse("customers:detail", args=[ui.first.pk]),
        reverse("customers:contact_detail", args=[ui.contact.pk]),
        reverse("customers:history", args=[ui.first.pk]),
    ):
        r = c.get(url)
        html = r.content.decode()
        assert r.status_code == 200
        assert "李建国" in html
        assert "围棋和钓鱼" not in html and "已婚" not in html
        assert "8/15" not in html
    card = c.get(reverse("customers:detail", args=[ui.first.pk])).content.decode()
    assert "restricted" in card
    assert c.get(reverse("customers:contact_edit", args=[ui.contact.pk])).status_code == 403


# --- audit and export -----------------------------------------------------------------------------


def test_audit_page_is_404_for_a_rep_and_open_to_an_auditor(ui):
    assert client_for(ui.ana).get(reverse("customers:audit")).status_code == 404
    r = client_for(ui.auditor).get(reverse("customers:audit"), {"customer": ui.first.pk})
    assert r.status_code == 200
    assert "华东测试00有限公司" in r.content.decode()


def test_export_requires_a_purpose_and_logs_it(ui):
    from openpyxl import load_workbook

    c = client_for(ui.ana)
    r = c.get(reverse("customers:export"), {"value_level": "strategic"})
    assert r.status_code == 200
    assert "20 customers will be exported" in r.content.decode()

    r = c.post(reverse("customers:export"), {"value_level": "strategic", "purpose": "  "})
    assert r.status_code == 200
    assert 'id="id_purpose_errors"' in r.content.decode()
    assert ExportLog.objects.count() == 0

    r = c.post(reverse("customers:export"), {"value_level": "strategic", "purpose": "季度客户回访计划"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows) == 1 + 20
    log = ExportLog.objects.get()
    assert log.user == ui.ana and log.purpose == "季度客户回访计划" and log.row_count == 20
    assert log.filters == {"value_level": "strategic"}


def test_export_is_404_for_a_service_agent(ui):
    c = client_for(ui.service)
    assert c.get(reverse("customers:export")).status_code == 404
    assert c.post(reverse("customers:export"), {"purpose": "x"}).status_code == 404
    assert ExportLog.objects.count() == 0


# --- other pages ----------------------------------------------------------------------------------


def test_reason_owed_is_explained_inline(ui):
    services.record_revenue(actor=ui.ana, customer_id=ui.first.pk, period_start="2025-01", revenue=100_000)
    services.record_revenue(actor=ui.ana, customer_id=ui.first.pk, period_start="2025-02", revenue=300_000)
    c = client_for(ui.ana)
    html = c.get(reverse("customers:reasons")).content.decode()
    pk = int(re.search(r'id="reason-(\d+)"', html).group(1))
    r = c.post(
        reverse("customers:reason_explain", args=[pk]),
        {"reason": "新签年度合同"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert "新签年度合同" in r.content.decode() and "<html" not in r.content.decode()


def test_every_page_renders_for_an_admin(ui):
    c = client_for(ui.admin)
    for url in (
        reverse("today:index"),
        reverse("customers:search") + "?q=华东",
        reverse("customers:create"),
        reverse("customers:contact_create", args=[ui.first.pk]),
        reverse("customers:contact_history", args=[ui.contact.pk]),
        reverse("customers:delete", args=[ui.first.pk]),
        reverse("customers:settings"),
        reverse("org:people"),
        reverse("org:tokens"),
    ):
        assert c.get(url).status_code == 200, url
    assert client_for(ui.ana).get(reverse("customers:settings")).status_code == 404
