from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "guanxi.analytics"
    label = "analytics"
    verbose_name = _("Customer analytics")

    def ready(self) -> None:
        from guanxi.demo import registry as demo_registry
        from guanxi.org import access
        from guanxi.today import registry as today_registry

        from . import models, rules

        access.register(models.AnalyticsRun, rules.run_rule)
        access.register(models.CustomerScore, rules.score_rule)
        today_registry.register("guanxi.analytics.today.churn_section")
        demo_registry.register("analytics", "guanxi.analytics.demo.generate", order=90)


# the label of the navigation link in templates/base.html (kept here so that this app's catalogue has it)
NAV_LABELS = (_("Analytics"),)
