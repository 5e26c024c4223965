from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from guanxi.core import views as core_views

from .api import api

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("today/", include("guanxi.today.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("engagement/", include("guanxi.engagement.urls")),
    path("analytics/", include("guanxi.analytics.urls")),
    path("org/", include("guanxi.org.urls")),
    path("service/", include("guanxi.service.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("imports/", include("guanxi.imports.urls")),
    path("healthz", core_views.healthz, name="healthz"),
]
