"""Demo sales: a product catalogue and two years of orders, invoices and payments ending today.

The orders follow the monthly revenue the customers generator gave each signed company (so the
card's figures, the reasons owed and the orders tell one story) and reach a year further back at
the customer's earlier level; consumers buy what their file says they bought, some of them again.
On top: returns, free orders (samples), a few cancelled orders, customers who quietly stopped
buying (churn candidates for analytics), and customers who pay late or not at all (overdue
receivables). Everything is drawn from the seed and dated relative to ``ctx.today``; the rows are
written with ``bulk_create`` in the generator's transaction, then the derived purchase tables are
rebuilt once (``summary.refresh(None)``, ``summary.refresh_products(None)``).
"""

from __future__ import annotations

import calendar
import datetime
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from guanxi.customers.models import Customer, RevenueFigure, RevenueReasonRequest

from . import summary
from .models import Invoice, InvoiceState, Order, OrderLine, Payment, Product, ProductCategory

CENT = Decimal("0.01")
ZERO = Decimal("0")

# (category, [(code, name, unit, list price, cost ratio)]) — what the demo company sells: machines and
# automation, inspection, spare parts, tools and consumables, industrial software, services,
# environmental and energy equipment, and household appliances through its stores and web shop.
CATALOGUE: list[tuple[str, list[tuple[str, str, str, int, float]]]] = [
    (
        "智能装备",
        [
            ("EQ-101", "立式加工中心 VMC850", "台", 368_000, 0.72),
            ("EQ-102", "五轴联动加工中心", "台", 1_280_000, 0.70),
            ("EQ-201", "六轴工业机器人（20kg）", "台", 158_000, 0.68),
            ("EQ-202", "协作机器人（5kg）", "台", 98_000, 0.66),
            ("EQ-301", "AGV自动导引车", "台", 126_000, 0.69),
            ("EQ-401", "自动化装配线（标准段）", "套", 860_000, 0.71),
        ],
    ),
    (
        "检测仪器",
        [
            ("QC-101", "三坐标测量机", "台", 420_000, 0.64),
            ("QC-201", "在线视觉检测系统", "套", 186_000, 0.58),
            ("QC-301", "手持式光谱分析仪", "台", 89_000, 0.62),
            ("QC-401", "数显卡尺套装", "套", 1_200, 0.55),
        ],
    ),
    (
        "备品备件",
        [
            ("SP-101", "伺服电机 1.5kW", "台", 4_800, 0.63),
            ("SP-102", "伺服驱动器 1.5kW", "台", 3_600, 0.61),
            ("SP-201", "电主轴 BT40", "件", 26_800, 0.65),
            ("SP-301", "滚珠丝杠（1米）", "根", 2_900, 0.60),
            ("SP-302", "直线导轨（1米）", "根", 1_650, 0.58),
            ("SP-401", "PLC控制模块", "块", 6_800, 0.62),
            ("SP-501", "光电传感器", "个", 380, 0.50),
        ],
    ),
    (
        "刀具与耗材",
        [
            ("CS-101", "硬质合金立铣刀（10支装）", "盒", 1_680, 0.57),
            ("CS-102", "数控刀片（10片装）", "盒", 460, 0.52),
            ("CS-201", "切削液（200升）", "桶", 3_200, 0.66),
            ("CS-202", "导轨润滑油（18升）", "桶", 680, 0.64),
            ("CS-301", "空气滤芯", "个", 260, 0.48),
            ("CS-401", "防护手套（100双）", "箱", 520, 0.60),
        ],
    ),
    (
        "工业软件",
        [
            ("SW-101", "MES制造执行系统授权（50用户）", "套", 280_000, 0.30),
            ("SW-201", "设备物联网平台年费", "年", 48_000, 0.25),
            ("SW-301", "质量追溯模块", "套", 65_000, 0.28),
            ("SW-401", "数据看板定制开发", "人天", 2_800, 0.45),
        ],
    ),
    (
        "技术服务",
        [
            ("SV-101", "年度维保服务", "年", 36_000, 0.45),
            ("SV-201", "上门调试服务", "人天", 2_400, 0.50),
            ("SV-301", "操作与编程培训", "人天", 3_000, 0.40),
            ("SV-401", "延保服务（一年）", "年", 12_000, 0.35),
        ],
    ),
    (
        "环保与能源",
        [
            ("EN-101", "废气处理设备（RTO）", "套", 680_000, 0.73),
            ("EN-201", "变频螺杆空压机 37kW", "台", 78_000, 0.67),
            ("EN-301", "余热回收装置", "套", 156_000, 0.66),
            ("EN-401", "能耗监测终端", "台", 2_600, 0.55),
        ],
    ),
    (
        "家用产品",
        [
            ("HM-101", "家用净水器", "台", 3_999, 0.55),
            ("HM-102", "净水器滤芯套装", "套", 599, 0.40),
            ("HM-201", "空气净化器", "台", 2_899, 0.56),
            ("HM-301", "扫地机器人", "台", 2_499, 0.60),
            ("HM-401", "智能门锁", "把", 1_899, 0.52),
            ("HM-501", "按摩椅", "台", 12_800, 0.58),
            ("HM-601", "厨房电器套装", "套", 6_999, 0.62),
        ],
    ),
]

