"""Search as a Chinese sales team expects it: any part of a name (two characters, one, longer),
pinyin in full and by initials, phone (whole or last digits), email, credit code; kept current on
update and delete; always inside the caller's scope."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import factories
from guanxi.customers import selectors, services


def found(user, q: str) -> set[str]:
    return {c.name for c in selectors.customer_list(user, q=q, limit=200).items}


def found_contacts(user, q: str) -> set[str]:
    return {c.name for c in selectors.contact_list(user, q=q, limit=200).items}


@pytest.fixture
def zsf(org):
    """北京张三丰科技有限公司 with a contact 张三丰, and some neighbours that must not match."""
    company = factories.make_customer(
        org.rep1a, name="北京张三丰科技有限公司", short_name="三丰科技", phone="010-62345678",
        email="contact@zsf-tech.cn", credit_code=factories.credit_code(424242),
    )  # fmt: skip
    person = factories.make_contact(
        org.rep1a, company, name="张三丰", mobile="13912348765", email="zsf@zsf-tech.cn"
    )
    others = [
        factories.make_customer(org.rep1a, name="上海三江科技有限公司", phone="021-55501234"),
        factories.make_customer(org.rep1a, name="张家港丰收农业有限公司", phone="0512-58681234"),
        factories.make_customer(org.rep1a, name="杭州西湖电子有限公司", phone="0571-86011111"),
    ]
    factories.make_contact(org.rep1a, others[0], name="李四", mobile="13611112222")
    return company, person, others


@pytest.mark.parametrize(
    "q",
    [
        "三丰",
        "张三",
        "科技",
        "丰科",
        "北京",
        "张三丰",
        "张三丰科技",
        "北京张三丰科技有限公司",
        "三丰科技",
        "丰",
    ],
)
def test_name_parts_find_the_company(q, org, zsf):
    assert "北京张三丰科技有限公司" in found(org.rep1a, q)


@pytest.mark.parametrize(
    "q, expected",
    [
        ("三丰", {"北京张三丰科技有限公司"}),
        ("三江", {"上海三江科技有限公司"}),
        ("科技", {"北京张三丰科技有限公司", "上海三江科技有限公司"}),
        ("张家", {"张家港丰收农业有限公司"}),
        ("丰科技", {"北京张三丰科技有限公司"}),
        ("技科", set()),  # the characters of a name, out of order, are not the name
        ("三丰江", set()),
        ("西湖三丰", set()),
        ("南京", set()),
    ],
)
def test_name_search_is_precise(q, expected, org, zsf):
    assert found(org.rep1a, q) == expected


@pytest.mark.parametrize("q", ["张三丰 科技", "北京·张三丰", "张三丰，科技", " 三丰　科技 "])
def test_spaces_and_punctuation_in_the_query_are_ignored(q, org, zsf):
    assert found(org.rep1a, q) == {"北京张三丰科技有限公司"}


@pytest.mark.parametrize("q", ["zhangsanfeng", "sanfeng", "zsf", "ZSF", "zhang san feng", "zsfkj", "bjzsf",
                               "beijingzhang", "sfkj"])  # fmt: skip
def test_pinyin_full_and_initials(q, org, zsf):
    assert "北京张三丰科技有限公司" in found(org.rep1a, q)


def test_zsf_finds_the_contact_and_the_company(org, zsf, api_as):
    assert found_contacts(org.rep1a, "zsf") == {"张三丰"}
    assert found_contacts(org.rep1a, "zhangsanfeng") == {"张三丰"}
    assert found_contacts(org.rep1a, "sanfeng") == {"张三丰"}
    assert "北京张三丰科技有限公司" in found(org.rep1a, "zsf")
    assert "上海三江科技有限公司" not in found(org.rep1a, "zsf")
    api = api_as(org.rep1a)
    assert "北京张三丰科技有限公司" in {i["name"] for i in api.get("customers", {"q": "zsf"}).json()["items"]}
    assert {i["name"] for i in api.get("contacts", {"q": "zsf"}).json()["items"]} == {"张三丰"}


def test_pinyin_is_a_prefix_of_a_syllable_run_not_anything(org, zsf):
    assert "北京张三丰科技有限公司" not in found(org.rep1a, "angsan")  # not mid-syllable
    assert "北京张三丰科技有限公司" not in found(org.rep1a, "xzsf")


@pytest.mark.parametrize("q", ["010-62345678", "01062345678", "62345678", "5678", "45678", "010 6234"])
def test_company_phone_whole_or_part(q, org, zsf):
    assert found(org.rep1a, q) == {"北京张三丰科技有限公司"}


@pytest.mark.parametrize("q", ["13912348765", "139 1234 8765", "8765", "139123"])
def test_contact_phone_whole_or_last_digits(q, org, zsf):
    assert found_contacts(org.rep1a, q) == {"张三丰"}


def test_email_and_credit_code(org, zsf):
    company, _person, _ = zsf
    assert found(org.rep1a, "contact@zsf-tech.cn") == {company.name}
    assert found(org.rep1a, "CONTACT@zsf") == {company.name}
    assert found_contacts(org.rep1a, "zsf@zsf-tech.cn") == {"张三丰"}
    code = company.credit_code
    assert found(org.rep1a, code) == {company.name}
    assert found(org.rep1a, code[:10]) == {company.name}
    assert found(org.rep1a, code[:10].lower()) == {company.name}


def test_update_moves_the_terms(org, zsf, api_as):
    company, person, _ = zsf
    factories.update_customer(
        org.rep1a, company, name="南京紫金山软件有限公司", short_name="", phone="025-84561234"
    )
    for old in ("三丰", "zsf", "zhangsanfeng", "62345678", "北京张"):
        assert company.name not in found(org.rep1a, old), old
        assert "南京紫金山软件有限公司" not in found(org.rep1a, old), old
    for new in ("紫金", "金山软件", "zjs", "zijinshan", "84561234", "1234"):
        assert "南京紫金山软件有限公司" in found(org.rep1a, new), new
    factories.update_contact(org.rep1a, person, name="王重阳", mobile="13500001111")
    assert found_contacts(org.rep1a, "zsf") == set()
    assert found_contacts(org.rep1a, "8765") == set()
    assert found_contacts(org.rep1a, "wcy") == {"王重阳"}
    assert found_contacts(org.rep1a, "1111") == {"王重阳"}
    api = api_as(org.rep1a)
    assert api.get("customers", {"q": "紫金山"}).json()["count"] == 1
    assert api.get("customers", {"q": "张三丰"}).json()["count"] == 0


def test_delete_removes_the_terms(org, zsf):
    from django.db import connection

    company, person, _ = zsf
    services.delete_customer(actor=org.rep1a, customer_id=company.pk)
    for q in ("三丰", "zsf", "5678", company.credit_code, "contact@zsf"):
        assert found(org.rep1a, q) == set() or company.name not in found(org.rep1a, q)
    assert found_contacts(org.rep1a, "zsf") == set()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM customers_searchterm"
            " WHERE (kind = 'c' AND obj_id = %s) OR (kind = 'p' AND obj_id = %s)",
            [company.pk, person.pk],
        )
        assert cur.fetchone()[0] == 0


def test_deleting_a_contact_removes_its_terms(org, zsf):
    _company, person, _ = zsf
    services.delete_contact(actor=org.rep1a, contact_id=person.pk)
    assert found_contacts(org.rep1a, "张三丰") == set()
    assert found_contacts(org.rep1a, "13912348765") == set()


def test_search_respects_scope(world, api_as):
    o = world.org
    b = world.B  # 岭南电子科技有限公司, Sales 2
    for q in ("岭南", "电子", "lingnan", "lndz", b.phone, b.phone[-4:], b.credit_code, b.credit_code[:8]):
        assert b.name not in found(o.rep1a, q), q
        assert b.name not in found(o.manager1, q), q
        assert b.name in found(o.manager2, q), q
        resp = api_as(o.rep1a).get("customers", {"q": q})
        assert b.name not in resp.content.decode(), q
    for q in ("陈美玲", "美玲", "cml", "chenmeiling", "13600136000", "6000"):
        assert "陈美玲" not in found_contacts(o.rep1a, q), q
        assert "陈美玲" in found_contacts(o.rep2a, q), q
    assert found_contacts(o.analyst, "李建国") == set()
    assert "王小明" not in found(o.analyst, "王小明")  # an individual: not for analysts


def test_empty_and_odd_queries(org, zsf):
    everything = found(org.rep1a, "")
    assert len(everything) == 4
    assert found(org.rep1a, "   ") == everything
    assert found(org.rep1a, "%") == set()
    assert found(org.rep1a, "_") == set()
    assert found(org.rep1a, "'; DROP TABLE x; --") == set()
    found(org.rep1a, "１３９")  # full-width digits must not crash
    assert found(org.rep1a, "ＺＳＦ") >= {"北京张三丰科技有限公司"}  # full-width letters are normalised


def test_search_combines_with_filters_and_paging(org, zsf, api_as):
    api = api_as(org.rep1a)
    data = api.get("customers", {"q": "科技", "limit": 1}).json()
    assert data["count"] == 2 and len(data["items"]) == 1
    data2 = api.get("customers", {"q": "科技", "limit": 1, "offset": 1}).json()
    assert {data["items"][0]["name"], data2["items"][0]["name"]} == {
        "北京张三丰科技有限公司",
        "上海三江科技有限公司",
    }
    data = api.get("customers", {"q": "科技", "province": "上海"}).json()
    assert data["count"] == 0  # the factory's province is 北京 for both


# --- property: every part of a name finds it ----------------------------------------------------

POOL = "张王李赵刘陈杨黄周吴三丰华东南北京海科技电子机械精密有限公司集团新材料"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(alphabet=POOL, min_size=2, max_size=9), probe=st.text(alphabet=POOL, min_size=2, max_size=4)
)
def test_every_substring_of_a_name_finds_it(org, name, probe):
    c = factories.make_customer(org.rep1a, name=name)

    def ids(q: str) -> set[int]:
        return {x.pk for x in selectors.customer_list(org.rep1a, q=q, limit=200).items}

    for part in {name[i:j] for i in range(len(name)) for j in range(i + 1, len(name) + 1)}:
        assert c.pk in ids(part), (name, part)
    # and a text that is not part of the name does not find it
    assert (c.pk in ids(probe)) == (probe in name), (name, probe)
