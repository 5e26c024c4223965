from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("search/", views.search, name="search"),
    path("new/", views.customer_create, name="create"),
    path("export/", views.export, name="export"),
    path("audit/", views.audit, name="audit"),
    path("settings/", views.settings_view, name="settings"),
    path("reasons/", views.reasons, name="reasons"),
    path("reasons/<int:pk>/explain/", views.reason_explain, name="reason_explain"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:pk>/history/", views.contact_history, name="contact_history"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/history/", views.customer_history, name="history"),
    path("<int:pk>/revenue/", views.record_revenue, name="revenue"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
]
