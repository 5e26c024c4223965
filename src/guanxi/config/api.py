"""The REST API (/api/v1/): mounts each app's router and maps domain errors to HTTP answers.

- 422 with ``{"detail": [...], "errors": {field: [messages]}}`` for bad input
- 404 for a record that does not exist or is outside the caller's scope (never its contents)
- 409 for a stale ``version``; 403 for an action the caller's role does not allow
"""

import json

from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger, _csrf_needed

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.org.auth import BearerToken, Session


class BundledSwagger(Swagger):
    """Swagger UI from ninja's own templates and static files (found through the settings'
    template and static directories; ninja is not an installed app, see settings.NINJA_DIR):
    ninja would otherwise fall back to its CDN page, and these machines have no CDN."""

    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": _csrf_needed(api),
        }
        return render(request, self.template, context)


api = NinjaAPI(
    docs=BundledSwagger(),
    title="Guanxi API",
    version="1",
    description="Guanxi CRM. Authenticate with `Authorization: Bearer <token>` (`guanxi token create USER`).",
    auth=[BearerToken(), Session()],
    urls_namespace="api",
)


@api.exception_handler(ValidationFailed)
def _validation_failed(request, exc: ValidationFailed):
    detail = [
        {"loc": ["body", field], "msg": msg, "type": "value_error"}
        for field, msgs in exc.errors.items()
        for msg in msgs
    ]
    return api.create_response(request, {"detail": detail, "errors": exc.errors}, status=422)


@api.exception_handler(NinjaValidationError)
def _schema_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        loc = [str(x) for x in e.get("loc", []) if x not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(loc) or "__all__", []).append(e.get("msg", ""))
    return api.create_response(request, {"detail": exc.errors, "errors": errors}, status=422)


@api.exception_handler(Conflict)
def _conflict(request, exc: Conflict):
    return api.create_response(
        request, {"detail": str(exc), "current_version": exc.current_version}, status=409
    )


@api.exception_handler(NotFound)
def _not_found(request, exc: NotFound):
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(Forbidden)
def _forbidden(request, exc: Forbidden):
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(request, {"detail": _("Authentication required.")}, status=401)


def _mount() -> None:
    from guanxi.customers.api import router as customers_router
    from guanxi.org.api import router as org_router

    api.add_router("/", customers_router)
    api.add_router("/", org_router)
    from guanxi.service.api import router as service_router

    api.add_router("/", service_router)
    from guanxi.engagement.api import router as engagement_router

    api.add_router("/", engagement_router)
    from guanxi.sales.api import router as sales_router

    api.add_router("/", sales_router)
    from guanxi.analytics.api import router as analytics_router

    api.add_router("/", analytics_router)
    from guanxi.imports.api import router as imports_router

    api.add_router("/", imports_router)


_mount()
