from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.org import access

        from . import models, rules

        for model in (models.Order, models.Invoice, models.PurchaseDay, models.PurchaseSummary):
            access.register(model, rules.order_rule)
        access.register(models.OrderLine, rules.line_rule)
        access.register(models.Payment, rules.payment_rule)
        for model in (models.Product, models.ProductCategory):
            access.register(model, rules.catalogue_rule)
        access.register(models.ProductMonth, rules.product_month_rule)
