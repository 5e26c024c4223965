"""Writes of the organisation: tokens, users, departments, teams, deputies."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed

from .models import ApiToken, Department, Deputy, Role, Team, User


def create_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for ``user``; returns the record and the secret, which is shown only once."""
    key = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name[:100], key_hash=ApiToken.hash(key), prefix=key[:8])
    return token, key


def revoke_token(*, actor: User, token_id: int) -> None:
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None or (token.user_id != actor.pk and not actor.is_admin):
        raise NotFound()
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


def set_user_placement(*, actor: User, user_id: int, department_id: int | None, team_id: int | None,
                       role: str | None = None) -> User:  # fmt: skip
    """Move a user to a department/team (and role); their customers' department and team follow."""
    from guanxi.customers.models import Customer

    if not actor.is_admin:
        raise Forbidden()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound()
        errors: dict[str, list[str]] = {}
        team = Team.objects.filter(pk=team_id).first() if team_id else None
        if team_id and team is None:
            errors["team"] = [_("No such team.")]
        if department_id and not Department.objects.filter(pk=department_id).exists():
            errors["department"] = [_("No such department.")]
        if team and department_id and team.department_id != int(department_id):
            errors["team"] = [_("The team belongs to another department.")]
        if role is not None and role not in Role.values:
            errors["role"] = [_("Unknown role.")]
        if errors:
            raise ValidationFailed(errors)
        user.department_id = department_id or (team.department_id if team else None)
        user.team = team
        if role:
            user.role = role
        user.save()
        Customer.objects.filter(owner=user).update(department_id=user.department_id, team_id=user.team_id)
    return user


def add_deputy(*, actor: User, absent_id: int, deputy_id: int, starts_on: datetime.date,
               ends_on: datetime.date, note: str = "") -> Deputy:  # fmt: skip
    """A deputy covers an absent account manager; set by an administrator or their manager."""
    absent = User.objects.filter(pk=absent_id).first()
    deputy = User.objects.filter(pk=deputy_id, is_active=True).first()
    errors: dict[str, Any] = {}
    if absent is None:
        errors["absent"] = [_("No such user.")]
    if deputy is None:
        errors["deputy"] = [_("No such active user.")]
    if absent and deputy and absent.pk == deputy.pk:
        errors["deputy"] = [_("A user cannot deputise for themselves.")]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("The end is before the start.")]
    if errors:
        raise ValidationFailed(errors)
    if not (actor.is_admin or (actor.role == Role.MANAGER and actor.department_id == absent.department_id)):
        raise Forbidden()
    return Deputy.objects.create(absent=absent, deputy=deputy, starts_on=starts_on, ends_on=ends_on, note=note)
