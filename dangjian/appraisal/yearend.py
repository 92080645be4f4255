"""Year end (民主评议党员): a branch's annual figures, suggested grades, the vote results and the final grades.

- ``compute_year(user, org, year)`` creates or refreshes the branch's ``YearReview`` and one ``YearAppraisal`` per
  member on its rolls with published months that year: months, annual total (the sum of the monthly totals; a
  veto in a month under a standard whose ``veto_effect`` is "year_zero" sets the year to 0), average (annual
  total ÷ months, so a zeroed year averages 0 too), veto and unqualified months, rank in the branch (ties share a
  rank). One aggregate query and bulk writes, whatever the number of members.
- ``suggest_grades(review)`` applies the review's rule (``parse_rule``): 优秀 for at most ``excellent_share`` % of
  the branch, from the top of the annual totals, among members with no veto, no unqualified month (unless the
  rule lets such a month keep 优秀) and an average ≥ ``excellent_min_avg``; a tie that does not fit in the
  places left takes none of them. Then the average's thresholds and the caps of a veto and of an unqualified
  month. The suggestion is a reference: the branch records its votes and its own grade.
- ``record_review`` (the year page: every row in one POST) and ``record_votes`` (one member, the API): vote counts
  ≥ 0 whose sum stays within the number of voters; a final grade other than the suggestion needs a reason
  (不能简单以票取人); 优秀 within the share cap and never for a member vetoed under a "bar_top" standard;
  candidates (优秀共产党员) only among 优秀. All rows are checked before anything is saved (``RowErrors``).
- ``lock_review`` confirms the review: afterwards nothing changes.
- ``absence_warnings`` lists members with six consecutive months without attending organization life or without
  paying dues (DOMAIN.md: treated as having left the Party, 自行脱党 — the platform warns early).
"""

import datetime
import itertools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.appraisal.models import (
    Attendance,
    AttendanceStatus,
    DuesPayment,
    Grade,
    MemberResult,
    YearAppraisal,
    YearReview,
    default_year_rule,
)
from dangjian.core.access import require
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Member, Organization
from dangjian.standards.models import VetoEffect

ZERO = Decimal("0")
TENTH = Decimal("0.1")
GRADES_BEST_FIRST = (Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED)
_ORDER = {g.value: i for i, g in enumerate(GRADES_BEST_FIRST)}
VOTE_FIELDS = ("votes_excellent", "votes_qualified", "votes_basic", "votes_unqualified")
WARN_RUN = 6  # consecutive months
MAX_PEOPLE = 100_000  # votes and voters: far above any branch, well inside the columns

# The rule's fields: (name, label, kind). Labels are Chinese source text for forms and messages.
RULE_FIELDS = (
    ("excellent_share", gettext_noop("优秀比例上限（%）"), "number"),
    ("excellent_min_avg", gettext_noop("评为优秀的最低月均分"), "number"),
    ("basic_below_avg", gettext_noop("月均分低于此分建议为基本合格"), "number"),
    ("unqualified_below_avg", gettext_noop("月均分低于此分建议为不合格"), "number"),
    ("veto_max_grade", gettext_noop("有一票否决月份时最高等次"), "grade"),
    ("unqualified_month_max_grade", gettext_noop("有不合格月份时最高等次"), "grade"),
)
# A veto never leaves 优秀 open (a vetoed member is not suggested 优秀), so its cap starts at 合格; an unqualified
# month may be let through (优秀 = no cap).
RULE_GRADES = {
    "veto_max_grade": (Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED),
    "unqualified_month_max_grade": GRADES_BEST_FIRST,
}


def worse(a: str, b: str) -> str:
    """The lower of two grades."""
    return a if _ORDER[a] >= _ORDER[b] else b


def grade_label(value: str) -> str:
    return str(Grade(value).label) if value in Grade.values else ""


def _u(user):
    return user if getattr(user, "is_authenticated", False) else None


# ---- the rule ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    excellent_share: Decimal
    excellent_min_avg: Decimal
    basic_below_avg: Decimal
    unqualified_below_avg: Decimal
    veto_max_grade: str
    unqualified_month_max_grade: str

    def as_json(self) -> dict:
        return {name: str(getattr(self, name)) for name, _label, _kind in RULE_FIELDS}


