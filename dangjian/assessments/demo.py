"""The demo company's pillar 1 (将支部建在连上): `manage.py demo` calls ``ensure_demo_assessments`` right after the
standard set is published.

For the demo committee (DEMO-C): the six complete months before the current one, evaluated and finalized, and the
current month open with mixed progress. The numbers tell a story the dashboards can show:

- every organization has a latent quality (the share of points it really keeps) that drifts a little from month
  to month; 机关第三党支部 (DEMO-B12) slides, 电力调度控制中心党支部 (DEMO-B05) climbs;
- points are lost mostly on a few items everybody finds hard (主题党日, 学时, 党小组会 …) and on three "weak
  items" of each organization that come back month after month; every deduction quotes the item's 扣分标准;
- three organizations (``INFLATORS``) give themselves 5–15 % more than the assessors do, the others self-assess
  close to the truth;
- four assessors (``ASSESSORS``: the demo account kaoping and three more) share the organizations each month; one
  is lenient, one strict;
- a few objections are raised in the publicity windows and answered, one upheld with the item's score restored.

Rows are written in bulk with their real history (transitions, score entries, objections, assessor assignments)
at past times and without audit events, as the rest of the demo; the six months are then closed through the real
month close (``close.finalize_period``), so the results, peer figures, digests, frozen standard set and database
lock are the genuine ones. Before that, item ZY-33 gets its service-data rule (service.demo_dashboards), so the
open month is scored from the customer index once the service demo has made it.

Idempotent: nothing is done when the demo committee has any evaluation month. ``remove_demo_assessments`` takes
the months away again for ``manage.py demo --reset``.
"""

import datetime
import importlib
import random
import re
from collections import defaultdict
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from dangjian.assessments import close
from dangjian.assessments.models import (
    AssessorAssignment,
    EvalItem,
    Evaluation,
    Objection,
    Period,
    ScoreEntry,
    State,
    Transition,
    default_grade_rule,
)
from dangjian.core.dates import next_month
from dangjian.orgs.models import Organization, OrgType, Role, RoleGrant
from dangjian.standards.models import SetStatus, StandardSet
from dangjian.standards.services import items_for, set_for

DEMO_OWNER = "DEMO-C"
SECRETARY_BRANCH = "DEMO-B17"  # the demo 支部书记's branch (orgs demo)
PAST_MONTHS = 6
OBJECTION_DAYS = 3
D = Decimal
TENTH = D("0.1")

# username, full name, style (make_month), label for the accounts table.
# kaoping is the demo's own account (made by the orgs demo); the others are made here with the same password.
ASSESSORS = (
    ("kaoping", "", "", ""),
    ("kaoping2", "王立群", "lenient", "评分偏松"),
    ("kaoping3", "严正华", "strict", "评分偏严"),
    ("kaoping4", "周敏", "", "评分适中"),
)
EXTRA_ASSESSORS = [(u, name, label) for u, name, _style, label in ASSESSORS if name]
INFLATORS = ("DEMO-B09", "DEMO-B14", "DEMO-B20")  # 电费管理、物资供应、县公司机关: self-scores 5–15 % too high
DRIFT = {"DEMO-B05": D("0.018"), "DEMO-B12": D("-0.016")}  # per month: one climbs, one slides
# Items most organizations lose points on (the heat map's weak columns) and how much more often.
HARD_ITEMS = {"SH-05": 4, "JY-02": 4, "SH-03": 3, "JC-04": 3, "ZY-02": 3, "SH-02": 2, "ZY-12": 3, "ZY-22": 3,
              "ZY-32": 3, "ZY-33": 2, "ZZ-13": 2, "JC-11": 3, "SH-11": 2}
# The current month: how many organizations stand where (the rest are 已报送); the first ones are overdue.
CURRENT = {State.ASSESSED: 7, State.SELF_ASSESSED: 8, State.NOT_STARTED: 3}

