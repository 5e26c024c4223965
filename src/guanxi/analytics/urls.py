from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("abc/", views.abc, name="abc"),
    path("rfm/", views.rfm, name="rfm"),
    path("churn/", views.churn, name="churn"),
    path("churn/<int:customer_pk>/winback/", views.winback, name="winback"),
    path("products/", views.products, name="products"),
    path("groups/", views.groups, name="groups"),
    path("export/<str:what>/", views.export, name="export"),
    path("customers/<int:pk>/", views.customer_box, name="customer_box"),
]
