"""Demo data of the teams and projects part: a 光明先锋共产党员服务队 per 供电所 branch with its members and about
four months of activities, and three social-responsibility projects with milestones and monthly indicator values.

Everything goes through the services (service.teams, service.projects), so each participant's hours become the
member's volunteer service record like in real use. A month whose member evaluation a branch has already
published is locked for its members' records: activities are only created in months still open for every
participant (in the demo, the months before the published ones, if any, and the current month).
Deterministic for a given ``rng`` seed and database; running it again changes nothing.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dangjian.appraisal.activities import member_month_published
from dangjian.orgs.models import Level, Member, Organization
from dangjian.service import projects, teams
from dangjian.service.models import Project, ProjectKind, ProjectState, ServiceTeam, TeamKind

ACTIVITIES = [
    # title, place, content, people served (range), hours (range)
    ("走访孤寡老人", "{town}敬老院", "为孤寡老人检查室内线路、更换老化插座和灯具，讲解安全用电常识。", (8, 20), (2, 3)),
    ("用电安全宣传", "{town}集市", "设立咨询台，发放安全用电和防范电力诈骗宣传册，现场解答电费、报装问题。", (60, 200), (2, 4)),
    ("抢修保电", "10kV{town}线", "配合抢修班处理线路故障，协助疏导群众、看护现场，及时恢复供电。", (300, 900), (3, 6)),
    ("义务检查线路", "{town}中心小学", "对学校教学楼、食堂和宿舍线路开展义务检查，整改隐患3处。", (200, 600), (2, 4)),
    ("留守儿童关爱", "{town}中心小学", "开展“电力小课堂”，向留守儿童讲解用电安全，赠送学习用品。", (30, 80), (2, 3)),
    ("农灌保电服务", "{town}农田机井", "春灌前对机井线路和配电箱逐一巡视，帮助农户排查漏电隐患。", (20, 60), (3, 5)),
    ("重点场所保电", "{town}卫生院", "对卫生院双电源和应急发电机接口进行检查，制定保电预案。", (100, 300), (2, 4)),
]


def _stations(root: Organization) -> list[Organization]:
    return list(Organization.objects.filter(path__startswith=root.path, level=Level.BRANCH, archived=False,
                                            name__contains="供电所").order_by("path"))


def _town(org: Organization) -> str:
    return org.name.split("供电所")[0] or "城关"


def _months(today: datetime.date, back: int) -> list[datetime.date]:
    out, m = [], today.replace(day=1)
    for _i in range(back):
        out.append(m)
        m = (m - datetime.timedelta(days=1)).replace(day=1)
    return sorted(out)


def _team_for(staff_user, org: Organization, rng, today: datetime.date) -> ServiceTeam | None:
    members = list(Member.objects.filter(org=org, active=True).order_by("name_pinyin", "id"))
    if len(members) < 3:
        return None
    chosen = rng.sample(members, min(len(members), rng.randint(6, 10)))
    team = teams.create_team(staff_user, org, name=f"{_town(org)}光明先锋共产党员服务队", kind=TeamKind.PARTY,
                             founded_on=datetime.date(today.year - rng.randint(2, 6), rng.choice((3, 5, 7)), 1),
                             description=f"由{org.name}党员组成，常态化开展抢修保电、走访慰问、安全用电宣传等志愿服务。")
    teams.add_members(staff_user, team, chosen)
    teams.update_team(staff_user, team, leader=chosen[0])
    return team


def _activities(staff_user, team: ServiceTeam, rng, today: datetime.date) -> int:
    roster = list(Member.objects.filter(service_teams__team=team).order_by("name_pinyin", "id"))
    town = _town(team.org)
    n = 0
    for month in _months(today, 4):
        for d in sorted(rng.sample(range(1, 29), rng.randint(2, 4))):  # one activity a day at most
            title, place, content, people, hours = rng.choice(ACTIVITIES)
            day = month.replace(day=d)
            size = rng.randint(3, min(6, len(roster)))
            people_n = rng.randint(*people)
            default = Decimal(rng.randint(hours[0] * 2, hours[1] * 2)) / 2
            group = rng.sample(roster, size)
            if day > today:
                continue
            # Honest data: a month already published for any participant is locked; skip that activity.
            if any(member_month_published(m.pk, day) for m in group):
                continue
            pairs = [(m, None if i else default + Decimal("0.5")) for i, m in enumerate(group)]
            teams.create_activity(staff_user, team, date=day, title=title, place=place.format(town=town),
                                  content=content, people_served=people_n, participants=pairs,
                                  default_hours=default)
            n += 1
    return n


def _monthly_values(staff_user, indicator, start: datetime.date, today: datetime.date, first, step, rng) -> None:
    value, month = Decimal(first), start.replace(day=1)
    while True:
        nxt = (month + datetime.timedelta(days=32)).replace(day=1)
        day = nxt - datetime.timedelta(days=1)  # the month's last day
        if day > today:
            break
        projects.add_value(staff_user, indicator, on=day, value=value.quantize(Decimal("0.01")))
        value += Decimal(step) * Decimal(rng.randint(80, 120)) / 100
        month = nxt


def _projects(staff_user, stations: list[Organization], rng, today: datetime.date) -> int:
    by_name = {o.name: o for o in stations}
    chengguan = by_name.get("城关供电所党支部", stations[0])
    second = stations[1] if len(stations) > 1 else stations[0]
    third = stations[2] if len(stations) > 2 else stations[0]
    year = today.year
    lead = Member.objects.filter(org=chengguan, active=True).order_by("name_pinyin", "id").first()

    p1 = projects.create_project(
        staff_user, chengguan, name="城关供电所“连心”便民服务点", kind=ProjectKind.SERVICE_POINT,
        state=ProjectState.RUNNING, starts_on=datetime.date(year, 3, 1), ends_on=datetime.date(year, 12, 31), lead=lead,
        goal="在社区党群服务中心设立便民服务点，提供用电业务代办、电费查询、故障报修和安全用电咨询，"
             "让群众办电“少跑腿、就近办”。")
    for title, due, done in (("选址并与社区签订共建协议", (3, 20), (3, 18)), ("服务点挂牌运行", (4, 15), (4, 15)),
                             ("培训社区网格员10名", (6, 30), (7, 6)), ("年度服务满意度回访", (11, 20), None),
                             ("年度总结与推广", (12, 20), None)):
        m = projects.add_milestone(staff_user, p1, title=title, due_on=datetime.date(year, *due))
        if done and datetime.date(year, *done) <= today:
            projects.complete_milestone(staff_user, m, datetime.date(year, *done))
    ind = projects.add_indicator(staff_user, p1, name="代办用电业务", unit="件", baseline="0", target="600")
    _monthly_values(staff_user, ind, datetime.date(year, 4, 1), today, "35", "48", rng)
    ind = projects.add_indicator(staff_user, p1, name="服务群众", unit="人次", baseline="0", target="3000")
    _monthly_values(staff_user, ind, datetime.date(year, 4, 1), today, "180", "260", rng)

    p2 = projects.create_project(
        staff_user, second, name="小小新闻发言人", kind=ProjectKind.SPOKESPERSON, state=ProjectState.RUNNING,
        starts_on=datetime.date(year, 5, 1), ends_on=datetime.date(year, 12, 31),
        goal="组织辖区中小学生走进供电所，当一天“小小新闻发言人”，采访一线员工、发布电力小新闻，"
             "传播安全用电和节约用电知识。")
    for title, due, done in (("与县教育局、3所小学对接", (5, 20), (5, 18)), ("第一期活动（暑期）", (7, 31), (7, 26)),
                             ("第二期活动（国庆）", (10, 10), None), ("优秀作品评选展示", (12, 15), None)):
        m = projects.add_milestone(staff_user, p2, title=title, due_on=datetime.date(year, *due))
        if done and datetime.date(year, *done) <= today:
            projects.complete_milestone(staff_user, m, datetime.date(year, *done))
    ind = projects.add_indicator(staff_user, p2, name="参与学生", unit="人", baseline="0", target="120")
    _monthly_values(staff_user, ind, datetime.date(year, 7, 1), today, "36", "14", rng)

    p3 = projects.create_project(
        staff_user, third, name="光伏扶贫村级电站运维", kind=ProjectKind.PV_POVERTY, state=ProjectState.RUNNING,
        starts_on=datetime.date(year, 1, 1), ends_on=datetime.date(year, 12, 31),
        goal="为村级200kW光伏扶贫电站提供并网服务和常态化运维，确保电站稳定发电，年发电收益约19万元用于村集体"
             "公益岗位和困难群众帮扶。")
    for title, due, done in (("电站年度预防性试验", (3, 31), (3, 28)), ("迎峰度夏专项巡检", (6, 30), (6, 24)),
                             ("逆变器故障整改", (8, 31), None), ("年度收益核算与公示", (12, 25), None)):
        m = projects.add_milestone(staff_user, p3, title=title, due_on=datetime.date(year, *due))
        if done and datetime.date(year, *done) <= today:
            projects.complete_milestone(staff_user, m, datetime.date(year, *done))
    projects.add_indicator(staff_user, p3, name="装机容量", unit="kW", baseline="200", target="200")
    ind = projects.add_indicator(staff_user, p3, name="年度累计发电收益", unit="元", baseline="0", target="190000")
    _monthly_values(staff_user, ind, datetime.date(year, 1, 1), today, "11800", "16200", rng)
    ind = projects.add_indicator(staff_user, p3, name="累计发电量", unit="万kWh", baseline="0", target="24")
    _monthly_values(staff_user, ind, datetime.date(year, 1, 1), today, "1.5", "2", rng)
    return 3


@transaction.atomic
def ensure_demo_teams(root_org: Organization, staff_user, rng, today: datetime.date | None = None) -> dict:
    """Teams (with members and activities) and projects of the demo company; nothing when they exist already.
    Returns counts: teams, activities, projects."""
    today = min(today or timezone.localdate(), timezone.localdate())
    stations = _stations(root_org)
    if not stations or ServiceTeam.objects.filter(org__path__startswith=root_org.path).exists():
        return {"teams": 0, "activities": 0, "projects": 0}
    stats = {"teams": 0, "activities": 0, "projects": 0}
    for org in stations:
        team = _team_for(staff_user, org, rng, today)
        if team is None:
            continue
        stats["teams"] += 1
        stats["activities"] += _activities(staff_user, team, rng, today)
    if not Project.objects.filter(org__path__startswith=root_org.path).exists():
        stats["projects"] = _projects(staff_user, stations, rng, today)
    return stats
