"""Pages of the organisation (C16): who works where, and the user's own API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import NotFound

from . import selectors, services


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
