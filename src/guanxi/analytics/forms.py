"""Forms of the analytics pages. They only type the input; runs.py and services.py check it."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.forms import ExportForm, style

from .math.abc import PARETO_DEFAULT, SEED_PRESET_70
from .models import AbcBasis

__all__ = ["ExportForm", "RunForm", "PRESETS"]


def _pct(share: float) -> int:
    return round(100 * share)


# the threshold presets of the run form: (key, A %, B %, label)
PRESETS = [
    ("pareto", _pct(PARETO_DEFAULT[0]), _pct(PARETO_DEFAULT[1]),
     _("80 % / 95 % — the 80/20 rule (二八法则)")),
    ("seed70", _pct(SEED_PRESET_70[0]), _pct(SEED_PRESET_70[1]),
     _("70 % / 90 % — A customers make 70 % of sales (the seeds' rule)")),
    ("custom", None, None, _("Custom thresholds")),
]  # fmt: skip


class RunForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Only data up to this date is used: a past date can be checked against what happened."),
    )
    abc_by = forms.ChoiceField(label=_("ABC by"), choices=AbcBasis.choices, initial=AbcBasis.REVENUE)
    preset = forms.ChoiceField(
        label=_("Thresholds"), choices=[(k, label) for k, _a, _b, label in PRESETS], initial="pareto"
    )
    abc_a = forms.DecimalField(
        label=_("Class A up to (cumulative %)"), min_value=0, max_value=100, decimal_places=1, initial=80
    )
    abc_b = forms.DecimalField(
        label=_("Class B up to (cumulative %)"), min_value=0, max_value=100, decimal_places=1, initial=95
    )
    period_days = forms.IntegerField(
        label=_("ABC period (days)"),
        min_value=0,
        max_value=3650,
        initial=365,
        help_text=_("Value over this many days up to the date; 0 = all history."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = timezone.localdate()
        self.fields["abc_a"].widget.attrs.update({"step": "1", "data-preset-a": ""})
        self.fields["abc_b"].widget.attrs.update({"step": "1", "data-preset-b": ""})
        style(self)

    def run_data(self) -> dict:
        """The service's parameters: the preset's shares, or the custom ones, as fractions."""
        d = self.cleaned_data
        preset = next((p for p in PRESETS if p[0] == d.get("preset")), PRESETS[-1])
        a, b = (preset[1], preset[2]) if preset[1] is not None else (d["abc_a"], d["abc_b"])
        return {
            "as_of": d["as_of"],
            "abc_by": d["abc_by"],
            "abc_a": float(a) / 100.0,
            "abc_b": float(b) / 100.0,
            "period_days": d["period_days"],
        }
