"""What an import file's columns can mean, and how their headers are recognised.

Each kind of import has a catalogue of fields; each field a list of header spellings in Chinese and
English. A header matches when it equals a spelling after normalisation (full-width to half-width,
lower case, spaces, punctuation and underscores removed), or does so once a bracketed note is
dropped (``金额（元）``, ``Amount (CNY)``). The first column that matches a field gets it; columns
that match nothing are ignored and listed in the preview. ``--map column=field`` overrides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import ValidationFailed

CUSTOMERS = "customers"
ORDERS = "orders"
IGNORE = ""


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # a lazy translation
    aliases: tuple[str, ...]


def _f(name: str, label, *aliases: str) -> Field:
    return Field(name, label, (name, *aliases))


# --- the customer's identity and the fields both kinds share ---------------------------------------
CODE = _f(
    "customer_code",
    _("Customer code"),
    "客户编号",
    "客户代码",
    "客户编码",
    "客户ID",
    "客户号",
    "顾客ID",
    "顾客编号",
    "会员编号",
    "会员ID",
    "customer code",
    "customer id",
    "customer no",
    "customer number",
    "client code",
    "client id",
    "code",
)
NAME = _f(
    "customer_name",
    _("Customer name"),
    "客户名称",
    "客户名",
    "客户",
    "客户全称",
    "顾客",
    "顾客名称",
    "顾客姓名",
    "客户姓名",
    "公司名称",
    "单位名称",
    "企业名称",
    "customer name",
    "customer",
    "client",
    "client name",
    "company",
    "company name",
    "name",
)
OWNER = _f(
    "owner",
    _("Account manager"),
    "客户经理",
    "大客户经理",
    "负责人",
    "销售",
    "销售员",
    "业务员",
    "所属销售",
    "跟进人",
    "owner",
    "account manager",
    "sales rep",
    "salesperson",
)

ORDER_FIELDS = [
    _f(
        "order_number",
        _("Order number"),
        "订单号",
        "订单编号",
        "单号",
        "订单ID",
        "单据编号",
        "order number",
        "order no",
        "order id",
        "order",
        "order #",
        "number",
    ),
    CODE,
    NAME,
    _f(
        "order_date",
        _("Order date"),
        "下单日期",
        "订单日期",
        "交易日期",
        "日期",
        "下单时间",
        "订单时间",
        "成交日期",
        "购买日期",
        "交易时间",
        "销售日期",
        "order date",
        "date",
        "purchase date",
        "transaction date",
        "sale date",
    ),
    _f(
        "amount",
        _("Amount"),
        "金额",
        "成交金额",
        "订单金额",
        "销售金额",
        "销售额",
        "实付金额",
        "总金额",
        "合计",
        "消费金额",
        "amount",
        "total",
        "line amount",
        "sales",
        "revenue",
    ),
    _f("quantity", _("Quantity"), "数量", "购买数量", "件数", "quantity", "qty"),
    _f("unit_price", _("Unit price"), "单价", "价格", "售价", "销售单价", "unit price", "price"),
    _f(
        "product",
        _("Product"),
        "产品",
        "产品名称",
        "购买商品",
        "商品",
        "商品名称",
        "品名",
        "product",
        "product name",
        "item",
        "item name",
    ),
    _f(
        "product_code",
        _("Product code"),
        "产品编号",
        "产品编码",
        "产品代码",
        "商品编号",
        "商品编码",
        "货号",
        "product code",
        "product id",
        "sku",
        "item code",
    ),
    _f(
        "category",
        _("Product category"),
        "产品类别",
        "产品分类",
        "类别",
        "品类",
        "商品分类",
        "商品类别",
        "category",
        "product category",
    ),
    _f("channel", _("Channel"), "渠道", "销售渠道", "购买渠道", "channel", "sales channel"),
    _f("gift", _("Gift"), "赠品", "购物赠品", "gift", "gifts", "free gift"),
    _f("cost", _("Cost"), "成本", "成本金额", "cost"),
    _f(
        "delivery_state",
        _("Delivery state"),
        "状态",
        "订单状态",
        "发货状态",
        "delivery state",
        "status",
        "order status",
    ),
    _f("note", _("Note"), "备注", "说明", "note", "notes", "remark", "remarks"),
    OWNER,
]

CUSTOMER_FIELDS = [
    CODE,
    NAME,
    _f("short_name", _("Short name"), "简称", "客户简称", "short name"),
    _f("kind", _("Customer kind"), "客户类型", "类型", "客户性质", "kind", "customer type", "type"),
    _f(
        "credit_code",
        _("Unified social credit code"),
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "credit code",
        "uscc",
        "unified social credit code",
    ),
    _f("industry", _("Industry"), "行业", "所属行业", "行业类别", "industry"),
    _f("province", _("Province"), "省份", "省", "所在省份", "province"),
    _f("city", _("City"), "城市", "市", "所在城市", "city"),
    _f("address", _("Address"), "地址", "详细地址", "公司地址", "通讯地址", "address"),
    _f(
        "phone",
        _("Phone"),
        "电话",
        "联系电话",
        "公司电话",
        "座机",
        "手机",
        "手机号",
        "phone",
        "telephone",
        "tel",
        "mobile",
    ),
    _f("phone_alt", _("Second phone"), "备用电话", "其他电话", "second phone", "alternative phone"),
    _f("fax", _("Fax"), "传真", "fax"),
    _f("email", _("Email"), "邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail"),
    _f("website", _("Website"), "网站", "网址", "公司网站", "website", "web", "url"),
    _f("employees", _("Employees"), "员工人数", "人数", "员工数", "employees", "staff"),
    _f("annual_revenue", _("Annual revenue"), "年营业额", "年收入", "营业收入", "annual revenue", "revenue"),
    _f("registered_capital", _("Registered capital"), "注册资本", "注册资金", "registered capital"),
    _f("founded_on", _("Founded on"), "成立日期", "成立时间", "founded", "founded on"),
    _f("customer_since", _("Customer since"), "合作开始日期", "首次合作日期", "建档日期", "customer since"),
    _f(
        "membership_level",
        _("Membership level"),
        "会员级别",
        "会员等级",
        "membership level",
        "member level",
        "membership",
    ),
    _f(
        "lifecycle_stage",
        _("Lifecycle stage"),
        "生命周期",
        "客户阶段",
        "生命周期阶段",
        "lifecycle stage",
        "lifecycle",
        "stage",
    ),
    _f("value_level", _("Value level"), "价值等级", "客户价值", "价值级别", "value level"),
    _f("maintenance_tier", _("Maintenance tier"), "维护等级", "维护级别", "maintenance tier"),
    _f("strategic_type", _("Strategic type"), "战略类型", "战略分类", "strategic type"),
    _f("importance", _("Importance"), "重要程度", "重要性", "importance"),
    _f("is_key_account", _("Key account"), "大客户", "重点客户", "是否大客户", "key account"),
    _f("tags", _("Tags"), "标签", "tags", "tag"),
    _f("overview", _("Company overview"), "企业概况", "公司简介", "简介", "overview", "description"),
    OWNER,
]

CATALOGUE = {ORDERS: ORDER_FIELDS, CUSTOMERS: CUSTOMER_FIELDS}

_STRIP = re.compile(r"[\W_]+", re.UNICODE)
_BRACKETS = re.compile(r"[(\[【（].*?[)\]】）]")


def normalize(header: object) -> str:
    """``" Customer_Name "`` → ``customername``; ``客户 名称`` → ``客户名称``."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", str(header or "")).lower())


