from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "guanxi.engagement"
    label = "engagement"
    verbose_name = _("Visits and care")

    def ready(self) -> None:
        from guanxi.analytics import registry as churn_signals

        from . import churn as churn_signal_providers

        churn_signals.register("low_satisfaction", churn_signal_providers.low_satisfaction)
        from django.db.models.signals import post_save

        from guanxi.customers.models import Customer
        from guanxi.demo import registry as demo_registry
        from guanxi.org import access
        from guanxi.today import registry

        from . import models, rules, signals

        for model in (
            models.VisitPlan,
            models.Visit,
            models.CustomerEngagement,
            models.CadenceOverride,
            models.CareTask,
            models.Gift,
        ):
            access.register(model, rules.customer_child_rule)
        access.register(models.CadencePolicy, rules.policy_rule)
        access.register(models.DailySummary, rules.daily_summary_rule)
        access.register(models.MessageTemplate, rules.policy_rule)
        post_save.connect(signals.customer_saved, sender=Customer, dispatch_uid="engagement_customer_saved")
        for section in ("visits_due", "missed", "overdue", "care", "summary"):
            registry.register(f"guanxi.engagement.today.{section}_section")
        demo_registry.register("engagement", "guanxi.engagement.demo.generate", order=50)
        # a first purchase gives the account manager a welcome-gift task (C7)
        from guanxi.sales.hooks import on_first_purchase

        from .welcome import welcome_gift

        on_first_purchase(welcome_gift)
        # gifts given belong in the auditor's trail (C7), next to customers and contacts
        from guanxi.customers.selectors import register_audited

        register_audited(models.Gift)


# labels of the navigation links in templates/base.html (kept here so that this app's catalogue has them)
NAV_LABELS = (_("Visits"), _("Cadence"), _("Customer care"), _("Work summary"))
