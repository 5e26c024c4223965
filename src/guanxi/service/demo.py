"""Demo tickets: inquiries, complaints (with their complaint cards) and suggestions across the demo
customers, in every state, some past their SLA (and escalated), written through the services."""

from __future__ import annotations

import datetime

from django.utils import timezone

from guanxi.customers.models import Contact, Customer
from guanxi.org.models import Department, User

from . import services
from .models import Cause, Channel, ImprovementAction, Kind, Severity, Ticket, TicketEvent

INQUIRIES = [
    ("询问季度对账单的开具时间", "客户财务部询问本季度对账单何时可以开具，需要用于月底结账。"),
    ("咨询新型号的交货周期", "采购经理咨询 X200 新型号的标准交货周期和最小起订量。"),
    ("询问设备保养周期", "设备科询问数控机床的建议保养周期及保养内容。"),
    ("咨询发票抬头变更流程", "客户公司更名，咨询发票抬头变更需要提供哪些资料。"),
]
COMPLAINTS = [
    (
        "一批轴承尺寸超差",
        "3 月到货的一批轴承内径超出公差 0.02mm，导致装配线停线半天。",
        Cause.PRODUCT_TOLERANCE,
        "影响一条装配线，约 400 件在制品需要返工",
        "尽快补发合格品并承担返工费用",
    ),
    (
        "售后工程师迟到两天",
        "约定周一上门检修，工程师周三才到，客户生产计划被打乱。",
        Cause.SERVICE_LATE,
        "一台关键设备停机两天",
        "书面说明原因并承诺今后响应时间",
    ),
    (
        "发货型号与合同不符",
        "合同约定 M8 规格，实际到货为 M10，仓库已入库。",
        Cause.PRODUCT_WRONG_SPEC,
        "整批 2000 件无法使用",
        "三天内换货，运费由我方承担",
    ),
    (
        "账单金额重复计费",
        "上月对账单中同一笔运输费用出现两次。",
        Cause.BILLING,
        "多计费用约 3,600 元",
        "更正账单并重新开具发票",
    ),
    (
        "客服人员态度生硬",
        "客户电话咨询时客服人员不耐烦，多次打断客户。",
        Cause.SERVICE_ATTITUDE,
        "客户采购总监亲自投诉",
        "道歉并更换对接人员",
    ),
]
SUGGESTIONS = [
    ("希望提供电子版质检报告", "建议每批货随附电子版质检报告，方便客户质量部归档。"),
    ("建议开通微信工单查询", "希望能通过微信随时查询维修工单进度。"),
    ("希望增加季度技术培训", "建议每季度为客户技术人员安排一次操作培训。"),
]


def generate(ctx) -> dict[str, int]:
    from .mail import muted

    with muted():  # the demo's customers are invented: no email to them
        return _generate(ctx)


