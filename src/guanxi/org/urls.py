from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("", views.people, name="people"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
]