THEMES = ["学党章、守党规、强党性", "安全生产月·党员身边无违章", "迎峰度夏保供电", "优质服务进社区", "廉洁从业警示教育",
          "重温入党誓词", "传承红色基因", "党员先锋岗亮牌承诺", "学习贯彻党的二十届三中全会精神", "能源保供党员突击队"]
STUDY = ["习近平总书记关于能源安全的重要论述", "《中国共产党纪律处分条例》", "公司党委年度工作会议精神", "安全生产典型事故通报",
         "国家电网公司优质服务“十项承诺”", "《中国共产党支部工作条例（试行）》"]
WORK = {
    "production": ["完成{n}条线路的迎峰度夏特巡，党员突击队参与抢修{k}次", "党员责任区实现零违章、零跳闸",
                   "开展反违章检查{k}次，整改隐患{n}处"],
    "management": ["机关党员深入基层联系点调研{k}次，解决问题{n}项", "修订管理制度{k}项，精简会议文件",
                   "重点工作任务按节点推进，完成{n}项"],
    "business": ["营业厅党员服务岗亮牌服务，办理业务{n}余件", "开展客户回访{n}户，满意度持续提升",
                 "业扩报装提速，居民办电平均{k}个工作日"],
    None: ["指导所属支部开展主题党日和“三会一课”{k}次", "组织支部书记专题培训{k}次", "督导所属支部整改问题{n}项"],
}
OBJECTION_TEXTS = [
    "对{code}扣{points}分有异议：该项工作本月已按要求完成，会议记录和照片已补充上传，请复核。",
    "对{code}扣{points}分有异议：扣分依据的情况发生在上月，已在上月考评中扣分，请复核。",
    "对{code}扣{points}分有异议：相关台账已于考评当日补齐，现场考评时未及时提供，请复核。",
]
ANSWER_KEPT = "经复核，佐证资料不能证明该项达到要求（{rule}），维持原评分。"
ANSWER_UPHELD = "经复核，补充材料属实，异议成立，恢复该项扣分{points}分。"

UNIT = re.compile(r"扣(\d+(?:\.\d+)?)分")


def deduction_clauses(rule: str) -> list[tuple[str, Decimal]]:
    """The clauses of an item's 扣分标准 that take off points, with the points of one occurrence:
    "每缺1次扣2分；活动流于形式的每次扣1分，扣完为止。" → [("每缺1次扣2分", 2), ("活动流于形式的每次扣1分", 1)].
    Veto clauses (一票否决) are left out: the demo vetoes nobody."""
    out = []
    for part in re.split(r"[；;]", rule):
        part = part.strip().rstrip("。").replace("，扣完为止", "").replace("扣完为止", "").strip("，")
        found = UNIT.search(part)
        if part and found and "一票否决" not in part:
            out.append((part, D(found.group(1))))
    return out


# ---- the organizations' months: who loses which points ----------------------------------------------------------


class Line:
    """One item of one organization's month while it is being made up."""

    __slots__ = ("item", "max_points", "clauses", "weight", "true", "assessor", "self_", "clause")

    def __init__(self, item, max_points, weight):
        self.item, self.max_points, self.weight = item, max_points, weight
        self.clauses = deduction_clauses(item.rule)
        self.true = self.assessor = self.self_ = D("0")  # points taken off
        self.clause = ""


def _take(rng, lines: list[Line], loss: Decimal, attr: str, weak: set[str]) -> None:
    """Take about ``loss`` points off ``lines`` (in ``attr``), in steps of the items' own deduction clauses,
    mostly on the hard items and the organization's weak items."""
    remaining = loss
    for _round in range(60):
        if remaining < D("0.5"):
            return
        pool = [ln for ln in lines if ln.clauses and getattr(ln, attr) < ln.max_points]
        if not pool:
            return
        weights = [ln.weight * (4 if ln.item.code in weak else 1) for ln in pool]
        ln = rng.choices(pool, weights=weights)[0]
        fitting = [c for c in ln.clauses if c[1] <= max(remaining, D("1")) * D("1.5")]
        if not fitting:
            continue
        clause, unit = next((c for c in fitting if c[0] == ln.clause), None) or rng.choice(fitting)
        step = min(unit, ln.max_points - getattr(ln, attr))
        setattr(ln, attr, getattr(ln, attr) + step)
        ln.clause = ln.clause or clause
        remaining -= step


