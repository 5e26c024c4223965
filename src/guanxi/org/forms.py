"""Forms of the organisation pages; they only type the input, the services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Department, DepartmentKind, Role, Team, User


class _Styled:
    def _style(self):
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, forms.CheckboxInput):
                w.attrs.setdefault("class", "form-check-input")
            elif isinstance(w, forms.Select):
                w.attrs.setdefault("class", "form-select")
            else:
                w.attrs.setdefault("class", "form-control")


class UserForm(_Styled, forms.Form):
    username = forms.CharField(label=_("username"), max_length=150)
    display_name = forms.CharField(label=_("display name"), max_length=100, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.none(), required=False
    )
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.none(), required=False)
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)
    password = forms.CharField(
        label=_("initial password"), widget=forms.PasswordInput(render_value=False), required=False,
        help_text=_("At least 8 characters, not only digits; the user changes it after signing in."),
    )  # fmt: skip

    def __init__(self, *args, departments, teams, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["team"].queryset = teams
        if editing:
            self.fields["username"].disabled = True
            del self.fields["password"]
        else:
            self.fields["password"].required = True
        self._style()


class DeputyForm(_Styled, forms.Form):
    absent = forms.ModelChoiceField(label=_("absent account manager"), queryset=User.objects.none())
    deputy = forms.ModelChoiceField(label=_("deputy"), queryset=User.objects.none())
    starts_on = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("until"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["absent"].queryset = people
        self.fields["deputy"].queryset = people
        self._style()


class DepartmentForm(_Styled, forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    kind = forms.ChoiceField(label=_("kind"), choices=DepartmentKind.choices)
    duties = forms.CharField(label=_("duties"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class TeamForm(_Styled, forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.none())

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self._style()
