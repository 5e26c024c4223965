"""Template filters of the analytics pages: shares as percentages, per locale."""

from __future__ import annotations

from django import template
from django.utils import formats

register = template.Library()

EMPTY = "—"


@register.filter
def percent(value, decimals: int = 1):
    """A share (0.1234) as a percentage per locale (12.3%); empty → an em dash."""
    if value in (None, ""):
        return EMPTY
    try:
        value = float(value) * 100.0
    except (TypeError, ValueError):
        return value
    return formats.number_format(round(value, int(decimals)), int(decimals), use_l10n=True) + "%"


@register.filter
def bar_width(value) -> str:
    """A share (0..1) as a CSS width percentage, clipped, with a dot as the decimal mark."""
    try:
        v = max(0.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        v = 0.0
    return f"{100 * v:.1f}%"
