from django.conf import settings


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
        "is_auditor": bool(user and user.is_authenticated and (user.is_admin or user.role == "auditor")),
    }
