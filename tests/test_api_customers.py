"""The REST API surface other parts rely on: list shape and paging, create/read/update/delete of
customers and contacts, the OpenAPI document."""

from __future__ import annotations

import factories
from guanxi.customers.models import Contact, Customer


def test_customer_crud(org, api_as):
    api = api_as(org.rep1a)
    code = factories.credit_code()
    resp = api.post(
        "customers",
        json={
            **factories.customer_data(name="接口测试有限公司"),
            **{"credit_code": code, "tags": ["华东", "重点"], "account_team": [org.rep1b.pk]},
            **{"employees": 42, "annual_revenue": "1234567.89"},
        },
    )
    assert resp.status_code == 201, resp.content
    c = resp.json()
    assert (c["name"], c["credit_code"], c["version"]) == ("接口测试有限公司", code, 1)
    assert c["owner"]["id"] == org.rep1a.pk and c["owner"]["username"] == "rep1a"
    assert sorted(c["tags"]) == ["华东", "重点"] and c["account_team"] == [org.rep1b.pk]
    assert c["employees"] == 42 and str(c["annual_revenue"]).startswith("1234567.89")
    assert isinstance(c["completeness"], int) and c["missing_fields"] == []

    got = api.get(f"customers/{c['id']}").json()
    assert got["id"] == c["id"] and got["name"] == "接口测试有限公司"

    resp = api.patch(f"customers/{c['id']}", json={"version": 1, "city": "上海", "tags": ["重点"]})
    assert resp.status_code == 200
    assert (resp.json()["city"], resp.json()["version"], resp.json()["tags"]) == ("上海", 2, ["重点"])
    assert resp.json()["name"] == "接口测试有限公司"  # PATCH leaves what was not sent

    resp = api.put(f"customers/{c['id']}", json={"version": 2, "name": "接口测试二有限公司"})
    assert resp.status_code == 200 and resp.json()["version"] == 3
    assert api.put(f"customers/{c['id']}", json={"version": 3, "city": "x"}).status_code == 422  # name needed

    assert api.delete(f"customers/{c['id']}").status_code == 204
    assert api.get(f"customers/{c['id']}").status_code == 404
    assert not Customer.objects.filter(pk=c["id"]).exists()


def test_list_shape_paging_sorting_filtering(org, api_as):
    for i in range(7):
        factories.make_customer(org.rep1a, name=f"分页{i}有限公司", province="上海" if i < 3 else "北京")
    api = api_as(org.rep1a)
    data = api.get("customers", {"limit": 3}).json()
    assert set(data) == {"items", "count", "count_exact"}
    assert data["count"] == 7 and data["count_exact"] is True and len(data["items"]) == 3
    item = data["items"][0]
    for key in ("id", "name", "credit_code", "version", "owner_id", "lifecycle_stage", "updated_at"):
        assert key in item
    pages = [api.get("customers", {"limit": 3, "offset": o}).json()["items"] for o in (0, 3, 6)]
    ids = [i["id"] for p in pages for i in p]
    assert len(ids) == len(set(ids)) == 7
    names = [i["name"] for i in api.get("customers", {"sort": "-name"}).json()["items"]]
    assert names == sorted(names, reverse=True)
    assert api.get("customers", {"province": "上海"}).json()["count"] == 3
    assert api.get("customers", {"province": "上海", "q": "分页1"}).json()["count"] == 1
    assert api.get("customers", {"is_key_account": "true"}).json()["count"] == 0
    assert api.get("customers", {"limit": "lots"}).status_code == 422


def test_contact_crud(org, api_as):
    x = factories.make_customer(org.rep1a)
    api = api_as(org.rep1a)
    resp = api.post(
        "contacts",
        json={"customer": x.pk, "name": "钱七", "title": "总经理", "decision_role": "decider",
              "attitude": "supporter", "birthday_calendar": "lunar", "birthday_month": 1, "birthday_day": 1,
              "wechat": "qian7"},
    )  # fmt: skip
    assert resp.status_code == 201, resp.content
    p = resp.json()
    assert (p["name"], p["customer"], p["version"], p["personal_visible"]) == ("钱七", x.pk, 1, True)
    assert (p["birthday_calendar"], p["birthday_month"]) == ("lunar", 1)
    listed = api.get(f"customers/{x.pk}/contacts").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == p["id"]
    assert api.get("contacts", {"customer": x.pk}).json()["count"] == 1
    resp = api.patch(f"contacts/{p['id']}", json={"version": 1, "attitude": "neutral"})
    assert resp.status_code == 200 and resp.json()["version"] == 2 and resp.json()["attitude"] == "neutral"
    assert api.put(f"contacts/{p['id']}", json={"version": 2, "title": "董事长"}).json()["title"] == "董事长"
    assert api.delete(f"contacts/{p['id']}").status_code == 204
    assert not Contact.objects.filter(pk=p["id"]).exists()
    assert api.get(f"contacts/{p['id']}").status_code == 404
    # a contact needs a customer the caller may change
    assert api.post("contacts", json={"customer": 999999, "name": "无主"}).status_code == 404


def test_classification_history_endpoint(org, api_as):
    x = factories.make_customer(org.rep1a, value_level="ordinary")
    api = api_as(org.rep1a)
    api.patch(f"customers/{x.pk}", json={"version": 1, "value_level": "important", "reason": "采购额翻倍"})
    hist = api.get(f"customers/{x.pk}/classification-history").json()
    newest = hist[0]
    assert (newest["field"], newest["old_value"], newest["new_value"], newest["reason"]) == (
        "value_level", "ordinary", "important", "采购额翻倍",
    )  # fmt: skip
    assert newest["changed_by_id"] == org.rep1a.pk


def test_me_and_openapi(org, api_as):
    api = api_as(org.manager1)
    me = api.get("me").json()
    assert (me["username"], me["role"], me["department_id"]) == ("manager1", "manager", org.sales1.pk)
    doc = api.get("openapi.json").json()
    assert doc["info"]["title"]
    assert "/api/v1/customers" in doc["paths"]
    schemes = doc.get("components", {}).get("securitySchemes", {})
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_errors_are_json(org, api_as):
    api = api_as(org.rep1a)
    resp = api.get("customers/999999")
    assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["detail"]
    resp = api.patch("customers/999999", json={"version": 1})
    assert resp.status_code == 404


def test_api_docs_page_uses_the_bundled_swagger_ui(org):
    """/api/v1/docs is Swagger UI from ninja's own files, served by Guanxi (no CDN: the
    machines have none), though ninja is not an installed app (settings.NINJA_DIR)."""
    from django.contrib.staticfiles import finders
    from django.test import Client

    client = Client()
    client.force_login(org.manager1)
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower()
    assert "/api/v1/openapi.json" in html
    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert finders.find(name), name
