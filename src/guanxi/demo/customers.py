"""Demo customers, key contacts, classification history and monthly revenue (C1–C3).

Two steps. ``plan()`` is pure: from the seed and "today" it decides every customer's life as a list
of dated events (created, became an intent, signed, upgraded to key account, handed over, churned,
revenue of each month, a contact met, a contact's attitude changed). ``generate()`` then performs
the events in date order through ``guanxi.customers.services`` as the user who would have done each,
so the audit trail, classification history and reasons owed are the real ones; the loader's time
warp finally moves each write to its date.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from stdnum.cn import uscc

from guanxi.customers import services
from guanxi.customers.models import (
    ClassificationChange,
    Contact,
    Customer,
    CustomerSettings,
    RevenueFigure,
    RevenueReasonRequest,
)
from guanxi.customers.validators import normalize_phone

from . import vocab
from .context import DemoContext

# --- small generators ------------------------------------------------------------------------------

MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175 176 177 180 181 "
    "182 183 185 186 187 188 189 191 198 199"
).split()


def _valid_phone(make, tries: int = 50) -> str | None:
    for _ in range(tries):
        number = make()
        try:
            normalize_phone(number)
            return number
        except ValidationError:
            continue
    return None


def mobile(rng: random.Random) -> str:
    number = _valid_phone(lambda: rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}")
    assert number, "no valid mobile number"
    return number


@cache
def local_digits(area: str) -> int:
    """How long the local numbers of an area code are: 8 in most cities, 7 in some."""
    for digits in (8, 7):
        for first in "2345678":
            try:
                normalize_phone(f"{area}-{first}{'234567890'[: digits - 1]}")
                return digits
            except ValidationError:
                continue
    raise RuntimeError(f"no valid landline for area code {area}")  # pragma: no cover


def landline(rng: random.Random, area: str) -> str:
    d = local_digits(area)
    number = _valid_phone(lambda: f"{area}-{rng.randint(2, 8)}{rng.randrange(10 ** (d - 1)):0{d - 1}d}")
    assert number, f"no valid landline for area code {area}"
    return number


def organisation_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    body = [rng.randrange(10) for _ in range(8)]
    total = sum(d * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return "".join(map(str, body)) + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, division: str) -> str:
    """A unified social credit code: 9 (market regulator), 1 (enterprise), region, organisation code."""
    first17 = "91" + division + organisation_code(rng)
    code = first17 + uscc.calc_check_digit(first17)
    assert uscc.is_valid(code), code
    return code


def pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin  # loaded on use (see customers.search)

    return "".join(lazy_pinyin(text))


def yuan(amount: Decimal | float) -> str:
    """An amount as a Chinese reader says it: 1.2亿元, 350万元."""
    amount = float(amount)
    if amount >= 100_000_000:
        return f"{amount / 100_000_000:.1f}亿元"
    if amount >= 10_000:
        return f"{amount / 10_000:.0f}万元"
    return f"{amount:.0f}元"


def purchase_notes(rng: random.Random, purchases: Decimal) -> str:
    rhythm, orders = rng.choice(
        [("每月下单", 12), ("每季度集中下单", 4), ("每两个月补货一次", 6), ("按项目下单", 3)]
    )
    return f"年采购额约{yuan(purchases)}，{rhythm}，单笔约{yuan(float(purchases) / orders)}"


def _money(value: float, step: int = 10_000) -> Decimal:
    return Decimal(max(step, int(round(value / step)) * step))


def _shift_month(d: datetime.date, months: int) -> datetime.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return datetime.date(y, m + 1, 1)


# --- the plan --------------------------------------------------------------------------------------


@dataclass
class Event:
    when: datetime.datetime
    kind: str  # create | update | contact | contact_update | revenue | explain_all
    actor: str | None = None  # username
    data: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    ref: Any = None  # contact number, or the revenue month


@dataclass
class CustomerPlan:
    index: int
    name: str
    kind: str
    owner: str  # the final owner's username
    stage: str  # the final lifecycle stage
    key_account: bool
    events: list[Event] = field(default_factory=list)
    churn_reason: str = ""
    handed_over: bool = False


@dataclass
class Showcase:
    """A customer fixed by hand so that the tour of the demo has something to show."""

    name: str
    short: str
    province: str
    city: str
    industry: str
    owner: str
    stage: str
    key: bool = False
    strategic: str = ""
    shock: tuple[int, float] | None = None  # (months before last month, factor) of a revenue change
    founded: datetime.date | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


SHOWCASE = [
    Showcase(
        name="苏州恒瑞精密机械有限公司",
        short="恒瑞机械",
        province="江苏",
        city="苏州",
        industry="C",
        owner="rep1",
        stage="signed",
        key=True,
        strategic="long_term",
        shock=(0, 0.52),
        founded=datetime.date(1998, 6, 18),
        tags=["标杆客户", "年度框架协议", "专精特新"],
        contacts=[
            dict(
                name="张三丰",
                role="decider",
                title="董事长",
                department="董事会",
                attitude="supporter",
                birthday_calendar="lunar",
                birth_year=1962,
                birthday_month=8,
                birthday_day=15,
                interests="太极拳、茶道，偏爱武夷岩茶",
                personality="沉稳大气，重情义，讲究长期合作",
                family="已婚，儿子在德国读博士",
                education="同济大学 机械工程 本科",
                anniversaries="1998-06-18 公司成立纪念日\n2016-03-08 与我司首次签约纪念日",
            ),
            dict(role="buyer", title="采购总监", department="采购部", attitude="neutral", birthday_in=2),
            dict(
                role="influencer",
                title="技术总监",
                department="技术中心",
                attitude="supporter",
                birthday_in=5,
            ),
            dict(role="user", title="设备主管", department="设备部", attitude="supporter"),
        ],
    ),
    Showcase(
        name="杭州青禾数据科技有限公司",
        short="青禾数据",
        province="浙江",
        city="杭州",
        industry="I",
        owner="rep2",
        stage="signed",
        key=True,
        strategic="cultivate",
        shock=(0, 1.85),
        tags=["高新技术企业", "重视服务"],
        contacts=[
            dict(
                role="decider",
                title="总经理",
                department="总经办",
                attitude="supporter",
                birthday_calendar="lunar",
                birth_year=1982,
                birthday_month=4,
                birthday_day=8,
                birthday_leap_month=True,
                interests="马拉松、摄影",
                personality="思路开阔，乐于尝试新方案",
            ),
            dict(role="buyer", title="采购经理", department="采购部", attitude="neutral", birthday_in=1),
            dict(role="influencer", title="CTO", department="研发中心", attitude="opponent"),
        ],
    ),
    Showcase(
        name="上海浦江新材料科技有限公司",
        short="浦江新材",
        province="上海",
        city="上海",
        industry="C",
        owner="rep1",
        stage="intent",
        tags=["展会获客"],
        contacts=[
            dict(role="decider", title="副总经理", department="总经办", attitude="neutral", birthday_in=4),
            dict(role="buyer", title="采购经理", department="采购部", attitude="supporter"),
        ],
    ),
    Showcase(
        name="南京金陵汇通物流有限公司",
        short="汇通物流",
        province="江苏",
        city="南京",
        industry="G",
        owner="rep2",
        stage="churned",
        contacts=[
            dict(role="buyer", title="供应链经理", department="供应链部", attitude="opponent"),
            dict(role="decider", title="总经理", department="总经办", attitude="neutral"),
        ],
    ),
    Showcase(
        name="北京中科博远信息技术有限公司",
        short="博远信息",
        province="北京",
        city="北京",
        industry="I",
        owner="rep6",
        stage="signed",
        key=True,
        strategic="risk_watch",
        shock=(1, 0.45),
        tags=["招投标客户"],
        contacts=[
            dict(role="decider", title="总经理", department="总经办", attitude="neutral", birthday_in=3),
            dict(role="buyer", title="采购总监", department="采购部", attitude="supporter"),
        ],
    ),
    Showcase(
        name="宁波东海汽车零部件股份有限公司",
        short="东海汽配",
        province="浙江",
        city="宁波",
        industry="C",
        owner="rep3",
        stage="signed",
        key=True,
        strategic="breakthrough",
        tags=["上市公司"],
        contacts=[
            dict(role="decider", title="董事长", department="董事会", attitude="supporter"),
            dict(
                role="influencer", title="总工程师", department="技术中心", attitude="neutral", birthday_in=6
            ),
        ],
    ),
]


class Planner:
    """Decides the demo customers; pure (no database), deterministic by seed and today."""

    def __init__(
        self,
        *,
        seed: int,
        count: int,
        today: datetime.date,
        moment,
        org: dict[str, Any],
        faker,
        high_value: Decimal,
        mid_value: Decimal,
    ):
        self.seed = seed
        self.count = count
        self.today = today
        self.moment = moment  # (days_ago, hour, minute) -> aware datetime
        self.org = org  # {"reps": {dept: [username]}, "managers": {dept: username}, "dept_of": {user: dept}}
        self.faker = faker
        self.high_value = high_value
        self.mid_value = mid_value
        self.used_names: set[str] = {s.name for s in SHOWCASE}
        self.used_codes: set[str] = set()
        self.last_month = _shift_month(today.replace(day=1), -1)
        self.first_month = _shift_month(self.last_month, -11)

    def rng(self, *key: Any) -> random.Random:
        return random.Random(":".join(str(k) for k in (self.seed, *key)))

    # -- who and where

    def _owner(self, rng: random.Random) -> tuple[str, str]:
        dept = rng.choices(["sales_east", "sales_north"], weights=[55, 45])[0]
        reps = self.org["reps"][dept]
        # rep1 and rep2 carry a fuller book, so that their Today has something in it
        weights = [2.0 if r in ("rep1", "rep2") else 1.0 for r in reps]
        if rng.random() < 0.03:
            return self.org["managers"][dept], dept
        return rng.choices(reps, weights=weights)[0], dept

    def _place(self, rng: random.Random, dept: str) -> tuple[str, tuple]:
        region = "elsewhere" if rng.random() < 0.08 else dept
        provinces = vocab.REGION_PROVINCES[region]
        province = rng.choices(provinces, weights=[vocab.PROVINCE_WEIGHTS[p] for p in provinces])[0]
        return province, rng.choice(vocab.CITIES[province])

    def _city(self, province: str, city: str) -> tuple:
        return next(c for c in vocab.CITIES[province] if c[0] == city)

    def _company_name(self, rng: random.Random, city: str, industry: str, big: bool, group: bool):
        words = vocab.INDUSTRY_WORDS[industry][1]
        for _ in range(200):
            zihao = rng.choice(vocab.NAME_FIRST) + rng.choice(vocab.NAME_SECOND)
            if zihao[0] == zihao[1]:
                continue
            word, short, abbr = rng.choice(words)
            suffix = (
                "集团有限公司" if group else ("股份有限公司" if big and rng.random() < 0.5 else "有限公司")
            )
            name = f"{city}{zihao}{word}{suffix}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name, zihao + short, zihao, abbr
        raise RuntimeError("ran out of company names")  # pragma: no cover

    def _code(self, rng: random.Random, division: str) -> str:
        while True:
            code = credit_code(rng, division)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def _address(self, rng: random.Random, city: tuple) -> str:
        name, _area, _div, districts = city
        building = rng.choice(vocab.BUILDINGS)
        city_part = name if name in ("北京", "上海", "天津") else name + "市"
        return f"{city_part}{rng.choice(districts)}{rng.choice(vocab.ROADS)}{rng.randint(1, 999)}号{building}"

    # -- one customer

    def customer(self, i: int) -> CustomerPlan:
        rng = self.rng("customer", i)
        show = SHOWCASE[i] if i < len(SHOWCASE) else None
        if show is None and i % 31 == 11:
            return self.individual(i, rng)
        if show:
            owner, dept = show.owner, self.org["dept_of"][show.owner]
            province, city = show.province, self._city(show.province, show.city)
            industry, stage, key = show.industry, show.stage, show.key
        else:
            owner, dept = self._owner(rng)
            province, city = self._place(rng, dept)
            industry = rng.choices(
                list(vocab.INDUSTRY_WORDS), weights=[w for w, _ in vocab.INDUSTRY_WORDS.values()]
            )[0]
            key = rng.random() < 0.15
            if key:
                stage = "signed" if rng.random() < 0.85 else "intent"
            else:
                stage = rng.choices(["potential", "intent", "signed", "churned"], weights=[28, 22, 40, 10])[0]
        manager = self.org["managers"][dept]
        city_name, area, division, _districts = city

        # size and money
        employees = int(10 ** rng.uniform(2.9, 4.4)) if key else int(10 ** rng.uniform(1.3, 3.4))
        revenue = _money(employees * rng.uniform(25, 120) * 10_000, 1_000_000)
        capital = _money(float(revenue) * rng.uniform(0.05, 0.3), 1_000_000)
        founded = datetime.date(
            rng.randint(1985, 2008) if employees > 3000 else rng.randint(1992, 2019),
            rng.randint(1, 12),
            rng.randint(1, 28),
        )
        if show and show.founded:
            founded = show.founded
        if stage in ("signed", "churned"):
            purchases = _money(10 ** rng.uniform(6.0, 7.1) if key else 10 ** rng.uniform(4.7, 6.2))
        else:
            purchases = None
        strategic = show.strategic if show else ""
        if key and not strategic:
            strategic = (
                "breakthrough"
                if stage == "intent"
                else rng.choices(
                    ["long_term", "cultivate", "breakthrough", "risk_watch"], weights=[45, 20, 15, 20]
                )[0]
            )
        if show:
            name, short = show.name, show.short
            zihao = show.short[:2]
            abbr = "".join(a for w, s, a in vocab.INDUSTRY_WORDS[industry][1] if show.short.endswith(s))[:6]
            self.used_names.add(name)
        else:
            group = key and employees > 8000 and rng.random() < 0.4
            name, short, zihao, abbr = self._company_name(rng, city_name, industry, employees > 3000, group)
        domain = f"{pinyin(zihao)}{abbr or 'cn'}{rng.choice(vocab.TLDS)}"

        # how complete the file is: key accounts fully, others vary (the seeds forbid false facts,
        # so what is not known stays empty)
        completeness = 1.0 if key else rng.choice([0.15, 0.4, 0.7, 0.85, 1.0])

        def maybe(value, p=None):
            return value if rng.random() < (completeness if p is None else p) else None

        plan = CustomerPlan(index=i, name=name, kind="company", owner=owner, stage=stage, key_account=key)

        # -- timeline (days ago)
        if key:
            created = rng.randint(420, 730)
        elif stage in ("signed", "churned"):
            created = rng.randint(200, 720)
        elif stage == "intent":
            created = rng.randint(40, 400)
        else:
            created = rng.randint(3, 500)
        t_intent = t_signed = t_churn = None
        if stage in ("intent", "signed", "churned"):
            t_intent = created - rng.randint(max(2, created // 10), max(3, created // 4))
        if stage in ("signed", "churned"):
            t_signed = t_intent - rng.randint(max(2, t_intent // 8), max(3, t_intent // 3))
            t_signed = max(t_signed, 60 if stage == "signed" else 150)
            if show and show.stage == "churned":
                t_signed = max(t_signed, 400)
            t_intent = max(t_intent, t_signed + 5)
            created = max(created, t_intent + 5)
        if stage == "churned":
            t_churn = 100 if show else rng.randint(40, min(330, t_signed - 30))
        creator = owner if rng.random() < 0.7 else manager

        def at(days: int, hour: int | None = None) -> datetime.datetime:
            return self.moment(days, hour if hour is not None else rng.randint(9, 17), rng.randint(0, 59))

        # -- the first record: what a rep writes down after the first contact
        base: dict[str, Any] = {
            "kind": "company",
            "name": name,
            "short_name": short,
            "industry": industry,
            "province": province,
            "city": city_name,
            "phone": landline(rng, area),
            "owner": owner,
            "acquisition_channel": rng.choices(
                ["sales", "market_research", "web", "partner", "referral", "service"],
                weights=[35, 15, 15, 12, 15, 8],
            )[0],
            "lifecycle_stage": "potential",
            "deal_state": "potential",
            "value_level": "potential",
            "importance": rng.choice(["medium", "low"]),
            "urgency": rng.choice(["not_urgent", "later"]),
            "need_type": "ordinary",
        }
        if key or rng.random() < completeness:
            base["credit_code"] = self._code(rng, division)
        if key or rng.random() < max(0.3, completeness):
            base["address"] = self._address(rng, city)
        if rng.random() < 0.5:
            base["prospect_grade"] = "D"
        if show and show.tags or rng.random() < 0.6:
            base["tags"] = show.tags if show else rng.sample(vocab.TAGS, rng.randint(1, 3))
        plan.events.append(Event(at(created), "create", creator, base, reason="新客户建档"))

        # -- facts gathered over the following weeks
        facts: dict[str, Any] = {}
        optional = {
            "employees": employees,
            "annual_revenue": revenue,
            "registered_capital": capital,
            "founded_on": founded,
            "website": f"https://www.{domain}",
            "email": f"{rng.choice(vocab.EMAIL_PREFIXES)}@{domain}",
            "fax": landline(rng, area),
            "phone_alt": mobile(rng),
            "management_structure": rng.choice(vocab.MANAGEMENT_STRUCTURES),
            "purchase_channel": rng.choice(vocab.PURCHASE_CHANNELS),
            "prices_paid": rng.choice(vocab.PRICES_PAID),
            "social_relations": rng.choice(vocab.SOCIAL_RELATIONS),
            "needs": "；".join(
                rng.sample(vocab.PAIN_POINTS[industry], min(2, len(vocab.PAIN_POINTS[industry])))
                + [rng.choice(vocab.GENERIC_PAIN_POINTS)]
            ),
            "decision_process": rng.choice(vocab.DECISION_PROCESSES),
            "competitors": "、".join(rng.sample(vocab.COMPETITORS, 2)),
            "preferences": rng.choice(vocab.PREFERENCES),
            "need_match": rng.choices(["full", "partial", "custom"], weights=[40, 40, 20])[0],
            "our_advantages": "；".join(rng.sample(vocab.ADVANTAGES, 2)),
            "our_weaknesses": "；".join(rng.sample(vocab.WEAKNESSES, 2)),
        }
        optional["overview"] = rng.choice(vocab.OVERVIEWS).format(
            founded=founded.year,
            city=city_name,
            industry=vocab.INDUSTRY_WORDS[industry][1][0][0],
            employees=employees,
            revenue=yuan(revenue),
            kind="民营企业" if rng.random() < 0.7 else "合资企业",
        )
        for k, v in optional.items():
            if key or rng.random() < completeness:
                facts[k] = v
        facts_day = None
        if facts and not key and rng.random() < 0.6:
            # what the rep already knew went into the first record
            plan.events[0].data.update(facts)
            facts_day = created
        elif facts:
            facts_day = min(created - 1, created - rng.randint(3, 25))
            if t_intent is not None:
                facts_day = max(facts_day, t_intent + 1)
            facts_day = max(facts_day, 1)
            plan.events.append(Event(at(facts_day), "update", owner, facts))

        # -- contacts: met from the first weeks on
        if show:
            contact_specs = [dict(c) for c in show.contacts]
        else:
            n = rng.randint(3, 5) if key else rng.randint(2, 3 if completeness < 0.5 else 4)
            roles = (
                ["decider", "buyer", "influencer", "user", "gatekeeper"][:n]
                if key
                else rng.sample(["decider", "buyer", "influencer", "user", "gatekeeper"], n)
            )
            contact_specs = [{"role": r} for r in roles]
        for j, cspec in enumerate(contact_specs):
            met = max(
                1, created - (rng.randint(1, 3) if j == 0 else rng.randint(1, max(2, (created - 1) // 2)))
            )
            data = self.contact(rng, cspec, area, domain, completeness, primary=j == 0)
            plan.events.append(Event(at(met), "contact", owner, data, ref=j))
            if rng.random() < 0.12 and met > 20:
                change: dict[str, Any] = {}
                if data.get("attitude") == "neutral":
                    change["attitude"] = "supporter"
                elif data.get("title", "").endswith("经理"):
                    change["title"] = data["title"][:-2] + "总监"
                else:
                    change["mobile"] = mobile(rng)
                plan.events.append(
                    Event(at(rng.randint(1, met - 10)), "contact_update", owner, change, ref=j)
                )

        # -- lifecycle: potential → intent → signed (→ churned)
        need = rng.choice(vocab.BUSINESS_NEEDS)
        closable = _money(10 ** rng.uniform(5.0, 6.8 if key else 6.3))
        if t_intent is not None:
            grade = rng.choices(["A", "B", "C"], weights=[25, 45, 30])[0]
            if show and show.stage == "intent":
                grade = "A"
            intent = {
                "lifecycle_stage": "intent",
                "deal_state": "negotiating",
                "prospect_grade": grade,
                "business_need": need,
                "closable_amount": closable,
                "importance": "high" if closable >= 500_000 or key else "medium",
                "urgency": {"A": "urgent", "B": "soon", "C": "not_urgent"}[grade],
                "value_level": "important" if key else rng.choice(["ordinary", "potential"]),
                "decision_chain_known": key or rng.random() < 0.4,
            }
            if key:
                intent["need_type"] = rng.choice(["strategic", "strategic", "special"])
            plan.events.append(
                Event(at(t_intent), "update", owner, intent, reason=rng.choice(vocab.INTENT_REASONS))
            )
        elif stage == "potential":
            grade = rng.choices(["C", "D", "E"], weights=[25, 55, 20])[0]
            pot: dict[str, Any] = {"prospect_grade": grade}
            if grade == "C":
                pot.update(business_need=need, closable_amount=closable, urgency="not_urgent")
            if rng.random() < 0.5 or grade == "C":
                plan.events.append(Event(at(max(1, created - rng.randint(1, 30))), "update", owner, pot))

        if t_signed is not None:
            value_level = "ordinary"
            if key:
                value_level = (
                    "strategic" if purchases >= 4_000_000 or strategic == "long_term" else "important"
                )
            elif purchases >= 800_000:
                value_level = "important"
            tier = (
                "high" if purchases >= self.high_value else ("mid" if purchases >= self.mid_value else "low")
            )
            maintenance = {"strategic": "core", "important": "important"}.get(
                value_level, "ordinary" if tier != "low" else "low_value"
            )
            if key and maintenance not in ("core", "important"):
                maintenance = "important"
            signed = {
                "lifecycle_stage": "signed",
                "deal_state": "won",
                "prospect_grade": "",
                "urgency": "not_urgent",
                "customer_since": (self.today - datetime.timedelta(days=t_signed)),
                "value_level": value_level,
                "value_tier": tier,
                "maintenance_tier": maintenance,
                "importance": "high"
                if value_level in ("strategic", "important")
                else rng.choice(["medium", "low"]),
                "annual_purchases": purchases,
                "annual_profit": _money(float(purchases) * rng.uniform(0.1, 0.25), 1000),
                "credit_limit": _money(float(purchases) * rng.uniform(0.15, 0.35)),
                "payment_terms": rng.choice(vocab.PAYMENT_TERMS),
                "purchase_notes": purchase_notes(rng, purchases),
                "product_usage": rng.choice(vocab.PRODUCT_USAGE),
            }
            if not key and rng.random() < 0.5:
                signed["strategic_type"] = rng.choice(["cultivate", "long_term"])
            plan.events.append(
                Event(at(t_signed), "update", owner, signed, reason=rng.choice(vocab.SIGNED_REASONS))
            )

            # upgraded to a key account by the manager, with the full card and an account team
            if key:
                t_key = max(30, t_signed - rng.randint(10, 90))
                team_pool = [r for r in self.org["reps"][self.org["dept_of"][owner]] if r != owner]
                # rep1 and rep2 sit on each other's key accounts (the account team gives access)
                if owner in ("rep1", "rep2"):
                    team = [{"rep1": "rep2", "rep2": "rep1"}[owner]]
                else:
                    team = rng.sample(team_pool, rng.randint(1, min(3, len(team_pool))))
                upgrade = {
                    "is_key_account": True,
                    "strategic_type": strategic,
                    "account_team": team,
                    "is_benchmark": strategic == "long_term" and (show is not None or rng.random() < 0.5),
                    "decision_chain_known": True,
                    "need_type": rng.choice(["strategic", "strategic", "special"]),
                    "urgency": "urgent" if strategic == "risk_watch" else rng.choice(["soon", "not_urgent"]),
                }
                if upgrade["need_type"] == "special":
                    upgrade["need_match"] = "custom"
                plan.events.append(
                    Event(at(t_key), "update", manager, upgrade, reason=rng.choice(vocab.KEY_ACCOUNT_REASONS))
                )
            elif stage == "signed" and rng.random() < 0.15 and t_signed > 90:
                up = value_level == "ordinary"
                change = {
                    "value_level": "important" if up else "ordinary",
                    "maintenance_tier": "important" if up else "ordinary",
                }
                reason = rng.choice(vocab.VALUE_UP_REASONS if up else vocab.VALUE_DOWN_REASONS)
                plan.events.append(
                    Event(at(rng.randint(20, t_signed - 30)), "update", manager, change, reason=reason)
                )
        elif key:
            # a key account still being won (重点突破): the card is complete before signing
            t_key = max(5, t_intent - rng.randint(3, 20))
            team_pool = [r for r in self.org["reps"][self.org["dept_of"][owner]] if r != owner]
            upgrade = {
                "is_key_account": True,
                "strategic_type": "breakthrough",
                "decision_chain_known": True,
                "account_team": rng.sample(team_pool, rng.randint(1, min(2, len(team_pool)))),
                "maintenance_tier": "important",
                "value_level": "important",
                "importance": "high",
            }
            plan.events.append(
                Event(at(t_key), "update", manager, upgrade, reason=rng.choice(vocab.KEY_ACCOUNT_REASONS))
            )

        # the company's own revenue grew or shrank sharply: recorded with its reason (C1)
        if "annual_revenue" in facts and facts_day > 15 and rng.random() < 0.08:
            factor = rng.choice([1.45, 1.6, 0.6])
            new_rev = _money(float(revenue) * factor, 1_000_000)
            why = (
                f"据企业年报，营业收入同比增长{int((factor - 1) * 100)}%"
                if factor > 1
                else ("受行业下行影响，营业收入同比下降约40%")
            )
            when = at(rng.randint(5, min(120, facts_day - 5)))
            plan.events.append(Event(when, "update", owner, {"annual_revenue": new_rev}, reason=why))

        if t_churn is not None:
            churn = {
                "lifecycle_stage": "churned",
                "prospect_grade": rng.choice(["D", "E"]),
                "urgency": "later",
                "maintenance_tier": "low_value",
                "strategic_type": "",
                "value_level": "potential",
            }
            reason = rng.choice(vocab.CHURN_REASONS)
            plan.events.append(Event(at(t_churn), "update", owner, churn, reason=reason))
            plan.churn_reason = reason

        # a hand-over by the manager (not for the showcase customers, whose owners the tour names)
        if not show and stage in ("signed", "intent") and rng.random() < 0.07:
            others = [r for r in self.org["reps"][self.org["dept_of"][owner]] if r != owner]
            previous = rng.choice(others)
            first_day = max(e.when for e in plan.events if e.kind == "create")
            handover_day = rng.randint(15, max(16, (self.today - first_day.date()).days - 10))
            # the customer was first the previous rep's: rewrite who did what before the hand-over
            handover_at = at(handover_day)
            for e in plan.events:
                if e.when < handover_at:
                    if e.actor == owner:
                        e.actor = previous
                    if e.data.get("owner") == owner:
                        e.data["owner"] = previous
                    if owner in e.data.get("account_team", []):
                        e.data["account_team"] = [
                            previous if u == owner else u for u in e.data["account_team"]
                        ]
            plan.events.append(
                Event(
                    handover_at,
                    "update",
                    manager,
                    {"owner": owner},
                    reason=rng.choice(vocab.HANDOVER_REASONS),
                )
            )
            plan.handed_over = True

        # revenue: one figure a month while signed, for the last twelve months
        if t_signed is not None:
            falling = key and strategic == "risk_watch" and not plan.handed_over
            self.revenue(plan, rng, purchases, t_signed, t_churn, show, falling)
        plan.events.sort(key=lambda e: e.when)
        return plan

    def contact(
        self,
        rng: random.Random,
        spec: dict[str, Any],
        area: str,
        domain: str,
        completeness: float,
        primary: bool,
    ) -> dict[str, Any]:
        role = spec["role"]
        titles, concerns = vocab.ROLES[role]
        title, department = rng.choice(titles)
        name = spec.get("name") or self.faker.name()
        py = pinyin(name)
        data: dict[str, Any] = {
            "name": name,
            "title": spec.get("title", title),
            "department": spec.get("department", department),
            "mobile": mobile(rng),
            "decision_role": role,
            "is_primary": primary,
            "attitude": spec.get("attitude")
            or rng.choices(["supporter", "neutral", "opponent"], weights=[45, 40, 15])[0],
            "concerns": "；".join(rng.sample(concerns, 2)),
        }
        full = completeness >= 0.7 or rng.random() < completeness
        if full or rng.random() < 0.5:
            data["phone"] = landline(rng, area) + (
                f" ext {rng.randint(800, 8999)}" if rng.random() < 0.4 else ""
            )
            data["email"] = f"{py}{rng.randint(1, 99) if rng.random() < 0.3 else ''}@{domain}"
            data["wechat"] = (
                f"{py}{rng.randint(10, 9999)}" if rng.random() < 0.7 else f"wxid_{rng.randrange(16**10):010x}"
            )
        if full:
            cal = rng.choices(["solar", "lunar", ""], weights=[70, 20, 10])[0]
            if cal:
                data.update(
                    birthday_calendar=cal,
                    birth_year=rng.randint(1962, 1995),
                    birthday_month=rng.randint(1, 12),
                    birthday_day=rng.randint(1, 28 if cal == "solar" else 29),
                )
            year = rng.randint(2008, 2022)
            lines = [
                f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {kind}"
                for kind in rng.sample(vocab.ANNIVERSARY_KINDS, rng.randint(0, 2))
            ]
            y = rng.randint(2003, 2018)
            data.update(
                anniversaries="\n".join(sorted(lines)),
                personality=rng.choice(vocab.PERSONALITIES),
                interests="、".join(rng.sample(vocab.INTERESTS, 2)),
                family=rng.choice(vocab.FAMILIES),
                education=rng.choice(vocab.EDUCATIONS),
                notes=rng.choice(vocab.CONTACT_NOTES),
                career=rng.choice(vocab.CAREERS).format(y=y, y2=y + rng.randint(3, 6)),
            )
        # a birthday within the coming week, for the care list on Today (C7)
        soon = spec.get("birthday_in")
        if soon is not None:
            day = self.today + datetime.timedelta(days=soon)
            data.update(
                birthday_calendar="solar",
                birthday_month=day.month,
                birthday_day=day.day,
                birthday_leap_month=False,
                birth_year=data.get("birth_year") or rng.randint(1965, 1992),
            )
        for k in (
            "birthday_calendar",
            "birth_year",
            "birthday_month",
            "birthday_day",
            "birthday_leap_month",
            "interests",
            "personality",
            "family",
            "education",
            "anniversaries",
        ):
            if k in spec:
                data[k] = spec[k]
        return data

    def revenue(
        self,
        plan: CustomerPlan,
        rng: random.Random,
        purchases: Decimal,
        t_signed: int,
        t_churn: int | None,
        show: Showcase | None,
        falling: bool,
    ) -> None:
        signed_month = (self.today - datetime.timedelta(days=t_signed)).replace(day=1)
        churn_month = (self.today - datetime.timedelta(days=t_churn)).replace(day=1) if t_churn else None
        months = [_shift_month(self.first_month, k) for k in range(12)]
        base = float(purchases) / 12
        growth = rng.uniform(-0.004, 0.012)
        # a significant change (C1): a level shift up or down, or a one-month spike
        shock = None
        if show and show.shock:
            shock = (11 - show.shock[0], show.shock[1], False)
        elif falling:
            shock = (rng.randint(6, 11), rng.uniform(0.4, 0.6), False)
        elif rng.random() < 0.12 and not plan.handed_over:
            factor = rng.choice([rng.uniform(0.4, 0.6), rng.uniform(1.5, 2.2)])
            shock = (rng.randint(2, 11), factor, rng.random() < 0.3)
        level = 1.0
        for k, month in enumerate(months):
            if month < signed_month:
                continue
            if churn_month and month > churn_month:
                if month == _shift_month(churn_month, 1):
                    self._figure(plan, rng, month, Decimal(0))
                break
            value = base * (1 + growth) ** k * rng.uniform(0.94, 1.06) * (0.92 if month.month == 2 else 1.0)
            if shock and k == shock[0]:
                level = shock[1]
            elif shock and shock[2] and k == shock[0] + 1:
                level = 1.0
            self._figure(plan, rng, month, _money(value * level, 100))
        plan.events.append(
            Event(
                self._recorded(rng, self.last_month) + datetime.timedelta(days=20),
                "explain_all",
                plan.owner,
                reason=plan.churn_reason,
            )
        )

    def _recorded(self, rng: random.Random, month: datetime.date) -> datetime.datetime:
        """Figures of a month are booked in the first days of the next one."""
        booked = _shift_month(month, 1) + datetime.timedelta(days=rng.randint(1, 5))
        return self.moment((self.today - booked).days, 9, rng.randint(0, 59))

    def _figure(self, plan: CustomerPlan, rng: random.Random, month: datetime.date, value: Decimal) -> None:
        plan.events.append(Event(self._recorded(rng, month), "revenue", None, {"revenue": value}, ref=month))

    def individual(self, i: int, rng: random.Random) -> CustomerPlan:
        """A consumer (个人客户) with a membership level, as the seeds' 客户档案表 records them."""
        owner, dept = self._owner(rng)
        province, city = self._place(rng, dept)
        city_name, _area, _div, districts = city
        name = self.faker.name()
        goods = rng.choice(vocab.CONSUMER_GOODS)
        amount = rng.randint(8, 120) * 100 - 1
        bought = self.today - datetime.timedelta(days=rng.randint(20, 400))
        level = rng.choices(["ordinary", "silver", "gold", "diamond"], weights=[40, 30, 20, 10])[0]
        gift = rng.choice(["滤芯一套", "延保一年", "无"])
        data = {
            "kind": "individual",
            "name": name,
            "industry": "F",
            "province": province,
            "city": city_name,
            "phone": mobile(rng),
            "email": f"{pinyin(name)}{rng.randint(1, 999)}@{rng.choice(['163.com', 'qq.com', '126.com'])}",
            "address": f"{self._address(rng, city)}{rng.randint(1, 30)}栋{rng.randint(1, 30):02d}室",
            "owner": owner,
            "acquisition_channel": rng.choice(["web", "referral", "service"]),
            "lifecycle_stage": "signed",
            "deal_state": "won",
            "value_level": "ordinary",
            "maintenance_tier": "ordinary" if level in ("gold", "diamond") else "low_value",
            "value_tier": "low",
            "membership_level": level,
            "customer_since": bought,
            "purchase_notes": f"{bought.isoformat()} 购买{goods}，成交金额 {amount} 元，赠品：{gift}",
        }
        plan = CustomerPlan(
            index=i, name=name, kind="individual", owner=owner, stage="signed", key_account=False
        )
        days = (self.today - bought).days
        plan.events.append(
            Event(self.moment(days, 15, rng.randint(0, 59)), "create", owner, data, reason="门店成交建档")
        )
        return plan

    def plan(self) -> list[CustomerPlan]:
        plans = [self.customer(i) for i in range(self.count)]
        self._abc(plans)
        return plans

    def _abc(self, plans: list[CustomerPlan]) -> None:
        """ABC class of the signed company customers by annual purchases (cumulative 80% / 95%).

        The class is first set when the customer signs; at the last quarterly review the
        department's manager moves the customers whose class has changed since."""
        signed = []
        for p in plans:
            if p.stage != "signed" or p.kind != "company":
                continue
            purchases = next(e.data["annual_purchases"] for e in p.events if "annual_purchases" in e.data)
            signed.append((purchases, p.index, p))
        signed.sort(key=lambda t: (-t[0], t[1]))
        total = sum(t[0] for t in signed) or Decimal(1)
        running = Decimal(0)
        review = self.moment(max(1, (self.today - self.today.replace(day=1)).days + 20), 16, 0)
        for purchases, _i, p in signed:
            share_before = running / total
            running += purchases
            cls = "A" if share_before < Decimal("0.8") else ("B" if share_before < Decimal("0.95") else "C")
            signing = next(e for e in p.events if "annual_purchases" in e.data)
            rng = self.rng("abc", p.index)
            first = cls
            if rng.random() < 0.25:
                first = {"A": "B", "B": rng.choice("AC"), "C": "B"}[cls]
            signing.data["abc_class"] = first
            if first != cls:
                manager = self.org["managers"][self.org["dept_of"][p.owner]]
                reason = "季度ABC分析（按年采购额，累计80%/95%）"
                p.events.append(Event(review, "update", manager, {"abc_class": cls}, reason=reason))
                p.events.sort(key=lambda e: e.when)


