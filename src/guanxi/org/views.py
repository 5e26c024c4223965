"""Pages of the organisation (C16): who works where, and the user's own API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.core.forms import apply_errors

from . import selectors, services
from .forms import DepartmentForm, DeputyForm, TeamForm, UserForm


@login_required
def people(request):
    user = request.user
    departments = list(selectors.departments(user))
    teams = list(selectors.teams(user))
    members = list(selectors.people(user))
    by_department = []
    for d in departments:
        d_teams = [t for t in teams if t.department_id == d.pk]
        by_department.append(
            {
                "department": d,
                "teams": [{"team": t, "members": [u for u in members if u.team_id == t.pk]} for t in d_teams],
                "without_team": [u for u in members if u.department_id == d.pk and not u.team_id],
                "count": sum(1 for u in members if u.department_id == d.pk),
            }
        )
    ctx = {
        "departments": by_department,
        "unplaced": [u for u in members if not u.department_id],
        "members": members,
        "deputies": list(selectors.deputies(user)),
    }
    return render(request, "org/people.html", ctx)


@login_required
def tokens(request):
    user = request.user
    secret = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        _token, secret = services.create_token(user=user, name=name)
        messages.success(request, _("Token created. Copy it now: it is not shown again."))
    return render(request, "org/tokens.html", {"tokens": selectors.tokens_of(user), "secret": secret})


@login_required
@require_POST
def revoke_token(request, pk: int):
    try:
        services.revoke_token(actor=request.user, token_id=pk)
    except NotFound:
        raise Http404()
    messages.success(request, _("Token revoked. Programs using it can no longer sign in."))
    return redirect("org:tokens")


# --- administration: people, departments, teams, deputies -----------------------------------------


def _admin_only(user) -> None:
    if not user.is_admin:
        raise Http404()


def _form_page(request, form, title: str, subtitle: str = ""):
    return render(request, "org/form.html", {"form": form, "title": title, "subtitle": subtitle})


@login_required
def user_create(request):
    _admin_only(request.user)
    kwargs = {"departments": selectors.departments(request.user), "teams": selectors.teams(request.user)}
    form = UserForm(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "password"}
        data["department"] = data["department"].pk if data["department"] else None
        data["team"] = data["team"].pk if data["team"] else None
        try:
            user = services.create_user(actor=request.user, data=data, password=form.cleaned_data["password"])
        except ValidationFailed as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user})
            return redirect("org:people")
    return _form_page(request, form, _("New user"))


@login_required
def user_edit(request, pk: int):
    _admin_only(request.user)
    target = selectors.people(request.user).filter(pk=pk).first()
    if target is None:
        raise Http404()
    kwargs = {
        "departments": selectors.departments(request.user),
        "teams": selectors.teams(request.user),
        "editing": True,
    }
    initial = {
        "username": target.username, "display_name": target.display_name, "email": target.email,
        "phone": target.phone, "role": target.role, "department": target.department_id,
        "team": target.team_id, "is_active": target.is_active,
    }  # fmt: skip
    form = UserForm(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "username"}
        data["department"] = data["department"].pk if data["department"] else None
        data["team"] = data["team"].pk if data["team"] else None
        try:
            services.update_user(actor=request.user, user_id=target.pk, data=data)
        except ValidationFailed as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("%(name)s saved; their customers follow them.") % {"name": target})
            return redirect("org:people")
    return _form_page(request, form, _("Edit %(name)s") % {"name": target}, target.username)


@login_required
def deputy_create(request):
    user = request.user
    if not (user.is_admin or user.role == "manager"):
        raise Http404()
    people_qs = selectors.people(user).filter(is_active=True)
    form = DeputyForm(request.POST or None, people=people_qs)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.add_deputy(
                actor=user, absent_id=d["absent"].pk, deputy_id=d["deputy"].pk, starts_on=d["starts_on"],
                ends_on=d["ends_on"], note=d["note"],
            )  # fmt: skip
        except ValidationFailed as e:
            apply_errors(form, e)
        except Forbidden as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Deputy recorded."))
            return redirect("org:people")
    return _form_page(
        request, form, _("New deputy"), _("A deputy sees and serves the absent account manager's customers.")
    )


@login_required
def department_create(request):
    _admin_only(request.user)
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_department(actor=request.user, **form.cleaned_data)
        except ValidationFailed as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("Department created."))
            return redirect("org:people")
    return _form_page(request, form, _("New department"))


@login_required
def team_create(request):
    _admin_only(request.user)
    form = TeamForm(request.POST or None, departments=selectors.departments(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.create_team(
                actor=request.user,
                name=form.cleaned_data["name"],
                department_id=form.cleaned_data["department"].pk,
            )
        except ValidationFailed as e:
            apply_errors(form, e)
        else:
            messages.success(request, _("Team created."))
            return redirect("org:people")
    return _form_page(request, form, _("New team"))