def parse_rule(data: dict) -> Rule:
    """Check a rule (from the review's JSON or the rule form); a Chinese DomainError names the wrong field."""
    data = {**default_year_rule(), **{k: v for k, v in (data or {}).items() if v is not None}}
    values = {}
    for name, label, kind in RULE_FIELDS:
        raw = data.get(name)
        if kind == "grade":
            raw = str(raw or "").strip()
            allowed = RULE_GRADES[name]
            if raw not in [g.value for g in allowed]:
                raise DomainError(_("“{label}”应为以下之一：{choices}。").format(
                    label=_(label), choices="、".join(str(g.label) for g in allowed)), name)
            values[name] = raw
            continue
        try:
            number = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError) as exc:
            raise DomainError(_("“{label}”应为数字，例如 90 或 33.3。").format(label=_(label)), name) from exc
        if not number.is_finite() or number != number.quantize(TENTH) or number < 0:
            raise DomainError(_("“{label}”应为不小于 0、最多一位小数的数字。").format(label=_(label)), name)
        if number > (100 if name == "excellent_share" else 999):
            raise DomainError(_("“{label}”不能超过 {most}。").format(
                label=_(label), most=100 if name == "excellent_share" else 999), name)
        values[name] = number.quantize(TENTH)
    if not values["unqualified_below_avg"] <= values["basic_below_avg"] <= values["excellent_min_avg"]:
        raise DomainError(_("分数线应满足：不合格线 ≤ 基本合格线 ≤ 优秀最低月均分。"), "basic_below_avg")
    return Rule(**values)


def excellent_cap(n: int, share: Decimal) -> int:
    """How many 优秀 a branch of ``n`` may have: n × share %, rounded down. The product is first rounded to one
    decimal, so the default 33.3 % gives one third (3 members → 1, 30 → 10), as the Party rule means."""
    raw = (Decimal(n) * Decimal(share) / 100).quantize(TENTH, rounding=ROUND_HALF_UP)
    return max(0, int(raw))


# ---- computing the year -----------------------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


def _year_results(org: Organization, year: int):
    """The published months of the year of the members on the branch's rolls (wherever each month was
    published, so a member transferred in during the year brings the earlier months)."""
    start, end = year_bounds(year)
    return MemberResult.objects.filter(member__org=org, member__active=True, month__gte=start, month__lt=end)


def year_figures(org: Organization, year: int) -> list[dict]:
    """One aggregate query: per member, months, sum of totals, veto and unqualified months, and the vetoes under a
    "year_zero" or "bar_top" standard."""
    vetoed = Q(vetoed=True)
    return list(
        _year_results(org, year).order_by().values("member_id").annotate(
            name=Max("member__name"),
            months=Count("id"),
            total=Sum("total"),
            veto_months=Count("id", filter=vetoed),
            unqualified_months=Count("id", filter=Q(qualified=False)),
            zero_vetoes=Count("id", filter=vetoed & Q(period__standard_set__veto_effect=VetoEffect.YEAR_ZERO)),
            bar_vetoes=Count("id", filter=vetoed & Q(period__standard_set__veto_effect=VetoEffect.BAR_TOP)),
        )
    )


def barred_from_excellent(review: YearReview) -> set[int]:
    """Members vetoed this year under a standard whose veto bars the top grade (veto_effect "bar_top")."""
    return set(
        _year_results(review.org, review.year)
        .filter(vetoed=True, period__standard_set__veto_effect=VetoEffect.BAR_TOP)
        .values_list("member_id", flat=True).distinct()
    )


def _check_branch_year(org: Organization, year: int) -> None:
    if org.level != Level.BRANCH:
        raise DomainError(_("民主评议党员以党支部为单位进行，请选择一个党支部。"), "org")
    if not 2000 <= year <= timezone.localdate().year:
        raise DomainError(_("年度应在 2000 年到今年之间。"), "year")


def _locked_review(review: YearReview) -> YearReview:
    review = YearReview.objects.select_for_update().select_related("org").get(pk=review.pk)
    if review.locked_at is not None:
        raise DomainError(_("{org}{year}年度民主评议已确认，不能再修改。").format(org=review.org.name,
                                                                         year=review.year))
    return review


