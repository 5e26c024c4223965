"""Reads of the organisation. People, departments and teams are visible to every signed-in user
(names and roles only, no personal data); inactive users only to administrators."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Department, Deputy, Team, User


def people(user: User, *, q: str = "", role: str = "", department_id: int | None = None) -> QuerySet:
    if not (user and user.is_authenticated):
        return User.objects.none()
    qs = User.objects.select_related("department", "team")
    if not user.is_admin:
        qs = qs.filter(is_active=True)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if role:
        qs = qs.filter(role=role)
    if department_id:
        qs = qs.filter(department_id=department_id)
    return qs.order_by("department__name", "team__name", "username")


def departments(user: User) -> QuerySet:
    if not (user and user.is_authenticated):
        return Department.objects.none()
    return Department.objects.order_by("name")


def teams(user: User, *, department_id: int | None = None) -> QuerySet:
    if not (user and user.is_authenticated):
        return Team.objects.none()
    qs = Team.objects.select_related("department")
    if department_id:
        qs = qs.filter(department_id=department_id)
    return qs.order_by("department__name", "name")


def deputies(user: User, *, current_only: bool = True) -> QuerySet:
    if not (user and user.is_authenticated):
        return Deputy.objects.none()
    qs = Deputy.objects.select_related("absent", "deputy")
    if current_only:
        today = timezone.localdate()
        qs = qs.filter(ends_on__gte=today)
    return qs.order_by("starts_on")


# --- look-ups for the web UI's filters, forms and the audit trail ---------------------------------


def active_users(user: User) -> QuerySet:
    """Active users (for account-team pickers and filters): names and roles only."""
    if not (user and user.is_authenticated):
        return User.objects.none()
    return User.objects.filter(is_active=True).order_by("username")


def names_of(model_name: str, ids) -> dict[int, str]:
    """Display names of users, departments or teams by id (the audit trail stores ids)."""
    model = {"user": User, "department": Department, "team": Team}[model_name]
    ids = {int(i) for i in ids if str(i).isdigit()}
    if not ids:
        return {}
    return {obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)}


def tokens_of(user: User) -> QuerySet:
    """The user's own API tokens, newest first (only a prefix of each is stored in clear)."""
    from .models import ApiToken

    if not (user and user.is_authenticated):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")
