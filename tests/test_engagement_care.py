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
