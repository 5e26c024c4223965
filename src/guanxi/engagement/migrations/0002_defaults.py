"""The seeds' cadence minimums and greeting templates as defaults."""

from django.db import migrations

from guanxi.engagement.cadence import DEFAULT_MAX_CONTACTS_30D, DEFAULT_POLICIES

TEMPLATES = [
    ("birthday", "zh-hans", "message", "{name}您好！值此生日之际，祝您生日快乐、身体健康、工作顺利！感谢您一直以来对我们的支持。——{sender}"),
    ("birthday", "en", "message", "Dear {name}, happy birthday! Wishing you health and success, and thank you for your support. — {sender}"),
    ("birthday", "zh-hans", "card", "亲爱的{name}：生日快乐！愿新的一岁万事顺意。{customer}的朋友 {sender} 敬上"),
    ("anniversary", "zh-hans", "message", "{name}您好！今天是{occasion}，祝贺您！感谢多年来的信任与合作。——{sender}"),
    ("anniversary", "en", "message", "Dear {name}, congratulations on {occasion}! Thank you for your trust over the years. — {sender}"),
    ("festival", "zh-hans", "message", "{name}您好！{occasion}将至，祝您和家人节日快乐、阖家幸福！——{sender}"),
    ("festival", "en", "message", "Dear {name}, season's greetings for {occasion}! Best wishes to you and your family. — {sender}"),
    ("festival", "zh-hans", "coupon", "{occasion}专享：{customer}下单可享九五折优惠，有效期一个月。——{sender}"),
    ("welcome", "zh-hans", "message", "{name}您好！感谢{customer}选择我们，首次合作特备薄礼一份，期待长期合作！——{sender}"),
    ("welcome", "en", "message", "Dear {name}, thank you for choosing us. A small welcome gift is on its way. — {sender}"),
]


def forwards(apps, schema_editor):
    Policy = apps.get_model("engagement", "CadencePolicy")
    Requirement = apps.get_model("engagement", "CadenceRequirement")
    Template = apps.get_model("engagement", "MessageTemplate")
    for (dimension, value), spec in DEFAULT_POLICIES.items():
        policy, created = Policy.objects.get_or_create(
            dimension=dimension, value=value,
            defaults={"max_contacts_30d": DEFAULT_MAX_CONTACTS_30D, "service_plan": spec["service_plan"]},
        )
        if created:
            for kind, count, period in spec["requirements"]:
                Requirement.objects.create(policy=policy, kind=kind, count=count, period_days=period)
    for occasion, language, channel, body in TEMPLATES:
        Template.objects.get_or_create(occasion=occasion, language=language, channel=channel, defaults={"body": body})


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
