"""Test data made through the services (never by writing rows directly), so that every record in a
test has gone through the same validation, audit trail and search index as a real one."""

from __future__ import annotations

import itertools
from typing import Any

from stdnum.cn import uscc

from guanxi.customers import services
from guanxi.customers.models import Contact, Customer

_seq = itertools.count(1)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(n: int | None = None, *, region: str = "110000", prefix: str = "91") -> str:
    """A valid unified social credit code (统一社会信用代码) whose check character is computed."""
    n = next(_seq) if n is None else n
    body = f"{prefix}{region}{n:09d}"
    return body + uscc.calc_check_digit(body)


def with_check_char(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


def customer_data(**overrides: Any) -> dict[str, Any]:
    """The fields a customer needs under the default settings (name, industry, province, phone)."""
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"测试客户{n}号有限公司",
        "industry": "C",
        "province": "北京",
        "city": "北京",
        "phone": f"010-6{n % 10_000_000:07d}",
    }
    data.update(overrides)
    return data


def make_customer(actor, *, reason: str = "", **fields: Any) -> Customer:
    """Create a customer through ``services.create_customer`` with valid data (``owner`` defaults to
    the actor)."""
    data = customer_data(**fields)
    return services.create_customer(actor=actor, data=data, reason=reason)


def make_contact(actor, customer: Customer | int, **fields: Any) -> Contact:
    n = next(_seq)
    data: dict[str, Any] = {"name": f"联系人{n}", "title": "采购经理"}
    data.update(fields)
    customer_id = customer.pk if hasattr(customer, "pk") else customer
    return services.create_contact(actor=actor, customer_id=customer_id, data=data)


def update_customer(actor, customer: Customer, *, reason: str = "", **fields: Any) -> Customer:
    """Update through the service with the current version (re-read from the database)."""
    current = Customer.objects.get(pk=customer.pk)
    return services.update_customer(
        actor=actor, customer_id=customer.pk, version=current.version, data=fields, reason=reason
    )


def update_contact(actor, contact: Contact, **fields: Any) -> Contact:
    current = Contact.objects.get(pk=contact.pk)
    return services.update_contact(actor=actor, contact_id=contact.pk, version=current.version, data=fields)
