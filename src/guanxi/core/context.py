from django.conf import settings

# url name → the navigation entry it belongs to (for the active state of the sidebar)
_NAV = {
    "today:index": "today",
    "customers:reasons": "reasons",
    "customers:create": "create",
    "customers:search": "search",
    "customers:audit": "audit",
    "customers:settings": "settings",
    "org:people": "people",
    "org:tokens": "tokens",
}


def navigation(request):
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else ""
    nav_active = _NAV.get(view) or ("customers" if view.startswith("customers:") else "")
    return {
        "LANGUAGES_AVAILABLE": settings.LANGUAGES,
        "is_auditor": bool(signed_in and (user.is_admin or user.role == "auditor")),
        "nav_active": nav_active,
        "nav_can_create_customer": bool(
            signed_in and (user.is_admin or user.role in ("manager", "account_manager"))
        ),
    }
