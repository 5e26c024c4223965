from django.urls import path

from . import views

app_name = "org"
urlpatterns = [path("tokens/", views.tokens, name="tokens")]
