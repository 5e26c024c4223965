from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def tokens(request):
    return render(request, "org/tokens.html", {})