# --- performing the plan ---------------------------------------------------------------------------


def _org_view(ctx: DemoContext) -> dict[str, Any]:
    users = ctx.state["users"]
    dept_key = {d.pk: k for k, d in ctx.state["departments"].items()}
    return {
        "reps": {k: [u.username for u in v] for k, v in ctx.state["reps"].items()},
        "managers": {k: u.username for k, u in ctx.state["managers"].items()},
        "dept_of": {name: dept_key.get(u.department_id) for name, u in users.items()},
    }


def make_planner(ctx: DemoContext) -> Planner:
    st = CustomerSettings.load()
    return Planner(
        seed=ctx.seed,
        count=ctx.customers,
        today=ctx.today,
        moment=ctx.moment,
        org=_org_view(ctx),
        faker=ctx.faker,
        high_value=st.high_value_min_purchases,
        mid_value=st.mid_value_min_purchases,
    )


def _resolve(users: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if "owner" in out:
        out["owner"] = users[out["owner"]].pk
    if "account_team" in out:
        out["account_team"] = [users[u].pk for u in out["account_team"]]
    return out


def perform(ctx: DemoContext, plan: CustomerPlan) -> dict[str, int]:
    users = ctx.state["users"]
    customer: Customer | None = None
    contacts: dict[int, Contact] = {}
    counts = {"explained": 0}
    for e in plan.events:
        ctx.at(e.when)
        actor = users[e.actor] if e.actor else None
        if e.kind == "create":
            customer = services.create_customer(actor=actor, data=_resolve(users, e.data), reason=e.reason)
        elif e.kind == "update":
            customer = services.update_customer(
                actor=actor,
                customer_id=customer.pk,
                version=customer.version,
                data=_resolve(users, e.data),
                reason=e.reason,
            )
        elif e.kind == "contact":
            contacts[e.ref] = services.create_contact(actor=actor, customer_id=customer.pk, data=e.data)
        elif e.kind == "contact_update":
            c = contacts[e.ref]
            contacts[e.ref] = services.update_contact(
                actor=actor, contact_id=c.pk, version=c.version, data=e.data
            )
        elif e.kind == "revenue":
            services.record_revenue(
                actor=None, customer_id=customer.pk, period_start=e.ref, revenue=e.data["revenue"]
            )
        elif e.kind == "explain_all":
            counts["explained"] += _explain(ctx, plan, customer, e)
    return counts


def _explain(ctx: DemoContext, plan: CustomerPlan, customer: Customer, e: Event) -> int:
    """The owner explains most significant changes; the latest month's stay open for Today."""
    rng = ctx.rng("explain", plan.index)
    users = ctx.state["users"]
    last_month = _shift_month(ctx.today.replace(day=1), -1)
    n = 0
    requests = RevenueReasonRequest.objects.filter(customer=customer, explained_at__isnull=True).order_by(
        "period_start"
    )
    for req in list(requests):
        if req.period_start >= _shift_month(last_month, -1) or rng.random() < 0.3:
            continue
        if req.revenue == 0 and e.reason:
            reason = "客户流失：" + e.reason
        else:
            pool = (
                vocab.REVENUE_UP_EXPLANATIONS
                if req.revenue > req.previous_revenue
                else vocab.REVENUE_DOWN_EXPLANATIONS[:-1]
            )
            reason = rng.choice(pool)
        booked = _shift_month(req.period_start, 1) + datetime.timedelta(days=rng.randint(6, 20))
        ctx.at(ctx.moment((ctx.today - booked).days, 11, rng.randint(0, 59)))
        services.explain_revenue_change(actor=users[plan.owner], request_id=req.pk, reason=reason)
        n += 1
    return n


def generate(ctx: DemoContext) -> dict[str, int]:
    for model in (Customer.history.model, Contact.history.model):
        ctx.track(model, "history_date", "created_at")
    ctx.track(Customer, "created_at", "updated_at")
    ctx.track(Contact, "created_at", "updated_at")
    ctx.track(ClassificationChange, "changed_at")
    ctx.track(RevenueFigure, "updated_at")
    ctx.track(RevenueReasonRequest, "created_at", "explained_at")

    plans = make_planner(ctx).plan()
    explained = 0
    for n, plan in enumerate(plans, 1):
        explained += perform(ctx, plan)["explained"]
        if n % 100 == 0:
            ctx.out(f"  {n} customers …")
    ctx.state["customer_plans"] = plans
    return {
        "customers": Customer.objects.count(),
        "key accounts": Customer.objects.filter(is_key_account=True).count(),
        "contacts": Contact.objects.count(),
        "classification changes": ClassificationChange.objects.count(),
        "revenue figures": RevenueFigure.objects.count(),
        "reasons asked": RevenueReasonRequest.objects.count(),
        "reasons explained": explained,
    }
