"""The demo company's pillar 2: `manage.py demo` ends with ``ensure_demo_appraisal``.

For the demo committee and the current year: the default member standard set, published; three months of
activity records (organization life with attendance, dues, study, volunteer service) before the current month
and the current month so far; the three previous months evaluated and published (so the wall, the member's
history and the handbook have something to show); the current month opened, with about half of the members
self-evaluated and the demo 党员 account still to do theirs; branch 城关供电所's public wall switched on.

Idempotent: nothing is done when the current year's member set of the demo committee exists. Activity rows are
written in bulk; months are opened and published through the services (set-based), the members' reports and the
branch's determinations in bulk, deterministic for the seed.
"""

import calendar
import datetime
import random
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from dangjian.appraisal import close, services
from dangjian.appraisal.models import (
    AState,
    Attendance,
    AttendanceStatus,
    DuesPayment,
    Meeting,
    MeetingKind,
    MemberEvaluation,
    MemberLine,
    MemberTransition,
    PublicWall,
    ServiceRecord,
    StudyForm,
    StudyRecord,
)
from dangjian.appraisal.scoring import line_points, month_totals
from dangjian.orgs.models import Level, Member, Organization
from dangjian.standards.models import MemberPart, MemberStandardSet

DEMO_OWNER = "DEMO-C"
WALL_BRANCH = "DEMO-B17"
MEMBER_ACCOUNT = "dangyuan"
D = Decimal

STUDY_TITLES = ["学习党的二十届三中全会精神", "学习《中国共产党章程》", "学习习近平总书记关于能源安全的重要论述",
                "观看“学习强国”专题党课", "学习《中国共产党纪律处分条例》", "学习安全生产典型事故通报",
                "学习国家电网公司优质服务“十项承诺”", "参加“网上党校”专题培训"]
SERVICE_ACTIVITIES = ["光明驿站便民服务", "社区安全用电宣传", "敬老院线路义务检修", "春耕用电上门服务",
                      "留守儿童“点亮微心愿”", "老旧小区表箱隐患排查"]
CLAIMS = {
    MemberPart.BONUS: ["参加抢修保电任务", "承担支部安排的专项工作", "在班组技术比武中获奖", "收到客户表扬信",
                       "提出合理化建议被采纳", "带头完成急难险重任务"],
    MemberPart.DEDUCTION: ["未按规定佩戴安全帽", "工作票填写不规范被考核", "迟到早退被通报"],
}


def _month_list(today: datetime.date, back: int) -> list[datetime.date]:
    months, m = [], today.replace(day=1)
    for _ in range(back + 1):
        months.append(m)
        m = (m - datetime.timedelta(days=1)).replace(day=1)
    return sorted(months)


def _day(month: datetime.date, day: int, today: datetime.date) -> datetime.date | None:
    last = calendar.monthrange(month.year, month.month)[1]
    date = month.replace(day=min(day, last))
    return date if date <= today else None