def _without_note(header: object) -> str:
    return normalize(_BRACKETS.sub("", unicodedata.normalize("NFKC", str(header or ""))))


def fields(kind: str) -> list[Field]:
    return CATALOGUE[kind]


def field_names(kind: str) -> list[str]:
    return [f.name for f in CATALOGUE[kind]]


def labels(kind: str) -> dict[str, str]:
    return {f.name: str(f.label) for f in CATALOGUE[kind]}


def _alias_index(kind: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in CATALOGUE[kind]:
        for alias in f.aliases:
            index.setdefault(normalize(alias), f.name)
    return index


def field_for(kind: str, text: str) -> str | None:
    """The field a header (or a field name, or an alias given to ``--map``) stands for."""
    index = _alias_index(kind)
    return index.get(normalize(text)) or index.get(_without_note(text))


def recognise(kind: str, headers: list[str]) -> list[str]:
    """The field of each column ("" when none); a field goes to the first column that names it."""
    index = _alias_index(kind)
    taken: set[str] = set()
    out = []
    for h in headers:
        f = index.get(normalize(h)) or index.get(_without_note(h))
        if f and f not in taken:
            taken.add(f)
            out.append(f)
        else:
            out.append(IGNORE)
    return out


def apply_overrides(kind: str, headers: list[str], mapping: list[str], overrides: list[str]) -> list[str]:
    """``column=field`` overrides (``--map``): the column by its header (or its number, from 1), the
    field by its name or any spelling of it; ``column=`` ignores the column. A field moved to another
    column leaves the column that had it."""
    mapping = list(mapping)
    errors: list[str] = []
    for item in overrides:
        column, sep, target = str(item).partition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column:
            errors.append(_("Write the override as column=field: %(item)s") % {"item": item})
            continue
        idx = _column_index(headers, column)
        if idx is None:
            errors.append(_("No column %(column)s in the file.") % {"column": column})
            continue
        if target in ("", "-", "ignore"):
            mapping[idx] = IGNORE
            continue
        field = target if target in field_names(kind) else field_for(kind, target)
        if field is None:
            errors.append(_("Unknown field %(field)s.") % {"field": target})
            continue
        mapping = [IGNORE if m == field else m for m in mapping]
        mapping[idx] = field
    if errors:
        raise ValidationFailed({"mapping": errors})
    return mapping


def _column_index(headers: list[str], column: str) -> int | None:
    for i, h in enumerate(headers):
        if str(h).strip() == column:
            return i
    norm = normalize(column)
    for i, h in enumerate(headers):
        if norm and normalize(h) == norm:
            return i
    if column.isdigit() and 1 <= int(column) <= len(headers):
        return int(column) - 1
    return None


def check_mapping(kind: str, headers: list[str], mapping: list[object]) -> list[str]:
    """The mapping cleaned (one entry per column, each a known field at most once), or
    ValidationFailed naming what is missing for this kind of import."""
    known = set(field_names(kind))
    clean: list[str] = []
    seen: set[str] = set()
    errors: list[str] = []
    mapping = list(mapping or [])[: len(headers)]
    mapping += [IGNORE] * (len(headers) - len(mapping))
    for m in mapping:
        m = str(m or "").strip()
        if m and m not in known:
            errors.append(_("Unknown field %(field)s.") % {"field": m})
            m = IGNORE
        if m and m in seen:
            errors.append(_("Two columns are mapped to %(field)s.") % {"field": labels(kind)[m]})
            m = IGNORE
        if m:
            seen.add(m)
        clean.append(m)
    names = labels(kind)
    if kind == ORDERS:
        if "order_date" not in seen:
            errors.append(_("No column gives the %(field)s.") % {"field": names["order_date"]})
        if not seen & {"customer_code", "customer_name"}:
            errors.append(_("No column gives the customer code or the customer name."))
        if not seen & {"amount", "unit_price"}:
            errors.append(_("No column gives the amount or the unit price."))
    else:
        if not seen & {"customer_code", "customer_name"}:
            errors.append(_("No column gives the customer code or the customer name."))
    if errors:
        raise ValidationFailed({"mapping": errors})
    return clean


def ignored_columns(headers: list[str], mapping: list[str]) -> list[str]:
    return [str(h) for h, m in zip(headers, mapping, strict=False) if not m]
