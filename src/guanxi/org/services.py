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
    return Deputy.objects.create(
        absent=absent, deputy=deputy, starts_on=starts_on, ends_on=ends_on, note=note
    )


# --- administration of people and structure (administrators) --------------------------------------

USER_FIELDS = {"username", "display_name", "email", "phone", "role", "department", "team", "is_active"}


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Only an administrator manages users and the organisation."))


def _placement_errors(data: dict[str, Any], errors: dict[str, list[str]]) -> tuple[Any, Any]:
    dept = team = None
    if data.get("department"):
        dept = Department.objects.filter(pk=data["department"]).first()
        if dept is None:
            errors["department"] = [_("No such department.")]
    if data.get("team"):
        team = Team.objects.filter(pk=data["team"]).first()
        if team is None:
            errors["team"] = [_("No such team.")]
        elif dept is None:
            dept = team.department
        elif team.department_id != dept.pk:
            errors["team"] = [_("The team belongs to another department.")]
    if "role" in data and data["role"] not in Role.values:
        errors["role"] = [_("Unknown role.")]
    return dept, team


def create_user(*, actor: User, data: dict[str, Any], password: str) -> User:
    """A new user with a role and a place in the organisation (administrators only)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    _require_admin(actor)
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise ValidationFailed({k: [_("Unknown field.")] for k in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    username = (data.get("username") or "").strip()
    if not username:
        errors["username"] = [_("This field is required.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken.")]
    dept, team = _placement_errors(data, errors)
    user = User(
        username=username,
        display_name=(data.get("display_name") or "").strip(),
        email=(data.get("email") or "").strip(),
        phone=(data.get("phone") or "").strip(),
        role=data.get("role") or Role.ACCOUNT_MANAGER,
        department=dept,
        team=team,
        is_active=data.get("is_active", True),
    )
    try:
        validate_password(password, user)
    except ValidationError as e:
        errors["password"] = list(e.messages)
    try:
        user.full_clean(exclude=["password", *errors])
    except ValidationError as e:
        for k, v in e.message_dict.items():
            errors.setdefault(k, []).extend(v)
    if errors:
        raise ValidationFailed(errors)
    user.set_password(password)
    user.save()
    return user


def update_user(*, actor: User, user_id: int, data: dict[str, Any]) -> User:
    """Change a user's role, placement, contact details or active state; the department and team of
    the customers they own follow them."""
    from django.core.exceptions import ValidationError

    from guanxi.customers.models import Customer

    _require_admin(actor)
    unknown = set(data) - (USER_FIELDS - {"username"})
    if unknown:
        raise ValidationFailed({k: [_("Unknown field.")] for k in sorted(unknown)})
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound()
        errors: dict[str, list[str]] = {}
        merged = {"department": user.department_id, "team": user.team_id, **data}
        dept, team = _placement_errors(merged, errors)
        if user.pk == actor.pk and (
            data.get("is_active") is False or data.get("role", Role.ADMIN) != Role.ADMIN
        ):
            if not user.is_superuser:
                errors["role"] = [_("You cannot remove your own administrator rights.")]
        if errors:
            raise ValidationFailed(errors)
        for k in ("display_name", "email", "phone", "role", "is_active"):
            if k in data:
                setattr(user, k, data[k])
        user.department, user.team = dept, team
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as e:
            raise ValidationFailed.from_django(e)
        user.save()
        Customer.objects.filter(owner=user).update(department_id=user.department_id, team_id=user.team_id)
    return user


def create_department(*, actor: User, name: str, kind: str, duties: str = "") -> Department:
    _require_admin(actor)
    from django.core.exceptions import ValidationError

    dept = Department(name=(name or "").strip(), kind=kind, duties=duties or "")
    try:
        dept.full_clean()
    except ValidationError as e:
        raise ValidationFailed.from_django(e)
    dept.save()
    return dept


def create_team(*, actor: User, name: str, department_id: int) -> Team:
    _require_admin(actor)
    from django.core.exceptions import ValidationError

    dept = Department.objects.filter(pk=department_id).first()
    if dept is None:
        raise ValidationFailed.one("department", _("No such department."))
    team = Team(name=(name or "").strip(), department=dept)
    try:
        team.full_clean()
    except ValidationError as e:
        raise ValidationFailed.from_django(e)
    team.save()
    return team
