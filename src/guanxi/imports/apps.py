from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "guanxi.imports"
    label = "imports"
    verbose_name = _("Data import")

    def ready(self) -> None:
        from guanxi.org import access

        from . import rules
        from .models import ImportJob

        access.register(ImportJob, rules.job_rule)


# the label of the navigation link in templates/base.html (kept here so that this app's catalogue has it)
NAV_LABELS = (_("Import"),)