def _reason(ln: Line, points: Decimal) -> str:
    return f"依据扣分标准“{ln.clause}”，扣{_fmt(points)}分。" if ln.clause else f"扣{_fmt(points)}分。"


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _q(value) -> Decimal:
    return D(value).quantize(TENTH, rounding=ROUND_HALF_UP)


def make_month(rng, lines: list[Line], quality: Decimal, style: str, weak: set[str], inflator: bool,
               self_share: float = 1.0) -> None:
    """Decide the real, the assessor's and the self-assessed deductions of one organization's month. ``style``:
    "lenient" lets the small items' deductions (and some others) pass, "strict" also takes points off small items
    where the others would not; both show in the item-by-item comparison of assessors far more than in totals."""
    full = sum(ln.max_points for ln in lines)
    _take(rng, lines, _q(full * (1 - quality)), "true", weak)
    for ln in lines:
        if ln.true:
            forgiven = style == "lenient" and (ln.max_points <= 3 or rng.random() < 0.3)
            ln.assessor = D("0") if forgiven else ln.true
    if style == "strict":
        small = [ln for ln in lines if ln.clauses and ln.max_points <= 3 and not ln.assessor]
        for ln in rng.sample(small, min(len(small), rng.randint(4, 6))):
            clause, unit = min(ln.clauses, key=lambda c: c[1])
            ln.assessor = min(ln.max_points, unit)
            ln.clause = ln.clause or clause
    for ln in lines:
        if inflator:
            ln.self_ = D("0")
        elif ln.true:  # honest, though a small deduction is now and then overlooked
            ln.self_ = ln.true if ln.true > 2 or rng.random() < 0.8 else D("0")
        elif ln.clauses and rng.random() < 0.02:  # now and then stricter with itself
            ln.self_ = min(ln.max_points, ln.clauses[0][1])
            ln.clause = ln.clause or ln.clauses[0][0]
    if inflator:  # own up to the small things only, to stay 5–15 % above the assessors
        assessor_total = full - sum(ln.assessor for ln in lines)
        target = assessor_total + _q(full * D(str(rng.uniform(0.06, 0.13))))
        for ln in sorted(lines, key=lambda x: x.assessor):
            if ln.assessor and full - sum(x.self_ for x in lines) - ln.assessor >= target:
                ln.self_ = ln.assessor
    if self_share < 1:
        for ln in lines:
            if rng.random() > self_share:
                ln.self_ = None


# ---- writing ---------------------------------------------------------------------------------------------------


@contextmanager
def _given_times(*fields):
    """Let bulk_create keep the creation times the demo gives (past months) instead of "now"."""
    saved = [(f, f.auto_now_add) for f in fields]
    for f, _v in saved:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, v in saved:
            f.auto_now_add = v


def _aware(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour, minute))


def _office_hours(when: datetime.datetime) -> datetime.datetime:
    """The same day between 08:00 and 18:00 local time, order within the day kept."""
    local = timezone.localtime(when)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + datetime.timedelta(hours=8) + (local - midnight) * 10 / 24


def _year_set(owner: Organization, year: int) -> StandardSet:
    """The published set of ``year`` (the demo publishes the current year's; a past year's is made the same way)."""
    ss = set_for(owner, year)
    if ss is not None:
        return ss
    from dangjian.standards import defaults, services

    categories, items = services.default_contents()
    ss = StandardSet.objects.create(
        owner=owner, year=year, name=defaults.NAME.format(year=year), note=defaults.NOTE,
        version=services.next_version(owner, year), status=SetStatus.PUBLISHED,
        published_at=_aware(datetime.date(year, 1, 2), 9))
    services.write_contents(ss, categories, items)
    return ss


