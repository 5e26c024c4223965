"""The customer services and selectors: ownership and hand-over, account team, deputies, deletes,
classification history, completeness, and the list's filters, sorts and paging."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

import factories
from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.customers import choices as c
from guanxi.customers import selectors, services
from guanxi.customers.models import ClassificationChange, Contact, Customer
from guanxi.org import services as org_services
from guanxi.org.models import Deputy

# --- ownership -----------------------------------------------------------------------------------


def test_a_new_customer_takes_its_owners_department_and_team(org):
    x = factories.make_customer(org.rep1a)
    assert (x.owner_id, x.department_id, x.team_id) == (org.rep1a.pk, org.sales1.pk, org.team1a.pk)
    y = factories.make_customer(org.manager1, owner=org.rep1b)
    assert (y.owner_id, y.team_id) == (org.rep1b.pk, org.team1b.pk)
    z = factories.make_customer(org.admin, owner=org.rep2a)
    assert z.department_id == org.sales2.pk


def test_who_may_own_and_assign(org):
    with pytest.raises(ValidationFailed) as e:
        factories.make_customer(org.rep1a, owner=org.rep1b)  # a rep assigns only to themselves
    assert "owner" in e.value.errors
    with pytest.raises(ValidationFailed):
        factories.make_customer(org.manager1, owner=org.rep2a)  # a manager only inside the department
    for role_user in (org.service, org.analyst, org.auditor):
        with pytest.raises(Forbidden):
            factories.make_customer(role_user)


def test_hand_over_moves_department_and_team(org):
    x = factories.make_customer(org.rep1a)
    with pytest.raises(ValidationFailed) as e:
        factories.update_customer(org.rep1a, x, owner=org.rep1b.pk)
    assert "owner" in e.value.errors
    x = factories.update_customer(org.manager1, x, owner=org.rep1b.pk)
    assert (x.owner_id, x.team_id) == (org.rep1b.pk, org.team1b.pk)
    with pytest.raises(ValidationFailed):
        factories.update_customer(org.manager1, x, owner=org.rep2a.pk)
    x = factories.update_customer(org.admin, x, owner=org.rep2a.pk)
    assert (x.department_id, x.team_id) == (org.sales2.pk, org.team2a.pk)
    # the customer has left rep1b's and manager1's scope with the hand-over
    with pytest.raises(NotFound):
        selectors.get_customer(org.manager1, x.pk)
    assert selectors.get_customer(org.manager2, x.pk) == x


def test_moving_a_user_moves_their_customers(org):
    x = factories.make_customer(org.rep1a)
    org_services.set_user_placement(actor=org.admin, user_id=org.rep1a.pk, department_id=org.sales2.pk,
                                    team_id=org.team2b.pk)  # fmt: skip
    x.refresh_from_db()
    assert (x.department_id, x.team_id) == (org.sales2.pk, org.team2b.pk)
    assert x.pk in {y.pk for y in selectors.customer_list(org.manager2).items}
    assert x.pk not in {y.pk for y in selectors.customer_list(org.manager1).items}


def test_account_team_members_see_and_edit_but_do_not_delete(org):
    x = factories.make_customer(org.rep1a, account_team=[org.rep2b])
    assert selectors.get_customer(org.rep2b, x.pk) == x
    x = factories.update_customer(org.rep2b, x, city="上海")
    with pytest.raises(ValidationFailed) as e:
        factories.update_customer(org.rep2b, x, account_team=[org.rep2b.pk, org.rep2a.pk])
    assert "account_team" in e.value.errors
    with pytest.raises(Forbidden):
        services.delete_customer(actor=org.rep2b, customer_id=x.pk)
    assert Customer.objects.filter(pk=x.pk).exists()
    # removed from the team, the customer is gone from their view
    factories.update_customer(org.rep1a, x, account_team=[])
    with pytest.raises(NotFound):
        selectors.get_customer(org.rep2b, x.pk)


def test_a_deputy_covers_only_during_the_period(org):
    x = factories.make_customer(org.rep1a)
    today = timezone.localdate()
    with pytest.raises(NotFound):
        selectors.get_customer(org.rep1b, x.pk)
    d = org_services.add_deputy(actor=org.manager1, absent_id=org.rep1a.pk, deputy_id=org.rep1b.pk,
                                starts_on=today, ends_on=today)  # fmt: skip
    assert selectors.get_customer(org.rep1b, x.pk) == x
    factories.update_customer(org.rep1b, x, city="南京")
    Deputy.objects.filter(pk=d.pk).update(starts_on=today + datetime.timedelta(days=1),
                                          ends_on=today + datetime.timedelta(days=2))  # fmt: skip
    with pytest.raises(NotFound):
        selectors.get_customer(org.rep1b, x.pk)
    with pytest.raises(Forbidden):  # managers set deputies only in their own department
        org_services.add_deputy(actor=org.manager2, absent_id=org.rep1a.pk, deputy_id=org.rep1b.pk,
                                starts_on=today, ends_on=today)  # fmt: skip
    with pytest.raises(ValidationFailed):
        org_services.add_deputy(actor=org.admin, absent_id=org.rep1a.pk, deputy_id=org.rep1a.pk,
                                starts_on=today, ends_on=today)  # fmt: skip


def test_delete_takes_the_contacts_along(org):
    x = factories.make_customer(org.rep1a)
    p = factories.make_contact(org.rep1a, x)
    services.delete_customer(actor=org.rep1a, customer_id=x.pk, reason="客户注销")
    assert not Customer.objects.filter(pk=x.pk).exists()
    assert not Contact.objects.filter(pk=p.pk).exists()
    assert Contact.history.filter(id=p.pk, history_type="-").exists()
    with pytest.raises(NotFound):
        services.delete_customer(actor=org.rep1a, customer_id=x.pk)


@pytest.mark.parametrize("who", ["service", "analyst", "auditor"])
def test_read_only_roles_write_nothing(who, world):
    user = getattr(world.org, who)
    with pytest.raises((Forbidden, NotFound)):
        factories.update_customer(user, world.A, city="x")
    with pytest.raises((Forbidden, NotFound)):
        services.delete_customer(actor=user, customer_id=world.A.pk)
    with pytest.raises((Forbidden, NotFound)):
        factories.make_contact(user, world.A)
    with pytest.raises((Forbidden, NotFound)):
        factories.update_contact(user, world.A1, title="x")
    with pytest.raises((Forbidden, NotFound)):
        services.record_revenue(actor=user, customer_id=world.A.pk, period_start="2024-05", revenue=1)
    assert Customer.objects.get(pk=world.A.pk).version == 1


# --- classification ------------------------------------------------------------------------------


def test_every_scheme_has_a_history(org):
    values = {
        "value_level": "strategic", "value_tier": "high", "maintenance_tier": "core", "deal_state": "won",
        "importance": "high", "abc_class": "A", "prospect_grade": "D", "need_type": "strategic",
        "strategic_type": "breakthrough", "urgency": "urgent", "membership_level": "gold",
    }  # fmt: skip
    assert set(values) | {"lifecycle_stage"} == set(c.CLASSIFICATION_FIELDS)
    x = factories.make_customer(org.rep1a, **values)
    created = {ch.field: ch for ch in ClassificationChange.objects.filter(customer=x)}
    assert set(created) == set(values) | {"lifecycle_stage"}
    assert all(ch.changed_by_id == org.rep1a.pk for ch in created.values())
    new_values = {
        "value_level": "important", "value_tier": "mid", "maintenance_tier": "ordinary",
        "deal_state": "negotiating", "importance": "low", "abc_class": "B", "prospect_grade": "E",
        "need_type": "special", "strategic_type": "risk_watch", "urgency": "later", "membership_level": "",
    }  # fmt: skip
    factories.update_customer(org.manager1, x, reason="年度复评", **new_values)
    latest = {ch.field: ch for ch in ClassificationChange.objects.filter(customer=x, changed_by=org.manager1)}
    assert set(latest) == set(new_values)
    for f, v in new_values.items():
        assert (latest[f].old_value, latest[f].new_value, latest[f].reason) == (values[f], v, "年度复评")
    # the selector, newest first
    hist = selectors.classification_history(org.rep1a, x.pk)
    assert hist[0].changed_by_id == org.manager1.pk
    # and every scheme is a filter of the list
    for f, v in new_values.items():
        if v:
            assert [y.pk for y in selectors.customer_list(org.rep1a, filters={f: v}).items] == [x.pk], f


def test_completeness_and_missing_fields(org):
    x = factories.make_customer(org.rep1a)
    assert services.missing_required(x) == []
    low = services.profile_completeness(x)
    y = factories.make_customer(
        org.rep1a, credit_code=factories.credit_code(), address="上海市浦东新区", employees=50,
        annual_revenue=Decimal(1_000_000), overview="做阀门", email="a@b.cn", website="https://b.cn",
        needs="降本", competitors="某某", value_level="important",
    )  # fmt: skip
    assert 0 <= low < services.profile_completeness(y) <= 100
    y.is_key_account = True
    assert services.missing_required(y) == []
    x.is_key_account = True
    assert {"credit_code", "overview", "address"} <= set(services.missing_required(x))


# --- the list: filters, sorts, paging ------------------------------------------------------------


@pytest.fixture
def many(org):
    rows = []
    provinces = ["北京", "上海", "广东"]
    for i in range(12):
        owner = [org.rep1a, org.rep1b][i % 2]
        rows.append(
            factories.make_customer(
                org.manager1,
                owner=owner,
                name=f"客户{i:02d}有限公司",
                province=provinces[i % 3],
                industry=["C", "I", "F"][i % 3],
                annual_revenue=Decimal(1000 * (12 - i)),
                value_level=["strategic", "important", "ordinary", ""][i % 4],
                is_key_account=False,
                tags=["重点"] if i % 5 == 0 else [],
            )  # fmt: skip
        )
    return rows


def test_filters(org, many):
    def names(**filters):
        return {x.name for x in selectors.customer_list(org.manager1, filters=filters, limit=200).items}

    assert len(names()) == 12
    assert names(province="上海") == {f"客户{i:02d}有限公司" for i in range(12) if i % 3 == 1}
    assert names(industry="I", province="上海") == names(province="上海")
    assert names(owner=org.rep1b.pk) == {f"客户{i:02d}有限公司" for i in range(12) if i % 2}
    assert names(team=org.team1a.pk) == {f"客户{i:02d}有限公司" for i in range(12) if i % 2 == 0}
    assert names(department=org.sales1.pk) == names()
    assert names(department=org.sales2.pk) == set()  # a filter never widens the scope
    assert names(value_level="strategic") == {f"客户{i:02d}有限公司" for i in (0, 4, 8)}
    assert names(tag="重点") == {"客户00有限公司", "客户05有限公司", "客户10有限公司"}
    assert names(owner="not-a-number") == names()


@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_every_sort_both_ways_pages_stably(sort, org, many):
    def walk(key):
        seen, offset = [], 0
        while True:
            page = selectors.customer_list(org.manager1, sort=key, limit=5, offset=offset)
            seen += [x.pk for x in page.items]
            if not page.has_next:
                break
            offset += 5
        return seen, page

    up, page = walk(sort)
    down, _ = walk("-" + sort)
    assert sorted(up) == sorted(x.pk for x in many) and len(set(up)) == 12
    assert sorted(down) == sorted(up)
    assert page.count == 12 and page.page_count == 3 and page.sort == sort
    if sort == "name":
        assert up == [x.pk for x in many] and down == up[::-1]
    if sort == "annual_revenue":
        assert up == [x.pk for x in many][::-1]


def test_bad_sort_and_paging_values_are_tamed(org, many):
    page = selectors.customer_list(org.manager1, sort="password", limit=10_000, offset=-5)
    assert (page.sort, page.limit, page.offset) == ("name", selectors.MAX_LIMIT, 0)
    assert len(page.items) == 12


def test_contacts_of_lists_the_primary_first(org):
    x = factories.make_customer(org.rep1a)
    factories.make_contact(org.rep1a, x, name="阿强")
    factories.make_contact(org.rep1a, x, name="周总", is_primary=True)
    assert [p.name for p in selectors.contacts_of(org.rep1a, x.pk)] == ["周总", "阿强"]
    with pytest.raises(NotFound):
        selectors.contacts_of(org.rep2a, x.pk)
