"""Demo PDCA tickets: the accepted needs' tickets (and any other ticket still fresh in Plan) are run through the
PDCA by the services — so their history, actions and audit events are real — then their dates are set back to
when the work would have happened; plus three tickets the 供电所 found themselves (自查发现).

Deterministic for a given ``rng`` and ``today``; a second call changes nothing (only fresh tickets are moved, and
the staff tickets are made once).
"""

import datetime

from django.db import transaction
from django.utils import timezone

from dangjian.orgs.models import Level, Organization, RoleGrant
from dangjian.service import tickets as services
from dangjian.service.models import NeedCategory, Origin, Satisfaction, Ticket, TicketAction, TState

ANALYSES = [
    "经现场勘查，该台区供电半径超过 500 米，导线线径偏小，晚高峰负荷增长后末端电压偏低。",
    "线路投运已逾 20 年，绝缘老化、接头锈蚀，遇大风雨天气易发生接地故障。",
    "网格经理巡视频次不足，缺陷发现后未及时录入系统闭环处理。",
    "业务办理环节多、一次性告知不到位，客户多次往返营业厅。",
    "三相负荷分配不均，A 相长期重载，造成部分用户电压波动。",
    "与政府部门、物业信息沟通不畅，停电信息未提前 7 天告知到户。",
]
MEASURES = [
    "1. 新增配变 1 台，缩短供电半径；2. 更换 0.4kV 主干线 BLV-70 为 JKLYJ-120；3. 调整三相负荷。",
    "1. 组织共产党员服务队开展专项巡视；2. 更换老旧导线、接头和表箱；3. 建立隐患台账，每周跟踪。",
    "1. 推行业扩报装“一次性告知”和线上办理；2. 对窗口人员开展服务规范培训；3. 每月回访新装客户。",
    "1. 完善停电信息报送流程，提前 7 天通过短信、微信群和张贴告知；2. 与街道、物业建立联络机制。",
]
ACTIONS = [
    "组织共产党员服务队现场勘查，与网格经理、台区经理共同制定整改方案。",
    "完成 0.4kV 线路改造 320 米，更换表箱 12 只，消除接头发热缺陷 3 处。",
    "调整台区三相负荷，晚高峰复测末端电压 216V，较整改前提高 21V。",
    "上门向诉求人通报处理进度，发放“光明驿站”便民服务卡。",
    "完成营业厅窗口人员服务规范培训 2 次，修订一次性告知单。",
    "与街道办、物业公司召开政企座谈会，建立停电信息联络群。",
]
VERIFICATIONS = [
    "经连续 7 天监测，晚高峰末端电压 212–224V，符合 GB/T 12325 要求，问题已整改到位。",
    "现场核查整改完成，线路运行正常，诉求人对处理结果表示认可。",
    "抽查近一个月办理业务 30 笔，一次办结率 100%，无重复往返。",
]
STANDARDIZATIONS = [
    "将该台区纳入重过载台区月度监测清单，形成《低电压治理工作指引》在全所推广。",
    "修订《网格化服务巡视管理办法》，缺陷发现后 24 小时内录入系统并闭环。",
    "固化“一次性告知 + 线上办理 + 回访”服务流程，纳入月度服务质量考核。",
]
SIMILAR = [
    "举一反三排查辖区同类台区 18 个，发现并整改低电压隐患 3 处。",
    "对辖区投运 15 年以上线路开展专项排查，列入年度改造计划 6 条。",
]
CANCEL_REASON = "与同一诉求的另一张工单重复，合并处理。"
RETURN_REASON = "复测发现夜间电压仍有波动，需继续调整负荷后再检查。"
STAFF_TICKETS = [
    ("营业厅自助缴费终端故障频发", "近一个月营业厅自助缴费终端故障停机 6 次，客户排队等候时间延长，存在投诉风险。"),
    ("10kV 城北线树线矛盾隐患", "巡视发现 10kV 城北线 12–18 号杆段行道树距导线不足 1 米，雨季易引发接地跳闸。"),
    ("光伏扶贫电站计量异常", "光伏扶贫村级电站上网电量与逆变器发电量偏差超过 5%，影响村集体收益结算。"),
]


