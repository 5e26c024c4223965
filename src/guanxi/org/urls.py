from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("", views.people, name="people"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("deputies/new/", views.deputy_create, name="deputy_create"),
    path("departments/new/", views.department_create, name="department_create"),
    path("teams/new/", views.team_create, name="team_create"),
]