@transaction.atomic
def compute_year(user, org: Organization, year: int) -> YearReview:
    """Create or refresh the branch's review of ``year`` from the published months; then suggest grades. Votes,
    final grades and reasons already recorded are kept; members no longer on the rolls are removed."""
    require(user, "yearend.manage", org.path)
    _check_branch_year(org, year)
    review = YearReview.objects.filter(org=org, year=year).first()
    if review is None:
        rule = (YearReview.objects.filter(org=org, year__lt=year).order_by("-year").values_list("rule", flat=True)
                .first()) or default_year_rule()
        review = YearReview.objects.create(org=org, year=year, rule=rule, created_by=_u(user))
    review = _locked_review(review)
    figures = year_figures(org, year)
    if not figures:
        raise DomainError(_("{org}{year}年还没有已公示的党员月度评价结果，无法计算年度评议。").format(
            org=org.name, year=year))
    existing = {a.member_id: a for a in YearAppraisal.objects.select_for_update().filter(review=review)}
    for f in figures:
        total = (f["total"] or ZERO).quantize(TENTH)
        if f["zero_vetoes"]:
            total = ZERO
        f["annual_total"] = total
        f["average"] = (total / f["months"]).quantize(TENTH, rounding=ROUND_HALF_UP)
    figures.sort(key=lambda f: (-f["annual_total"], f["name"], f["member_id"]))
    rank = 0
    for i, f in enumerate(figures):
        if i == 0 or f["annual_total"] != figures[i - 1]["annual_total"]:
            rank = i + 1
        f["rank"] = rank
    fields = ["member_name", "months", "annual_total", "average", "veto_months", "unqualified_months", "rank"]
    new, changed = [], []
    for f in figures:
        a = existing.pop(f["member_id"], None) or YearAppraisal(review=review, member_id=f["member_id"])
        values = {"member_name": f["name"], "months": f["months"], "annual_total": f["annual_total"],
                  "average": f["average"], "veto_months": f["veto_months"],
                  "unqualified_months": f["unqualified_months"], "rank": f["rank"]}
        for k, v in values.items():
            setattr(a, k, v)
        a.updated_by = _u(user)
        (changed if a.pk else new).append(a)
    removed = sorted(a.member_name for a in existing.values())
    if existing:
        YearAppraisal.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()
    YearAppraisal.objects.bulk_create(new, batch_size=500)
    YearAppraisal.objects.bulk_update(changed, [*fields, "updated_by"], batch_size=500)
    suggest_grades(review)
    log_action(user, "yearend.computed", review, after={"year": year, "members": len(figures),
                                                        "added": len(new), "removed": removed})
    return review


def suggest_grades(review: YearReview, rule: Rule | None = None) -> int:
    """Set every appraisal's suggested grade under the review's rule (callers hold the review's lock); returns
    how many suggestions changed."""
    rule = rule or parse_rule(review.rule)
    appraisals = list(YearAppraisal.objects.filter(review=review).order_by("-annual_total", "member_name", "id"))
    cap = excellent_cap(len(appraisals), rule.excellent_share)
    open_with_unqualified = rule.unqualified_month_max_grade == Grade.EXCELLENT
    eligible = [a for a in appraisals
                if a.veto_months == 0 and a.average >= rule.excellent_min_avg
                and (a.unqualified_months == 0 or open_with_unqualified)]
    chosen: set[int] = set()
    for _total, group in itertools.groupby(eligible, key=lambda a: a.annual_total):
        group = list(group)
        if len(chosen) + len(group) > cap:
            break  # a tie that does not fit takes none of the places: never more than the cap, never by name
        chosen.update(a.pk for a in group)
    changed = []
    for a in appraisals:
        if a.average < rule.unqualified_below_avg:
            grade = Grade.UNQUALIFIED.value
        elif a.average < rule.basic_below_avg:
            grade = Grade.BASIC.value
        else:
            grade = Grade.EXCELLENT.value if a.pk in chosen else Grade.QUALIFIED.value
        if a.veto_months:
            grade = worse(grade, rule.veto_max_grade)
        if a.unqualified_months:
            grade = worse(grade, rule.unqualified_month_max_grade)
        if a.suggested_grade != grade:
            a.suggested_grade = grade
            changed.append(a)
    YearAppraisal.objects.bulk_update(changed, ["suggested_grade"], batch_size=500)
    return len(changed)


@transaction.atomic
def save_rule(user, review: YearReview, data: dict) -> YearReview:
    """Change the review's rule (checked by ``parse_rule``) and suggest again."""
    require(user, "yearend.manage", review.org.path)
    review = _locked_review(review)
    rule = parse_rule(data)
    before = review.rule
    review.rule = rule.as_json()
    review.save(update_fields=["rule"])
    n = suggest_grades(review, rule)
    log_action(user, "yearend.rule_saved", review, before=before, after=review.rule, suggestions_changed=n)
    return review