def _handler(org: Organization, fallback):
    """The organization's own secretary account if it has one (who would do the work), else the staff user."""
    grant = (RoleGrant.objects.filter(org=org, role__in=("secretary", "staff"), user__is_active=True)
             .select_related("user").order_by("id").first())
    return grant.user if grant else fallback


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def _plan_target(age: int, roll: float) -> str:
    if age > 45:
        return (TState.CLOSED if roll < 0.7 else TState.ACT if roll < 0.78 else TState.CHECK if roll < 0.86
                else TState.DO)
    if age > 14:
        return TState.CLOSED if roll < 0.3 else TState.CHECK if roll < 0.5 else TState.DO
    return TState.DO if roll < 0.6 else TState.PLAN


def _run(t: Ticket, target: str, user, rng, today: datetime.date, *, start: datetime.date, overdue: bool,
         returned: bool, unhappy: bool) -> None:
    """Move one fresh ticket to ``target`` through the services, then date its rows back into [start, today]."""
    order = [TState.PLAN, TState.DO, TState.CHECK, TState.ACT, TState.CLOSED]
    span = max((today - start).days, 1)
    if overdue:
        due = start + datetime.timedelta(days=max(1, min(span - 1, rng.randint(7, 20))))
    elif target == TState.CLOSED:
        due = start + datetime.timedelta(days=rng.randint(20, 40))
    else:
        due = max(today + datetime.timedelta(days=rng.randint(5, 25)), t.due_date or today)
    changes = {"analysis": rng.choice(ANALYSES), "measures": rng.choice(MEASURES), "due_date": due}
    owner = services.owner_choices(t.org).filter(grants__org=t.org).first()
    if owner is not None:
        changes["owner"] = owner
    t = services.save_fields(user, t, changes, version=t.version)
    if target == TState.PLAN:
        return
    t = services.move(user, t, TState.DO, version=t.version)
    steps = 1 + rng.randint(0, 2)
    end = today if target in (TState.DO, TState.CHECK) else min(
        start + datetime.timedelta(days=rng.randint(7, 30)), today)
    days = sorted(min(start + datetime.timedelta(days=1 + rng.randint(0, max((end - start).days - 1, 0))), today)
                  for _ in range(steps))
    for d in days:
        services.add_action(user, t, date=d, text=rng.choice(ACTIONS))
    if order.index(target) >= order.index(TState.CHECK):
        t = services.move(user, t, TState.CHECK, version=t.version)
        if returned:
            t = services.move(user, t, TState.DO, version=t.version, reason=RETURN_REASON)
            services.add_action(user, t, date=days[-1], text=ACTIONS[2])
            t = services.move(user, t, TState.CHECK, version=t.version)
    if order.index(target) >= order.index(TState.ACT):
        fields = {"verification": rng.choice(VERIFICATIONS)}
        if t.origin == Origin.NEED:
            fields["satisfaction"] = (Satisfaction.NOT_VERY if unhappy else
                                      Satisfaction.SATISFIED if rng.random() < 0.75 else Satisfaction.FAIRLY)
            fields["callback_on"] = min(days[-1] + datetime.timedelta(days=2), today)
        t = services.save_fields(user, t, fields, version=t.version)
        t = services.move(user, t, TState.ACT, version=t.version)
    if target == TState.CLOSED:
        fields = {"standardization": rng.choice(STANDARDIZATIONS), "recurrence": unhappy}
        if services.is_complaint(t) or rng.random() < 0.4:
            fields["similar_cases"] = rng.choice(SIMILAR)
        t = services.save_fields(user, t, fields, version=t.version)
        t = services.move(user, t, TState.CLOSED, version=t.version)
    # Dates back to when the work happened: the moves spread from the start to the last action (+ a few days).
    rows = list(t.transitions.exclude(from_state=TState.PLAN, to_state=TState.PLAN).order_by("id"))
    last = min(max(days[-1] + datetime.timedelta(days=3), start), today)
    for i, row in enumerate(rows):
        day = start + datetime.timedelta(days=((last - start).days * (i + 1)) // (len(rows) + 1))
        type(row).objects.filter(pk=row.pk).update(at=_at(min(day, today), 9 + i % 8))
    for a in TicketAction.objects.filter(ticket=t):
        TicketAction.objects.filter(pk=a.pk).update(created_at=_at(a.date, 17))
    if target == TState.CLOSED:
        Ticket.objects.filter(pk=t.pk).update(closed_at=_at(last, 16))


def _fresh(root: Organization):
    return (Ticket.objects.filter(org__path__startswith=root.path, state=TState.PLAN, analysis="",
                                  actions__isnull=True)
            .select_related("org", "need").order_by("created_at", "pk").distinct())


@transaction.atomic
def ensure_demo_tickets(root_org: Organization, staff_user, rng, today: datetime.date | None = None) -> dict:
    """Run the demo tickets of ``root_org``'s subtree through the PDCA; returns counts by state."""
    today = today or timezone.localdate()
    stations = list(Organization.objects.filter(path__startswith=root_org.path, level=Level.BRANCH, archived=False)
                    .order_by("path"))
    stations = [o for o in stations if "供电所" in o.name] or stations
    if stations and not Ticket.objects.filter(org__path__startswith=root_org.path, origin=Origin.STAFF,
                                              title=STAFF_TICKETS[0][0]).exists():
        for i, (title, text) in enumerate(STAFF_TICKETS):
            org = stations[i % len(stations)]
            services.open_staff_ticket(_handler(org, staff_user), org, title=title, description=text)

    fresh = list(_fresh(root_org))
    overdue_left, returned_left, unhappy_left, cancel_left = 3, 2, 1, 1
    for t in fresh:
        start = t.need.received_on if t.need_id else today - datetime.timedelta(days=rng.randint(20, 60))
        start = min(start, today)
        Ticket.objects.filter(pk=t.pk).update(created_at=_at(start, 10))
        t.created_at = _at(start, 10)
        t.transitions.filter(from_state=TState.PLAN, to_state=TState.PLAN).update(at=_at(start, 10))
        age = (today - start).days
        target = _plan_target(age, rng.random())
        if t.origin == Origin.STAFF and t.title == STAFF_TICKETS[0][0]:
            target = TState.CLOSED
        elif t.origin == Origin.STAFF and t.title == STAFF_TICKETS[2][0]:
            target = TState.PLAN
        user = _handler(t.org, staff_user)
        if cancel_left and age > 20 and target == TState.DO:
            cancel_left -= 1
            _run(t, TState.PLAN, user, rng, today, start=start, overdue=False, returned=False, unhappy=False)
            t.refresh_from_db()
            services.move(staff_user, t, TState.CANCELLED, version=t.version, reason=CANCEL_REASON)
            continue
        overdue = bool(overdue_left) and target == TState.DO and age > 21
        overdue_left -= overdue
        returned = bool(returned_left) and target in (TState.ACT, TState.CLOSED) and rng.random() < 0.5
        returned_left -= returned
        unhappy = (bool(unhappy_left) and target == TState.CLOSED and t.origin == Origin.NEED
                   and t.need.category == NeedCategory.COMPLAINT)
        unhappy_left -= unhappy
        _run(t, target, user, rng, today, start=start, overdue=overdue, returned=returned, unhappy=unhappy)
    counts = {}
    for state in Ticket.objects.filter(org__path__startswith=root_org.path).values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts

