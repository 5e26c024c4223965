"""The audit trail: every create/update/delete of a customer or contact records who, when, each
field's old and new value and the reason; shown per record (newest first) and queryable by an
auditor; personal contact fields masked for those who may not see them."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

import factories
from guanxi.core.errors import NotFound
from guanxi.customers import selectors, services
from guanxi.customers.selectors import MASK


def changes_of(entry: dict) -> dict[str, tuple]:
    return {c["field"]: (c["old"], c["new"]) for c in entry["changes"]}


def test_customer_create_update_delete_are_recorded(org, api_as):
    t0 = timezone.now()
    api = api_as(org.rep1a)
    resp = api.post("customers", json=factories.customer_data(name="审计测试有限公司", city="北京"))
    cid, v = resp.json()["id"], resp.json()["version"]
    resp = api.patch(f"customers/{cid}", json={"version": v, "city": "天津", "employees": 120})
    assert resp.status_code == 200
    resp = api.patch(
        f"customers/{cid}",
        json={
            "version": v + 1,
            "lifecycle_stage": "intent",
            "short_name": "审计",
            "reason": "客户回复了询价",
        },
    )
    assert resp.status_code == 200

    hist = api.get(f"customers/{cid}/history").json()
    assert hist["count"] == 3
    newest, middle, created = hist["items"]
    assert [e["type"] for e in hist["items"]] == ["changed", "changed", "created"]
    for e in hist["items"]:
        assert e["who_id"] == org.rep1a.pk
        assert e["who"] == str(org.rep1a)
        assert t0 <= datetime.datetime.fromisoformat(e["when"]) <= timezone.now()
        assert e["object_name"] in ("审计测试有限公司",)
    assert datetime.datetime.fromisoformat(newest["when"]) >= datetime.datetime.fromisoformat(middle["when"])
    assert changes_of(middle) == {"city": ("北京", "天津"), "employees": (None, 120)}
    ch = changes_of(newest)
    assert ch["short_name"] == ("", "审计")
    assert set(ch) == {"short_name", "lifecycle_stage"}  # version/updated_at are not changes
    assert newest["reason"] == "客户回复了询价"
    assert middle["reason"] is None
    assert changes_of(created)["name"] == (None, "审计测试有限公司")
    assert changes_of(created)["city"] == (None, "北京")

    # the same through the selector
    entries = selectors.customer_history(org.rep1a, cid)
    assert [e.type for e in entries] == ["changed", "changed", "created"]
    assert {c.field: (c.old, c.new) for c in entries[1].changes}["city"] == ("北京", "天津")

    # deleting records who and why; the auditor still finds the whole story
    resp = api.delete(f"customers/{cid}", params={"reason": "重复录入"})
    assert resp.status_code == 204
    assert api.get(f"customers/{cid}/history").status_code == 404
    log = api_as(org.auditor).get("audit", {"customer": cid}).json()["items"]
    assert [e["type"] for e in log] == ["deleted", "changed", "changed", "created"]
    assert log[0]["who_id"] == org.rep1a.pk
    assert log[0]["reason"] == "重复录入"
    assert log[0]["object_name"] == "审计测试有限公司"


def test_choice_values_are_shown_with_their_labels(org):
    c = factories.make_customer(org.rep1a, industry="C")
    factories.update_customer(org.rep1a, c, industry="I")
    e = selectors.customer_history(org.rep1a, c.pk)[0]
    old, new = next((x.old, x.new) for x in e.changes if x.field == "industry")
    assert "Manufacturing" in old or "制造" in old
    assert new != "I" and new


def latest_change(items: list[dict], field: str) -> tuple:
    """The newest (old, new) of ``field`` in a trail (an edit of the account team or the tags is
    recorded as its own entry next to the field changes)."""
    return next(changes_of(e)[field] for e in items if field in changes_of(e))


def test_account_team_and_tag_changes_are_shown(org, api_as):
    c = factories.make_customer(org.rep1a, tags=["老客户"])
    api = api_as(org.rep1a)
    resp = api.patch(
        f"customers/{c.pk}",
        json={"version": 1, "account_team": [org.rep1b.pk], "tags": ["老客户", "重点"], "reason": "加人"},
    )
    assert resp.status_code == 200
    items = api.get(f"customers/{c.pk}/history").json()["items"]
    assert latest_change(items, "account_team") == ("", str(org.rep1b))
    assert latest_change(items, "tags") == ("老客户", "老客户, 重点")
    assert all(e["who_id"] == org.rep1a.pk for e in items)
    resp = api.patch(f"customers/{c.pk}", json={"version": 2, "account_team": [], "tags": []})
    items = api.get(f"customers/{c.pk}/history").json()["items"]
    assert latest_change(items, "account_team") == (str(org.rep1b), "")
    assert latest_change(items, "tags") == ("老客户, 重点", "")


def test_an_update_that_changes_nothing_adds_no_entry(org):
    c = factories.make_customer(org.rep1a, city="北京")
    factories.update_customer(org.rep1a, c, city="北京")
    assert len(selectors.customer_history(org.rep1a, c.pk)) == 1


def test_contact_create_update_delete_are_recorded(org, api_as):
    c = factories.make_customer(org.rep1a)
    api = api_as(org.rep1a)
    resp = api.post("contacts", json={"customer": c.pk, "name": "孙丽", "title": "采购主管"})
    pid = resp.json()["id"]
    api.patch(f"contacts/{pid}", json={"version": 1, "title": "采购总监", "attitude": "supporter"})
    hist = api.get(f"contacts/{pid}/history").json()["items"]
    assert [e["type"] for e in hist] == ["changed", "created"]
    assert changes_of(hist[0])["title"] == ("采购主管", "采购总监")
    assert hist[0]["who_id"] == org.rep1a.pk
    assert hist[0]["model"] == "contact"
    # the customer's card shows its contacts' history too
    card = api.get(f"customers/{c.pk}/history", {"include_contacts": "true"}).json()["items"]
    assert [(e["model"], e["type"]) for e in card] == [("contact", "changed"), ("contact", "created"),
                                                       ("customer", "created")]  # fmt: skip
    api.delete(f"contacts/{pid}")
    log = api_as(org.auditor).get("audit", {"model": "contact", "customer": c.pk}).json()["items"]
    assert [e["type"] for e in log] == ["deleted", "changed", "created"]
    assert log[0]["object_name"] == "孙丽" and log[0]["who_id"] == org.rep1a.pk


def test_personal_fields_are_masked_for_those_without_personal_access(world, api_as):
    o = world.org
    factories.update_contact(o.rep1a, world.A1, interests="高尔夫", title="总工程师")
    path = f"contacts/{world.A1.pk}/history"
    for user in (o.rep1a, o.manager1, o.admin, o.rep2b):
        e = api_as(user).get(path).json()["items"][0]
        assert changes_of(e)["interests"] == ("围棋和钓鱼", "高尔夫"), user
    for user in (o.service, o.auditor):
        items = api_as(user).get(path).json()["items"]
        body = str(items)
        for secret in ("高尔夫", "围棋和钓鱼", "已婚", "清华"):
            assert secret not in body, (user, secret)
        ch = changes_of(items[0])
        assert ch["interests"] == (MASK, MASK)
        assert ch["title"] == ("采购经理", "总工程师")  # non-personal fields stay readable
        created = changes_of(items[1])
        assert created["family"] == ("", MASK)
    audit_body = str(api_as(o.auditor).get("audit", {"model": "contact"}).json())
    assert "高尔夫" not in audit_body and "已婚" not in audit_body
    assert "高尔夫" in str(api_as(o.admin).get("audit", {"model": "contact"}).json())
    # the customer card's history with contacts masks them the same way
    card = str(api_as(o.service).get(f"customers/{world.A.pk}/history", {"include_contacts": "true"}).json())
    assert "高尔夫" not in card


def test_auditor_queries_the_log_with_filters(world, api_as):
    o = world.org
    factories.update_customer(o.rep2a, world.B, city="深圳")
    factories.update_customer(o.rep1a, world.A, city="苏州")
    api = api_as(o.auditor)
    everything = api.get("audit", {"limit": 500}).json()["items"]
    assert {e["object_name"] for e in everything} >= {world.A.name, world.B.name, world.C.name, "李建国"}
    whens = [e["when"] for e in everything]
    assert whens == sorted(whens, reverse=True)

    by_rep2a = api.get("audit", {"who": o.rep2a.pk}).json()["items"]
    assert [(e["object_name"], changes_of(e)["city"]) for e in by_rep2a] == [(world.B.name, ("北京", "深圳"))]
    only_contacts = api.get("audit", {"model": "contact"}).json()["items"]
    assert only_contacts and {e["model"] for e in only_contacts} == {"contact"}
    only_a = api.get("audit", {"customer": world.A.pk}).json()["items"]
    assert {e["object_name"] for e in only_a} == {world.A.name, "李建国"}
    today = timezone.localdate()
    assert api.get("audit", {"since": str(today + datetime.timedelta(days=1))}).json()["items"] == []
    assert api.get("audit", {"until": str(today - datetime.timedelta(days=1))}).json()["items"] == []
    assert len(
        api.get("audit", {"since": str(today), "until": str(today), "limit": 500}).json()["items"]
    ) == len(everything)
    page = api.get("audit", {"limit": 2, "offset": 1}).json()
    assert [e["id"] for e in page["items"]] == [e["id"] for e in everything[1:3]]
    assert page["count"] > 3


@pytest.mark.parametrize("role", ["rep1a", "manager1", "service", "analyst"])
def test_only_auditors_and_admins_query_the_log(role, world, api_as):
    resp = api_as(getattr(world.org, role)).get("audit")
    assert resp.status_code == 404
    assert world.A.name not in resp.content.decode()
    with pytest.raises(NotFound):
        selectors.audit_log(getattr(world.org, role))
    assert api_as(world.org.admin).get("audit").status_code == 200


def test_history_is_scoped(world, api_as):
    # a rep cannot read the trail of a customer outside their scope, nor of its contacts
    api = api_as(world.org.rep1a)
    for path in (f"customers/{world.B.pk}/history", f"contacts/{world.B1.pk}/history"):
        resp = api.get(path)
        assert resp.status_code == 404
        assert world.B.name not in resp.content.decode() and "陈美玲" not in resp.content.decode()


def test_history_user_is_the_actor_not_the_owner(world):
    """A manager editing a rep's customer is recorded as the manager."""
    factories.update_customer(world.org.manager1, world.A, city="无锡")
    e = selectors.customer_history(world.org.admin, world.A.pk)[0]
    assert e.who_id == world.org.manager1.pk


def test_revenue_reason_explanations_are_kept(world):
    req = services.explain_revenue_change(
        actor=world.org.rep1a,
        request_id=world.A.reason_requests.get(period_start="2024-02-01").pk,
        reason="新产线投产",
    )
    req.refresh_from_db()
    assert (req.reason, req.explained_by_id) == ("新产线投产", world.org.rep1a.pk)
    assert req.explained_at is not None


def test_one_save_with_fields_team_and_tags_is_one_entry(org, api_as):
    c = factories.make_customer(org.rep1a, tags=["老客户"])
    assert [e.type for e in selectors.customer_history(org.rep1a, c.pk)] == ["created"]
    api = api_as(org.rep1a)
    resp = api.patch(
        f"customers/{c.pk}",
        json={"version": 1, "city": "天津", "account_team": [org.rep1b.pk], "tags": ["老客户", "重点"]},
    )
    assert resp.status_code == 200
    entries = selectors.customer_history(org.rep1a, c.pk)
    assert [e.type for e in entries] == ["changed", "created"]
    assert {ch.field for ch in entries[0].changes} == {"city", "account_team", "tags"}
