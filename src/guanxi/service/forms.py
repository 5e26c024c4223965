from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Cause, Channel, ClockUnit, Evaluation, Kind, ReplyLanguage, Segment, Severity, State

DT = forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M")
TEXT = {"class": "form-control", "rows": 3}


def _blank(choices, label=None):
    return [("", label or "—")] + list(choices)


class GxForm(forms.Form):
    """Bootstrap classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, forms.HiddenInput):
                continue
            if isinstance(w, forms.RadioSelect | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(w, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            w.attrs["class"] = css


class TicketForm(GxForm):
    kind = forms.ChoiceField(label=_("type"), choices=Kind.choices)
    channel = forms.ChoiceField(label=_("channel"), choices=_blank(Channel.choices))
    customer = forms.ChoiceField(label=_("customer"), choices=())
    contact = forms.ChoiceField(label=_("contact"), choices=(), required=False)
    subject = forms.CharField(label=_("subject"), max_length=200)
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs=TEXT))
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices, initial="normal")
    occurred_at = forms.DateTimeField(label=_("when it happened"), required=False, widget=DT)
    impact_scope = forms.CharField(
        label=_("scope of impact"), required=False, widget=forms.Textarea(attrs=TEXT)
    )
    expectation = forms.CharField(
        label=_("what the customer expects"), required=False, widget=forms.Textarea(attrs=TEXT)
    )
    cause = forms.ChoiceField(label=_("cause category"), choices=_blank(Cause.choices), required=False)
    promised_reply_at = forms.DateTimeField(
        label=_("reply promised by"),
        required=False,
        widget=DT,
        help_text=_("Inquiries: the time promised to the customer for the answer (承诺时间)."),
    )
    department = forms.ChoiceField(label=_("responsible department"), choices=())
    assignee = forms.ChoiceField(label=_("assignee"), choices=(), required=False)
    reply_language = forms.ChoiceField(
        label=_("language of the emails to the customer"),
        choices=ReplyLanguage.choices,
        initial=ReplyLanguage.ZH_HANS,
        required=False,
    )

    def __init__(self, *args, customers=(), contacts=(), departments=(), users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = _blank((c.pk, c.name) for c in customers)
        self.fields["contact"].choices = _blank((c.pk, c.name) for c in contacts)
        self.fields["department"].choices = [(d.pk, d.name) for d in departments]
        self.fields["assignee"].choices = _blank((u.pk, f"{u} · {u.department}") for u in users)


class TransitionForm(GxForm):
    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 2}))


class TransferForm(GxForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    department = forms.ChoiceField(label=_("responsible department"), choices=())
    assignee = forms.ChoiceField(label=_("assignee"), choices=(), required=False)
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )

    def __init__(self, *args, departments=(), users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.pk, d.name) for d in departments]
        self.fields["assignee"].choices = _blank((u.pk, f"{u} · {u.department}") for u in users)


class CardForm(GxForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    cause = forms.ChoiceField(label=_("cause category"), choices=_blank(Cause.choices), required=False)
    course_of_events = forms.CharField(
        label=_("course of events"), required=False, widget=forms.Textarea(attrs=TEXT)
    )
    customer_position = forms.CharField(
        label=_("customer's position and reasons"), required=False, widget=forms.Textarea(attrs=TEXT)
    )
    dispute = forms.CharField(label=_("dispute"), required=False, widget=forms.Textarea(attrs=TEXT))
    dispute_outcome = forms.CharField(
        label=_("how the dispute ended"), required=False, widget=forms.Textarea(attrs=TEXT)
    )


class EvaluationForm(GxForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    evaluation = forms.ChoiceField(
        label=_("evaluation"), choices=Evaluation.choices, widget=forms.RadioSelect
    )
    evaluation_reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={**TEXT, "rows": 2}))
    action_title = forms.CharField(label=_("improvement action"), required=False, max_length=200)
    action_owner = forms.ChoiceField(label=_("owner"), choices=(), required=False)
    action_deadline = forms.DateField(
        label=_("deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action_owner"].choices = _blank((u.pk, str(u)) for u in users)


class OutcomeForm(GxForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    outcome_message = forms.CharField(
        label=_("outcome told to the customer"), widget=forms.Textarea(attrs={**TEXT, "rows": 2})
    )


class FilterForm(GxForm):
    kind = forms.ChoiceField(label=_("type"), choices=_blank(Kind.choices, _("All types")), required=False)
    state = forms.ChoiceField(
        label=_("state"),
        choices=_blank([("open", _("Open")), *State.choices], _("All states")),
        required=False,
    )
    severity = forms.ChoiceField(
        label=_("severity"), choices=_blank(Severity.choices, _("All severities")), required=False
    )
    department = forms.ChoiceField(label=_("department"), choices=(), required=False)
    assignee = forms.ChoiceField(label=_("assignee"), choices=(), required=False)
    customer = forms.CharField(required=False, widget=forms.HiddenInput)
    breached = forms.BooleanField(label=_("SLA breached"), required=False)

    def __init__(self, *args, departments=(), users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = _blank(
            ((d.pk, d.name) for d in departments), _("All departments")
        )
        self.fields["assignee"].choices = _blank(
            [("none", _("Unassigned")), *((u.pk, str(u)) for u in users)], _("Anyone")
        )


class PolicyForm(GxForm):
    kind = forms.ChoiceField(label=_("type"), choices=Kind.choices)
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices)
    response_amount = forms.IntegerField(label=_("first response within"), min_value=1, max_value=1000)
    response_unit = forms.ChoiceField(label=_("unit"), choices=ClockUnit.choices)
    plan_amount = forms.IntegerField(label=_("plan within"), min_value=1, max_value=1000)
    plan_unit = forms.ChoiceField(label=_("unit"), choices=ClockUnit.choices)


class WorkdayForm(GxForm):
    workday_start = forms.TimeField(
        label=_("working day starts"), widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"})
    )
    workday_end = forms.TimeField(
        label=_("working day ends"), widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"})
    )


class ManualDayForm(GxForm):
    date = forms.DateField(
        label=_("date"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    is_workday = forms.TypedChoiceField(
        label=_("the day is"),
        coerce=lambda v: v == "1",
        choices=[("0", _("a holiday (day off)")), ("1", _("an adjusted working day (调休上班)"))],
    )
    note = forms.CharField(label=_("note"), required=False, max_length=100)


class PublicForm(GxForm):
    kind = forms.ChoiceField(
        label=_("What would you like to do?"), choices=Kind.choices, widget=forms.RadioSelect
    )
    subject = forms.CharField(label=_("subject"), max_length=200)
    description = forms.CharField(
        label=_("Please describe it"), widget=forms.Textarea(attrs={**TEXT, "rows": 5})
    )
    occurred_at = forms.DateTimeField(label=_("When did it happen?"), required=False, widget=DT)
    expectation = forms.CharField(
        label=_("What would you like us to do?"), required=False, widget=forms.Textarea(attrs=TEXT)
    )
    reporter_name = forms.CharField(label=_("Your name"), max_length=100)
    reporter_phone = forms.CharField(label=_("Your phone"), max_length=40, required=False)
    reporter_email = forms.EmailField(label=_("Your email"), required=False)
    # the honeypot: people never see it; bots fill it in
    website = forms.CharField(required=False, label="Website")


class CampaignForm(GxForm):
    name = forms.CharField(label=_("name"), max_length=200)
    segment = forms.ChoiceField(label=_("customers"), choices=Segment.choices)
    days = forms.IntegerField(label=_("links valid for (days)"), min_value=1, max_value=365, initial=30)


SCORE_1_5 = [(i, str(i)) for i in range(1, 6)]


class AnswerForm(GxForm):
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a colleague? (0 = not at all, 10 = extremely)"),
        choices=[(i, str(i)) for i in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    overall = forms.IntegerField(
        label=_("Overall, how satisfied are you with us? (0–100)"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    product_quality = forms.TypedChoiceField(
        label=_("Product quality"), choices=SCORE_1_5, coerce=int, widget=forms.RadioSelect
    )
    service_response = forms.TypedChoiceField(
        label=_("Service response"), choices=SCORE_1_5, coerce=int, widget=forms.RadioSelect
    )
    value_for_money = forms.TypedChoiceField(
        label=_("Value for money"), choices=SCORE_1_5, coerce=int, widget=forms.RadioSelect
    )
    cooperation = forms.TypedChoiceField(
        label=_("Cooperation experience"), choices=SCORE_1_5, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