def _assessors(root: Organization) -> list[tuple[User, str]]:
    """The demo's assessors with their style; the extra ones are made (with the demo password) when missing."""
    users = {u.username: u for u in User.objects.filter(username__in=[a[0] for a in ASSESSORS])}
    encoded = None
    out = []
    for username, name, style, _label in ASSESSORS:
        user = users.get(username)
        if user is None:
            if not name:
                continue
            if encoded is None:  # the same password as the demo's accounts: reuse their hash (PBKDF2 is slow)
                from dangjian.orgs.management.commands.demo import PASSWORD

                known = users.get("kaoping")
                encoded = known.password if known is not None and known.has_usable_password() else \
                    make_password(PASSWORD)
            user = User.objects.create(username=username, first_name=name, password=encoded)
        RoleGrant.objects.get_or_create(user=user, role=Role.ASSESSOR, org=root)
        out.append((user, style))
    return out


class Builder:
    def __init__(self, root: Organization, today: datetime.date, seed: int):
        self.root, self.today, self.rng = root, today, random.Random(seed)
        self.now = timezone.now()
        self.staff = (User.objects.filter(username="dangjian").first()
                      or User.objects.filter(username="admin").first())
        self.shuji = User.objects.filter(username="shuji").first()
        self.orgs = list(Organization.objects.filter(path__startswith=root.path, archived=False)
                         .exclude(pk=root.pk).select_related("type").order_by("path"))
        self.types = {t.pk: t.code for t in OrgType.objects.all()}
        self.assessors = _assessors(root)
        self.items_cache: dict = {}
        rng = self.rng
        self.quality = {}
        for org in self.orgs:
            base = D(str(min(0.985, max(0.76, rng.gauss(0.885, 0.045)))))
            if org.code in INFLATORS:
                base = D(str(rng.uniform(0.84, 0.88)))
            self.quality[org.pk] = (base, DRIFT.get(org.code, D(str(rng.uniform(-0.004, 0.004)))))
        self.weak: dict[int, set[str]] = {}
        self.rows = defaultdict(list)  # model -> rows to insert
        self.stats = defaultdict(int)

    # -- per month --

    def lines_for(self, org: Organization, ss: StandardSet) -> list[Line]:
        key = (ss.pk, org.level, org.type_id)
        if key not in self.items_cache:
            probe = Organization(level=org.level, type_id=org.type_id)
            self.items_cache[key] = list(items_for(probe, ss).prefetch_related("applies_types"))
        type_code = self.types.get(org.type_id)
        lines = [Line(it, it.points_for(type_code), HARD_ITEMS.get(it.code, 1) * float(it.max_points) ** 0.5)
                 for it in self.items_cache[key]]
        if org.pk not in self.weak:
            candidates = [ln.item.code for ln in lines if ln.clauses]
            self.weak[org.pk] = set(self.rng.sample(candidates, min(3, len(candidates))))
        return lines

    def quality_of(self, org: Organization, index: int) -> Decimal:
        """index: months before the current month (6 … 0)."""
        base, drift = self.quality[org.pk]
        value = base + drift * (PAST_MONTHS - index) - drift * 3 + D(str(self.rng.gauss(0, 0.012)))
        return min(D("0.995"), max(D("0.62"), value))

    def summary(self, org: Organization, month: datetime.date) -> str:
        rng = self.rng
        family = self.types.get(org.type_id) if org.level == "branch" else None
        work = rng.choice(WORK[family]).format(n=rng.randint(3, 40), k=rng.randint(2, 6))
        meeting = "支委会" if org.level == "branch" else ("总支委员会" if org.level == "general" else "党委会")
        return (f"{month.month}月，{org.name}召开{meeting}{rng.randint(1, 2)}次、党小组会{rng.randint(2, 4)}次，"
                f"开展“{rng.choice(THEMES)}”主题党日活动，组织党员集中学习{rng.choice(STUDY)}。{work}。"
                f"存在问题：{rng.choice(['个别党员学习笔记不够扎实', '党小组会记录不够规范', '志愿服务参与面还不够广'])}，"
                f"下月将抓好整改。")

    def month(self, month: datetime.date, ss: StandardSet, index: int, plan: dict[int, str], times) -> Period:
        """One month's period, evaluations, items, history. ``plan``: org id -> final state (past months:
        published); ``times(state) -> datetime`` gives when each step happened."""
        rng, today = self.rng, self.today
        base = next_month(month)
        if index:
            dues = (base + datetime.timedelta(days=4), base + datetime.timedelta(days=7),
                    base + datetime.timedelta(days=14))
            shift = times.shift
            dues = tuple(d - datetime.timedelta(days=shift.days) for d in dues)
            dues = tuple(max(month, d) for d in dues)
        else:
            submit = max(month, today - datetime.timedelta(days=3))
            dues = (submit, max(submit, today + datetime.timedelta(days=3)),
                    max(submit, today + datetime.timedelta(days=8)))
        period = Period.objects.create(owner=self.root, month=month, standard_set=ss, submit_due=dues[0],
                                       self_due=dues[1], assess_due=dues[2], objection_days=OBJECTION_DAYS,
                                       grade_rule=default_grade_rule(), opened_by=self.staff)
        Period.objects.filter(pk=period.pk).update(opened_at=_aware(month, 9))
        order = ["not_started", "submitted", "self_assessed", "assessed", "published"]
        pattern = [self.assessors[i % len(self.assessors)] for i in (0, 1, 0, 2, 0, 3)] if self.assessors else []
        evaluations, all_lines, assigned = [], [], {}
        for n, org in enumerate(self.orgs):
            state = plan[org.pk]
            reached = order.index(state)
            lines = self.lines_for(org, ss)
            assessor, style = pattern[(n + index) % len(pattern)] if pattern else (None, "")
            assigned[org.pk] = assessor
            share = 1.0 if reached >= 2 else (0.5 if org.code == SECRETARY_BRANCH else rng.random())
            make_month(rng, lines, self.quality_of(org, index), style, self.weak[org.pk], org.code in INFLATORS,
                       self_share=share if reached >= 1 else 0)
            full = sum(ln.max_points for ln in lines)
            ev = Evaluation(period=period, org=org, org_name=org.name, org_path=org.path, level=org.level,
                            org_type_id=org.type_id, state=state, max_total=full, version=reached)
            if reached >= 1 or (reached == 0 and rng.random() < 0.4):
                ev.summary = self.summary(org, month)
            if reached >= 2:
                ev.self_total = full - sum(ln.self_ for ln in lines)
            if reached >= 3:
                ev.assessor_total = full - sum(ln.assessor for ln in lines)
            evaluations.append(ev)
            all_lines.append((ev, lines, reached))
        Evaluation.objects.bulk_create(evaluations)
        items = []
        for ev, lines, reached in all_lines:
            assessor = assigned[ev.org_id]
            for ln in lines:
                ei = EvalItem(evaluation=ev, item=ln.item, max_points=ln.max_points)
                if reached >= 1 and ln.self_ is not None:
                    ei.self_score = ln.max_points - ln.self_
                    ei.self_remark = f"自查：{_reason(ln, ln.self_)}" if ln.self_ else ""
                if reached >= 3:
                    ei.assessor_score = ln.max_points - ln.assessor
                    ei.assessor_reason = _reason(ln, ln.assessor) if ln.assessor else ""
                    ei.assessor = assessor
                ei.version = (ei.self_score is not None) + (ei.assessor_score is not None)
                ei.line = ln
                items.append(ei)
        EvalItem.objects.bulk_create(items, batch_size=1000)
        by_eval = defaultdict(list)
        for ei in items:
            by_eval[ei.evaluation_id].append(ei)
        secretary_of = {SECRETARY_BRANCH: self.shuji}
        for ev, _lines, reached in all_lines:
            org = next(o for o in self.orgs if o.pk == ev.org_id)
            secretary = secretary_of.get(org.code)
            steps = [(order[i], order[i + 1]) for i in range(reached)]
            for frm, to in steps:
                by = secretary if to in ("submitted", "self_assessed") else (
                    assigned[ev.org_id] if to == "assessed" else self.staff)
                self.rows[Transition].append(Transition(evaluation=ev, from_state=frm, to_state=to, by=by,
                                                        at=times(to, ev.org_id)))
            for ei in by_eval[ev.pk]:
                if ei.self_score is not None:
                    self.rows[ScoreEntry].append(ScoreEntry(
                        eval_item=ei, kind=ScoreEntry.Kind.SELF, value=ei.self_score, reason=ei.self_remark,
                        by=secretary, at=times("scored_self", ev.org_id)))
                if ei.assessor_score is not None:
                    self.rows[ScoreEntry].append(ScoreEntry(
                        eval_item=ei, kind=ScoreEntry.Kind.ASSESSOR, value=ei.assessor_score,
                        reason=ei.assessor_reason, by=ei.assessor, at=times("scored_assessor", ev.org_id)))
            if assigned[ev.org_id] is not None:
                self.rows[AssessorAssignment].append(AssessorAssignment(evaluation=ev, assessor=assigned[ev.org_id]))
        self.stats["evaluations"] += len(evaluations)
        self.stats["items"] += len(items)
        period.items_by_eval = by_eval
        period.evaluation_list = evaluations
        return period

    def objections(self, periods: list[Period], times_of: dict) -> None:
        """Four objections over the past months, the second upheld: the item's assessor score is restored by the
        committee and the organization's assessor total follows."""
        rng = self.rng
        candidates = []
        for period in periods:
            for ev in period.evaluation_list:
                deducted = [ei for ei in period.items_by_eval[ev.pk] if ei.assessor_score < ei.max_points]
                if deducted:
                    candidates.append((period, ev, deducted))
        mine = [c for c in candidates if c[1].org.code == SECRETARY_BRANCH]
        picked = ([rng.choice(mine)] if mine else []) + rng.sample(candidates, min(3, len(candidates)))
        seen = set()
        for period, ev, deducted in picked:
            if ev.pk in seen:
                continue
            seen.add(ev.pk)
            n = len(seen) - 1
            ei = max(deducted, key=lambda x: x.max_points - x.assessor_score)
            lost = ei.max_points - ei.assessor_score
            upheld = n == 1
            times = times_of[period.pk]
            raised, answered = times("objected", ev.org_id), times("answered", ev.org_id)
            text = rng.choice(OBJECTION_TEXTS).format(code=ei.item.code, points=_fmt(lost))
            answer = (ANSWER_UPHELD.format(points=_fmt(lost)) if upheld
                      else ANSWER_KEPT.format(rule=ei.line.clause or ei.item.rule[:60]))
            by = self.shuji if ev.org.code == SECRETARY_BRANCH else None
            self.rows[Objection].append(Objection(
                evaluation=ev, eval_item=ei, text=text, raised_by=by, raised_at=raised, answer=answer,
                upheld=upheld, answered_by=self.staff, answered_at=answered))
            self.rows[Transition] += [
                Transition(evaluation=ev, from_state=State.PUBLISHED, to_state=State.OBJECTED, note=text[:500],
                           by=by, at=raised),
                Transition(evaluation=ev, from_state=State.OBJECTED, to_state=State.PUBLISHED, note=answer[:500],
                           by=self.staff, at=answered),
            ]
            if upheld:
                ei.assessor_score, ei.assessor_reason = ei.max_points, f"异议成立，恢复{_fmt(lost)}分。"
                ei.version += 1
                EvalItem.objects.filter(pk=ei.pk).update(assessor_score=ei.assessor_score,
                                                         assessor_reason=ei.assessor_reason, version=ei.version)
                Evaluation.objects.filter(pk=ev.pk).update(assessor_total=ev.assessor_total + lost,
                                                           version=ev.version + 2)
                self.rows[ScoreEntry].append(ScoreEntry(eval_item=ei, kind=ScoreEntry.Kind.ASSESSOR,
                                                        value=ei.max_points, reason=ei.assessor_reason,
                                                        by=self.staff, at=answered))
            else:
                Evaluation.objects.filter(pk=ev.pk).update(version=ev.version + 2)
            self.stats["objections"] += 1

    def flush(self) -> None:
        with _given_times(Transition._meta.get_field("at"), ScoreEntry._meta.get_field("at"),
                          Objection._meta.get_field("raised_at")):
            for model in (Transition, ScoreEntry, Objection, AssessorAssignment):
                model.objects.bulk_create(self.rows.pop(model, []), batch_size=2000)


