"""Working time on the official Chinese calendar (法定节假日 and 调休 adjusted working days).

The holidays come from the maintained ``chinese_calendar`` package; an administrator may enter a
year the package does not know yet (ManualYear/ManualDay) or correct a day. A date in a year that
neither knows is never treated silently as ordinary: the calendar reports it in ``unknown_years``
and counts weekends only for it.

Arithmetic runs on local wall-clock time (China has no daylight saving time).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import chinese_calendar

ONE_DAY = datetime.timedelta(days=1)


def library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass
class WorkCalendar:
    start: datetime.time = datetime.time(9, 0)
    end: datetime.time = datetime.time(18, 0)
    manual_days: dict[datetime.date, bool] = field(default_factory=dict)
    manual_years: set[int] = field(default_factory=set)  # years entered completely by hand
    unknown_years: set[int] = field(default_factory=set)  # filled as dates are looked at

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError("the working day must end after it starts")
        self._cache: dict[datetime.date, bool] = {}

    @property
    def day_length(self) -> datetime.timedelta:
        s = datetime.datetime.combine(datetime.date.min, self.start)
        e = datetime.datetime.combine(datetime.date.min, self.end)
        return e - s

    def is_workday(self, day: datetime.date) -> bool:
        if day in self._cache:
            return self._cache[day]
        if day in self.manual_days:
            result = self.manual_days[day]
        elif day.year in self.manual_years:
            result = day.weekday() < 5
        else:
            try:
                result = chinese_calendar.is_workday(day)
            except NotImplementedError:
                self.unknown_years.add(day.year)
                result = day.weekday() < 5
        self._cache[day] = result
        return result

    def _window(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        return datetime.datetime.combine(day, self.start), datetime.datetime.combine(day, self.end)

    def add(self, start: datetime.datetime, amount: datetime.timedelta) -> datetime.datetime:
        """The moment ``amount`` of working time after ``start`` (naive local datetimes). The result
        is always inside working time (a window's end counts as inside)."""
        if amount < datetime.timedelta(0):
            raise ValueError("negative working time")
        remaining = amount
        day = start.date()
        for _ in range(20000):  # more than fifty years: a calendar with no working day is a bug
            if self.is_workday(day):
                w_start, w_end = self._window(day)
                begin = max(start, w_start)
                if begin <= w_end:
                    available = w_end - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += ONE_DAY
        raise ValueError("no working day found")

    def between(self, a: datetime.datetime, b: datetime.datetime) -> datetime.timedelta:
        """Working time from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
        total = datetime.timedelta(0)
        if b <= a:
            return total
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                w_start, w_end = self._window(day)
                lo, hi = max(a, w_start), min(b, w_end)
                if hi > lo:
                    total += hi - lo
            day += ONE_DAY
        return total

    def add_working_days(self, start: datetime.datetime, days: int) -> datetime.datetime:
        return self.add(start, self.day_length * days)
