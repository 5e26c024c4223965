"""Every validation rule of customers and contacts, through the services and the API (422 with
``errors[field]``), and the guarantee that a refused write leaves nothing half-saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

import factories
from guanxi.core.errors import ValidationFailed
from guanxi.customers import services
from guanxi.customers.models import ClassificationChange, Contact, Customer, Tag
from guanxi.customers.validators import normalize_credit_code, normalize_phone

ALPHABET = factories.USCC_ALPHABET


def search_term_count() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM customers_searchterm")
        return cur.fetchone()[0]


def footprint() -> dict:
    """Everything a customer write can leave behind."""
    return {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "history": Customer.history.count() + Contact.history.count(),
        "classification": ClassificationChange.objects.count(),
        "terms": search_term_count(),
        "tags": Tag.objects.count(),
        "team": Customer.account_team.through.objects.count(),
    }


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.errors


# --- unified social credit code ----------------------------------------------------------------


credit_bodies = st.builds(
    lambda head, org: head + org,
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)


@given(credit_bodies)
def test_every_code_with_its_check_character_validates(body):
    code = factories.with_check_char(body)
    assert normalize_credit_code(code) == code
    assert normalize_credit_code(code.lower()) == code  # case and separators do not matter
    assert normalize_credit_code(f" {code[:8]}-{code[8:]} ") == code


@given(credit_bodies, st.sampled_from(ALPHABET))
def test_any_other_check_character_fails(body, wrong):
    code = factories.with_check_char(body)
    if wrong == code[-1]:
        return
    with pytest.raises(ValidationError) as e:
        normalize_credit_code(body + wrong)
    assert e.value.code == "checksum"


@pytest.mark.parametrize(
    "value, code",
    [
        ("91110000600037341", "length"),  # 17 characters
        ("911100006000373411L", "length"),  # 19
        ("A1110000600037341L", "format"),  # letters in the first eight
        ("9111000060003734IL", "format"),  # I is not in the alphabet
        ("91110000600037341Z", "format"),  # nor Z
        ("91110000600037341M", "checksum"),
    ],
)
def test_credit_code_errors(value, code):
    with pytest.raises(ValidationError) as e:
        normalize_credit_code(value)
    assert e.value.code == code


def test_known_good_credit_code_and_empty():
    assert normalize_credit_code("91110000600037341L") == "91110000600037341L"
    assert normalize_credit_code("") is None
    assert normalize_credit_code(None) is None


def test_bad_credit_code_is_422_naming_the_field(org, api_as):
    before = footprint()
    resp = api_as(org.rep1a).post("customers", json=factories.customer_data(credit_code="91110000600037341M"))
    assert resp.status_code == 422
    body = resp.json()
    assert list(body["errors"]) == ["credit_code"]
    assert body["errors"]["credit_code"][0]
    assert any(d["loc"][-1] == "credit_code" for d in body["detail"])
    assert footprint() == before


def test_duplicate_credit_code_is_422(org, api_as):
    code = factories.credit_code()
    first = factories.make_customer(org.rep1a, credit_code=code)
    before = footprint()
    api = api_as(org.rep2a)
    resp = api.post("customers", json=factories.customer_data(credit_code=code.lower()))
    assert resp.status_code == 422
    assert "credit_code" in resp.json()["errors"]
    assert footprint() == before
    # the same when another customer is changed to that code; and it is not half-saved either
    other = factories.make_customer(org.rep2a)
    resp = api.patch(
        f"customers/{other.pk}", json={"version": other.version, "credit_code": code, "city": "广州"}
    )
    assert resp.status_code == 422
    assert "credit_code" in resp.json()["errors"]
    other.refresh_from_db()
    assert (other.credit_code, other.city, other.version) == (None, "北京", 1)
    assert Customer.objects.get(credit_code=code).pk == first.pk


def test_credit_code_is_stored_canonical_and_optional(org):
    code = factories.credit_code()
    c = factories.make_customer(org.rep1a, credit_code=f"{code[:6].lower()} {code[6:].lower()}")
    assert c.credit_code == code
    # several customers without a code are fine (NULL, not "")
    a = factories.make_customer(org.rep1a, credit_code="")
    b = factories.make_customer(org.rep1a)
    assert a.credit_code is None and b.credit_code is None


# --- phones, email, URL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("(010) 6552 1234", "010-65521234"),
        ("0755-86013388", "0755-86013388"),
        ("021 5550 1234", "021-55501234"),
        ("400-810-8888", "4008108888"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 650 253 0000", "+16502530000"),
        ("010-65521234 转 123", "010-65521234 ext 123"),
    ],
)
def test_phone_formats_are_accepted_and_normalised(raw, stored, org):
    assert normalize_phone(raw) == stored
    c = factories.make_customer(org.rep1a, phone=raw)
    assert Customer.objects.get(pk=c.pk).phone == stored


@pytest.mark.parametrize("raw", ["abc", "12345", "138123456789", "021-1234", "+44 12", "电话13812345678"])
def test_garbage_phones_are_refused(raw, org, api_as):
    api = api_as(org.rep1a)
    resp = api.post("customers", json=factories.customer_data(phone=raw))
    assert resp.status_code == 422
    assert "phone" in resp.json()["errors"]
    resp = api.post("customers", json=factories.customer_data(fax=raw, phone_alt=raw))
    assert set(resp.json()["errors"]) == {"fax", "phone_alt"}


def test_contact_phones_validated(org, api_as):
    c = factories.make_customer(org.rep1a)
    api = api_as(org.rep1a)
    resp = api.post("contacts", json={"customer": c.pk, "name": "张三", "mobile": "1381234", "phone": "x"})
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"mobile", "phone"}
    resp = api.post("contacts", json={"customer": c.pk, "name": "张三", "mobile": "+86 139 1234 5678"})
    assert resp.status_code == 201
    assert resp.json()["mobile"] == "13912345678"


@pytest.mark.parametrize("field, value", [("email", "not-an-email"), ("email", "a@b"), ("website", "ftp//x"),
                                          ("website", "not a url")])  # fmt: skip
def test_email_and_url(field, value, org, api_as):
    resp = api_as(org.rep1a).post("customers", json=factories.customer_data(**{field: value}))
    assert resp.status_code == 422
    assert field in resp.json()["errors"]


def test_good_email_and_url_saved(org):
    c = factories.make_customer(org.rep1a, email="sales@example.cn", website="https://example.cn/")
    assert (c.email, c.website) == ("sales@example.cn", "https://example.cn/")


def test_contact_email_validated(org):
    c = factories.make_customer(org.rep1a)
    with pytest.raises(ValidationFailed) as e:
        factories.make_contact(org.rep1a, c, email="nope")
    assert "email" in errors_of(e)


# --- required fields, key accounts, classification rules -----------------------------------------


@pytest.mark.parametrize("missing", ["name", "industry", "province", "phone"])
def test_default_required_fields(missing, org):
    data = factories.customer_data()
    data[missing] = ""
    with pytest.raises(ValidationFailed) as e:
        services.create_customer(actor=org.rep1a, data=data)
    assert missing in errors_of(e)


def test_required_fields_are_configurable(org, api_as):
    with pytest.raises(ValidationFailed) as e:
        services.update_settings(actor=org.admin, data={"required_fields": ["name", "nonsense"]})
    assert "required_fields" in errors_of(e)
    with pytest.raises(Exception):  # noqa: B017 - only an administrator
        services.update_settings(actor=org.manager1, data={"required_fields": ["name"]})
    services.update_settings(actor=org.admin, data={"required_fields": ["name", "city", "email"]})
    api = api_as(org.rep1a)
    resp = api.post("customers", json={"name": "只有名字的公司", "city": "上海"})
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"email"}
    resp = api.post("customers", json={"name": "只有名字的公司", "city": "上海", "email": "a@b.cn"})
    assert resp.status_code == 201, resp.content
    # and an update cannot blank a required field
    c = resp.json()
    resp = api.patch(f"customers/{c['id']}", json={"version": c["version"], "city": ""})
    assert resp.status_code == 422
    assert "city" in resp.json()["errors"]


def test_key_account_needs_the_company_overview(org, api_as):
    api = api_as(org.rep1a)
    resp = api.post("customers", json=factories.customer_data(is_key_account=True))
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    for f in ("credit_code", "address", "employees", "annual_revenue", "overview"):
        assert f in errors, f
    assert "name" not in errors and "phone" not in errors
    full = factories.customer_data(
        is_key_account=True, credit_code=factories.credit_code(), address="上海市浦东新区世纪大道100号",
        employees=800, annual_revenue="120000000.00", overview="精密机械制造，年产能5万台。",
    )  # fmt: skip
    resp = api.post("customers", json=full)
    assert resp.status_code == 201, resp.content
    assert resp.json()["missing_fields"] == []
    # an ordinary customer becomes a key account only with the overview filled in
    c = factories.make_customer(org.rep1a)
    resp = api.patch(f"customers/{c.pk}", json={"version": c.version, "is_key_account": True})
    assert resp.status_code == 422
    assert "overview" in resp.json()["errors"]


@pytest.mark.parametrize("grade", ["A", "B", "C"])
def test_prospect_grades_a_to_c_need_a_business_need(grade, org):
    with pytest.raises(ValidationFailed) as e:
        factories.make_customer(org.rep1a, prospect_grade=grade)
    assert list(errors_of(e)) == ["business_need"]
    c = factories.make_customer(org.rep1a, prospect_grade=grade, business_need="年底前更换三条产线的控制系统")
    assert c.prospect_grade == grade


@pytest.mark.parametrize("grade", ["D", "E", ""])
def test_other_grades_do_not(grade, org):
    assert factories.make_customer(org.rep1a, prospect_grade=grade).prospect_grade == grade


def test_unknown_choice_and_unknown_field(org):
    with pytest.raises(ValidationFailed) as e:
        factories.make_customer(org.rep1a, industry="ZZ", lifecycle_stage="won")
    assert {"industry", "lifecycle_stage"} <= set(errors_of(e))
    with pytest.raises(ValidationFailed) as e:
        factories.make_customer(org.rep1a, bogus=1)
    assert list(errors_of(e)) == ["bogus"]


# --- lifecycle transitions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ["potential", "intent", "signed", "churned", "potential"],
        ["potential", "signed"],
        ["potential", "churned", "intent", "potential"],
        ["intent", "churned", "signed"],
    ],
)
def test_allowed_lifecycle_transitions_are_recorded(path, org):
    c = factories.make_customer(org.rep1a, lifecycle_stage=path[0])
    for n, stage in enumerate(path[1:], 1):
        c = factories.update_customer(org.rep1a, c, lifecycle_stage=stage, reason=f"第{n}步")
    assert c.lifecycle_stage == path[-1]
    changes = list(ClassificationChange.objects.filter(customer=c, field="lifecycle_stage").order_by("id"))
    assert [(x.old_value, x.new_value) for x in changes[1:]] == list(zip(path, path[1:], strict=False))
    assert [x.reason for x in changes[1:]] == [f"第{n}步" for n in range(1, len(path))]
    assert all(x.changed_by_id == org.rep1a.pk for x in changes)


@pytest.mark.parametrize("old, new", [("signed", "intent"), ("signed", "potential")])
def test_forbidden_lifecycle_transitions(old, new, org, api_as):
    c = factories.make_customer(org.rep1a, lifecycle_stage=old)
    resp = api_as(org.rep1a).patch(
        f"customers/{c.pk}", json={"version": c.version, "lifecycle_stage": new, "reason": "试试"}
    )
    assert resp.status_code == 422
    assert list(resp.json()["errors"]) == ["lifecycle_stage"]
    c.refresh_from_db()
    assert (c.lifecycle_stage, c.version) == (old, 1)


def test_lifecycle_change_needs_a_reason(org, api_as):
    c = factories.make_customer(org.rep1a)
    api = api_as(org.rep1a)
    resp = api.patch(f"customers/{c.pk}", json={"version": c.version, "lifecycle_stage": "intent"})
    assert resp.status_code == 422
    assert list(resp.json()["errors"]) == ["reason"]
    resp = api.patch(
        f"customers/{c.pk}", json={"version": c.version, "lifecycle_stage": "intent", "reason": "   "}
    )
    assert resp.status_code == 422
    resp = api.patch(
        f"customers/{c.pk}", json={"version": c.version, "lifecycle_stage": "intent", "reason": "报价已确认"}
    )
    assert resp.status_code == 200
    change = ClassificationChange.objects.filter(customer=c, field="lifecycle_stage").first()
    assert (change.new_value, change.reason, change.changed_by_id) == ("intent", "报价已确认", org.rep1a.pk)


# --- contacts: birthdays and anniversaries -------------------------------------------------------


@pytest.mark.parametrize(
    "fields, bad_field",
    [
        ({"birthday_calendar": "solar", "birthday_month": 2, "birthday_day": 30}, "birthday_day"),
        ({"birthday_calendar": "solar", "birthday_month": 4, "birthday_day": 31}, "birthday_day"),
        ({"birthday_calendar": "lunar", "birthday_month": 3, "birthday_day": 31}, "birthday_day"),
        ({"birthday_calendar": "lunar", "birthday_month": 13, "birthday_day": 1}, "birthday_month"),
        ({"birthday_month": 0, "birthday_day": 1}, "birthday_month"),
        (
            {
                "birthday_calendar": "solar",
                "birthday_month": 5,
                "birthday_day": 1,
                "birthday_leap_month": True,
            },
            "birthday_leap_month",
        ),  # fmt: skip
        ({"birthday_leap_month": True}, "birthday_leap_month"),
        ({"birthday_month": 5}, "birthday_day"),
        ({"birthday_day": 5}, "birthday_month"),
        ({"birthday_month": 5, "birthday_day": 1, "birth_year": 1800}, "birth_year"),
        ({"birthday_calendar": "julian", "birthday_month": 5, "birthday_day": 1}, "birthday_calendar"),
    ],
)
def test_bad_birthdays(fields, bad_field, org, api_as):
    c = factories.make_customer(org.rep1a)
    before = footprint()
    resp = api_as(org.rep1a).post("contacts", json={"customer": c.pk, "name": "王五", **fields})
    assert resp.status_code == 422
    assert bad_field in resp.json()["errors"], resp.json()
    assert footprint() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"birthday_calendar": "solar", "birthday_month": 2, "birthday_day": 29},
        {"birthday_calendar": "lunar", "birthday_month": 2, "birthday_day": 30},
        {"birthday_calendar": "lunar", "birthday_month": 4, "birthday_day": 30, "birthday_leap_month": True},
        {"birthday_calendar": "solar", "birthday_month": 12, "birthday_day": 31, "birth_year": 1980},
        {"birthday_month": 6, "birthday_day": 1},  # calendar defaults to solar
    ],
)
def test_good_birthdays(fields, org):
    c = factories.make_customer(org.rep1a)
    p = factories.make_contact(org.rep1a, c, **fields)
    p.refresh_from_db()
    for k, v in fields.items():
        assert getattr(p, k) == v
    assert p.birthday_calendar in ("solar", "lunar")


@pytest.mark.parametrize(
    "text", ["2020-13-01 结婚纪念日", "结婚 2020-05-01", "2020/05/01 入职", "05-01 生日"]
)
def test_bad_anniversaries(text, org):
    c = factories.make_customer(org.rep1a)
    with pytest.raises(ValidationFailed) as e:
        factories.make_contact(org.rep1a, c, anniversaries=text)
    assert list(errors_of(e)) == ["anniversaries"]


def test_good_anniversaries(org):
    c = factories.make_customer(org.rep1a)
    p = factories.make_contact(org.rep1a, c, anniversaries="2012-10-01 结婚纪念日\n\n2018-03-15 入职本公司")
    assert services.parse_anniversaries(p.anniversaries)[1][1] == "入职本公司"


def test_contact_needs_a_name(org, api_as):
    c = factories.make_customer(org.rep1a)
    resp = api_as(org.rep1a).post("contacts", json={"customer": c.pk, "name": "  "})
    assert resp.status_code == 422
    assert "name" in resp.json()["errors"]


# --- the API's answer, and nothing half-saved ----------------------------------------------------


def test_schema_errors_are_422_with_field_errors(org, api_as):
    api = api_as(org.rep1a)
    resp = api.post("customers", json={"name": "x公司", "employees": "many"})
    assert resp.status_code == 422
    assert "employees" in resp.json()["errors"]
    resp = api.post("customers", json={"industry": "C"})
    assert resp.status_code == 422
    assert "name" in resp.json()["errors"]


def test_many_errors_at_once(org, api_as):
    resp = api_as(org.rep1a).post(
        "customers",
        json={"name": "多错公司", "industry": "C", "province": "北京", "phone": "abc", "email": "x",
              "credit_code": "123", "prospect_grade": "A"},
    )  # fmt: skip
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"phone", "email", "credit_code", "business_need"}


def test_create_with_bad_account_team_saves_nothing(org, api_as):
    before = footprint()
    api = api_as(org.rep1a)
    resp = api.post(
        "customers", json=factories.customer_data(account_team=[org.rep1b.pk, 999999], tags=["新标签"])
    )
    assert resp.status_code == 422
    assert list(resp.json()["errors"]) == ["account_team"]
    org.rep2b.is_active = False
    org.rep2b.save()
    resp = api.post("customers", json=factories.customer_data(account_team=[org.rep2b.pk]))
    assert resp.status_code == 422
    resp = api.post("customers", json=factories.customer_data(tags="不是列表"))
    assert resp.status_code == 422
    assert "tags" in resp.json()["errors"]
    assert footprint() == before


def test_create_with_bad_owner_saves_nothing(org):
    before = footprint()
    for owner in (999999, org.service.pk, org.analyst.pk):
        with pytest.raises(ValidationFailed) as e:
            factories.make_customer(org.admin, owner=owner, tags=["重点"])
        assert "owner" in errors_of(e)
    assert footprint() == before


def test_failed_update_changes_nothing_and_keeps_the_version(org, api_as):
    c = factories.make_customer(org.rep1a, tags=["老客户"])
    api = api_as(org.rep1a)
    before = footprint()
    resp = api.patch(
        f"customers/{c.pk}",
        json={"version": 1, "name": "改了名字的公司", "tags": ["新标签"], "account_team": [org.rep1b.pk],
              "phone": "garbage"},
    )  # fmt: skip
    assert resp.status_code == 422
    assert footprint() == before
    c.refresh_from_db()
    assert (c.name, c.version, list(c.tags.values_list("name", flat=True))) == (c.name, 1, ["老客户"])
    assert api.get("customers", {"q": "改了名字"}).json()["count"] == 0
    # the version read before the failed attempt still works
    resp = api.patch(f"customers/{c.pk}", json={"version": 1, "name": "改了名字的公司"})
    assert resp.status_code == 200
    assert resp.json()["version"] == 2


def test_failed_contact_update_changes_nothing(org):
    c = factories.make_customer(org.rep1a)
    p = factories.make_contact(org.rep1a, c, name="赵六", mobile="13811112222")
    before = footprint()
    with pytest.raises(ValidationFailed):
        services.update_contact(
            actor=org.rep1a, contact_id=p.pk, version=1,
            data={"name": "赵七", "birthday_month": 2, "birthday_day": 30, "birthday_calendar": "solar"},
        )  # fmt: skip
    assert footprint() == before
    p.refresh_from_db()
    assert (p.name, p.version) == ("赵六", 1)
