"""Forms of the customers pages. They type and present the input; every rule lives in the services,
whose errors the views put back on the fields (``apply_errors``)."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import apply_errors  # noqa: F401  (used by the views through this module)

from . import choices as c
from .models import Contact, Customer, CustomerSettings
from .services import CONTACT_FIELDS, CUSTOMER_FIELDS

# --- widgets with Bootstrap classes ---------------------------------------------------------------


def style(form: forms.BaseForm) -> None:
    """Give every widget its Bootstrap class (form-control / form-select / form-check-input)."""
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.CheckboxSelectMultiple):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select | forms.SelectMultiple):
            w.attrs.setdefault("class", "form-select")
        elif isinstance(w, forms.HiddenInput):
            continue
        else:
            w.attrs.setdefault("class", "form-control")
        if isinstance(w, forms.Textarea):
            w.attrs["rows"] = w.attrs.get("rows") if w.attrs.get("rows") not in (None, "10", 10) else 3
            w.attrs.pop("cols", None)


class ServiceValidatedModelForm(forms.ModelForm):
    """A ModelForm that only types the input: the model is validated by the service, not here
    (so a rule is enforced in one place and the form never queries the database to validate)."""

    def _post_clean(self) -> None:
        pass


# --- customers ------------------------------------------------------------------------------------

CUSTOMER_FIELDSETS: list[tuple[str, object, list[str]]] = [
    (
        "overview",
        _("Company overview"),
        [
            "kind", "name", "short_name", "code", "credit_code", "industry", "province", "city", "address",
            "employees", "annual_revenue", "registered_capital", "founded_on", "customer_since",
            "management_structure", "overview",
        ],
    ),
    (
        "channels",
        _("Contact channels"),
        [
            "phone", "phone_alt", "fax", "email", "website", "acquisition_channel", "purchase_channel",
            "prices_paid", "social_relations",
        ],
    ),
    ("ownership", _("Ownership and account team"), ["owner", "account_team", "is_key_account", "tags"]),
    (
        "business",
        _("Business facts"),
        [
            "needs", "purchase_notes", "product_usage", "decision_process", "competitors", "preferences",
            "need_match", "our_advantages", "our_weaknesses",
        ],
    ),
    ("credit", _("Credit"), ["credit_limit", "payment_terms"]),
    (
        "classification",
        _("Classification"),
        [
            "lifecycle_stage", "value_level", "value_tier", "maintenance_tier", "deal_state", "importance",
            "closable_amount", "abc_class", "prospect_grade", "business_need", "need_type", "strategic_type",
            "annual_purchases", "annual_profit", "is_benchmark", "decision_chain_known", "urgency",
            "membership_level",
        ],
    ),
]  # fmt: skip

WIDE_FIELDS = {
    "name", "address", "overview", "management_structure", "social_relations", "needs", "purchase_notes",
    "product_usage", "decision_process", "competitors", "preferences", "our_advantages", "our_weaknesses",
    "business_need", "account_team", "tags",
}  # fmt: skip
CONTACT_WIDE_FIELDS = {"concerns", "anniversaries", "personality", "interests", "family", "career", "notes"}

_MODEL_FIELDS = [
    f for _k, _t, names in CUSTOMER_FIELDSETS for f in names if f not in ("account_team", "tags")
]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} ({obj.username})" if str(obj) != obj.username else obj.username


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} ({obj.username})" if str(obj) != obj.username else obj.username


class CustomerForm(ServiceValidatedModelForm):
    wide_fields = WIDE_FIELDS
    account_team = UserMultipleChoiceField(
        label=_("account team"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Colleagues who work on this account with its manager (Ctrl/⌘-click to pick several)."),
    )
    tags = forms.CharField(
        label=_("tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas."),
    )
    website = forms.URLField(
        label=Customer._meta.get_field("website").verbose_name,
        required=False,
        max_length=200,
        assume_scheme="https",
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the lifecycle stage changes or the annual revenue changes a lot."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields = _MODEL_FIELDS
        field_classes = {"owner": UserChoiceField}
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "customer_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "overview": forms.Textarea(attrs={"rows": 4}),
            "credit_code": forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false", "class": "form-control font-monospace"}
            ),
        }

    def __init__(self, *args, owner_queryset=None, team_queryset=None, can_hand_over: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        province = forms.ChoiceField(
            label=Customer._meta.get_field("province").verbose_name,
            required=False,
            choices=[("", "---------")] + [(p, p) for p in c.PROVINCES],
        )
        current = (self.initial.get("province") or self.data.get("province") or "").strip()
        if current and current not in c.PROVINCES:
            province.choices.append((current, current))
        self.fields["province"] = province
        self.fields["owner"].queryset = owner_queryset
        self.fields["owner"].empty_label = None
        if not can_hand_over:
            self.fields["owner"].disabled = True
            self.fields["owner"].help_text = _("Only a manager can hand a customer over.")
        self.fields["account_team"].queryset = team_queryset
        for name in ("annual_revenue", "registered_capital", "credit_limit", "closable_amount",
                     "annual_purchases", "annual_profit"):  # fmt: skip
            self.fields[name].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})
        for name in ("phone", "phone_alt", "fax"):
            self.fields[name].widget.attrs.setdefault("inputmode", "tel")
        style(self)

    def fieldsets(self):
        for key, title, names in CUSTOMER_FIELDSETS:
            yield {"key": key, "title": title, "fields": [self[n] for n in names if n in self.fields]}

    def service_data(self) -> dict:
        """The cleaned input as the service expects it (disabled fields are not sent)."""
        data = {}
        for name in [*_MODEL_FIELDS, "account_team", "tags"]:
            if name in self.fields and not self.fields[name].disabled and name in self.cleaned_data:
                data[name] = self.cleaned_data[name]
        if "account_team" in data:
            data["account_team"] = [u.pk for u in data["account_team"]]
        if "owner" in data and data["owner"] is not None:
            data["owner"] = data["owner"].pk
        if data.get("credit_code") == "":
            data["credit_code"] = None
        return data


# --- contacts -------------------------------------------------------------------------------------

CONTACT_FIELDSETS: list[tuple[str, object, list[str]]] = [
    ("person", _("Person and role"),
     ["name", "title", "department", "is_primary", "decision_role", "attitude", "concerns"]),
    ("channels", _("Contact channels"), ["mobile", "phone", "email", "wechat"]),
    ("personal", _("Personal (sensitive)"), list(Contact.PERSONAL_FIELDS)),
]  # fmt: skip


class ContactForm(ServiceValidatedModelForm):
    wide_fields = CONTACT_WIDE_FIELDS
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        widgets = {
            "birthday_month": forms.NumberInput(attrs={"min": 1, "max": 12}),
            "birthday_day": forms.NumberInput(attrs={"min": 1, "max": 31}),
            "birth_year": forms.NumberInput(attrs={"min": 1900, "max": 2100}),
            "anniversaries": forms.Textarea(attrs={"rows": 3, "placeholder": "2015-06-18 签约纪念日"}),
        }

    def __init__(self, *args, personal: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.personal = personal
        if not personal:
            for name in Contact.PERSONAL_FIELDS:
                self.fields.pop(name, None)
        for name in ("mobile", "phone"):
            self.fields[name].widget.attrs.setdefault("inputmode", "tel")
        style(self)

    def fieldsets(self):
        for key, title, names in CONTACT_FIELDSETS:
            fields = [self[n] for n in names if n in self.fields]
            if fields:
                yield {"key": key, "title": title, "fields": fields}

    def service_data(self) -> dict:
        return {n: v for n, v in self.cleaned_data.items() if n in CONTACT_FIELDS and n in self.fields}


# --- small forms ----------------------------------------------------------------------------------


class RevenueForm(forms.Form):
    period_start = forms.CharField(
        label=_("Month"), widget=forms.DateInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
    )
    revenue = forms.DecimalField(label=_("Revenue (CNY)"), max_digits=18, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class ExplainForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class ExportForm(forms.Form):
    purpose = forms.CharField(
        label=_("Purpose of this export"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_(
            "Required. Every export is logged with its purpose; customer data must not reach outside "
            "parties or competitors."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


def _customer_field_choices():
    return [(f, capfirst(str(Customer._meta.get_field(f).verbose_name))) for f in CUSTOMER_FIELDS]


class SettingsForm(ServiceValidatedModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("Required of every customer"), required=False, widget=forms.CheckboxSelectMultiple
    )
    key_account_required_fields = forms.MultipleChoiceField(
        label=_("Also required of a key account"), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = CustomerSettings
        fields = [
            "revenue_change_threshold_pct", "revenue_change_min_base", "high_value_min_purchases",
            "mid_value_min_purchases", "required_fields", "key_account_required_fields",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _customer_field_choices()
        self.fields["required_fields"].choices = choices
        self.fields["key_account_required_fields"].choices = choices
        style(self)


class AuditFilterForm(forms.Form):
    model = forms.ChoiceField(
        label=_("Record"),
        required=False,
        choices=[("", _("All records")), ("customer", _("Customers")), ("contact", _("Contacts"))],
    )
    user = forms.TypedChoiceField(label=_("Changed by"), required=False, coerce=int, empty_value=None)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    customer = forms.IntegerField(label=_("Customer id"), required=False, min_value=1)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("Anyone"))] + [(u.pk, str(u)) for u in users]
        from .selectors import AUDITED_MODELS  # models that later apps add to the audit trail

        self.fields["model"].choices += [
            (m._meta.model_name, capfirst(m._meta.verbose_name_plural)) for m in AUDITED_MODELS
        ]
        style(self)