def _activities(rng, branches, members_by_org, months, today, user) -> dict[str, int]:
    meetings, attendance, dues, study, service = [], [], [], [], []
    plan = [(MeetingKind.GENERAL, 8, "支部党员大会：传达上级会议精神"), (MeetingKind.LECTURE, 15, "党课：{title}"),
            (MeetingKind.THEME_DAY, 22, "主题党日：{activity}"), (MeetingKind.COMMITTEE, 3, "支委会：研究本月工作")]
    for org in branches:
        members = members_by_org.get(org.pk, [])
        if not members:
            continue
        for month in months:
            for kind, day, title in plan:
                date = _day(month, day, today)
                if date is None:
                    continue
                lecturer = rng.choice(members) if kind == MeetingKind.LECTURE else None
                meetings.append((Meeting(org=org, kind=kind, date=date, place=org.address or "党员活动室",
                                         title=title.format(title=rng.choice(STUDY_TITLES),
                                                            activity=rng.choice(SERVICE_ACTIVITIES)),
                                         host=members[0].name, lecturer=lecturer,
                                         content="会议按程序进行，记录已归档。", created_by=user),
                                 members if kind != MeetingKind.COMMITTEE else members[:3]))
            for m in members:
                late = rng.random() < 0.04
                if late:
                    paid_on = (month + datetime.timedelta(days=40)).replace(day=3)
                else:
                    paid_on = _day(month, rng.randint(3, 27), today)
                if paid_on is not None and paid_on <= today and rng.random() > 0.02:
                    dues.append(DuesPayment(member=m, month=month, amount=D(rng.choice(["30.00", "45.50", "60.00",
                                                                                         "82.00", "120.00"])),
                                            paid_on=paid_on, on_time=not late, recorded_by=user))
                for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
                    date = _day(month, rng.randint(1, 28), today)
                    if date:
                        study.append(StudyRecord(member=m, date=date, title=rng.choice(STUDY_TITLES),
                                                 form=rng.choice(StudyForm.values), hours=D(rng.choice(["1", "1.5", "2"])),
                                                 notes="结合岗位实际，认真学习并撰写心得。", created_by=user))
                if rng.random() < 0.25:
                    date = _day(month, rng.randint(1, 28), today)
                    if date:
                        service.append(ServiceRecord(member=m, date=date, activity=rng.choice(SERVICE_ACTIVITIES),
                                                     hours=D(rng.choice(["2", "3", "4", "6"])),
                                                     people_served=rng.randint(5, 60), source="演示数据",
                                                     created_by=user))
    created = Meeting.objects.bulk_create([m for m, _ in meetings])
    for meeting, (_, listed) in zip(created, meetings, strict=True):
        for m in listed:
            r = rng.random()
            status = AttendanceStatus.ABSENT if r < 0.03 else AttendanceStatus.LEAVE if r < 0.08 else \
                AttendanceStatus.PRESENT
            attendance.append(Attendance(meeting=meeting, member=m, status=status,
                                         note="因公出差" if status == AttendanceStatus.LEAVE else ""))
    Attendance.objects.bulk_create(attendance, batch_size=2000)
    DuesPayment.objects.bulk_create(dues, batch_size=2000)
    StudyRecord.objects.bulk_create(study, batch_size=2000)
    ServiceRecord.objects.bulk_create(service, batch_size=2000)
    return {"meetings": len(created), "attendance": len(attendance), "dues": len(dues), "study": len(study),
            "service": len(service)}


