from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "guanxi.analytics"
    label = "analytics"
    verbose_name = _("Customer analytics")

    def ready(self) -> None:
        from guanxi.org import access

        from . import models, rules

        access.register(models.AnalyticsRun, rules.run_rule)
        access.register(models.CustomerScore, rules.score_rule)
