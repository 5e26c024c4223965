"""Dates of customer care (C7): birthdays in the solar or lunar calendar, anniversaries, festivals.

Lunar dates use the maintained ``lunar-python`` package. A lunar birthday falls on a different solar
date every year; a birthday in a leap month (闰月) falls in the ordinary month of the same number in
years without that leap month, and day 30 falls on day 29 in a month that has only 29 days.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from lunar_python import Lunar, LunarYear

# (key, label, month, day): lunar festivals by the lunar date; solar ones by the Gregorian date
LUNAR_FESTIVALS = [
    ("spring", _("Spring Festival (春节)"), 1, 1),
    ("lantern", _("Lantern Festival (元宵节)"), 1, 15),
    ("dragon_boat", _("Dragon Boat Festival (端午节)"), 5, 5),
    ("qixi", _("Qixi Festival (七夕)"), 7, 7),
    ("mid_autumn", _("Mid-Autumn Festival (中秋节)"), 8, 15),
    ("double_ninth", _("Double Ninth Festival (重阳节)"), 9, 9),
]
SOLAR_FESTIVALS = [
    ("new_year", _("New Year's Day (元旦)"), 1, 1),
    ("womens_day", _("Women's Day (妇女节)"), 3, 8),
    ("labour_day", _("Labour Day (劳动节)"), 5, 1),
    ("teachers_day", _("Teachers' Day (教师节)"), 9, 10),
    ("national_day", _("National Day (国庆节)"), 10, 1),
]
GREETED_FESTIVALS = {
    "spring",
    "lantern",
    "dragon_boat",
    "mid_autumn",
    "double_ninth",
    "new_year",
    "national_day",
}


@functools.lru_cache(maxsize=8192)
def lunar_to_solar(year: int, month: int, day: int, leap: bool = False) -> datetime.date:
    """The solar date of lunar ``month``/``day`` in lunar year ``year`` (leap month if it exists).
    Cached: the conversion costs milliseconds and Today runs it for every contact with a birthday."""
    ly = LunarYear.fromYear(year)
    m = -month if leap and ly.getLeapMonth() == month else month
    days = ly.getMonth(m).getDayCount()
    solar = Lunar.fromYmd(year, m, min(day, days)).getSolar()
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())


def solar_date(year: int, month: int, day: int) -> datetime.date:
    """A solar month/day in ``year``; 29 February falls on 28 February in common years."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return datetime.date(year, month, 28)


def birthday_on(
    calendar: str, month: int | None, day: int | None, leap: bool, year: int
) -> list[datetime.date]:
    """The solar dates of a birthday falling in solar ``year`` (a lunar date can fall twice or never
    in one solar year, so a list)."""
    if not month or not day:
        return []
    if calendar == "lunar":
        out = []
        for ly in (year - 1, year):
            d = lunar_to_solar(ly, month, day, leap)
            if d.year == year:
                out.append(d)
        return out
    return [solar_date(year, month, day)]


def festivals(year: int) -> list[tuple[str, str, datetime.date]]:
    """Every festival falling in solar ``year``: (key, label, date), by date."""
    out = []
    for key, label, m, d in LUNAR_FESTIVALS:
        for ly in (year - 1, year):
            day = lunar_to_solar(ly, m, d)
            if day.year == year:
                out.append((key, str(label), day))
    for key, label, m, d in SOLAR_FESTIVALS:
        out.append((key, str(label), datetime.date(year, m, d)))
    return sorted(out, key=lambda t: t[2])


@dataclass(frozen=True)
class Occurrence:
    day: datetime.date
    occasion: str  # birthday / anniversary / festival
    title: str
    contact_id: int | None = None
    key: str = ""


def between(start: datetime.date, end: datetime.date, fn) -> list[datetime.date]:
    """Dates ``fn(year)`` yields within [start, end]."""
    out = []
    for year in range(start.year, end.year + 1):
        out.extend(d for d in fn(year) if start <= d <= end)
    return sorted(out)


def contact_occasions(contact, start: datetime.date, end: datetime.date) -> list[Occurrence]:
    """Birthdays and anniversaries of ``contact`` within [start, end]."""
    from guanxi.customers.services import parse_anniversaries

    out = []
    cal = contact.birthday_calendar or "solar"
    for d in between(
        start,
        end,
        lambda y: birthday_on(
            cal, contact.birthday_month, contact.birthday_day, contact.birthday_leap_month, y
        ),
    ):
        out.append(Occurrence(d, "birthday", str(_("Birthday")), contact.pk, f"birthday:{contact.pk}:{d}"))
    try:
        anniversaries = parse_anniversaries(contact.anniversaries or "")
    except Exception:  # noqa: BLE001 - a malformed line never breaks the care list
        anniversaries = []
    for first, what in anniversaries:
        for d in between(start, end, lambda y, f=first: [solar_date(y, f.month, f.day)]):
            if d > first:
                title = f"{what} ({d.year - first.year})" if what else str(_("Anniversary"))
                out.append(Occurrence(d, "anniversary", title, contact.pk, f"anniv:{contact.pk}:{first}:{d}"))
    return out


def festival_occasions(start: datetime.date, end: datetime.date) -> list[Occurrence]:
    out = []
    for year in range(start.year, end.year + 1):
        for key, label, d in festivals(year):
            if key in GREETED_FESTIVALS and start <= d <= end:
                out.append(Occurrence(d, "festival", label, None, f"festival:{key}:{d}"))
    return out