class PastTimes:
    """When each step of a past month happened: early in the next month, each organization at its own pace, the
    committee publishing the whole month at once; the whole cycle moved back (``shift``) when the next month has
    not gone far enough yet, so that the publicity window is over and the month was finalized two hours ago."""

    # (step, the step it follows, days after it: low, high); "published" and "finalized" are fixed days
    STEPS = (("submitted", None, 1, 3.5), ("scored_self", "submitted", 0.1, 1.5), ("self_assessed", "scored_self",
             0.05, 1), ("scored_assessor", "self_assessed", 0.5, 3), ("assessed", "scored_assessor", 0.02, 0.5),
             ("objected", "published", 0.2, 2.5), ("answered", "objected", 0.3, 1.5))
    FIXED = {"published": 13, "finalized": 19}

    def __init__(self, rng, month: datetime.date, now: datetime.datetime):
        self.rng, self.base = rng, _aware(next_month(month), 9)
        self.latest = now - datetime.timedelta(hours=2)
        planned = self.base + datetime.timedelta(days=self.FIXED["finalized"])
        self.shift = max(planned - self.latest, datetime.timedelta(0))
        self.cache = {}

    def __call__(self, step: str, org_id=None) -> datetime.datetime:
        return min(_office_hours(self._raw(step, org_id)), self.latest)

    def _raw(self, step: str, org_id) -> datetime.datetime:
        if step in self.FIXED:
            return self.base + datetime.timedelta(days=self.FIXED[step]) - self.shift
        if (step, org_id) not in self.cache:
            _step, after, lo, hi = next(s for s in self.STEPS if s[0] == step)
            start = self.base - self.shift if after is None else self._raw(after, org_id)
            self.cache[(step, org_id)] = start + datetime.timedelta(days=self.rng.uniform(lo, hi))
        return self.cache[(step, org_id)]


