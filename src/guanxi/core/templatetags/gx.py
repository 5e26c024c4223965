"""Small template helpers shared by every page: money and numbers per locale, form widgets with
their error state, sortable column headers, and values of the audit trail."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

register = template.Library()

EMPTY = "—"


def _rounded(value: Decimal, decimals) -> Decimal:
    from decimal import ROUND_HALF_UP

    return value.quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)


@register.filter
def money(value, decimals: int = 0):
    """``1234567.5`` → ``¥1,234,568`` (grouped per locale); empty → an em dash."""
    if value in (None, ""):
        return EMPTY
    try:
        value = Decimal(value)
    except Exception:
        return value
    if not value.is_finite():
        return EMPTY
    value = _rounded(value, decimals)  # Django's number_format cuts the digits off; money rounds
    sign = "-" if value < 0 else ""  # a return: -¥8,200, not ¥-8,200
    return sign + "¥" + formats.number_format(abs(value), int(decimals), use_l10n=True, force_grouping=True)


@register.filter
def num(value, decimals: int = 0):
    """A number grouped by thousands per locale; empty → an em dash."""
    if value in (None, ""):
        return EMPTY
    try:
        value = Decimal(value)
    except Exception:
        return value
    return formats.number_format(value, int(decimals), use_l10n=True, force_grouping=True)


@register.filter
def pct(value, decimals: int = 0):
    if value in (None, ""):
        return EMPTY
    value = Decimal(value)
    sign = "+" if value > 0 else ""
    return sign + formats.number_format(value, int(decimals), use_l10n=True, force_grouping=True) + "%"


@register.filter
def audit_value(value):
    """A value as the audit trail shows it: empty, yes/no, dates and numbers per locale."""
    if value is None or value == "":
        return EMPTY
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal | float):
        return formats.number_format(value, None, use_l10n=True, force_grouping=True)
    return value


@register.filter
def widget(bound_field, extra_class: str = ""):
    """Render a form field's widget with Bootstrap's ``is-invalid`` when the field has errors."""
    attrs = dict(bound_field.field.widget.attrs)
    cls = " ".join(c for c in (attrs.get("class", ""), extra_class) if c)
    if bound_field.errors:
        cls += " is-invalid"
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{bound_field.auto_id}_errors"
    attrs["class"] = cls.strip()
    return bound_field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(bound_field) -> bool:
    return getattr(bound_field.field.widget, "input_type", "") == "checkbox" and not getattr(
        bound_field.field.widget, "allow_multiple_selected", False
    )


@register.filter
def is_multi_checkbox(bound_field) -> bool:
    return bound_field.field.widget.__class__.__name__ == "CheckboxSelectMultiple"


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


def _query(params) -> str:
    """``?a=1&b=2`` from a QueryDict, leaving out empty values (filters not in use)."""
    pairs = [(k, [v for v in vs if v != ""]) for k, vs in sorted(params.lists())]
    pairs = [(k, vs) for k, vs in pairs if vs]
    return "?" + urlencode(pairs, doseq=True) if pairs else "?"


@register.simple_tag(takes_context=True)
def url_with(context, **changes) -> str:
    """The current query string with ``changes`` applied (None removes a key), starting with ``?``."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return _query(params)


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label, css: str = ""):
    """A column header that sorts by ``key`` (click again to reverse), keeping every filter."""
    page = context["page"]
    request = context["request"]
    active = page.sort == key
    descending = active and page.descending
    target = key if (not active or descending) else "-" + key
    params = request.GET.copy()
    params["sort"] = target
    params.pop("offset", None)
    href = _query(params)
    if active:
        icon = "bi-sort-down" if descending else "bi-sort-up"
        aria = "descending" if descending else "ascending"
    else:
        icon, aria = "bi-arrow-down-up opacity-25", "none"
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a class="sort-link{}" href="{}" hx-get="{}">'
        '{} <i class="bi {}" aria-hidden="true"></i></a></th>',
        css,
        aria,
        " active" if active else "",
        href,
        href,
        label,
        icon,
    )
