"""The demo company's needs (需求征集): ``ensure_demo_needs`` is called by ``manage.py demo`` (wired by the lead).

For every 供电所 branch under the root: three or four service areas (网格) with their grid managers; about forty
realistic needs over the last four months from 95598, 12345, 12398, visits and the QR code, some accepted (their
tickets are opened in Plan — the tickets part's demo moves them on), some declined with a reason, the rest waiting;
and the public form (NeedChannel) of the first 供电所 switched on, returned so the command can print its link.

Needs are created through the services (numbers, audit events, tickets), then their dates and channels are set
in bulk so the history looks like months of work. Deterministic for the ``rng`` given; idempotent: when the first
供电所 already has areas, nothing is created and its channel is returned.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from dangjian.orgs.models import Level, Organization
from dangjian.service import needs as services
from dangjian.service.models import (
    Channel,
    Need,
    NeedCategory,
    NeedChannel,
    NeedKind,
    NeedSource,
    ServiceArea,
    Urgency,
)

AREAS = ["城关网格", "东城网格", "西城网格", "南郊网格", "北郊网格", "工业园区网格", "集镇网格", "山区网格"]
MANAGERS = ["李卫东", "王建华", "张海燕", "刘志强", "陈晓峰", "杨春梅", "赵国庆", "周立新"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗"
ADDRESSES = ["幸福里小区{n}号楼", "建设路{n}号", "东风村{n}组", "工业园区{n}号厂房", "人民路{n}号商铺", "滨河花园{n}栋",
             "新华街{n}号", "向阳村{n}组", "城南农贸市场{n}号摊位", "翠湖小区{n}单元"]

# (kind, category, source, urgency, title, text)
PEOPLE = [
    ("complaint", "95598", "urgent", "小区频繁停电", "最近一周小区晚上停电三次，每次半小时左右，家里老人用制氧机很不方便，请尽快查明原因。"),
    ("need", "95598", "normal", "表箱锈蚀门关不上", "楼下表箱锈蚀严重，箱门关不上，下雨天担心漏电，小孩经常在附近玩，存在安全隐患。"),
    ("need", "visit", "normal", "申请增容用于电采暖", "家里准备改用电采暖，现有容量不够，想了解增容办理流程和费用，希望上门指导。"),
    ("opinion", "12345", "normal", "电费账单看不懂", "阶梯电价账单项目太多，老年人看不明白，希望营业厅能提供更简明的说明或上门讲解。"),
    ("complaint", "12398", "urgent", "电压偏低空调无法启动", "夏季傍晚电压偏低，空调经常启动不了，冰箱也时好时坏，反映多次未解决。"),
    ("suggestion", "visit", "normal", "希望增设充电桩", "小区新能源车越来越多，现有两个充电桩经常排队，建议在地下车库增设充电桩。"),
    ("praise", "95598", "normal", "抢修及时服务热情", "昨晚暴雨后线路故障，抢修师傅冒雨一个小时就恢复了供电，服务热情周到，特此表扬。"),
    ("need", "online", "normal", "路灯线路老化", "村口到学校的路灯线路老化，经常不亮，孩子晚上放学路上很黑，希望帮忙检查。"),
    ("complaint", "12345", "critical", "电线杆倾斜有倒塌危险", "大风过后路边一根电线杆明显倾斜，旁边就是居民房，担心倒塌，请马上派人处理。"),
    ("need", "visit", "normal", "光伏并网咨询", "家里屋顶想装分布式光伏，想咨询并网手续、补贴政策和需要准备的材料。"),
    ("opinion", "online", "normal", "营业厅排队时间长", "月初去营业厅办业务排队一个多小时，建议增加窗口或推广线上办理。"),
    ("need", "95598", "urgent", "农灌用电报装", "春灌马上开始，村里新打了两口机井，急需报装农灌用电，请尽快安排勘察。"),
    ("suggestion", "online", "normal", "停电通知提前告知", "计划停电的通知贴得太晚，商户来不及准备，建议提前一周并通过短信通知。"),
    ("complaint", "95598", "normal", "电表走字异常", "最近两个月电费比去年同期高了一倍，家里用电习惯没变，怀疑电表有问题，申请校验。"),
    ("praise", "visit", "normal", "服务队上门检修线路", "共产党员服务队上门帮我们孤寡老人检修了室内线路，还更换了老化插座，非常感谢。"),
    ("need", "12345", "normal", "老旧小区线路改造", "小区建于九十年代，楼道线路老化严重，夏天经常跳闸，希望纳入改造计划。"),
]
GOVERNMENT = [
    ("need", "meeting", "urgent", "工业园区新上项目用电保障", "县政府协调：园区新引进的两家企业计划下月投产，需保障双电源供电，请提前做好配套。"),
    ("need", "meeting", "normal", "乡村振兴示范村电网提升", "按县乡村振兴工作安排，示范村需完成台区增容和线路改造，确保年底前满足民宿用电。"),
    ("suggestion", "12345", "normal", "优化营商环境办电提速", "县营商环境办要求小微企业低压办电压减至两个环节、五个工作日以内，请制定措施。"),
    ("need", "meeting", "urgent", "迎峰度夏重点场所保电", "县应急局通知：高考期间考点及医院需重点保电，请制定保电方案并落实人员值守。"),
]
DECLINE_REASONS = ["经核实，该线路属小区物业自管资产，已告知诉求人联系物业处理并提供技术指导。",
                   "属重复诉求，已并入前一工单统一办理。",
                   "经现场核实，电表校验合格，用电量增加系家中新增电器所致，已向诉求人解释。"]
PRAISE_REASON = "表扬类来件，已转达相关班组并在周例会上通报表扬，无需立项整改。"


def _stations(root: Organization) -> list[Organization]:
    return list(Organization.objects.filter(path__startswith=root.path, level=Level.BRANCH, archived=False,
                                            name__contains="供电所").order_by("path"))


@transaction.atomic
def ensure_demo_needs(root_org: Organization, staff_user, rng, today: datetime.date | None = None):
    """Areas, needs and one public form for the demo company; returns the public form's NeedChannel (or None when
    the company has no 供电所 branch)."""
    today = today or datetime.date.today()
    stations = _stations(root_org)
    if not stations:
        return None
    first = stations[0]
    if ServiceArea.objects.filter(org=first).exists():
        return NeedChannel.objects.filter(org=first, area__isnull=True).first()

    areas_by_org: dict[int, list[ServiceArea]] = {}
    names = iter(range(len(AREAS) * 4))
    for org in stations:
        count = 4 if org == first else 3
        picked = [AREAS[0]] + rng.sample(AREAS[1:], count - 1) if org == first else rng.sample(AREAS[1:], count)
        areas_by_org[org.pk] = [
            services.create_area(staff_user, org, name=name, grid_manager=MANAGERS[next(names) % len(MANAGERS)],
                                 note=f"{org.name.removesuffix('党支部')}辖区，{rng.randint(8, 30)}个台区")
            for name in picked]

    start = today - datetime.timedelta(days=120)
    plans = []
    for i in range(40):
        org = first if i % 3 == 0 else rng.choice(stations)
        if i % 10 == 9:
            kind = NeedKind.GOVERNMENT
            category, source, urgency, title, text = GOVERNMENT[(i // 10) % len(GOVERNMENT)]
        else:
            kind = NeedKind.PEOPLE
            category, source, urgency, title, text = PEOPLE[rng.randrange(len(PEOPLE))]
        received = start + datetime.timedelta(days=rng.randint(0, 119))
        people = kind == NeedKind.PEOPLE
        requester = (rng.choice(SURNAMES) + rng.choice(["先生", "女士", "师傅"])) if people else "县发改局"
        contact = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}" if people else \
            f"0571-8{rng.randint(100_0000, 999_9999)}"
        address = rng.choice(ADDRESSES).format(n=rng.randint(1, 40)) if people else ""
        plans.append((org, kind, category, source, urgency, title, text, requester, contact, address, received))
    plans.sort(key=lambda p: p[-1])

    needs = []
    for org, kind, category, source, urgency, title, text, requester, contact, address, received in plans:
        area = rng.choice(areas_by_org[org.pk]) if rng.random() < 0.8 else None
        need = services.create_need(staff_user, org, kind=kind, category=category, source=NeedSource(source),
                                    urgency=Urgency(urgency), area=area, title=title, text=text,
                                    requester=requester, contact=contact, address=address, received_on=received)
        if source == NeedSource.ONLINE:
            Need.objects.filter(pk=need.pk).update(channel=Channel.PUBLIC, created_by=None)
        needs.append(need)

    # Older needs were mostly taken; the last fortnight's are still waiting.
    for need in needs:
        age = (today - need.received_on).days
        roll = rng.random()
        if age < 14 and roll < 0.7:
            continue
        if need.category == NeedCategory.PRAISE:
            services.decline_need(staff_user, need, PRAISE_REASON)
            continue
        if roll < 0.1:
            services.decline_need(staff_user, need, rng.choice(DECLINE_REASONS))
            continue
        due = max(today, timezone.localdate(), need.received_on + datetime.timedelta(days=services.DEFAULT_DUE_DAYS[need.urgency]))
        services.accept_need(staff_user, need, due_date=due)

    return services.enable_channel(staff_user, first)
