"""Customer care (C7): lunar and solar dates, festivals against published dates, greeting tasks, gifts."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

import factories
from guanxi.engagement import carecal, selectors, services
from guanxi.engagement.models import CareTask, Gift

D = datetime.date


@pytest.mark.parametrize(
    "year, month, day, leap, expected",
    [
        (2023, 1, 1, False, D(2023, 1, 22)),
        (2024, 1, 1, False, D(2024, 2, 10)),
        (2024, 8, 15, False, D(2024, 9, 17)),
        (2025, 8, 15, False, D(2025, 10, 6)),
        (2023, 2, 1, True, D(2023, 3, 22)),  # 闰二月 2023
        (2023, 2, 1, False, D(2023, 2, 20)),
        (2025, 6, 1, True, D(2025, 7, 25)),  # 闰六月 2025
        (2025, 6, 1, False, D(2025, 6, 25)),
        (2024, 6, 1, True, D(2024, 7, 6)),  # no leap month in 2024: the ordinary sixth month
        (2026, 4, 8, True, D(2026, 5, 24)),  # no leap month in 2026: the ordinary fourth month
    ],
)
def test_lunar_to_solar_across_years_and_leap_months(year, month, day, leap, expected):
    assert carecal.lunar_to_solar(year, month, day, leap) == expected


def test_day_thirty_falls_on_the_last_day_of_a_short_month():
    # the twelfth lunar month of 2024 (ending 2025-01-28) has 29 days
    assert carecal.lunar_to_solar(2024, 12, 30) == D(2025, 1, 28)


@pytest.mark.parametrize(
    "key, dates",
    [
        ("spring", [D(2025, 1, 29), D(2026, 2, 17), D(2027, 2, 6)]),
        ("mid_autumn", [D(2025, 10, 6), D(2026, 9, 25), D(2027, 9, 15)]),
        ("dragon_boat", [D(2025, 5, 31), D(2026, 6, 19), D(2027, 6, 9)]),
        ("lantern", [D(2025, 2, 12), D(2026, 3, 3), D(2027, 2, 20)]),
        ("double_ninth", [D(2025, 10, 29), D(2026, 10, 18), D(2027, 10, 8)]),
        ("national_day", [D(2025, 10, 1), D(2026, 10, 1), D(2027, 10, 1)]),
        ("new_year", [D(2025, 1, 1), D(2026, 1, 1), D(2027, 1, 1)]),
    ],
)
def test_festival_dates_against_published_dates(key, dates):
    for expected in dates:
        found = [d for k, _label, d in carecal.festivals(expected.year) if k == key]
        assert found == [expected], (key, expected.year, found)


def test_lunar_birthday_falls_on_a_different_solar_date_each_year():
    got = [carecal.birthday_on("lunar", 8, 15, False, y) for y in (2024, 2025, 2026)]
    assert got == [[D(2024, 9, 17)], [D(2025, 10, 6)], [D(2026, 9, 25)]]
    # a leap-month birthday (闰六月初一, born 2025) in 2025 and, falling back, in 2026
    assert carecal.birthday_on("lunar", 6, 1, True, 2025) == [D(2025, 7, 25)]
    assert carecal.birthday_on("lunar", 6, 1, True, 2026) == [carecal.lunar_to_solar(2026, 6, 1)]
    # a late-twelfth-month birthday can fall twice in one solar year, or in January of the next
    assert carecal.birthday_on("lunar", 12, 1, False, 2024) == [D(2024, 1, 11), D(2024, 12, 31)]
    assert carecal.birthday_on("solar", 2, 29, False, 2025) == [D(2025, 2, 28)]
    assert carecal.birthday_on("solar", None, None, False, 2025) == []


def test_upcoming_birthdays_and_anniversaries_for_the_owner_only(world):
    o = world.org
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=3)
    lunar = __import__("lunar_python").Solar.fromYmd(soon.year, soon.month, soon.day).getLunar()
    factories.update_contact(
        o.admin,
        world.A1,
        birthday_calendar="lunar",
        birthday_month=abs(lunar.getMonth()),
        birthday_day=lunar.getDay(),
        birthday_leap_month=lunar.getMonth() < 0,
        anniversaries=f"{soon.replace(year=soon.year - 5).isoformat()} 合作纪念日",
    )
    items = selectors.upcoming_occasions(o.rep1a, days=7)
    mine = [(u.day, u.occasion) for u in items if u.contact and u.contact.pk == world.A1.pk]
    assert (soon, "birthday") in mine and (soon, "anniversary") in mine
    assert any("(5)" in u.title for u in items if u.occasion == "anniversary")
    for who in (o.rep2a, o.service, o.analyst):
        assert not [u for u in selectors.upcoming_occasions(who, days=7) if u.contact]
    # greeting tasks, made once, assigned to the owner; a template renders in both languages
    made = services.generate_care_tasks(today)
    assert made >= 2 and services.generate_care_tasks(today) == 0
    task = CareTask.objects.get(contact=world.A1, occasion="birthday")
    assert task.assignee == o.rep1a and task.occurs_on == soon
    texts = [
        selectors.render_message(t, task, o.rep1a) for t in selectors.message_templates(o.rep1a, "birthday")
    ]
    assert any("李建国" in t and "生日快乐" in t for t in texts) and any("happy birthday" in t for t in texts)
    with pytest.raises(services.Forbidden):
        services.close_care_task(actor=o.service, task_id=task.pk, message="x")
    services.close_care_task(actor=o.rep1a, task_id=task.pk, message="已发送祝福")
    with pytest.raises(services.ValidationFailed):
        services.close_care_task(actor=o.rep1a, task_id=task.pk)


def test_festival_tasks_for_core_accounts_ahead_of_time(world):
    o = world.org
    factories.update_customer(o.admin, world.C, maintenance_tier="core")
    made = services.generate_care_tasks(D(2026, 9, 20))  # Mid-Autumn 2026-09-25 within 7 days
    assert made >= 1
    task = CareTask.objects.get(customer=world.C, occasion="festival")
    assert task.occurs_on == D(2026, 9, 25) and "中秋节" in task.title and task.assignee == o.rep1b
    assert not CareTask.objects.filter(customer=world.B, occasion="festival").exists()


def test_gifts_are_recorded_with_an_audit_trail(world):
    o = world.org
    gift = services.record_gift(
        actor=o.rep1a,
        customer_id=world.A.pk,
        data={
            "given_on": timezone.localdate(),
            "description": "中秋月饼礼盒",
            "value": "288",
            "contact": world.A1.pk,
            "occasion": "中秋节",
        },
    )
    [h] = gift.history.all()
    assert h.history_user == o.rep1a and h.description == "中秋月饼礼盒" and h.history_type == "+"
    assert [g.pk for g in selectors.gifts(o.manager1)] == [gift.pk]
    assert not selectors.gifts(o.manager2).exists()
    with pytest.raises(services.NotFound):
        services.record_gift(
            actor=o.rep2a, customer_id=world.A.pk, data={"given_on": timezone.localdate(), "description": "x"}
        )
    with pytest.raises(services.ValidationFailed) as e:
        services.record_gift(actor=o.rep1a, customer_id=world.A.pk, data={"given_on": timezone.localdate()})
    assert "description" in e.value.errors
    assert Gift.objects.count() == 1


# --- care settings and message templates (administrators) -------------------------------------------


def _birthday_in(world, days: int):
    """A1 (customer A, owner rep1a) has a solar birthday ``days`` from today."""
    when = timezone.localdate() + datetime.timedelta(days=days)
    factories.update_contact(
        world.org.admin, world.A1, birthday_calendar="solar", birthday_month=when.month, birthday_day=when.day
    )
    return when


def test_days_ahead_decides_which_greeting_tasks_the_sweep_creates(world):
    o = world.org
    when = _birthday_in(world, 20)
    services.generate_care_tasks(timezone.localdate(), customers=[world.A])
    assert not CareTask.objects.filter(contact=world.A1, occasion="birthday").exists()  # 7 days ahead
    settings_ = services.update_care_settings(actor=o.admin, data={"days_ahead": 21})
    assert settings_.days_ahead == 21 and selectors.care_settings().days_ahead == 21
    services.generate_care_tasks(timezone.localdate(), customers=[world.A])
    task = CareTask.objects.get(contact=world.A1, occasion="birthday")
    assert task.occurs_on == when
    # tiers: only known maintenance tiers; key accounts always
    services.update_care_settings(actor=o.admin, data={"festival_tiers": ["core"]})
    assert selectors.care_settings().festival_tiers == ["core"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"days_ahead": 61}, "days_ahead"),
        ({"days_ahead": -1}, "days_ahead"),
        ({"days_ahead": "x"}, "days_ahead"),
        ({"festival_tiers": ["vip"]}, "festival_tiers"),
        ({"festival_tiers": "core"}, "festival_tiers"),
    ],
)
def test_care_settings_refuse_bad_input_naming_the_field(world, data, field):
    with pytest.raises(services.ValidationFailed) as e:
        services.update_care_settings(actor=world.org.admin, data=data)
    assert list(e.value.errors) == [field]
    settings_ = selectors.care_settings()
    assert settings_.days_ahead == 7 and settings_.festival_tiers == ["core", "important"]


def test_only_administrators_change_care_settings_and_templates(world):
    o = world.org
    for who in (o.manager1, o.rep1a, o.service, o.analyst, o.auditor):
        with pytest.raises(services.Forbidden):
            services.update_care_settings(actor=who, data={"days_ahead": 3})
        with pytest.raises(services.Forbidden):
            services.save_message_template(
                actor=who,
                data={"occasion": "birthday", "channel": "card", "language": "en", "body": "Hi {name}"},
            )
    assert selectors.care_settings().days_ahead == 7


def test_message_templates_are_created_changed_and_deactivated(world):
    o = world.org
    t = services.save_message_template(
        actor=o.admin,
        data={
            "occasion": "birthday",
            "channel": "card",
            "language": "en",
            "body": "Dear {name}, happy birthday! {sender}",
        },
    )
    assert t.pk and t.active and t in selectors.message_templates(o.rep1a, "birthday")
    t = services.save_message_template(
        actor=o.admin, template_id=t.pk, data={"body": "Happy birthday, {name}!"}
    )
    assert t.body == "Happy birthday, {name}!" and t.channel == "card"
    services.save_message_template(actor=o.admin, template_id=t.pk, data={"active": False})
    assert t not in selectors.message_templates(o.rep1a, "birthday")
    assert t in selectors.message_templates(o.admin, "birthday", inactive=True)
    with pytest.raises(services.NotFound):
        services.save_message_template(actor=o.admin, template_id=999999, data={"active": False})


@pytest.mark.parametrize(
    "data, field",
    [
        ({"body": "Dear {nmae}, happy birthday"}, "body"),
        ({"body": "Dear {name, happy birthday"}, "body"),
        ({"body": "  "}, "body"),
        ({"channel": "letter"}, "channel"),
        ({"language": "fr"}, "language"),
        ({"occasion": "wedding"}, "occasion"),
    ],
)
def test_a_bad_template_is_refused_naming_the_field(world, data, field):
    base = {"occasion": "birthday", "channel": "message", "language": "zh-hans", "body": "{name}生日快乐"}
    before = list(selectors.message_templates(world.org.admin, inactive=True))
    with pytest.raises(services.ValidationFailed) as e:
        services.save_message_template(actor=world.org.admin, data={**base, **data})
    assert list(e.value.errors) == [field]
    if data.get("body") == "Dear {nmae}, happy birthday":
        assert "{nmae}" in e.value.errors["body"][0]
    assert list(selectors.message_templates(world.org.admin, inactive=True)) == before
    existing = before[0]
    with pytest.raises(services.ValidationFailed):
        services.save_message_template(actor=world.org.admin, template_id=existing.pk, data=data)
    existing.refresh_from_db()
    assert existing.body == before[0].body


def test_care_settings_pages_show_field_errors_in_place(world):
    from django.test import Client
    from django.urls import reverse

    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(world.org.admin)
    assert reverse("engagement:care_settings") in c.get(reverse("engagement:care")).content.decode()
    resp = c.post(reverse("engagement:care_settings"), {"days_ahead": 90, "festival_tiers": ["core"]})
    assert resp.status_code == 200 and 'id="id_days_ahead_errors"' in resp.content.decode()
    resp = c.post(reverse("engagement:care_settings"), {"days_ahead": 14, "festival_tiers": ["core"]})
    assert resp.status_code == 302 and selectors.care_settings().days_ahead == 14
    data = {
        "occasion": "festival",
        "channel": "coupon",
        "language": "en",
        "body": "{occasion}: {discount} off",
    }
    resp = c.post(reverse("engagement:care_template_create"), data)
    body = resp.content.decode()
    assert resp.status_code == 200 and 'id="id_body_errors"' in body and "{discount}" in body
    resp = c.post(
        reverse("engagement:care_template_create"), {**data, "body": "{occasion}: 5% off", "active": "on"}
    )
    assert resp.status_code == 302
    api = Client()
    api.force_login(world.org.admin)
    r = api.patch("/api/v1/care/settings", {"days_ahead": 61}, content_type="application/json")
    assert r.status_code == 422 and "days_ahead" in r.json()["errors"]
    r = api.post(
        "/api/v1/care/templates",
        {"occasion": "birthday", "kind": "card", "language": "en", "body": "Hi {who}"},
        content_type="application/json",
    )
    assert r.status_code == 422 and "body" in r.json()["errors"]
    r = api.patch("/api/v1/care/templates/999999", {"active": False}, content_type="application/json")
    assert r.status_code == 404