# ---- votes and final grades -------------------------------------------------------------------------------------


class RowErrors(DomainError):
    """Some rows of a review's form are wrong; nothing was saved. ``rows`` maps appraisal ids to the sentence for
    that row, ``general`` holds what concerns the whole review."""

    def __init__(self, rows: dict[int, str], general: list[str] | None = None, field: str | None = None):
        self.rows, self.general = rows, general or []
        message = self.general[0] if self.general else next(iter(rows.values()), "")
        super().__init__(message, field)


KEEP = object()


def _count(value, label: str) -> int:
    if value is None or value == "":
        return 0
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise ValueError(_("{label}应为不小于 0 的整数。").format(label=label)) from exc
    if n < 0:
        raise ValueError(_("{label}应为不小于 0 的整数。").format(label=label))
    if n > MAX_PEOPLE:
        raise ValueError(_("{label}不能超过 {most}。").format(label=label, most=MAX_PEOPLE))
    return n


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "on", "true", "yes")
    return bool(value)


def _voters(value):
    if value is None or value == "":
        return None
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        n = -1
    if n < 0:
        raise DomainError(_("参加测评人数应为不小于 0 的整数。"), "voters")
    if n > MAX_PEOPLE:
        raise DomainError(_("参加测评人数不能超过 {most}。").format(most=MAX_PEOPLE), "voters")
    return n


def _snapshot(a: YearAppraisal) -> dict:
    return {f: getattr(a, f) for f in (*VOTE_FIELDS, "final_grade", "reason", "candidate")}


@transaction.atomic
def record_review(user, review: YearReview, rows: dict[int, dict], *, meeting_date=KEEP, voters=KEEP) -> int:
    """Record the vote results and final grades of several members at once (and the review's meeting date and
    number of voters). Every row is checked first; any error raises ``RowErrors`` and nothing is saved. Returns
    the number of members whose record changed."""
    require(user, "yearend.manage", review.org.path)
    review = _locked_review(review)
    header_before = {"meeting_date": review.meeting_date, "voters": review.voters}
    if voters is not KEEP:
        review.voters = _voters(voters)
    if meeting_date is not KEEP:
        if meeting_date and not (datetime.date(review.year, 1, 1) <= meeting_date
                                 <= datetime.date(review.year + 1, 12, 31)):
            raise DomainError(_("评议日期应在 {year} 年 1 月 1 日到次年年底之间。").format(year=review.year),
                              "meeting_date")
        review.meeting_date = meeting_date or None
    appraisals = {a.pk: a for a in YearAppraisal.objects.select_for_update().filter(review=review)}
    unknown = [pk for pk in rows if pk not in appraisals]
    if unknown:
        raise DomainError(_("提交的党员不在本次评议中，请刷新页面后重试。"))
    barred = barred_from_excellent(review) if any(
        str(r.get("final_grade") or "") == Grade.EXCELLENT for r in rows.values()) else set()
    errors: dict[int, str] = {}
    before = {pk: _snapshot(appraisals[pk]) for pk in rows}
    labels = dict(zip(VOTE_FIELDS, (_("优秀票"), _("合格票"), _("基本合格票"), _("不合格票")), strict=True))
    for pk, data in rows.items():
        a = appraisals[pk]
        problems = []
        votes = {}
        for f in VOTE_FIELDS:
            try:
                votes[f] = _count(data.get(f), labels[f])
            except ValueError as exc:
                problems.append(str(exc))
        if len(votes) == len(VOTE_FIELDS) and review.voters is not None and sum(votes.values()) > review.voters:
            problems.append(_("四项票数合计 {n} 超过参加测评人数 {voters}。").format(n=sum(votes.values()),
                                                                       voters=review.voters))
        final = str(data.get("final_grade") or "").strip()
        reason = str(data.get("reason") or "").strip()
        candidate = _flag(data.get("candidate"))
        if final and final not in Grade.values:
            problems.append(_("请选择有效的评定等次。"))
        elif final and final != a.suggested_grade and not reason:
            problems.append(_("评定等次与建议等次“{suggested}”不同，请填写理由（不能简单以票取人）。").format(
                suggested=grade_label(a.suggested_grade) or _("无")))
        if len(reason) > 500:
            problems.append(_("理由不能超过 500 字。"))
        if final == Grade.EXCELLENT and a.member_id in barred:
            problems.append(_("该党员本年度有一票否决的月份，按评价标准不得评为优秀。"))
        if candidate and final != Grade.EXCELLENT:
            problems.append(_("只有评定为优秀的党员才能列为优秀共产党员候选人。"))
        if problems:
            errors[pk] = "；".join(problems)
            continue
        for f, v in votes.items():
            setattr(a, f, v)
        a.final_grade, a.reason, a.candidate = final, reason, candidate
    general = []
    if not errors:
        general = _cap_problems(review, appraisals.values())
        if general:
            for pk in rows:
                if appraisals[pk].final_grade == Grade.EXCELLENT and before[pk]["final_grade"] != Grade.EXCELLENT:
                    errors[pk] = general[0]
    if errors or general:
        raise RowErrors(errors, general)
    changed = [appraisals[pk] for pk in rows if _snapshot(appraisals[pk]) != before[pk]]
    for a in changed:
        a.updated_by = _u(user)
    YearAppraisal.objects.bulk_update(changed, [*VOTE_FIELDS, "final_grade", "reason", "candidate", "updated_by"],
                                      batch_size=500)
    header_after = {"meeting_date": review.meeting_date, "voters": review.voters}
    if header_after != header_before:
        review.save(update_fields=["meeting_date", "voters"])
    if changed or header_after != header_before:
        log_action(user, "yearend.votes_recorded", review,
                   before={"review": header_before, **{a.member_name: before[a.pk] for a in changed}},
                   after={"review": header_after, **{a.member_name: _snapshot(a) for a in changed}})
    return len(changed)


