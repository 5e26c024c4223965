"""Demo data of visits, plans and care: on any day the demo reps have visits due today and tomorrow,
missed visits, customers past their cadence and gifts on record. Dates are relative to ``ctx.today``
and every draw comes from the seed."""

from __future__ import annotations

import datetime

from django.utils import timezone

from guanxi.customers.models import Customer

from . import services
from .models import CareTask, Category, CustomerEngagement, DailySummary, Gift, Visit, VisitPlan

TALKS = [
    "回顾上季度供货情况，客户对交付及时性表示满意。",
    "介绍新一代产品方案，客户技术部有兴趣试用。",
    "讨论年度框架协议续签事宜，价格仍在协商。",
    "了解产线扩建计划，预计下半年有新增需求。",
    "处理上月质量反馈的后续，客户认可整改措施。",
    "与采购部确认付款节奏和账期安排。",
]
FEEDBACK = ["对售后响应速度满意", "希望缩短交货周期", "关注价格竞争力", "希望提供更多技术培训", ""]
PROMISES = [
    "下周提供报价单",
    "安排技术工程师上门调试",
    "寄送新品样品",
    "整理服务回顾报告",
    "邀请参加年度客户大会",
]
PLACES = ["客户会议室", "客户工厂", "我司展厅", "线上会议"]
SUMMARIES = [
    "上午拜访两家重点客户，下午电话回访三家，整理了拜访记录。",
    "完成客户满意度回访，跟进一笔订单交付，准备明天的报价。",
]