class CurrentTimes:
    """The open month: steps spread between the first of the month and a little before now, in order."""

    ORDER = ["submitted", "scored_self", "self_assessed", "scored_assessor", "assessed"]

    def __init__(self, rng, month: datetime.date, now: datetime.datetime):
        self.rng, self.start, self.end = rng, _aware(month, 8), now - datetime.timedelta(minutes=20)
        self.cache = {}

    def __call__(self, step: str, org_id=None) -> datetime.datetime:
        if (step, org_id) not in self.cache:
            span = max((self.end - self.start).total_seconds(), 60 * len(self.ORDER))
            n = len(self.ORDER)
            i = self.ORDER.index(step)
            fraction = (i + self.rng.uniform(0.1, 0.9)) / n
            when = self.start + datetime.timedelta(seconds=span * fraction)
            self.cache[(step, org_id)] = min(_office_hours(when), self.end)
        return self.cache[(step, org_id)]


def _current_plan(rng, orgs: list[Organization]) -> dict[int, str]:
    """The open month's states: the demo secretary's branch mid-way through its self-assessment (已报送), the
    rest shuffled into 已考评, 已自评, 未开始 and 已报送."""
    others = [o for o in orgs if o.code != SECRETARY_BRANCH]
    rng.shuffle(others)
    plan = {o.pk: State.SUBMITTED.value for o in orgs}
    i = 0
    for state, count in CURRENT.items():
        for org in others[i:i + count]:
            plan[org.pk] = state.value
        i += count
    return plan