def _generate(ctx) -> dict[str, int]:
    ctx.track(
        Ticket,
        "created_at",
        "acknowledged_at",
        "started_at",
        "resolved_at",
        "closed_at",
        "evaluated_at",
        "outcome_sent_at",
        "escalated_at",
    )
    ctx.track(TicketEvent, "at")
    rng = ctx.rng("service")
    users = ctx.state.get("users") or {u.username: u for u in User.objects.all()}
    agent = users.get("service") or User.objects.filter(role="service_agent").first()
    admin = users.get("admin") or User.objects.filter(is_superuser=True).first()
    if agent is None or admin is None:
        return {"tickets": 0}
    service_dept = services.service_department()
    product = Department.objects.filter(kind="product").first()
    customers = list(Customer.objects.order_by("pk")[: max(12, min(60, ctx.customers // 4))])
    if not customers or service_dept is None:
        return {"tickets": 0}
    agents = [agent]
    today_dt = timezone.make_aware(datetime.datetime.combine(ctx.today, datetime.time(10, 0)))

    def moment(days_ago: float, hour: int) -> datetime.datetime:
        return ctx.moment(days_ago, hour, rng.randrange(0, 60, 5))

    made = 0
    for n, customer in enumerate(customers):
        contact = Contact.objects.filter(customer=customer).order_by("pk").first()
        plan = n % 12
        if plan in (0, 1, 2, 3):
            subject, desc = INQUIRIES[n % len(INQUIRIES)]
            data = {
                "kind": Kind.INQUIRY,
                "channel": rng.choice([Channel.HOTLINE, Channel.EMAIL, Channel.CHAT]),
            }
        elif plan in (4, 5, 6, 7, 8):
            subject, desc, cause, impact, expect = COMPLAINTS[n % len(COMPLAINTS)]
            data = {
                "kind": Kind.COMPLAINT,
                "channel": rng.choice([Channel.HOTLINE, Channel.VISIT, Channel.EMAIL]),
                "cause": cause,
                "impact_scope": impact,
                "expectation": expect,
            }
        else:
            subject, desc = SUGGESTIONS[n % len(SUGGESTIONS)]
            data = {"kind": Kind.SUGGESTION, "channel": rng.choice([Channel.EMAIL, Channel.VISIT])}
        days_ago = rng.choice([0.2, 1, 2, 4, 6, 9, 14, 20, 30, 45])
        opened = moment(days_ago, rng.choice([9, 10, 11, 14, 15, 16]))
        severity = rng.choice(
            [Severity.NORMAL, Severity.NORMAL, Severity.HIGH, Severity.LOW, Severity.CRITICAL]
        )
        data.update(
            customer_id=customer.pk,
            contact_id=contact.pk if contact else None,
            subject=subject,
            description=desc,
            severity=severity,
            department_id=service_dept.pk,
            assignee_id=rng.choice(agents).pk,
        )
        if data["kind"] == Kind.COMPLAINT:
            data["occurred_at"] = opened - datetime.timedelta(days=rng.randint(1, 5))
        if data["kind"] == Kind.INQUIRY and rng.random() < 0.5:
            data["promised_reply_at"] = opened + datetime.timedelta(hours=rng.choice([4, 24, 48]))
        ctx.at(opened)
        ticket = services.create_ticket(actor=agent, data=data)
        # tickets' clocks are set from the creation moment the warp will give them
        Ticket.objects.filter(pk=ticket.pk).update(created_at=opened)
        from . import sla

        clocks = sla.clocks_for(ticket.kind, ticket.severity, opened)
        Ticket.objects.filter(pk=ticket.pk).update(
            response_due=clocks.response_due,
            plan_due=clocks.plan_due,
            sla_note=clocks.note,
            sla_fallback=clocks.fallback,
        )
        made += 1
        # how far along the flow: older tickets further, some stuck past their SLA
        stuck = rng.random() < 0.25
        steps = ["acknowledge", "start", "resolve", "close"]
        depth = 0 if days_ago < 1 else (rng.randint(0, 1) if stuck else [2, 3, 4, 4, 2, 3][n % 6])
        t = opened
        for step in steps[:depth]:
            t = t + datetime.timedelta(hours=rng.choice([2, 5, 20, 30, 50]))
            if t >= today_dt:
                break
            ctx.at(t)
            note = {
                "start": "已联系客户并制定处理方案：安排工程师核查并给出补救措施。",
                "resolve": "已按方案处理完毕，请客户确认。",
            }.get(step, "")
            if step == "close":
                services.customer_answer(token=ticket.public_token, confirm=True)
            else:
                v = Ticket.objects.get(pk=ticket.pk).version
                services.transition(actor=agent, ticket_id=ticket.pk, action=step, version=v, note=note)
        if data["kind"] == Kind.COMPLAINT:
            ctx.at(t + datetime.timedelta(minutes=30))
            v = Ticket.objects.get(pk=ticket.pk).version
            services.update_card(
                actor=agent,
                ticket_id=ticket.pk,
                version=v,
                data={
                    "course_of_events": f"{desc} 客户于当天致电投诉，客服记录后转交相关部门。",
                    "customer_position": "客户认为责任完全在我方，要求赔偿损失并保证不再发生。",
                    "dispute": "双方对返工费用的承担比例有分歧。" if n % 2 else "",
                    "dispute_outcome": "经协商，我方承担全部返工费用，客户接受。"
                    if n % 2 and depth >= 3
                    else "",
                },
            )
            if product and n % 3 == 0 and depth < 3:
                ctx.at(t + datetime.timedelta(hours=1))
                v = Ticket.objects.get(pk=ticket.pk).version
                services.transfer(
                    actor=agent,
                    ticket_id=ticket.pk,
                    version=v,
                    department_id=product.pk,
                    note="涉及产品质量，转产品部分析原因",
                )
        if data["kind"] == Kind.SUGGESTION and depth >= 2:
            ctx.at(t + datetime.timedelta(hours=3))
            v = Ticket.objects.get(pk=ticket.pk).version
            adopted = n % 2 == 0
            services.evaluate_suggestion(
                actor=agent,
                ticket_id=ticket.pk,
                version=v,
                data={
                    "evaluation": "adopted" if adopted else "declined",
                    "evaluation_reason": "建议可行，成本可控"
                    if adopted
                    else "目前系统暂不支持，列入明年规划评估",
                    "action_title": subject.replace("希望", "").replace("建议", ""),
                    "action_owner": admin.pk,
                    "action_deadline": ctx.today + datetime.timedelta(days=30),
                },
            )
            ctx.at(t + datetime.timedelta(hours=5))
            v = Ticket.objects.get(pk=ticket.pk).version
            services.record_outcome(
                actor=agent, ticket_id=ticket.pk, version=v, message="已电话告知客户评估结果并感谢其建议。"
            )
    surveyed = _survey(ctx, admin, rng)
    # breaches are escalated on the first page view after the load (or by `guanxi escalate_tickets`),
    # once the time warp has moved every timestamp to its intended moment
    return {
        "tickets": made,
        "complaints": Ticket.objects.filter(kind=Kind.COMPLAINT).count(),
        "improvement actions": ImprovementAction.objects.count(),
        "survey answers": surveyed,
    }


COMMENTS = [
    "交货准时，服务很好。",
    "希望技术支持响应再快一些。",
    "价格偏高，希望有更多优惠。",
    "",
    "合作愉快，期待新产品。",
    "售后问题处理太慢，很不满意。",
]


def _survey(ctx, admin, rng) -> int:
    """A finished campaign: last quarter's key-account survey, most contacts answered."""
    from . import surveys
    from .models import SurveyCampaign, SurveyInvitation

    ctx.track(SurveyCampaign, "created_at")
    ctx.track(SurveyInvitation, "answered_at")
    ctx.at(ctx.moment(40, 9, 0))
    try:
        campaign = surveys.create_campaign(
            actor=admin, name=f"{ctx.today.year} 大客户季度满意度调查", segment="key_accounts", days=30
        )
    except Exception:  # noqa: BLE001 - no key account in a tiny demo
        return 0
    answered = 0
    for n, inv in enumerate(SurveyInvitation.objects.filter(campaign=campaign).order_by("pk")):
        if rng.random() < 0.2:
            continue
        nps = rng.choice([10, 9, 9, 8, 8, 7, 10, 6, 4, 9])
        ctx.at(ctx.moment(38 - n % 20, 10 + n % 7, 0))
        surveys.answer(
            token=inv.token,
            data={
                "nps": nps,
                "overall": min(100, max(0, nps * 10 + rng.randint(-8, 5))),
                "product_quality": rng.randint(3, 5),
                "service_response": rng.randint(2, 5),
                "value_for_money": rng.randint(2, 5),
                "cooperation": rng.randint(3, 5),
                "comment": COMMENTS[5] if nps <= 6 else rng.choice(COMMENTS[:5]),
            },
        )
        answered += 1
    # the links expired ten days ago: the campaign is finished
    SurveyCampaign.objects.filter(pk=campaign.pk).update(expires_at=ctx.moment(10, 18, 0))
    return answered
