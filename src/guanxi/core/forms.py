from django import forms

from .errors import ValidationFailed


def apply_errors(form: forms.BaseForm, exc: ValidationFailed) -> None:
    """Put each message of a service's ValidationFailed on its field (unknown fields: on the form)."""
    for field, messages in exc.errors.items():
        for message in messages:
            if field in form.fields and not isinstance(form.fields[field].widget, forms.HiddenInput):
                form.add_error(field, message)
            else:
                form.add_error(None, message)