def ensure_demo_assessments(stdout=None, seed: int = 2026, today: datetime.date | None = None) -> dict | None:
    """Build the demo committee's evaluation months (see the module's docstring); None when there is no demo
    committee or it already has months."""
    root = Organization.objects.filter(code=DEMO_OWNER).first()
    if root is None or Period.objects.filter(owner=root).exists():
        return None
    today = today or timezone.localdate()
    current = today.replace(day=1)
    months = [current]
    for _i in range(PAST_MONTHS):
        months.insert(0, (months[0] - datetime.timedelta(days=1)).replace(day=1))
    with transaction.atomic():
        b = Builder(root, today, seed)
        if not b.orgs or b.staff is None:
            return None
        sets = {year: _year_set(root, year) for year in sorted({m.year for m in months})}
        # The service loop's rule on ZY-33 is set while the current set is not yet frozen by the months below.
        from dangjian.service.demo_dashboards import set_demo_rule

        set_demo_rule(root)
        past, times_of = [], {}
        for index, month in zip(range(PAST_MONTHS, 0, -1), months[:-1], strict=True):
            times = PastTimes(b.rng, month, b.now)
            period = b.month(month, sets[month.year], index, {o.pk: State.PUBLISHED.value for o in b.orgs}, times)
            times_of[period.pk] = times
            past.append(period)
        b.objections(past, times_of)
        plan = _current_plan(b.rng, b.orgs)
        b.month(current, sets[current.year], 0, plan, CurrentTimes(b.rng, current, b.now))
        b.flush()
        for period in past:
            close.finalize_period(b.staff, period, at=times_of[period.pk]("finalized"))
    counts = defaultdict(int)
    for state in plan.values():
        counts[state] += 1
    stats = {"finalized": len(past), "evaluations": b.stats["evaluations"], "items": b.stats["items"],
             "objections": b.stats["objections"], "current": dict(counts)}
    if stdout is not None:
        progress = "，".join(f"{State(s).label} {n}" for s, n in sorted(
            counts.items(), key=lambda kv: [x.value for x in State].index(kv[0])))
        stdout.write(f"组织考评：{months[0]:%Y-%m} 至 {months[-2]:%Y-%m} 共 {len(past)} 个月已兑现"
                     f"（异议 {stats['objections']} 条），{current:%Y-%m} 进行中（{progress}）；"
                     f"考评员 {len(b.assessors)} 名。")
    return stats


