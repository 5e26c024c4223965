"""Cell values as exports write them: dates in the common Chinese and ISO spellings and as Excel
serial numbers, amounts with thousands separators and currency signs, choices by code or label.

Each parser returns the value or raises ``Invalid`` with a message for the error report. The date
parser is memoised by the caller (a file has few distinct dates and many rows).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable

from django.utils import translation
from django.utils.translation import gettext as _

EPOCH = datetime.date(1970, 1, 1)
EXCEL_EPOCH = datetime.date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)
MIN_DATE = datetime.date(1950, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)
MONEY_LIMIT = 1e14


class Invalid(ValueError):
    """A cell that cannot be read as what its column holds; the message is for the report."""


_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[\sT].*)?$")
_SERIAL = re.compile(r"^\d{1,6}(?:\.\d+)?$")


def parse_date(value: object) -> datetime.date:
    """2024-05-20, 2024/5/20, 2024.5.20, 20240520, 2024年5月20日 (a time after it is ignored), an
    Excel serial day (45432) and real date cells."""
    if isinstance(value, datetime.datetime):
        return _plausible(value.date())
    if isinstance(value, datetime.date):
        return _plausible(value)
    if isinstance(value, bool):
        raise Invalid(_("Not a date."))
    if isinstance(value, int | float):
        return _serial(float(value))
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        raise Invalid(_("The date is missing."))
    m = _YMD.match(text) or _COMPACT.match(text)
    if m:
        try:
            return _plausible(datetime.date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            raise Invalid(_("No such day."))
    if _SERIAL.match(text):
        return _serial(float(text))
    raise Invalid(_("Not a date: write it as 2024-05-20."))


def _serial(n: float) -> datetime.date:
    try:
        d = EXCEL_EPOCH + datetime.timedelta(days=int(n))
    except OverflowError:
        raise Invalid(_("Not a date: write it as 2024-05-20."))
    if not MIN_DATE <= d <= MAX_DATE:
        raise Invalid(_("Not a date: write it as 2024-05-20."))
    return d


def _plausible(d: datetime.date) -> datetime.date:
    if not MIN_DATE <= d <= MAX_DATE:
        raise Invalid(_("The date is out of range (1950–2100)."))
    return d


class DateCache(dict):
    """raw cell → (ISO text, day number) or an Invalid; most files have few distinct dates."""

    def __missing__(self, key):
        try:
            d = parse_date(key)
            value: object = (d.isoformat(), (d - EPOCH).days)
        except Invalid as e:
            value = e
        self[key] = value
        return value


_NUMBER_JUNK = re.compile(r"[\s,，¥￥$元]|RMB|CNY", re.IGNORECASE)


def parse_number(value: object) -> float | None:
    """A number as spreadsheets write it (``1,234.50``, ``¥12``, ``(12.00)`` for −12); None when blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise Invalid(_("Not a number."))
    if isinstance(value, int | float):
        x = float(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            x = float(text)
        except ValueError:
            text = _NUMBER_JUNK.sub("", unicodedata.normalize("NFKC", text))
            negative = text.startswith("(") and text.endswith(")")
            if negative:
                text = text[1:-1]
            try:
                x = float(text)
            except ValueError:
                raise Invalid(_("Not a number."))
            if negative:
                x = -x
    if x - x != 0:  # nan or infinite
        raise Invalid(_("Not a number."))
    if abs(x) >= MONEY_LIMIT:
        raise Invalid(_("This number is too large."))
    return x


_TRUE = {"1", "y", "yes", "true", "t", "是", "对", "√", "✓", "✔", "x"}
_FALSE = {"0", "n", "no", "false", "f", "否", "不是", "×", "-"}


def parse_bool(value: object) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(_("Write yes or no (是/否)."))


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(text or "")).lower())


def choice_index(choices: Iterable[tuple[str, object]]) -> dict[str, str]:
    """Every way a choice may be written → its code: the code, the English and Chinese labels, and
    each part of a label like ``Direct sales (直销)``."""
    index: dict[str, str] = {}
    for code, label in choices:
        names = {code}
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                text = str(label)
            names.add(text)
            m = re.match(r"^(.*?)\s*[(（](.*?)[)）]\s*$", text)
            if m:
                names.update({m[1], m[2]})
        for name in names:
            if _norm(name):
                index.setdefault(_norm(name), code)
    return index


def parse_choice(value: object, index: dict[str, str]) -> str | None:
    text = _norm(value)
    if not text:
        return None
    if text in index:
        return index[text]
    raise Invalid(_("Not one of the allowed values."))
