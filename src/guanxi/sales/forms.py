"""Forms of the sales pages. They only type the input; the rules live in services.py, whose
ValidationFailed messages are put back on the fields here (``lines.0.amount`` on line 1's amount)."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import ValidationFailed
from guanxi.core.forms import apply_errors  # noqa: F401 - re-exported for the views
from guanxi.customers.forms import ExportForm, style  # noqa: F401 - ExportForm re-exported

from .models import Channel, DeliveryState

D = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = {"max_digits": 16, "decimal_places": 2}


class Form(forms.Form):
    """A form whose widgets carry Bootstrap's classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style(self)


class OrderForm(Form):
    order_date = forms.DateField(label=_("Order date"), widget=D)
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", "—"), *Channel.choices])
    delivery_state = forms.ChoiceField(
        label=_("Delivery state"), choices=DeliveryState.choices, initial=DeliveryState.PENDING
    )
    number = forms.CharField(
        label=_("Order number"),
        required=False,
        max_length=64,
        help_text=_("Optional: the number in your order or ERP system."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LineForm(Form):
    product = forms.ChoiceField(label=_("Product"), required=False)
    quantity = forms.DecimalField(label=_("Quantity"), required=False, max_digits=14, decimal_places=3)
    unit_price = forms.DecimalField(label=_("Unit price"), required=False, **MONEY)
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        **MONEY,
        help_text=_("Empty: unit price × quantity. Negative for a return, 0 for a free order."),
    )
    gift = forms.CharField(label=_("Gift (赠品)"), required=False, max_length=200)

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "—")] + [
            (str(p.pk), f"{p.code} · {p.name}" if p.code else p.name) for p in products
        ]
        for name in ("quantity", "unit_price", "amount"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})
        index = (self.prefix or "lines-0").rsplit("-", 1)[-1]
        # choosing a product re-draws the line with its list price (htmx; without it, the service
        # takes the list price when neither a unit price nor an amount is given)
        self.fields["product"].widget.attrs.update(
            {
                "hx-get": reverse("sales:order_line") + f"?index={index}",
                "hx-trigger": "change",
                "hx-target": "closest .order-line",
                "hx-swap": "outerHTML",
                "hx-include": "closest .order-line",
            }
        )

    def is_blank(self) -> bool:
        d = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not any(d.get(f) not in (None, "") for f in ("product", "unit_price", "amount", "gift"))

    def service_data(self) -> dict:
        d = self.cleaned_data
        out = {"product": d.get("product") or None, "quantity": d.get("quantity")}
        for f in ("unit_price", "amount"):
            if d.get(f) is not None:
                out[f] = d[f]
        if d.get("gift"):
            out["gift"] = d["gift"]
        return out


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=200, validate_max=True)


def apply_order_errors(form: forms.Form, lines, used: list[int], exc: ValidationFailed) -> None:
    """Messages of ``create_order`` on their fields: ``lines.K.field`` on the K-th line sent
    (``used[K]`` is its form in the formset), the rest on the order form."""
    for name, messages in exc.errors.items():
        target, field = form, name
        if name.startswith("lines."):
            parts = name.split(".")
            try:
                target = lines.forms[used[int(parts[1])]]
                field = parts[2] if len(parts) > 2 else None
            except (IndexError, ValueError):
                target, field = form, None
        for message in messages:
            if field in target.fields:
                target.add_error(field, message)
            else:
                target.add_error(None, message)


class DeliveryForm(Form):
    delivery_state = forms.ChoiceField(label=_("Delivery state"), choices=DeliveryState.choices)


class ProductForm(Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(label=_("Product code"), required=False, max_length=64)
    category = forms.ChoiceField(label=_("Category"), required=False)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20)
    list_price = forms.DecimalField(label=_("List price"), required=False, **MONEY)
    unit_cost = forms.DecimalField(label=_("Unit cost"), required=False, **MONEY)
    active = forms.BooleanField(label=_("On sale"), required=False, initial=True)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [(str(c.pk), str(c)) for c in categories]


class CategoryForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.ChoiceField(label=_("Parent category"), required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", "—")] + [(str(c.pk), str(c)) for c in categories]


class InvoiceForm(Form):
    number = forms.CharField(label=_("Invoice number"), max_length=64)
    order = forms.ChoiceField(label=_("Order"), required=False)
    issue_date = forms.DateField(label=_("Issued on"), widget=D)
    due_date = forms.DateField(label=_("Due on"), widget=D)
    amount = forms.DecimalField(label=_("Amount (CNY)"), **MONEY)

    def __init__(self, *args, orders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = [("", "—")] + [
            (str(o.pk), f"{o} · {o.order_date:%Y-%m-%d} · ¥{o.amount:,.2f}") for o in orders
        ]


class PaymentForm(Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=D)
    amount = forms.DecimalField(label=_("Amount (CNY)"), **MONEY)
    method = forms.CharField(
        label=_("Method"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"list": "payment-methods"}),
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)


PAYMENT_METHODS = (
    _("Bank transfer (银行转账)"),
    _("Bank acceptance bill (银行承兑汇票)"),
    _("Commercial acceptance bill (商业承兑汇票)"),
    _("Cash (现金)"),
    _("Alipay / WeChat Pay"),
)
