from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/line/", views.order_line, name="order_line"),
    path("orders/export/", views.order_export, name="order_export"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/delivery/", views.order_delivery, name="order_delivery"),
    path("orders/<int:pk>/delete/", views.order_delete, name="order_delete"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("categories/", views.category_list, name="categories"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/export/", views.invoice_export, name="invoice_export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/payments/", views.payment_create, name="payment_create"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path("customers/<int:pk>/", views.customer_sales, name="customer_sales"),
]
