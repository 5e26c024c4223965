"""Vocabulary of the customer master data and of every classification scheme (C1–C3).

Stored values are stable English codes; labels are translated (Chinese terms as the seeds use them).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    INDIVIDUAL = "individual", _("Individual")


class Industry(models.TextChoices):
    # GB/T 4754-2017 sections (国民经济行业分类门类)
    AGRICULTURE = "A", _("Agriculture, forestry and fishing")
    MINING = "B", _("Mining")
    MANUFACTURING = "C", _("Manufacturing")
    UTILITIES = "D", _("Electricity, heat, gas and water")
    CONSTRUCTION = "E", _("Construction")
    TRADE = "F", _("Wholesale and retail")
    LOGISTICS = "G", _("Transport, storage and post")
    HOSPITALITY = "H", _("Hotels and catering")
    IT = "I", _("Information technology and software")
    FINANCE = "J", _("Finance")
    REAL_ESTATE = "K", _("Real estate")
    BUSINESS_SERVICES = "L", _("Leasing and business services")
    RESEARCH = "M", _("Research and technical services")
    ENVIRONMENT = "N", _("Water, environment and public facilities")
    RESIDENT_SERVICES = "O", _("Resident and repair services")
    EDUCATION = "P", _("Education")
    HEALTH = "Q", _("Health and social work")
    CULTURE = "R", _("Culture, sports and entertainment")
    PUBLIC = "S", _("Public administration and organisations")


class AcquisitionChannel(models.TextChoices):
    MARKET_RESEARCH = "market_research", _("Market research")
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    WEB = "web", _("Web / social media")
    PARTNER = "partner", _("Partner")
    REFERRAL = "referral", _("Referral")


class NeedMatch(models.TextChoices):
    FULL = "full", _("Full match")
    PARTIAL = "partial", _("Partial match")
    CUSTOM = "custom", _("Needs customisation")


class LifecycleStage(models.TextChoices):
    POTENTIAL = "potential", _("Potential (潜在)")
    INTENT = "intent", _("Intent (意向)")
    SIGNED = "signed", _("Signed (签约)")
    CHURNED = "churned", _("Churned (流失)")


# The stage flow: potential → intent → signed → churned, with a won-back customer re-entering.
LIFECYCLE_TRANSITIONS = {
    LifecycleStage.POTENTIAL: {LifecycleStage.INTENT, LifecycleStage.SIGNED, LifecycleStage.CHURNED},
    LifecycleStage.INTENT: {LifecycleStage.POTENTIAL, LifecycleStage.SIGNED, LifecycleStage.CHURNED},
    LifecycleStage.SIGNED: {LifecycleStage.CHURNED},
    LifecycleStage.CHURNED: {LifecycleStage.POTENTIAL, LifecycleStage.INTENT, LifecycleStage.SIGNED},
}


class ValueLevel(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic (战略)")
    IMPORTANT = "important", _("Important (重要)")
    ORDINARY = "ordinary", _("Ordinary (一般)")
    POTENTIAL = "potential", _("Potential (潜在)")


class ValueTier(models.TextChoices):
    HIGH = "high", _("High value")
    MID = "mid", _("Mid value")
    LOW = "low", _("Low value")


class MaintenanceTier(models.TextChoices):
    CORE = "core", _("Core (核心)")
    IMPORTANT = "important", _("Important (重要)")
    ORDINARY = "ordinary", _("Ordinary (普通)")
    LOW_VALUE = "low_value", _("Low value (低价值)")


class DealState(models.TextChoices):
    WON = "won", _("Deal closed (已成交)")
    NEGOTIATING = "negotiating", _("Negotiating (正在谈判)")
    POTENTIAL = "potential", _("Potential (潜在)")


class Importance(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class ABCClass(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class ProspectGrade(models.TextChoices):
    A = "A", _("A: close within 1 month")
    B = "B", _("B: close within 3 months")
    C = "C", _("C: close within 6 months")
    D = "D", _("D: later, or latent need")
    E = "E", _("E: no need / dead")


GRADES_NEEDING_BUSINESS_NEED = {"A", "B", "C"}


class NeedType(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic need")
    ORDINARY = "ordinary", _("Ordinary need")
    SPECIAL = "special", _("Special needs")


class StrategicType(models.TextChoices):
    BREAKTHROUGH = "breakthrough", _("Breakthrough (重点突破)")
    CULTIVATE = "cultivate", _("Cultivate (潜力培养)")
    LONG_TERM = "long_term", _("Long-term (长期合作)")
    RISK_WATCH = "risk_watch", _("Risk watch (风险关注)")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent (紧急, ≤ 1 week)")
    SOON = "soon", _("Soon (缓急, ≤ 1 month)")
    NOT_URGENT = "not_urgent", _("Not urgent (不紧急, ≤ 3 months)")
    LATER = "later", _("Later (可慢反应)")


class MembershipLevel(models.TextChoices):
    NONE = "", _("None")
    ORDINARY = "ordinary", _("Ordinary member")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    DIAMOND = "diamond", _("Diamond")


class DecisionRole(models.TextChoices):
    USER = "user", _("User (使用者)")
    INFLUENCER = "influencer", _("Influencer (影响者)")
    DECIDER = "decider", _("Decider (决策者)")
    BUYER = "buyer", _("Buyer (采购者)")
    GATEKEEPER = "gatekeeper", _("Gatekeeper (把关者)")


class Attitude(models.TextChoices):
    SUPPORTER = "supporter", _("Supporter")
    NEUTRAL = "neutral", _("Neutral")
    OPPONENT = "opponent", _("Opponent")


class BirthdayCalendar(models.TextChoices):
    SOLAR = "solar", _("Solar (公历)")
    LUNAR = "lunar", _("Lunar (农历)")


# Every classification scheme (C3): field name → label. Each is a column of Customer, filterable,
# and every change is written to ClassificationChange by the services.
CLASSIFICATION_FIELDS = {
    "lifecycle_stage": _("Lifecycle stage"),
    "value_level": _("Value level"),
    "value_tier": _("Value tier"),
    "maintenance_tier": _("Maintenance tier"),
    "deal_state": _("Deal state"),
    "importance": _("Importance"),
    "abc_class": _("ABC class"),
    "prospect_grade": _("Prospect grade"),
    "need_type": _("Need type"),
    "strategic_type": _("Strategic type"),
    "urgency": _("Urgency"),
    "membership_level": _("Membership level"),
}

PROVINCES = [
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
    "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
]  # fmt: skip
