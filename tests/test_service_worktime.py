"""Working-time arithmetic on the official Chinese calendar (C8 SLAs): properties (hypothesis) and
the published 2025/2026 holidays with their adjusted working days (调休)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.service.worktime import WorkCalendar, library_knows

D = datetime.date
DT = datetime.datetime
H = datetime.timedelta(hours=1)

starts = st.datetimes(min_value=DT(2024, 1, 1), max_value=DT(2026, 10, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)
amounts = st.integers(min_value=0, max_value=9 * 60 * 40).map(lambda m: datetime.timedelta(minutes=m))


def cal(**kw) -> WorkCalendar:
    return WorkCalendar(**kw)


@settings(max_examples=150, deadline=None)
@given(start=starts, amount=amounts)
def test_adding_then_measuring_gives_the_amount(start, amount):
    c = cal()
    due = c.add(start, amount)
    assert c.between(start, due) == amount
    assert due >= start


@settings(max_examples=150, deadline=None)
@given(start=starts, amount=amounts)
def test_a_deadline_is_always_inside_working_time(start, amount):
    c = cal()
    due = c.add(start, amount)
    assert c.is_workday(due.date())
    assert datetime.time(9, 0) <= due.time() <= datetime.time(18, 0)


@settings(max_examples=80, deadline=None)
@given(start=starts, a=amounts, b=amounts)
def test_adding_is_additive(start, a, b):
    c = cal()
    assert c.add(c.add(start, a), b) == c.add(start, a + b)


@settings(max_examples=60, deadline=None)
@given(start=starts, amount=amounts)
def test_other_working_days_hold_too(start, amount):
    c = cal(start=datetime.time(8, 30), end=datetime.time(17, 30))
    due = c.add(start, amount)
    assert c.between(start, due) == amount
    assert datetime.time(8, 30) <= due.time() <= datetime.time(17, 30)


def test_national_day_2025_is_skipped_and_its_saturday_worked():
    c = cal()
    for day in range(1, 9):
        assert not c.is_workday(D(2025, 10, day)), day
    assert c.is_workday(D(2025, 9, 28))  # a Sunday, worked (调休)
    assert c.is_workday(D(2025, 10, 11))  # a Saturday, worked (调休)
    # 3 working days from Tuesday 30 September 10:00: 30 Sep (8h), 9 Oct (9h), 10 Oct (9h) → 11 Oct 10:00
    due = c.add_working_days(DT(2025, 9, 30, 10, 0), 3)
    assert due == DT(2025, 10, 11, 10, 0)
    # the adjusted Sunday before counts
    assert c.add(DT(2025, 9, 26, 17, 0), 2 * H) == DT(2025, 9, 28, 10, 0)


def test_spring_festival_2026():
    c = cal()
    for day in range(15, 24):
        assert not c.is_workday(D(2026, 2, day)), day
    assert c.is_workday(D(2026, 2, 14))  # Saturday, worked
    assert c.is_workday(D(2026, 2, 28))  # Saturday, worked
    # Friday 13 Feb 17:00 + 2 working hours: 1h on Friday, then Saturday 14 Feb (worked) 10:00
    assert c.add(DT(2026, 2, 13, 17, 0), 2 * H) == DT(2026, 2, 14, 10, 0)
    # Saturday 14 Feb 17:00 + 2h: the holiday week is skipped → Tuesday 24 Feb 10:00
    assert c.add(DT(2026, 2, 14, 17, 0), 2 * H) == DT(2026, 2, 24, 10, 0)


def test_spring_festival_2025_and_an_ordinary_weekend():
    c = cal()
    for day in (28, 29, 30, 31):
        assert not c.is_workday(D(2025, 1, day))
    assert c.is_workday(D(2025, 1, 26))  # Sunday, worked
    assert c.is_workday(D(2025, 2, 8))  # Saturday, worked
    # an ordinary weekend: Friday 7 March 2025 16:00 + 4h → Monday 10 March 11:00
    assert c.add(DT(2025, 3, 7, 16, 0), 4 * H) == DT(2025, 3, 10, 11, 0)
    assert c.between(DT(2025, 3, 7, 16, 0), DT(2025, 3, 10, 11, 0)) == 4 * H


def test_outside_hours_a_clock_starts_at_the_next_working_moment():
    c = cal()
    assert c.add(DT(2025, 3, 10, 20, 0), datetime.timedelta(0)) == DT(2025, 3, 11, 9, 0)
    assert c.add(DT(2025, 3, 10, 7, 0), H) == DT(2025, 3, 10, 10, 0)
    assert c.add(DT(2025, 3, 10, 17, 0), H) == DT(2025, 3, 10, 18, 0)


def test_a_year_the_library_does_not_know_is_reported_and_counts_weekends_only():
    assert library_knows(2026)
    assert not library_knows(2099)
    c = cal()
    # 1 January 2099 is a Thursday: without the calendar it is an ordinary working day
    assert c.is_workday(D(2099, 1, 1))
    assert not c.is_workday(D(2099, 1, 3))  # Saturday
    assert c.unknown_years == {2099}


def test_days_entered_by_hand_override_and_complete_a_year():
    c = cal(manual_days={D(2099, 1, 1): False, D(2099, 1, 3): True}, manual_years={2099})
    assert not c.is_workday(D(2099, 1, 1))
    assert c.is_workday(D(2099, 1, 3))
    assert c.is_workday(D(2099, 1, 5))
    assert c.unknown_years == set()


def test_negative_or_impossible_input_is_refused():
    with pytest.raises(ValueError):
        cal().add(DT(2025, 1, 1), -H)
    with pytest.raises(ValueError):
        WorkCalendar(start=datetime.time(18, 0), end=datetime.time(9, 0))