def _report_and_determine(rng, period, ms, *, determine: bool, share_reported: float, skip_member=None) -> None:
    """Members' reports (a few bonus claims, rare deductions) and, when ``determine``, the branch's
    determination taking the reports (now and then correcting one, with a reason)."""
    items = list(ms.items.all())
    claimable = {p: [i for i in items if i.part == p and not i.source and not i.evidence_required]
                 for p in (MemberPart.BONUS, MemberPart.DEDUCTION)}
    usage = services.year_usage(period)
    lines_by_eval = defaultdict(list)
    for ln in MemberLine.objects.filter(evaluation__period=period).select_related("item", "evaluation"):
        lines_by_eval[ln.evaluation_id].append(ln)
    now = timezone.now()
    changed_lines, evaluations, transitions = [], [], []
    for lines in lines_by_eval.values():
        ev = lines[0].evaluation
        if ev.member_id == skip_member or rng.random() > share_reported:
            continue
        by_code = {ln.item.code: ln for ln in lines}
        claims = []
        if claimable[MemberPart.BONUS] and rng.random() < 0.45:
            claims.append((rng.choice(claimable[MemberPart.BONUS]), rng.choice([1, 1, 2])))
        if claimable[MemberPart.DEDUCTION] and rng.random() < 0.06:
            claims.append((rng.choice(claimable[MemberPart.DEDUCTION]), 1))
        for item, n in claims:
            ln = by_code[item.code]
            ln.self_count = n
            ln.claim = rng.choice(CLAIMS.get(item.part, ["本月情况"]))
            ln.self_points = line_points(item, n, usage.get((ev.member_id, item.code), D("0")))
        for ln in lines:
            if determine:
                ln.count = ln.self_count or 0
                if ln.part == MemberPart.BONUS and ln.count > 1 and rng.random() < 0.2:
                    ln.count -= 1
                    ln.reason = "经支委会核实，本月按一次认定"
                used = usage.get((ev.member_id, ln.item.code), D("0"))
                ln.points = line_points(ln.item, ln.count, used)
                usage[(ev.member_id, ln.item.code)] = used + abs(ln.points)
            changed_lines.append(ln)
        totals = month_totals(ms, lines)
        ev.self_total = totals.self_total
        ev.self_at = now
        state = AState.DETERMINED if determine else AState.SELF_EVALUATED
        transitions.append(MemberTransition(evaluation=ev, from_state=ev.state, to_state=AState.SELF_EVALUATED,
                                            note=""))
        if determine:
            transitions.append(MemberTransition(evaluation=ev, from_state=AState.SELF_EVALUATED, to_state=state,
                                                note=""))
            ev.total, ev.vetoed, ev.determined_at = totals.total, totals.vetoed, now
        ev.state = state
        evaluations.append(ev)
    services.update_rows(MemberLine, ["self_count", "self_points", "claim", "count", "points", "reason"],
                         changed_lines)
    services.update_rows(MemberEvaluation, ["self_total", "self_at", "total", "vetoed", "determined_at", "state"],
                         evaluations)
    MemberTransition.objects.bulk_create(transitions, batch_size=2000)


def ensure_demo_appraisal(stdout=None, seed: int = 2026):
    from dangjian.standards.member_services import load_default_member_set

    owner = Organization.objects.filter(code=DEMO_OWNER).first()
    today = timezone.localdate()
    if owner is None or MemberStandardSet.objects.filter(owner=owner, year=today.year).exists():
        return None
    admin = User.objects.filter(username="admin", is_superuser=True).first()
    if admin is None:
        return None
    rng = random.Random(seed)
    with transaction.atomic():
        ms = load_default_member_set(admin, owner, today.year, publish=True)
        branches = list(Organization.objects.filter(path__startswith=owner.path, level=Level.BRANCH,
                                                    archived=False).order_by("path"))
        members_by_org = defaultdict(list)
        for m in Member.objects.filter(org__in=branches, active=True).order_by("org_id", "id"):
            members_by_org[m.org_id].append(m)
        months = [m for m in _month_list(today, 3) if m.year == today.year]
        stats = _activities(rng, branches, members_by_org, months, today, admin)
        own = Member.objects.filter(user__username=MEMBER_ACCOUNT).values_list("pk", flat=True).first()
        published = 0
        for month in months:
            last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
            period = services.open_period(admin, owner, month, self_due=last - datetime.timedelta(days=6),
                                          determine_due=last)
            if month < today.replace(day=1):
                _report_and_determine(rng, period, ms, determine=True, share_reported=1.0)
                published += close.publish_ready(admin, period)
                close.close_period(admin, period)
            else:
                _report_and_determine(rng, period, ms, determine=False, share_reported=0.5, skip_member=own)
        wall_org = Organization.objects.filter(code=WALL_BRANCH).first()
        wall = None
        if wall_org is not None:
            from dangjian.appraisal.wall import new_key

            wall = PublicWall.objects.create(org=wall_org, key=new_key())
    if stdout is not None:
        stdout.write(f"已发布演示党员评价标准：{ms.name}（{ms.items.count()} 项细则）；组织生活 {stats['meetings']} 次，"
                     f"学习记录 {stats['study']} 条，党费 {stats['dues']} 条；已公示 {published} 人次的月度评价，"
                     f"本月评价进行中。")
        if wall is not None:
            stdout.write(f"城关供电所党支部公开上墙页面：/appraisal/wall/p/{wall.key}/")
    return ms