def _moment(ctx, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def generate(ctx) -> dict[str, int]:
    for model in (Visit, Gift.history.model):
        ctx.track(model, "created_at" if model is Visit else "history_date")
    ctx.track(VisitPlan, "created_at", "state_changed_at")
    ctx.track(VisitPlan.history.model, "history_date", "state_changed_at")
    ctx.track(Gift.history.model, "history_date")
    users = ctx.state.get("users", {})
    reps = [u for name, u in sorted(users.items()) if u.role == "account_manager"]
    today = ctx.today
    made = {"visits": 0, "plans": 0, "gifts": 0}
    for rep in reps:
        rng = ctx.rng("engagement", rep.username)
        focus = rep.username in ("rep1", "rep2")
        customers = list(Customer.objects.filter(owner=rep).order_by("id")[: 40 if focus else 12])
        for i, customer in enumerate(customers):
            # a history of contacts: the first customers are kept up to date, every fourth is let slip
            slipping = i % 4 == 3
            n = rng.randint(1, 4)
            days_ago = sorted(
                (rng.randint(45, 200) if slipping else rng.randint(2, 120) for _ in range(n)), reverse=True
            )
            for k, ago in enumerate(days_ago):
                day = today - datetime.timedelta(days=ago)
                ctx.at(_moment(ctx, day, 17, rng.randint(0, 59)))
                category = rng.choice([c for c in Category.values]) if k == len(days_ago) - 1 else "routine"
                phone = rng.random() < 0.4
                scheduled = _moment(ctx, day, rng.choice([9, 10, 14, 15]))
                late = rng.choice([-10, 0, 0, 5, 20])
                data = {
                    "form": "phone" if phone else "in_person",
                    "method": "phone" if phone else "in_person",
                    "category": category,
                    "visited_on": day,
                    "content": rng.choice(TALKS),
                    "feedback": rng.choice(FEEDBACK),
                    "follow_ups": rng.choice(PROMISES),
                    "service_satisfaction": rng.choice([3, 4, 4, 5, 5]),
                    "continuation": rng.choice(["high", "high", "medium", "low"]),
                    "received_by": customer.contacts.order_by("id").values_list("name", flat=True).first()
                    or "",
                }
                if not phone:
                    data.update(
                        {
                            "place": rng.choice(PLACES),
                            "scheduled_arrival": scheduled,
                            "actual_arrival": scheduled + datetime.timedelta(minutes=late),
                            "our_people": str(rep),
                            "our_seniority": "大客户经理",
                            "their_seniority": "部门经理",
                        }
                    )
                services.record_visit(actor=rep, customer_id=customer.pk, data=data)
                made["visits"] += 1
        if not customers:
            continue
        rng = ctx.rng("engagement-plans", rep.username)
        # visits due today and tomorrow, upcoming ones, and missed ones in the past
        slots = [(0, 10), (0, 15), (1, 9), (1, 14), (3, 10), (6, 15)] if focus else [(0, 14), (2, 10)]
        missed = [5, 12] if focus else [9]
        ctx.at(_moment(ctx, today - datetime.timedelta(days=20), 9))
        for j, (ahead, hour) in enumerate(slots + [(-m, 10) for m in missed]):
            customer = customers[(j * 3 + 1) % len(customers)]
            day = today + datetime.timedelta(days=ahead)
            ctx.at(_moment(ctx, min(day, today) - datetime.timedelta(days=7), 16))
            plan = services.create_plan(
                actor=rep,
                customer_id=customer.pk,
                data={
                    "scheduled_at": _moment(ctx, day, hour),
                    "method": rng.choice(["in_person", "in_person", "phone", "video"]),
                    "place": rng.choice(PLACES),
                    "category": rng.choice(["routine", "service_review", "executive_visit"]),
                    "trigger": rng.choice(["periodic", "after_deal", "after_complaint"]),
                    "purpose": "了解客户使用情况和满意度",
                    "content": rng.choice(TALKS),
                    "contacts": list(customer.contacts.order_by("id").values_list("pk", flat=True)[:1]),
                },
            )
            made["plans"] += 1
            if ahead >= 0 and j % 2 == 0:
                ctx.at(_moment(ctx, today - datetime.timedelta(days=1), 11))
                services.transition_plan(actor=rep, plan_id=plan.pk, to="confirmed", note="已与客户预约")
        ctx.at(_moment(ctx, today, 0, 5))
        services.mark_missed(today)
        # gifts and a written summary yesterday
        rng = ctx.rng("engagement-care", rep.username)
        for customer in customers[:3]:
            contact = customer.contacts.order_by("id").first()
            day = today - datetime.timedelta(days=rng.randint(10, 90))
            ctx.at(_moment(ctx, day, 12))
            services.record_gift(
                actor=rep,
                customer_id=customer.pk,
                data={
                    "given_on": day,
                    "description": rng.choice(["中秋月饼礼盒", "定制茶具", "新春礼盒", "生日鲜花"]),
                    "value": rng.choice([198, 288, 500, 880]),
                    "occasion": rng.choice(["中秋节", "春节", "生日"]),
                    "contact": contact.pk if contact else None,
                },
            )
            made["gifts"] += 1
        if focus:
            for back in (1, 2):
                day = today - datetime.timedelta(days=back)
                ctx.at(_moment(ctx, day, 18, 30))
                services.save_daily_summary(
                    actor=rep,
                    day=day,
                    text=rng.choice(SUMMARIES),
                    problems="个别客户对交期有疑虑，已协调生产部。",
                    tomorrow="按计划拜访客户。",
                )
    # the follow-ups that led to each win (the seeds: most deals close at the 5th to the 11th)
    made["follow-ups before wins"] = _followups_before_wins(ctx, reps)
    # due dates from the moments the customers are meant to have been created (the time warp's)
    for customer in Customer.objects.all().iterator():
        created = ctx.warp._map(customer.created_at) or customer.created_at
        services.refresh_summary(customer, since=timezone.localtime(created).date())
    made["greeting tasks"] = services.generate_care_tasks(today)
    return {
        "visit records": Visit.objects.count(),
        "revisit plans": VisitPlan.objects.count(),
        "customers past their cadence": CustomerEngagement.objects.filter(cadence_due_on__lte=today).count(),
        "gifts": Gift.objects.count(),
        "greeting tasks": CareTask.objects.count(),
        "work summaries": DailySummary.objects.count(),
    }


def _followups_before_wins(ctx, reps) -> int:
    from guanxi.customers.models import ClassificationChange

    rng = ctx.rng("engagement-wins")
    wins = (
        ClassificationChange.objects.filter(field="deal_state", new_value="won", customer__owner__in=reps)
        .select_related("customer")
        .order_by("changed_at", "id")
    )
    seen, n = set(), 0
    for change in wins:
        if change.customer_id in seen or len(seen) >= 80:
            continue
        seen.add(change.customer_id)
        won_on = timezone.localtime(ctx.warp._map(change.changed_at) or change.changed_at).date()
        count = rng.choices([1, 2, 3, 4, rng.randint(5, 11)], weights=[2, 3, 5, 10, 80])[0]
        day = won_on
        days = []
        for _ in range(count):
            day -= datetime.timedelta(days=rng.randint(5, 20))
            days.append(day)
        owner = change.customer.owner
        for k, d in enumerate(sorted(days)):
            ctx.at(_moment(ctx, d, 16, k % 60))
            services.record_visit(
                actor=owner,
                customer_id=change.customer_id,
                data={
                    "form": "phone" if k % 2 else "in_person",
                    "method": "phone" if k % 2 else "in_person",
                    "visited_on": d,
                    "content": rng.choice(TALKS),
                    "follow_ups": rng.choice(PROMISES),
                },
            )
            n += 1
    return n
