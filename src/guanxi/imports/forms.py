from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import apply_errors  # noqa: F401 - re-exported for the views
from guanxi.customers.forms import style
from guanxi.org.models import Role, User

from . import fields
from .models import ImportKind


def owner_choices(actor: User) -> list[tuple[str, str]]:
    """Who may own the customers an import of ``actor`` creates (the empty choice: the default)."""
    qs = User.objects.filter(is_active=True).filter(
        Q(role__in=[Role.ACCOUNT_MANAGER, Role.MANAGER, Role.ADMIN]) | Q(is_superuser=True)
    )
    if not actor.is_admin:
        if actor.role == Role.MANAGER and actor.department_id:
            qs = qs.filter(department_id=actor.department_id)
        else:
            qs = qs.filter(pk=actor.pk)
    default = _("the file's account-manager column, else me")
    return [("", f"— {default} —")] + [(u.username, f"{u} ({u.username})") for u in qs.order_by("username")]


class OptionsForm(forms.Form):
    create_customers = forms.BooleanField(
        label=_("Create unknown customers"),
        required=False,
        help_text=_("An order for a customer code the database does not know creates the customer."),
    )
    skip_invalid = forms.BooleanField(
        label=_("Skip invalid rows"),
        required=False,
        help_text=_(
            "Write the valid rows and report the others. Otherwise one invalid row and nothing is written."
        ),
    )
    dry_run = forms.BooleanField(label=_("Check only (dry run)"), required=False)
    owner = forms.ChoiceField(label=_("Account manager of new customers"), required=False)

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owner_choices(actor)
        style(self)


class UploadForm(OptionsForm):
    kind = forms.ChoiceField(
        label=_("What the file holds"), choices=ImportKind.choices, initial=ImportKind.ORDERS
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK, as Excel saves it) or XLSX; the first row names the columns."),
    )
    field_order = ["kind", "file", "create_customers", "skip_invalid", "dry_run", "owner"]


class MappingForm(OptionsForm):
    """The options, and a select per column of the file: the field it fills, or nothing."""

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— " + str(_("ignore")) + " —")] + [
            (f.name, f.label) for f in fields.fields(job.kind)
        ]
        self.columns = []
        for i, header in enumerate(job.headers):
            name = f"col_{i}"
            self.fields[name] = forms.ChoiceField(
                label=header or f"#{i + 1}", choices=choices, required=False
            )
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
            self.initial.setdefault(name, job.mapping[i] if i < len(job.mapping) else "")
            self.columns.append(name)

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(name) or "" for name in self.columns]

    def options(self) -> dict:
        return {k: self.cleaned_data.get(k) for k in ("create_customers", "skip_invalid", "dry_run", "owner")}
