"""Money and numbers as users read them: grouped per locale, returns with the sign before ¥."""

from decimal import Decimal

from django.utils import translation

from guanxi.core.templatetags.gx import money


def test_money_groups_and_puts_the_sign_first():
    with translation.override("en"):
        assert money(Decimal("1234567.6")) == "¥1,234,568"
        assert money(Decimal("-8200"), 2) == "-¥8,200.00"
        assert money(0) == "¥0"
        assert money(None) == money("") == money(float("nan"))
