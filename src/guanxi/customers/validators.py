"""Field validation of customer and contact data. Each raises a ValidationError naming the problem."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import uscc


def normalize_credit_code(value: str | None) -> str | None:
    """Validate a unified social credit code (统一社会信用代码) with its check character.

    Returns the canonical upper-case form, or None for an empty value.
    """
    if value is None:
        return None
    value = uscc.compact(value)
    if not value:
        return None
    try:
        return uscc.validate(value)
    except Exception as exc:  # stdnum raises InvalidFormat / InvalidChecksum / InvalidLength
        name = type(exc).__name__
        if name == "InvalidChecksum":
            raise ValidationError(_("The check character of this credit code is wrong."), code="checksum")
        if name == "InvalidLength":
            raise ValidationError(_("A unified social credit code has 18 characters."), code="length")
        raise ValidationError(_("This is not a valid unified social credit code."), code="format")


_PHONE_CHARS = re.compile(r"^[0-9+\-() ]+(?:(?:ext|转|x)\s*\d{1,6})?$", re.IGNORECASE)


def normalize_phone(value: str | None) -> str:
    """Validate a phone number (Chinese mobile or landline, or an international number).

    Mobiles are stored as 11 digits (13812345678), landlines as area code - number (010-12345678),
    foreign numbers in E.164 (+44…). Service numbers such as 400/800 are accepted.
    """
    value = (value or "").strip()
    if not value:
        return ""
    if not _PHONE_CHARS.match(value):
        raise ValidationError(_("A phone number may contain digits, spaces, +, - and brackets only."))
    ext = ""
    m = re.search(r"(?:ext|转|x)\s*(\d{1,6})$", value, re.IGNORECASE)
    if m:
        ext = m.group(1)
        value = value[: m.start()].strip()
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a valid phone number."))
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This is not a valid phone number."))
    if number.country_code == 86:
        national = str(number.national_number)
        ntype = phonenumbers.number_type(number)
        if ntype in (phonenumbers.PhoneNumberType.MOBILE,) or (len(national) == 11 and national[0] == "1"):
            out = national
        elif national.startswith(("400", "800")):
            out = national
        else:
            area = phonenumbers.length_of_geographical_area_code(number) or 3
            out = f"0{national[:area]}-{national[area:]}"
    else:
        out = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{out} ext {ext}" if ext else out


def phone_digits(value: str) -> str:
    """Digits of a stored phone, without extension, for searching."""
    return re.sub(r"\D", "", (value or "").split(" ext ")[0])
