from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import selectors


@login_required
def customer_list(request):
    page = selectors.customer_list(request.user, q=request.GET.get("q", ""))
    return render(request, "customers/list.html", {"page": page})


@login_required
def reasons(request):
    return render(request, "customers/reasons.html", {"items": selectors.reasons_owed(request.user)})
