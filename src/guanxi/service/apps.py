from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "guanxi.service"
    label = "service"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from guanxi.analytics import registry as churn_signals

        from . import churn as churn_signal_providers

        churn_signals.register("open_complaints", churn_signal_providers.open_complaints)
        churn_signals.register("low_satisfaction", churn_signal_providers.detractors)
        from guanxi.demo import registry as demo_registry
        from guanxi.org import access
        from guanxi.today import registry

        from . import checks, rules  # noqa: F401  (checks registers itself)
        from .models import (
            Attachment,
            ImprovementAction,
            SurveyCampaign,
            SurveyInvitation,
            Ticket,
            TicketEvent,
        )

        access.register(Ticket, rules.ticket_rule)
        access.register(TicketEvent, rules.child_rule)
        access.register(Attachment, rules.child_rule)
        access.register(ImprovementAction, rules.child_rule)
        access.register(SurveyCampaign, rules.campaign_rule)
        access.register(SurveyInvitation, rules.invitation_rule)
        registry.register("guanxi.service.today.tickets_section")
        demo_registry.register("service", "guanxi.service.demo.generate", order=50)