# ---- removing (manage.py demo --reset) ----------------------------------------------------------------------------


def _lock_statements():
    module = importlib.import_module("dangjian.assessments.migrations.0003_results_and_lock")
    if connection.vendor == "postgresql":
        # The trigger functions stay: the result table's partitions use them too (dangjian.core.partitions).
        return [sql for sql in module.POSTGRES_REVERSE if not sql.startswith("DROP FUNCTION")], module.POSTGRES
    return module.SQLITE_REVERSE, module.SQLITE


def remove_demo_assessments(root: Organization) -> int:
    """Delete the evaluation months of the demo company (``root``'s subtree), finalized ones included. A
    finalized month refuses deletes in the database itself (migration 0003), so inside the caller's transaction the
    lock triggers are dropped, the months deleted and the triggers created again: other connections never see the
    database without them (PostgreSQL: transactional DDL holding the tables' locks; SQLite: one writer)."""
    if not connection.in_atomic_block:
        raise RuntimeError("remove_demo_assessments() must run inside transaction.atomic()")
    periods = Period.objects.filter(owner__path__startswith=root.path)
    if not periods.exists():
        return 0
    drop, create = _lock_statements()
    with connection.cursor() as cur:
        for sql in drop:
            cur.execute(sql)
    from dangjian.orgs import bulk

    n = sum(bulk.purge(periods).values())
    with connection.cursor() as cur:
        for sql in create:
            cur.execute(sql)
    return n