# what each industry (GB/T 4754 section) buys, as weights of the categories above
INDUSTRY_MIX = {
    "C": {
        "智能装备": 4,
        "检测仪器": 2,
        "备品备件": 5,
        "刀具与耗材": 5,
        "工业软件": 1,
        "技术服务": 3,
        "环保与能源": 1,
    },
    "I": {"工业软件": 5, "技术服务": 3, "备品备件": 1},
    "F": {"备品备件": 5, "刀具与耗材": 5, "家用产品": 2},
    "G": {"智能装备": 2, "环保与能源": 2, "技术服务": 2, "备品备件": 2},
    "E": {"环保与能源": 3, "刀具与耗材": 3, "技术服务": 1},
    "D": {"环保与能源": 5, "技术服务": 3, "工业软件": 1},
    "M": {"检测仪器": 5, "技术服务": 2, "备品备件": 1},
    "H": {"家用产品": 4, "环保与能源": 1, "技术服务": 1},
}
DEFAULT_MIX = {"技术服务": 3, "工业软件": 2, "刀具与耗材": 2, "家用产品": 1}

TERMS_DAYS = {"月结30天": 45, "月结60天": 75, "货到付款": 7, "季度结算": 90, "银行承兑汇票，90天": 90}
CHANNELS = ["direct", "distributor", "tender", "phone", "online"]
METHODS = ["银行转账", "银行转账", "银行转账", "银行承兑汇票", "商业承兑汇票"]
B2B_GIFTS = ["赠送刀具一盒", "赠送润滑油一桶", "免费上门调试一次", "延保三个月"]
SAMPLE_GIFTS = ["样品", "试用装", "免费试用"]


def _money(value: float | Decimal, step: int = 100) -> Decimal:
    return Decimal(max(step, int(round(float(value) / step)) * step))


def _shift_month(d: datetime.date, months: int) -> datetime.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return datetime.date(y, m + 1, 1)


