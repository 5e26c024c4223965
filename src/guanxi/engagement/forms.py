from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import apply_errors  # noqa: F401 - re-exported for the views
from guanxi.customers.forms import style

from . import cadence
from .models import (
    REQUIREMENT_KINDS,
    Category,
    Direction,
    Likelihood,
    Method,
    Occasion,
    RecordForm,
    Satisfaction,
    Trigger,
)

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
D = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = forms.Textarea(attrs={"rows": 2})


class Form(forms.Form):
    """A form whose widgets carry Bootstrap's classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class PlanForm(Form):
    scheduled_at = forms.DateTimeField(label=_("Date and time"), widget=DT)
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.IN_PERSON)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    contacts = forms.MultipleChoiceField(
        label=_("Contacts"), required=False, widget=forms.CheckboxSelectMultiple
    )
    category = forms.ChoiceField(label=_("Counts as"), choices=Category.choices, initial=Category.ROUTINE)
    trigger = forms.ChoiceField(label=_("Trigger"), choices=Trigger.choices, initial=Trigger.PERIODIC)
    assignee = forms.ChoiceField(label=_("Assignee"))
    purpose = forms.CharField(label=_("Purpose"), required=False, widget=TEXT)
    content = forms.CharField(label=_("Content"), required=False, widget=TEXT)

    def __init__(self, *args, contacts=(), assignees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].choices = [(str(c.pk), f"{c.name} {c.title}".strip()) for c in contacts]
        self.fields["assignee"].choices = [(str(u.pk), str(u)) for u in assignees]


class VisitForm(Form):
    form = forms.ChoiceField(label=_("Form"), choices=RecordForm.choices, widget=forms.HiddenInput)
    visited_on = forms.DateField(label=_("Date"), widget=D)
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices)
    category = forms.ChoiceField(label=_("Counts as"), choices=Category.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    scheduled_arrival = forms.DateTimeField(label=_("Scheduled arrival"), required=False, widget=DT)
    actual_arrival = forms.DateTimeField(label=_("Actual arrival"), required=False, widget=DT)
    contacts = forms.MultipleChoiceField(
        label=_("Received by (contacts)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    received_by = forms.CharField(label=_("Who received us"), max_length=200, required=False)
    their_seniority = forms.CharField(label=_("Their seniority"), max_length=100, required=False)
    our_people = forms.CharField(label=_("Our people"), max_length=200, required=False)
    our_seniority = forms.CharField(label=_("Our seniority"), max_length=100, required=False)
    content = forms.CharField(label=_("Content of the talks"), widget=forms.Textarea(attrs={"rows": 3}))
    deal_progress = forms.CharField(label=_("Deal progress"), required=False, widget=TEXT)
    feedback = forms.CharField(label=_("Customer feedback"), required=False, widget=TEXT)
    product_usage = forms.CharField(label=_("Product usage"), required=False, widget=TEXT)
    service_satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction with our service"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *Satisfaction.choices],
    )
    opinion_of_us = forms.CharField(label=_("Their opinion of us"), required=False, widget=TEXT)
    continuation = forms.ChoiceField(
        label=_("Likelihood of continuing"), required=False, choices=[("", "—"), *Likelihood.choices]
    )
    follow_ups = forms.CharField(label=_("Follow-ups (what we promised)"), required=False, widget=TEXT)
    next_visit_on = forms.DateField(
        label=_("Next visit date"),
        required=False,
        widget=D,
        help_text=_("A date here puts the next visit on the revisit plan."),
    )

    PHONE_HIDDEN = (
        "place",
        "scheduled_arrival",
        "actual_arrival",
        "our_people",
        "our_seniority",
        "their_seniority",
    )

    def __init__(self, *args, contacts=(), phone=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].choices = [(str(c.pk), f"{c.name} {c.title}".strip()) for c in contacts]
        if phone:
            for f in self.PHONE_HIDDEN:
                del self.fields[f]


class TransitionForm(Form):
    to = forms.ChoiceField(
        choices=[("confirmed", "confirmed"), ("cancelled", "cancelled"), ("missed", "missed")]
    )
    note = forms.CharField(required=False, max_length=500)
    version = forms.IntegerField(required=False)


class OverrideForm(Form):
    period_scale_pct = forms.IntegerField(
        label=_("Periods at (percent of the policy)"),
        min_value=10,
        max_value=1000,
        initial=100,
        help_text=_("50 = twice as often (tighter), 200 = half as often (relaxed)"),
    )
    max_contacts_30d = forms.IntegerField(
        label=_("Over-maintenance warning above (contacts in 30 days)"), required=False, min_value=1
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=TEXT)


class PolicyForm(Form):
    active = forms.BooleanField(label=_("Active"), required=False)
    max_contacts_30d = forms.IntegerField(
        label=_("Over-maintenance warning above (contacts in 30 days)"), min_value=1, max_value=1000
    )
    service_plan = forms.CharField(
        label=_("Service plan (service manager or team, content, time, method, benefits)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RequirementForm(Form):
    kind = forms.ChoiceField(
        label=_("Contact of kind"), choices=[("", "—"), *REQUIREMENT_KINDS], required=False
    )
    count = forms.IntegerField(label=_("At least"), min_value=1, max_value=cadence.KEEP, required=False)
    period_days = forms.IntegerField(label=_("Every (days)"), min_value=1, max_value=3660, required=False)


RequirementFormSet = forms.formset_factory(RequirementForm, extra=2, max_num=8)


class SummaryForm(Form):
    text = forms.CharField(label=_("What I did today"), widget=forms.Textarea(attrs={"rows": 4}))
    problems = forms.CharField(label=_("Problems and proposed solutions"), required=False, widget=TEXT)
    tomorrow = forms.CharField(label=_("Plan for tomorrow"), required=False, widget=TEXT)


class CareCloseForm(Form):
    state = forms.ChoiceField(choices=[("done", _("Done")), ("skipped", _("Skipped"))])
    message = forms.CharField(
        label=_("Message sent"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class GiftForm(Form):
    given_on = forms.DateField(label=_("Given on"), widget=D)
    description = forms.CharField(label=_("Gift"), max_length=200)
    value = forms.DecimalField(
        label=_("Value (CNY)"), required=False, max_digits=12, decimal_places=2, min_value=0
    )
    occasion = forms.CharField(label=_("Occasion"), max_length=100, required=False)
    contact = forms.ChoiceField(label=_("To"), required=False)
    task = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—")] + [(str(c.pk), c.name) for c in contacts]


class CareSettingsForm(Form):
    # the range is checked by services.update_care_settings (errors come back on the field)
    days_ahead = forms.IntegerField(label=_("Create greeting tasks this many days ahead (0–60)"))
    festival_tiers = forms.MultipleChoiceField(
        label=_("Festival greetings for maintenance tiers"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Key accounts always get festival greetings."),
    )

    def __init__(self, *args, **kwargs):
        from guanxi.customers.choices import MaintenanceTier

        super().__init__(*args, **kwargs)
        self.fields["festival_tiers"].choices = MaintenanceTier.choices


TEMPLATE_KIND_CHOICES = [("message", _("Message")), ("card", _("Card")), ("coupon", _("Coupon"))]
TEMPLATE_LANGUAGE_CHOICES = [("zh-hans", "中文"), ("en", "English")]


class MessageTemplateForm(Form):
    occasion = forms.ChoiceField(label=_("Occasion"), choices=Occasion.choices)
    channel = forms.ChoiceField(label=_("Kind"), choices=TEMPLATE_KIND_CHOICES)
    language = forms.ChoiceField(label=_("Language"), choices=TEMPLATE_LANGUAGE_CHOICES)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Placeholders: {name} {customer} {occasion} {sender}"),
    )
    active = forms.BooleanField(label=_("Active (suggested when greeting)"), required=False, initial=True)


__all__ = ["cadence"]
