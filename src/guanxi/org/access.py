"""Row-level access: the one road to rows.

Every read path (list, detail, search, API, export, analytics drill-down) starts from
``scope(user, queryset, action)``. Each app registers one rule per model at startup (in its
``apps.py``); a model without a rule is visible to administrators only, so a new model cannot leak
by being forgotten.

A rule is ``rule(user, action) -> Q | ALL | NONE``. Actions:

- ``view``           read the row
- ``change``         edit it
- ``delete``         delete it
- ``export``         include it in an export file
- ``view_personal``  see the sensitive personal fields of a contact (PIPL)
- ``view_finance``   see what we sell and lend the customer: credit limit, payment terms, revenue
- ``aggregate``      count it in aggregate figures (analysts)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from .models import Deputy, Role

ACTIONS = ("view", "change", "delete", "export", "view_personal", "view_finance", "aggregate")


class _Everything:
    def __repr__(self) -> str:
        return "ALL"


class _Nothing:
    def __repr__(self) -> str:
        return "NONE"


ALL = _Everything()
NONE = _Nothing()

Rule = Callable[[Any, str], "Q | _Everything | _Nothing"]
_rules: dict[type[Model], Rule] = {}


def register(model: type[Model], rule: Rule) -> None:
    """Register the access rule of ``model`` (called from an app's ``ready()``)."""
    _rules[model] = rule


def registered_models() -> list[type[Model]]:
    return list(_rules)


def scope(user, queryset: QuerySet | type[Model], action: str = "view") -> QuerySet:
    """Restrict ``queryset`` to the rows ``user`` may ``action``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    qs = queryset if isinstance(queryset, QuerySet) else queryset.objects.all()
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if getattr(user, "is_admin", False):
        return qs
    rule = _rules.get(qs.model)
    if rule is None:
        return qs.none()
    condition = rule(user, action)
    if condition is ALL:
        return qs
    if condition is NONE:
        return qs.none()
    return qs.filter(condition)


def can(user, obj: Model, action: str) -> bool:
    """Whether ``user`` may ``action`` this one object (the same rule as ``scope``)."""
    return scope(user, type(obj).objects.filter(pk=obj.pk), action).exists()


def covered_user_ids(user, on: datetime.date | None = None) -> list[int]:
    """The user plus every account manager the user deputises for today."""
    on = on or timezone.localdate()
    absent = Deputy.objects.filter(deputy=user, starts_on__lte=on, ends_on__gte=on).values_list(
        "absent_id", flat=True
    )
    return [user.pk, *absent]


def is_role(user, *roles: str) -> bool:
    return bool(user and user.is_authenticated and (user.is_admin or user.role in roles))


def role_of(user) -> str:
    return Role.ADMIN if user.is_admin else user.role