def _days_in(month: datetime.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def _moment(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@dataclass
class Buyer:
    """One customer's purchasing as the generator decides it."""

    customer: Customer
    rng: random.Random
    basket: list[Product]
    channel: str
    terms: int
    payer: str  # prompt | late | bad
    stop: datetime.date | None = None  # a churn candidate stops buying after this day
    months: dict[datetime.date, Decimal] = field(default_factory=dict)


class Writer:
    """Collects the rows, numbers them, writes them in bulk."""

    def __init__(self, ctx, products: list[Product]):
        self.ctx = ctx
        self.today = ctx.today
        self.products = products
        self.by_category: dict[str, list[Product]] = defaultdict(list)
        for p in products:
            self.by_category[p.category.name].append(p)
        self.orders: list[Order] = []
        self.lines: list[list[OrderLine]] = []
        self.invoice_plan: list[tuple[int, Buyer]] = []  # (order index, buyer)
        self.seq = 0

    # -- orders

    def order(
        self,
        buyer: Buyer,
        day: datetime.date,
        amount: Decimal,
        *,
        state: str | None = None,
        channel: str | None = None,
        lines: list[OrderLine] | None = None,
        invoice: bool = True,
        note: str = "",
    ) -> int:
        rng = buyer.rng
        if lines is None:
            lines = self.split(buyer, amount)
        if state is None:
            age = (self.today - day).days
            state = (
                "delivered"
                if age > 12
                else ("pending" if age <= 3 else rng.choice(["shipped", "shipped", "delivered"]))
            )
        self.seq += 1
        costs = [ln.cost for ln in lines if ln.cost is not None]
        order = Order(
            customer_id=buyer.customer.pk,
            number=f"SO{day:%Y%m%d}-{self.seq:05d}",
            order_date=day,
            channel=channel or (buyer.channel if rng.random() < 0.75 else rng.choice(CHANNELS)),
            delivery_state=state,
            amount=sum((ln.amount for ln in lines), ZERO),
            cost=sum(costs, ZERO) if costs else None,
            note=note,
            created_by_id=buyer.customer.owner_id,
            created_at=_moment(day, rng.randint(9, 17), rng.randint(0, 59)),
        )
        self.orders.append(order)
        self.lines.append(lines)
        index = len(self.orders) - 1
        if invoice and buyer.customer.kind == "company" and order.amount > 0 and state != "cancelled":
            self.invoice_plan.append((index, buyer))
        return index

    def split(self, buyer: Buyer, amount: Decimal) -> list[OrderLine]:
        """Lines from the buyer's basket that add up to ``amount`` exactly."""
        rng = buyer.rng
        n = 1 if amount < 5_000 else rng.choice([1, 1, 2, 2, 3])
        weights = [rng.uniform(0.4, 1.0) for _ in range(n)]
        total = sum(weights)
        shares: list[Decimal] = []
        left = amount
        for w in weights[:-1]:
            s = _money(float(amount) * w / total, 100)
            if s >= left:
                break
            shares.append(s)
            left -= s
        shares.append(left)
        return [self.line(buyer, s) for s in shares]

    def line(self, buyer: Buyer, amount: Decimal) -> OrderLine:
        rng = buyer.rng
        best, best_score = None, None
        for p in buyer.basket:
            price = float(p.list_price)
            qty = max(1, round(float(amount) / price))
            dev = abs(float(amount) / (qty * price) - 1)
            score = dev + (0.5 if qty > 300 else 0) + rng.uniform(0, 0.08)
            if best_score is None or score < best_score:
                best, best_score = (p, qty), score
        product, qty = best
        if best_score > 0.6:  # nothing in the basket fits: a service of that size (days of work)
            product = next(p for p in self.by_category["技术服务"] if p.code == "SV-201")
            qty = max(1, round(float(amount) / float(product.list_price)))
        unit = (amount / qty).quantize(CENT, ROUND_HALF_UP)
        gift = rng.choice(B2B_GIFTS) if buyer.customer.kind == "company" and rng.random() < 0.04 else ""
        return OrderLine(
            product=product,
            quantity=Decimal(qty),
            unit_price=unit,
            amount=amount,
            cost=(product.unit_cost * qty).quantize(CENT),
            gift=gift,
        )

    def month(
        self, buyer: Buyer, month: datetime.date, value: Decimal, *, last_day: int | None = None
    ) -> None:
        """Orders in ``month`` that add up to ``value`` (returns included)."""
        rng = buyer.rng
        if value <= 0:
            return
        end = last_day or _days_in(month)
        if buyer.stop is not None and month > buyer.stop:
            return
        if buyer.stop is not None and month.replace(day=1) == buyer.stop.replace(day=1):
            end = min(end, buyer.stop.day)
        n = (
            1
            if value < 20_000
            else (
                rng.choice([1, 2])
                if value < 200_000
                else (rng.choice([2, 3]) if value < 1_000_000 else rng.randint(3, 5))
            )
        )
        n = min(n, end)
        days = sorted(rng.sample(range(1, end + 1), n))
        ret = ZERO
        if n and rng.random() < 0.05 and value >= 2_000:
            ret = _money(float(value) * rng.uniform(0.03, 0.15), 100)
        gross = value + ret
        weights = [rng.uniform(0.5, 1.0) for _ in days]
        parts, left = [], gross
        for w in weights[:-1]:
            p = _money(float(gross) * w / sum(weights), 100)
            if p >= left:
                break
            parts.append(p)
            left -= p
        parts.append(left)
        first = None
        for day, part in zip(days, parts, strict=False):
            i = self.order(buyer, month.replace(day=day), part)
            first = first if first is not None else i
        if ret and first is not None:
            src = self.lines[first][0]
            qty = max(1, round(float(ret) / float(src.unit_price))) if src.unit_price else 1
            back = OrderLine(
                product=src.product,
                quantity=Decimal(-qty),
                unit_price=(ret / qty).quantize(CENT, ROUND_HALF_UP),
                amount=-ret,
                cost=-(src.product.unit_cost * qty).quantize(CENT) if src.product else None,
            )
            day = min(end, days[0] + rng.randint(3, 20))
            self.order(
                buyer,
                month.replace(day=day),
                -ret,
                state="returned",
                lines=[back],
                invoice=False,
                note=rng.choice(["质量问题退货", "规格不符退货", "多发退回"]),
            )
        if rng.random() < 0.03:  # a free order: samples of something small for a trial
            small = [p for p in buyer.basket if p.list_price <= 3000]
            p = rng.choice(small or self.by_category["刀具与耗材"])
            qty = rng.randint(1, 3)
            free = OrderLine(
                product=p,
                quantity=Decimal(qty),
                unit_price=ZERO,
                amount=ZERO,
                cost=(p.unit_cost * qty).quantize(CENT),
                gift=rng.choice(SAMPLE_GIFTS),
            )
            self.order(
                buyer,
                month.replace(day=rng.randint(1, end)),
                ZERO,
                lines=[free],
                invoice=False,
                note="免费样品",
            )
        if rng.random() < 0.01:  # cancelled before delivery (not a purchase, not revenue)
            self.order(
                buyer,
                month.replace(day=rng.randint(1, end)),
                _money(float(value) * 0.3),
                state="cancelled",
                invoice=False,
                note="客户取消",
            )

    # -- writing

    def write(self) -> tuple[int, int, int, int]:
        Order.objects.bulk_create(self.orders, batch_size=1000)
        all_lines = []
        for order, lines in zip(self.orders, self.lines, strict=True):
            for ln in lines:
                ln.order_id = order.pk
                all_lines.append(ln)
        OrderLine.objects.bulk_create(all_lines, batch_size=2000)
        invoices, payments = self.invoices()
        Invoice.objects.bulk_create(invoices, batch_size=1000)
        for p in payments:
            p.invoice_id = p.invoice.pk
        Payment.objects.bulk_create(payments, batch_size=2000)
        return len(self.orders), len(all_lines), len(invoices), len(payments)

    def invoices(self) -> tuple[list[Invoice], list[Payment]]:
        invoices, payments = [], []
        seq = 0
        for index, buyer in sorted(self.invoice_plan, key=lambda t: (self.orders[t[0]].order_date, t[0])):
            order = self.orders[index]
            rng = random.Random(f"{self.ctx.seed}:invoice:{order.number}")
            issue = min(self.today, order.order_date + datetime.timedelta(days=rng.randint(0, 5)))
            due = issue + datetime.timedelta(days=buyer.terms)
            seq += 1
            inv = Invoice(
                customer_id=order.customer_id,
                order=order,
                number=f"FP{issue:%Y%m}{seq:06d}",
                issue_date=issue,
                due_date=due,
                amount=order.amount,
                paid=ZERO,
                state=InvoiceState.OPEN,
                created_by_id=order.created_by_id,
                created_at=_moment(issue, 16, rng.randint(0, 59)),
            )
            invoices.append(inv)
            if buyer.payer == "prompt":
                pay = issue + datetime.timedelta(days=rng.randint(max(0, buyer.terms - 25), buyer.terms))
            elif buyer.payer == "late":
                pay = due + datetime.timedelta(days=rng.randint(3, 60))
            else:  # stopped paying some months ago
                cutoff = self.today - datetime.timedelta(days=buyer.rng.randint(100, 220))
                pay = (due + datetime.timedelta(days=rng.randint(5, 40))) if issue < cutoff else None
            if pay is None or pay > self.today:
                # a first instalment on some open invoices
                if rng.random() < 0.15 and issue < self.today - datetime.timedelta(days=20):
                    part = _money(float(inv.amount) * rng.uniform(0.3, 0.6), 100)
                    if part < inv.amount:
                        payments.append(
                            self.payment(inv, issue + datetime.timedelta(days=rng.randint(5, 20)), part, rng)
                        )
                        inv.paid = part
                continue
            if rng.random() < 0.15 and inv.amount >= 1000:
                part = _money(float(inv.amount) * rng.uniform(0.4, 0.7), 100)
                if part < inv.amount:
                    first = max(issue, pay - datetime.timedelta(days=rng.randint(10, 40)))
                    payments.append(self.payment(inv, first, part, rng))
                    payments.append(self.payment(inv, pay, inv.amount - part, rng))
                    inv.paid, inv.state = inv.amount, InvoiceState.PAID
                    continue
            payments.append(self.payment(inv, pay, inv.amount, rng))
            inv.paid, inv.state = inv.amount, InvoiceState.PAID
        return invoices, payments

    def payment(self, inv: Invoice, day: datetime.date, amount: Decimal, rng: random.Random) -> Payment:
        day = min(day, self.today)
        return Payment(
            invoice=inv,
            paid_on=day,
            amount=amount,
            method=rng.choice(METHODS),
            reference=f"HK{day:%Y%m%d}{rng.randrange(10**6):06d}",
            created_by_id=inv.created_by_id,
            created_at=_moment(day, 11, rng.randint(0, 59)),
        )


def catalogue() -> list[Product]:
    products = []
    for cat_name, items in CATALOGUE:
        cat, _created = ProductCategory.objects.get_or_create(name=cat_name)
        for code, name, unit, price, ratio in items:
            cost = (Decimal(price) * Decimal(str(ratio))).quantize(Decimal("1"))
            p, _created = Product.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "category": cat,
                    "unit": unit,
                    "list_price": Decimal(price),
                    "unit_cost": cost,
                    "active": True,
                },
            )
            p.category = cat
            products.append(p)
    # one product no longer on sale (kept for the history of the orders that had it)
    Product.objects.filter(code="QC-401").update(active=False)
    return products