def _cap_problems(review: YearReview, appraisals) -> list[str]:
    appraisals = list(appraisals)
    rule = parse_rule(review.rule)
    cap = excellent_cap(len(appraisals), rule.excellent_share)
    n = sum(1 for a in appraisals if a.final_grade == Grade.EXCELLENT)
    if n > cap:
        return [_("评定为优秀的党员不得超过参评人数的 {share}%：本支部 {total} 人最多 {cap} 名，现为 {n} 名。").format(
            share=rule.excellent_share, total=len(appraisals), cap=cap, n=n)]
    return []


def record_votes(user, appraisal: YearAppraisal, *, votes_excellent=0, votes_qualified=0, votes_basic=0,
                 votes_unqualified=0, final_grade="", reason="", candidate=False) -> YearAppraisal:
    """One member's vote results and final grade (the API); the same checks as the year page."""
    row = {"votes_excellent": votes_excellent, "votes_qualified": votes_qualified, "votes_basic": votes_basic,
           "votes_unqualified": votes_unqualified, "final_grade": final_grade, "reason": reason,
           "candidate": candidate}
    try:
        record_review(user, appraisal.review, {appraisal.pk: row})
    except RowErrors as exc:
        raise DomainError(exc.rows.get(appraisal.pk) or exc.message) from exc
    appraisal.refresh_from_db()
    return appraisal


@transaction.atomic
def lock_review(user, review: YearReview) -> YearReview:
    """Confirm the review: every member has a final grade (with a reason where it differs from the suggestion),
    优秀 within the cap. Afterwards nothing of it changes."""
    require(user, "yearend.manage", review.org.path)
    review = _locked_review(review)
    appraisals = list(YearAppraisal.objects.filter(review=review))
    if not appraisals:
        raise DomainError(_("本次评议还没有党员，请先计算年度结果。"))
    missing = [a.member_name for a in appraisals if not a.final_grade]
    if missing:
        raise DomainError(_("还有 {n} 名党员没有评定等次：{names}。").format(n=len(missing),
                                                                  names="、".join(missing[:10])))
    unexplained = [a.member_name for a in appraisals if a.final_grade != a.suggested_grade and not a.reason.strip()]
    if unexplained:
        raise DomainError(_("以下党员的评定等次与建议等次不同，请先填写理由：{names}。").format(
            names="、".join(unexplained[:10])))
    problems = _cap_problems(review, appraisals)
    if problems:
        raise DomainError(problems[0])
    review.locked_at = timezone.now()
    review.save(update_fields=["locked_at"])
    counts = {g.value: sum(1 for a in appraisals if a.final_grade == g) for g in GRADES_BEST_FIRST}
    log_action(user, "yearend.locked", review, after={"members": len(appraisals), "grades": counts,
                                                      "candidates": sum(1 for a in appraisals if a.candidate)})
    return review


# ---- six months without organization life or dues ---------------------------------------------------------------


def month_start(d: datetime.date) -> datetime.date:
    return d.replace(day=1)


