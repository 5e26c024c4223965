from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.demo import registry as demo_registry
        from guanxi.org import access

        from . import models, rules

        for model in (models.Order, models.Invoice, models.PurchaseDay, models.PurchaseSummary):
            access.register(model, rules.order_rule)
        access.register(models.OrderLine, rules.line_rule)
        access.register(models.Payment, rules.payment_rule)
        for model in (models.Product, models.ProductCategory):
            access.register(model, rules.catalogue_rule)
        access.register(models.ProductMonth, rules.product_month_rule)
        # after the customers (20), before visits and tickets (50), which may read the orders
        demo_registry.register("sales", "guanxi.sales.demo.generate", order=30)


# labels of the navigation links in templates/base.html (kept here so that this app's catalogue has them)
NAV_LABELS = (_("Sales"), _("Orders"), _("Invoices and receivables"), _("Products"))