def _basket(rng: random.Random, writer: Writer, customer: Customer, big: bool) -> list[Product]:
    mix = INDUSTRY_MIX.get(customer.industry, DEFAULT_MIX)
    cats = [c for c in mix if c in writer.by_category]
    chosen: list[Product] = []
    for _ in range(rng.randint(4, 8) if big else rng.randint(3, 5)):
        cat = rng.choices(cats, weights=[mix[c] for c in cats])[0]
        pool = [p for p in writer.by_category[cat] if p.active and p not in chosen]
        if pool:
            chosen.append(rng.choice(pool))
    return chosen or writer.by_category["技术服务"]


def _terms(customer: Customer, rng: random.Random) -> int:
    text = customer.payment_terms or ""
    for key, days in TERMS_DAYS.items():
        if key in text:
            return days
    return rng.choice([30, 30, 45, 60])


def generate(ctx) -> dict[str, int]:
    ctx.at(ctx.moment(0, 7))
    products = catalogue()
    writer = Writer(ctx, products)
    today = ctx.today
    this_month = today.replace(day=1)
    last_month = _shift_month(this_month, -1)
    window_start = _shift_month(last_month, -11)  # the customers generator's first revenue month
    earliest = today - datetime.timedelta(days=730)

    figures: dict[int, dict[datetime.date, Decimal]] = defaultdict(dict)
    for cid, month, revenue in RevenueFigure.objects.order_by("customer_id", "period_start").values_list(
        "customer_id", "period_start", "revenue"
    ):
        figures[cid][month] = revenue
    owing = set(RevenueReasonRequest.objects.values_list("customer_id", flat=True))
    created = {
        p.name: min(e.when for e in p.events if e.kind == "create").date()
        for p in ctx.state.get("customer_plans", [])
        if any(e.kind == "create" for e in p.events)
    }
    customers = list(Customer.objects.order_by("id"))
    stopped = 0
    for customer in customers:
        rng = ctx.rng("sales", customer.pk)
        if customer.kind == "individual":
            _consumer(writer, customer, rng, earliest)
            continue
        months = {m: v for m, v in figures.get(customer.pk, {}).items() if m < this_month}
        if not any(v > 0 for v in months.values()):
            continue
        level = sorted(v for v in months.values() if v > 0)
        big = level[len(level) // 2] * 12 >= 1_000_000
        buyer = Buyer(
            customer=customer,
            rng=rng,
            basket=_basket(rng, writer, customer, big),
            channel=rng.choices(CHANNELS, weights=[60, 15, 8 if not big else 25, 10, 7])[0],
            terms=_terms(customer, rng),
            payer=rng.choices(["prompt", "late", "bad"], weights=[70, 20, 10])[0],
        )
        # a churn candidate: an active company without reasons owed that quietly stopped buying
        if (
            customer.lifecycle_stage == "signed"
            and customer.pk not in owing
            and rng.random() < 0.1
            and last_month in months
        ):
            buyer.stop = today - datetime.timedelta(days=rng.randint(110, 280))
            stopped += 1
        # the year before the figures: the level of the first figures, a little lower, from the
        # day the customer came
        since = max(customer.customer_since or window_start, earliest)
        first_months = [months[m] for m in sorted(months) if months[m] > 0][:3]
        base = sum(first_months) / len(first_months) * Decimal(str(rng.uniform(0.8, 1.0)))
        # before signing: trial orders now and then, from a month after the first contact
        came = created.get(customer.name)
        if came is not None:
            month = _shift_month(max(came, earliest).replace(day=1), 1)
            while month < min(since.replace(day=1), window_start):
                if rng.random() < 0.35:
                    writer.month(buyer, month, _money(float(base) * rng.uniform(0.05, 0.25)))
                month = _shift_month(month, 1)
        month = since.replace(day=1)
        while month < window_start:
            if month >= since.replace(day=1) and (big or rng.random() < 0.7):
                noise = rng.uniform(0.85, 1.15) * (0.92 if month.month == 2 else 1.0)
                start_day = since.day if month == since.replace(day=1) else 1
                value = _money(float(base) * noise)
                if start_day > 1:
                    _month_from(writer, buyer, month, value, start_day)
                else:
                    writer.month(buyer, month, value)
            month = _shift_month(month, 1)
        # the twelve months of the figures, to the yuan
        for m in sorted(months):
            writer.month(buyer, m, months[m])
        # this month so far, for those still buying
        if months.get(last_month, ZERO) > 0 and customer.lifecycle_stage != "churned" and today.day > 1:
            value = _money(
                float(months[last_month]) * today.day / _days_in(this_month) * rng.uniform(0.7, 1.2)
            )
            writer.month(buyer, this_month, value, last_day=today.day - 1 if today.day > 1 else 1)
    n_orders, n_lines, n_invoices, n_payments = writer.write()
    summary.refresh(None)
    summary.refresh_products(None)
    returns = sum(1 for o in writer.orders if o.amount < 0)
    overdue = Invoice.objects.filter(state=InvoiceState.OPEN, due_date__lt=today).count()
    return {
        "products": len(products),
        "orders": n_orders,
        "order lines": n_lines,
        "returns": returns,
        "churn candidates (stopped buying)": stopped,
        "invoices": n_invoices,
        "payments": n_payments,
        "overdue invoices": overdue,
    }


def _month_from(writer: Writer, buyer: Buyer, month: datetime.date, value: Decimal, start_day: int) -> None:
    """A first month that starts on the day the customer came."""
    rng = buyer.rng
    end = _days_in(month)
    day = rng.randint(start_day, end)
    writer.order(buyer, month.replace(day=day), value)


CONSUMER = re.compile(r"购买(?P<goods>.+?)，成交金额 (?P<amount>\d+) 元，赠品：(?P<gift>.+)$")


def _consumer(writer: Writer, customer: Customer, rng: random.Random, earliest: datetime.date) -> None:
    """A consumer buys what the file says, at the store; some come back for refills or more."""
    m = CONSUMER.search(customer.purchase_notes or "")
    if not m or not customer.customer_since:
        return
    by_name = {p.name: p for p in writer.by_category["家用产品"]}
    product = by_name.get(m["goods"]) or by_name["家用净水器"]
    amount = Decimal(m["amount"])
    gift = "" if m["gift"] == "无" else m["gift"]
    buyer = Buyer(customer=customer, rng=rng, basket=[product], channel="store", terms=0, payer="prompt")
    day = max(customer.customer_since, earliest)
    line = OrderLine(
        product=product,
        quantity=Decimal(1),
        unit_price=amount,
        amount=amount,
        cost=product.unit_cost,
        gift=gift,
    )
    writer.order(buyer, day, amount, channel=rng.choice(["store", "store", "online"]), lines=[line])
    again = rng.random()
    while again < 0.45:
        day = day + datetime.timedelta(days=rng.randint(120, 330))
        if day >= writer.today:
            break
        refill = by_name["净水器滤芯套装"] if product.code == "HM-101" else rng.choice(list(by_name.values()))
        price = refill.list_price * Decimal(str(rng.choice([1, 0.9, 0.95])))
        price = price.quantize(Decimal("1"))
        line = OrderLine(
            product=refill, quantity=Decimal(1), unit_price=price, amount=price, cost=refill.unit_cost
        )
        writer.order(buyer, day, price, channel=rng.choice(["store", "online"]), lines=[line])
        again = rng.random() + 0.15