def _add_months(d: datetime.date, n: int) -> datetime.date:
    k = d.year * 12 + d.month - 1 + n
    return datetime.date(k // 12, k % 12 + 1, 1)


@dataclass
class AbsenceWarning:
    member_id: int
    name: str
    kind: str  # "meeting" or "dues"
    start: datetime.date
    end: datetime.date
    months: int

    @property
    def label(self) -> str:
        if self.kind == "meeting":
            return _("连续 {n} 个月未参加组织生活").format(n=self.months)
        return _("连续 {n} 个月未交纳党费").format(n=self.months)


def absence_warnings(org: Organization, year: int, today: datetime.date | None = None) -> dict:
    """Members on the branch's rolls with ``WARN_RUN`` or more consecutive months without attending organization
    life (an attendance marked present) or without a dues payment, in a run that reaches into ``year`` (the five
    months before the year count, so a run across the new year is seen). Months before a member joined and
    months after this one are not counted. Where the branch has recorded no attendance (or no dues) at all in
    that time, the kind is left out and named in ``unrecorded`` instead of flagging everybody. Three queries."""
    today = today or timezone.localdate()
    first = datetime.date(year - 1, 8, 1)
    last = min(datetime.date(year, 12, 1), month_start(today))
    out = {"rows": [], "unrecorded": [], "first": first, "last": last}
    if last < datetime.date(year, 1, 1):
        return out
    end = _add_months(last, 1)
    members = list(Member.objects.filter(org=org, active=True).order_by("name_pinyin", "id")
                   .values_list("id", "name", "joined_on"))
    attended = set(
        Attendance.objects.filter(member__org=org, member__active=True, status=AttendanceStatus.PRESENT,
                                  meeting__date__gte=first, meeting__date__lt=end)
        .annotate(m=TruncMonth("meeting__date")).values_list("member_id", "m").distinct())
    paid = set(DuesPayment.objects.filter(member__org=org, member__active=True, month__gte=first, month__lt=end)
               .values_list("member_id", "month"))
    kinds = []
    for kind, have, name in (("meeting", attended, gettext_noop("组织生活出勤")),
                             ("dues", paid, gettext_noop("党费交纳"))):
        if have:
            kinds.append((kind, {(m, d if isinstance(d, datetime.date) and not isinstance(d, datetime.datetime)
                                  else d.date()) for m, d in have}))
        else:
            out["unrecorded"].append(_(name))
    months = []
    d = first
    while d <= last:
        months.append(d)
        d = _add_months(d, 1)
    year_start = datetime.date(year, 1, 1)
    for member_id, name, joined_on in members:
        since = month_start(joined_on) if joined_on else first
        for kind, have in kinds:
            best = None
            run_start, run = None, 0
            for m in months:
                missed = m >= since and (member_id, m) not in have
                if missed:
                    run_start = m if run == 0 else run_start
                    run += 1
                    if run >= WARN_RUN and m >= year_start and (best is None or run >= best[2]):
                        best = (run_start, m, run)
                else:
                    run = 0
            if best:
                out["rows"].append(AbsenceWarning(member_id, name, kind, best[0], best[1], best[2]))
    return out


# ---- reading: the committee's overview --------------------------------------------------------------------------


def review_summaries(org_ids, year: int) -> dict[int, YearReview]:
    """The reviews of ``org_ids`` (a list or a subquery) for ``year``, each annotated with its number of members,
    the count of each final grade, those not yet graded and the candidates: one query."""
    grade = "appraisals__final_grade"
    qs = YearReview.objects.filter(org_id__in=org_ids, year=year).annotate(
        n=Count("appraisals"),
        n_excellent=Count("appraisals", filter=Q(**{grade: Grade.EXCELLENT})),
        n_qualified=Count("appraisals", filter=Q(**{grade: Grade.QUALIFIED})),
        n_basic=Count("appraisals", filter=Q(**{grade: Grade.BASIC})),
        n_unqualified=Count("appraisals", filter=Q(**{grade: Grade.UNQUALIFIED})),
        n_pending=Count("appraisals", filter=Q(**{grade: ""})),
        n_candidates=Count("appraisals", filter=Q(appraisals__candidate=True)),
    )
    return {r.org_id: r for r in qs}


def review_status(review: YearReview | None) -> tuple[str, str]:
    """(code, label) of a branch's review: none / open / locked."""
    if review is None:
        return "none", _("未开始")
    if review.locked_at is None:
        return "open", _("评议中")
    return "locked", _("已确认")
