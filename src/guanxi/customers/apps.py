from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from guanxi.org import access
        from guanxi.today import registry

        from . import rules
        from .models import Contact, Customer, RevenueReasonRequest

        access.register(Customer, rules.customer_rule)
        access.register(Contact, rules.contact_rule)
        access.register(RevenueReasonRequest, rules.revenue_reason_rule)
        registry.register("guanxi.customers.today.reasons_owed_section")
