from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .registry import sections_for


@login_required
def index(request):
    return render(request, "today/index.html", {"sections": sections_for(request.user)})
