"""Importing customers (客户导入): upsert by customer code (客户编号), or by exact name when the
file has no code column.

Per row the same field rules as a customer entered by hand (phones, credit code with its check
character, e-mail, choices by code or by label in Chinese or English, lifecycle-stage transitions,
who may own whom); only the name is required of a new customer (imports bring legacy data whose
gaps the customer card then shows). A blank cell leaves the field as it is. A row saying nothing
new about an existing customer changes nothing (so importing a file twice changes nothing).
Rows naming the same customer twice, or the same credit code twice, are errors.

Writes go in bulk per batch (``bulk_create``/``bulk_update``), each with its audit-trail records
(simple-history), classification history and search terms, and the ``post_save`` signal is sent
for each customer written, so that what other apps keep per customer (the cadence due date) follows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers import choices as c
from guanxi.customers import search
from guanxi.customers.models import ClassificationChange, Customer, RevenueReasonRequest, Tag
from guanxi.customers.validators import normalize_credit_code, normalize_phone
from guanxi.org.models import Role

from .base import SEARCH_TERMS_INLINE, BaseImport
from .values import Invalid, choice_index, parse_bool, parse_choice, parse_date, parse_number

TEXT_LIMITS = {
    "name": 200,
    "short_name": 60,
    "province": 20,
    "city": 40,
    "address": 300,
    "code": 64,
    "overview": 10_000,
}
CHOICES = {
    "kind": c.CustomerKind,
    "industry": c.Industry,
    "membership_level": c.MembershipLevel,
    "lifecycle_stage": c.LifecycleStage,
    "value_level": c.ValueLevel,
    "maintenance_tier": c.MaintenanceTier,
    "strategic_type": c.StrategicType,
    "importance": c.Importance,
}
# import column → model field
FIELD_OF = {"customer_code": "code", "customer_name": "name"}
# how exports also write some choices
SYNONYMS = {
    "kind": {
        "企业": "company",
        "公司": "company",
        "单位": "company",
        "个人": "individual",
        "自然人": "individual",
    },
    "membership_level": {
        "金卡": "gold",
        "金牌": "gold",
        "银卡": "silver",
        "银牌": "silver",
        "钻石": "diamond",
        "钻石卡": "diamond",
        "普通": "ordinary",
        "普通卡": "ordinary",
        "无": "",
    },
    "importance": {"重要": "high", "一般": "medium", "次要": "low"},
}


class CustomersImport(BaseImport):
    kind = "customers"

    def run(self) -> dict:
        self.counts.update(created=0, updated=0, unchanged=0)
        self.by_name = "customer_code" not in self.col
        self.key_field = "customer_name" if self.by_name else "customer_code"
        self.choice_indexes = {f: choice_index(cls.choices) for f, cls in CHOICES.items()}
        for field, words in SYNONYMS.items():
            for word, code in words.items():
                self.choice_indexes[field].setdefault(word, code)
        self.seen_keys: dict[str, int] = {}
        self.seen_credit: dict[str, int] = {}
        self.terms_written = 0
        self.email = EmailValidator()
        self.url = URLValidator()
        for first_rn, rows in self.batches():
            self._batch(first_rn, rows)
            self.counts["rows"] += len(rows)
            self.tick()
        self.counts["invalid_rows"] = self.report.bad_rows
        return self.counts

    # --- cells → values -------------------------------------------------------------------------

    def _values(self, rn: int, row: list[str]) -> dict | None:
        """The row's non-blank cells as model values, or None (errors reported)."""
        out: dict = {}
        ok = True
        for field, i in self.col.items():
            raw = row[i].strip() if i < len(row) else ""
            if not raw:
                continue
            try:
                out[FIELD_OF.get(field, field)] = self._value(field, raw)
            except Invalid as e:
                self.error(rn, field, raw, e)
                ok = False
        return out if ok else None

    def _value(self, field: str, raw: str):
        if field in (
            "customer_code",
            "customer_name",
            "short_name",
            "province",
            "city",
            "address",
            "overview",
        ):
            limit = TEXT_LIMITS.get(FIELD_OF.get(field, field), 200)
            if len(raw) > limit:
                raise Invalid(_("Too long (at most %(n)s characters).") % {"n": limit})
            return raw
        if field in CHOICES:
            return parse_choice(raw, self.choice_indexes[field])
        if field == "credit_code":
            return self._validated(normalize_credit_code, raw)
        if field in ("phone", "phone_alt", "fax"):
            return self._validated(normalize_phone, raw)
        if field == "email":
            self._validated(self.email, raw)
            return raw.lower() if len(raw) <= 254 else self._too_long(254)
        if field == "website":
            url = raw if "://" in raw else "http://" + raw
            self._validated(self.url, url)
            return url if len(url) <= 200 else self._too_long(200)
        if field == "employees":
            n = parse_number(raw)
            if n is None or n < 0 or n != int(n) or n > 2_000_000_000:
                raise Invalid(_("A whole number of people."))
            return int(n)
        if field in ("annual_revenue", "registered_capital"):
            n = parse_number(raw)
            if n is not None and n < 0:
                raise Invalid(_("Must not be negative."))
            return Decimal(str(round(n, 2))) if n is not None else None
        if field in ("founded_on", "customer_since"):
            return parse_date(raw)
        if field == "is_key_account":
            return parse_bool(raw)
        if field == "tags":
            return sorted(
                {t.strip()[:50] for t in raw.replace("，", ",").replace("、", ",").split(",") if t.strip()}
            )
        if field == "owner":
            found = self.owner_from(raw)
            if isinstance(found, str):
                raise Invalid(found)
            return found
        return raw  # pragma: no cover - every field of the catalogue is handled above

    @staticmethod
    def _validated(validator, raw: str):
        try:
            return validator(raw)
        except ValidationError as e:
            raise Invalid(" ".join(e.messages))

    @staticmethod
    def _too_long(n: int):
        raise Invalid(_("Too long (at most %(n)s characters).") % {"n": n})

    # --- one batch ------------------------------------------------------------------------------

    def _batch(self, first_rn: int, rows: list[list[str]]) -> None:
        parsed: list[tuple[int, dict]] = []
        for rn, row in enumerate(rows, first_rn):
            if not any(v.strip() for v in row):
                continue
            values = self._values(rn, row)
            if values is None:
                continue
            key = values.get("name" if self.by_name else "code")
            if not key:
                self.error(
                    rn,
                    self.key_field,
                    "",
                    _("The customer code is missing.")
                    if not self.by_name
                    else _("The customer name is missing."),
                )
                continue
            if key in self.seen_keys:
                self.error(
                    rn,
                    self.key_field,
                    key,
                    _("The same customer as row %(row)s.") % {"row": self.seen_keys[key]},
                )
                continue
            self.seen_keys[key] = rn
            credit = values.get("credit_code")
            if credit:
                if credit in self.seen_credit:
                    self.error(
                        rn,
                        "credit_code",
                        credit,
                        _("The same credit code as row %(row)s.") % {"row": self.seen_credit[credit]},
                    )
                    continue
                self.seen_credit[credit] = rn
            parsed.append((rn, values))
        if not parsed:
            return
        existing = self._existing([v.get("name" if self.by_name else "code") for _rn, v in parsed])
        taken_credit = self._credit_owners([v["credit_code"] for _rn, v in parsed if v.get("credit_code")])
        allowed = self.changeable([ids[0] for ids in existing.values() if len(ids) == 1])
        by_pk = {o.pk: o for o in Customer.objects.filter(pk__in=[ids[0] for ids in existing.values()])}
        creates: list[tuple[int, Customer, dict]] = []
        updates: list[tuple[int, Customer, dict, dict]] = []
        for rn, values in parsed:
            key = values.get("name" if self.by_name else "code")
            ids = existing.get(key, [])
            if len(ids) > 1:
                self.error(
                    rn,
                    self.key_field,
                    key,
                    _("Several customers have this name: add a customer code column."),
                )
                continue
            current = by_pk.get(ids[0]) if ids else None
            credit = values.get("credit_code")
            holder = taken_credit.get(credit) if credit else None
            if holder is not None and (current is None or holder != current.pk):
                self.error(rn, "credit_code", credit, _("Another customer already has this credit code."))
                continue
            if current is None:
                customer = self._new(rn, values)
                if customer is not None:
                    creates.append((rn, customer, values))
            elif current.pk not in allowed:
                self.error(rn, self.key_field, key, _("This customer is not one you may change."))
            else:
                change = self._change(rn, current, values)
                if change is None:
                    continue
                if change:
                    updates.append((rn, current, values, change))
                else:
                    self.counts["unchanged"] += 1
        self.counts["created"] += len(creates)
        self.counts["updated"] += len(updates)
        if self.writing:
            self._write_new(creates)
            self._write_changes(updates)

    def _existing(self, keys: list[str]) -> dict[str, list[int]]:
        field = "name" if self.by_name else "code"
        found: dict[str, list[int]] = {}
        keys = sorted(set(keys))
        for i in range(0, len(keys), 500):
            for pk, key in Customer.objects.filter(**{f"{field}__in": keys[i : i + 500]}).values_list(
                "pk", field
            ):
                found.setdefault(key, []).append(pk)
        return found

    def _credit_owners(self, codes: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(codes), 500):
            out.update(
                Customer.objects.filter(credit_code__in=codes[i : i + 500]).values_list("credit_code", "pk")
            )
        return out

    def _new(self, rn: int, values: dict) -> Customer | None:
        if not values.get("name"):
            self.error(rn, "customer_name", "", _("A new customer needs a name."))
            return None
        owner = values.pop("owner", None)
        if self.options.owner is not None:
            owner = self.options.owner
        owner = owner or self.default_owner()
        why = self.may_own(owner)
        if why:
            self.error(rn, "owner", owner.username, why)
            return None
        tags = values.pop("tags", None)
        values = dict(values)
        customer = Customer(**values)
        customer.owner = owner
        customer.department_id = owner.department_id
        customer.team_id = owner.team_id
        customer._import_tags = tags
        return customer

    def _change(self, rn: int, current: Customer, values: dict) -> dict | None:
        """The fields that change ({} when none), or None (an error was reported)."""
        values = dict(values)
        change: dict = {}
        owner = values.pop("owner", None)
        if self.options.owner is not None:
            owner = None  # --owner is for the customers the import creates
        tags = values.pop("tags", None)
        for field, value in values.items():
            if getattr(current, field) != value:
                change[field] = value
        if owner is not None and owner.pk != current.owner_id:
            actor = self.actor
            if not (actor.is_admin or actor.role == Role.MANAGER):
                self.error(rn, "owner", owner.username, _("Only a manager can hand a customer over."))
                return None
            change["owner"] = owner
        stage = change.get("lifecycle_stage")
        if stage and stage not in c.LIFECYCLE_TRANSITIONS.get(current.lifecycle_stage, set()):
            self.error(
                rn,
                "lifecycle_stage",
                stage,
                _("A customer cannot move from %(old)s to %(new)s.")
                % {
                    "old": c.LifecycleStage(current.lifecycle_stage).label,
                    "new": c.LifecycleStage(stage).label,
                },
            )
            return None
        if tags is not None and sorted(current.tags.values_list("name", flat=True)) != tags:
            change["tags"] = tags
        return change

    # --- writing --------------------------------------------------------------------------------

    def _write_new(self, creates: list[tuple[int, Customer, dict]]) -> None:
        if not creates:
            return
        now = timezone.now()
        objs = [obj for _rn, obj, _v in creates]
        for obj in objs:
            obj.created_at = obj.updated_at = now
        Customer.objects.bulk_create(objs, batch_size=1000)
        reason = _("Created by import")[:100]
        Customer.history.bulk_history_create(
            objs, batch_size=1000, default_user=self.actor, default_change_reason=reason, default_date=now
        )
        self._classification(
            [
                (obj, field, "", getattr(obj, field) or "")
                for obj in objs
                for field in c.CLASSIFICATION_FIELDS
                if getattr(obj, field)
            ],
            now,
            reason,
        )
        self._tags([(obj, obj._import_tags) for obj in objs if obj._import_tags], replace=False)
        self._terms([(obj, None) for obj in objs])
        for obj in objs:
            post_save.send(
                sender=Customer, instance=obj, created=True, raw=False, using="default", update_fields=None
            )

    def _write_changes(self, updates: list[tuple[int, Customer, dict, dict]]) -> None:
        if not updates:
            return
        now = timezone.now()
        reason = _("Updated by import")[:100]
        fields: set[str] = {"version", "updated_at"}
        changes = []
        tags = []
        old_terms = []
        for _rn, obj, _values, change in updates:
            old_terms.append(search.customer_terms(obj))
            old_owner = obj.owner_id
            for field, value in change.items():
                if field == "tags":
                    tags.append((obj, value))
                    continue
                if field in c.CLASSIFICATION_FIELDS:
                    changes.append((obj, field, getattr(obj, field) or "", value or ""))
                setattr(obj, field, value)
                fields.add(field)
                if field == "owner":
                    obj.department_id, obj.team_id = value.department_id, value.team_id
                    fields |= {"department", "team"}
                    RevenueReasonRequest.objects.filter(customer=obj, explained_at__isnull=True).update(
                        owner=value
                    )
            obj.version += 1
            obj.updated_at = now
            obj._old_owner = old_owner
        objs = [obj for _rn, obj, _v, _c in updates]
        Customer.objects.bulk_update(objs, sorted(fields), batch_size=500)
        Customer.history.bulk_history_create(
            objs,
            batch_size=1000,
            update=True,
            default_user=self.actor,
            default_change_reason=reason,
            default_date=now,
        )
        self._classification(changes, now, reason)
        self._tags(tags, replace=True)
        self._terms(list(zip(objs, old_terms, strict=True)))
        for obj in objs:
            post_save.send(
                sender=Customer, instance=obj, created=False, raw=False, using="default", update_fields=None
            )

    def _classification(self, rows: list[tuple], now: datetime.datetime, reason: str) -> None:
        ClassificationChange.objects.bulk_create(
            [
                ClassificationChange(
                    customer=obj,
                    field=f,
                    old_value=old,
                    new_value=new,
                    changed_by=self.actor,
                    changed_at=now,
                    reason=reason,
                )
                for obj, f, old, new in rows
            ],
            batch_size=1000,
        )

    def _tags(self, rows: list[tuple[Customer, list[str]]], *, replace: bool) -> None:
        if not rows:
            return
        names = sorted({n for _obj, tags in rows for n in tags})
        existing = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        missing = [Tag(name=n) for n in names if n not in existing]
        for tag in Tag.objects.bulk_create(missing):
            existing[tag.name] = tag.pk
        through = Customer.tags.through
        if replace:
            through.objects.filter(customer_id__in=[obj.pk for obj, _t in rows]).delete()
        through.objects.bulk_create(
            [through(customer_id=obj.pk, tag_id=existing[n]) for obj, tags in rows for n in tags],
            batch_size=1000,
        )

    def _terms(self, rows: list[tuple[Customer, set | None]]) -> None:
        """Search terms of the customers written (``old`` None: created); those created beyond
        ``SEARCH_TERMS_INLINE`` are left to the follow-up job."""
        for obj, old in rows:
            if old is None:
                if self.terms_written >= SEARCH_TERMS_INLINE:
                    lo, hi = self.search_ids or [obj.pk, obj.pk]
                    self.search_ids = [min(lo, obj.pk), max(hi, obj.pk)]
                    self.search_deferred = True
                    continue
                self.terms_written += 1
            search.replace_terms(search.KIND_CUSTOMER, obj.pk, old or (), search.customer_terms(obj))
