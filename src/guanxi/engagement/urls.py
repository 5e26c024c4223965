from django.urls import path

from . import views

app_name = "engagement"
urlpatterns = [
    path("targets/", views.targets, name="targets"),
    path("plans/", views.plan_list, name="plans"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/state/", views.plan_transition, name="plan_transition"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("customers/<int:pk>/visits/", views.customer_visits, name="customer_visits"),
    path("customers/<int:pk>/cadence/", views.customer_cadence, name="customer_cadence"),
    path("customers/<int:pk>/brief/", views.brief, name="brief"),
    path("cadence/", views.cadence_policies, name="cadence"),
    path("cadence/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("overdue/", views.overdue, name="overdue"),
    path("followups/", views.followups, name="followups"),
    path("summary/", views.summary, name="summary"),
    path("care/", views.care, name="care"),
    path("care/<int:pk>/", views.care_task, name="care_task"),
    path("care/settings/", views.care_settings, name="care_settings"),
    path("care/templates/new/", views.care_template_edit, name="care_template_create"),
    path("care/templates/<int:pk>/", views.care_template_edit, name="care_template_edit"),
    path("gifts/new/", views.gift_create, name="gift_create"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
