"""Operations of the monthly member evaluation: 党员自评、支部评定.

Each function checks permission and state (DomainError with a Chinese sentence, or AccessDenied), runs in one
transaction with the rows it changes locked, saves, appends history and audits. Views, the API, commands and the
demo call these. Publishing a branch's month (the close) lives in ``close.py``.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Abs
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.appraisal.models import (
    SELF,
    TRANSITIONS,
    AppraisalPeriod,
    AState,
    MemberEvaluation,
    MemberEvidence,
    MemberLine,
    MemberTransition,
    PeriodStatus,
    allowed_transition,
)
from dangjian.appraisal.scoring import line_points, month_totals
from dangjian.core import partitions
from dangjian.core.access import AccessDenied, require, roles_at, scope
from dangjian.core.audit import log_action
from dangjian.core.dates import month_start  # noqa: F401 (re-exported)
from dangjian.core.errors import ConflictError, DomainError, actor  # noqa: F401 (re-exported)
from dangjian.orgs.models import Member, MemberStatus, Organization
from dangjian.standards.models import MemberPart, MemberStandardSet, SetStatus

MAX_COUNT = 99
# Activity sources that count what was done (the others count what was missed).
DONE_SOURCES = frozenset({"meeting_attended", "lecture_given", "study", "service_hours"})


_u = actor




def visible_periods(user):
    return scope(user, "appraisal.view", AppraisalPeriod.objects.select_related("owner", "standard_set"))


def visible_evaluations(user, action: str = "appraisal.view"):
    return scope(user, action, MemberEvaluation.objects.all())


# ---- opening a month --------------------------------------------------------------------------------------------


def _member_set_for(owner: Organization, year: int) -> MemberStandardSet | None:
    from dangjian.standards.models import ancestor_or_self_paths

    return (MemberStandardSet.objects.filter(status=SetStatus.PUBLISHED, year=year,
                                             owner__path__in=ancestor_or_self_paths(owner.path))
            .order_by("-owner__depth").first())


@transaction.atomic
def open_period(user, owner: Organization, month, *, self_due: datetime.date, determine_due: datetime.date,
                standard_set: MemberStandardSet | None = None) -> AppraisalPeriod:
    """Open a month for every member on the rolls (正式 and 预备) of the organizations in ``owner``'s subtree:
    one evaluation each, with one line per item of the member standard set; counts of items fed by activity
    records are pre-filled. Set-based: two INSERT…SELECT statements and a bulk update of the pre-filled lines."""
    require(user, "appraisal.manage", owner.path)
    month = month_start(month)
    if owner.archived:
        raise DomainError(_("该组织已撤销。"), "owner")
    if not (month <= self_due <= determine_due):
        raise DomainError(_("截止日期应依次为：自评 ≤ 评定，且不早于评价月份。"), "self_due")
    if AppraisalPeriod.objects.filter(owner=owner, month=month).exists():
        raise DomainError(_("{owner}的{month}党员评价已开启，不能重复开启。").format(owner=owner.name,
                                                                                month=f"{month:%Y-%m}"), "month")
    covering = AppraisalPeriod.objects.filter(month=month).filter(
        Q(owner__path__startswith=owner.path) | Q(owner__path__in=owner.ancestor_paths()))
    if covering.exists():
        other = covering.select_related("owner").first()
        raise DomainError(_("{other}已开启{month}的党员评价，覆盖了该组织的党员，不能重复开启。").format(
            other=other.owner.name, month=f"{month:%Y-%m}"), "owner")
    if standard_set is None:
        standard_set = _member_set_for(owner, month.year)
        if standard_set is None:
            raise DomainError(_("没有可用的{year}年党员评价标准：请先发布本年度的党员评价标准。").format(year=month.year),
                              "standard_set")
    elif standard_set.status != SetStatus.PUBLISHED or standard_set.year != month.year:
        raise DomainError(_("只能使用已发布的本年度党员评价标准。"), "standard_set")
    if not standard_set.items.exists():
        raise DomainError(_("该党员评价标准还没有细则。"), "standard_set")
    period = AppraisalPeriod.objects.create(owner=owner, month=month, standard_set=standard_set, self_due=self_due,
                                            determine_due=determine_due, opened_by=_u(user))
    partitions.after_period_opened(period)  # its result partition, once committed (PostgreSQL)
    count = _insert_evaluations(period)
    if count == 0:
        raise DomainError(_("该范围内没有在册党员，无法开启党员评价。"), "owner")
    _insert_lines(period)
    prefill(period)
    log_action(user, "appraisal.period_opened", period, org_path=owner.path, month=f"{month:%Y-%m}",
               members=count, standard_set=str(standard_set))
    return period


def _insert_evaluations(period: AppraisalPeriod) -> int:
    e, m, o = (MemberEvaluation._meta.db_table, Member._meta.db_table, Organization._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {e} (period_id, member_id, org_id, org_path, org_name, member_name, post, state, exempt, "
            f"exempt_reason, self_note, branch_note, vetoed, version, updated_at) "
            f"SELECT %s, m.id, o.id, o.path, o.name, m.name, m.post, %s, %s, '', '', '', %s, 0, %s "
            f"FROM {m} m JOIN {o} o ON o.id = m.org_id "
            f"WHERE m.active = %s AND m.status IN (%s, %s) AND o.archived = %s AND o.path LIKE %s",
            [period.pk, AState.NOT_STARTED, False, False, now, True, MemberStatus.FULL, MemberStatus.PROBATIONARY,
             False, period.owner.path + "%"])
        return cur.rowcount


def _insert_lines(period: AppraisalPeriod) -> None:
    """One line per member and item. The member's report starts at what needs no record: every base item met
    (its full points), nothing claimed or reported; items fed by records start at a count of 0 until ``prefill``
    sets the counts that are not 0."""
    from dangjian.standards.models import MemberItem

    line, e, i = MemberLine._meta.db_table, MemberEvaluation._meta.db_table, MemberItem._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {line} (evaluation_id, item_id, part, dimension, prefill_count, self_count, self_points, "
            f"claim, reason, version, updated_at) "
            f"SELECT e.id, i.id, i.part, i.dimension, CASE WHEN i.source <> '' THEN 0 ELSE NULL END, 0, "
            f"CASE WHEN i.part = %s THEN i.points ELSE 0 END, '', '', 0, %s FROM {e} e CROSS JOIN {i} i "
            f"WHERE e.period_id = %s AND i.standard_set_id = %s",
            [MemberPart.BASE, now, period.pk, period.standard_set_id])


def update_rows(model, fields: list[str], objs, chunk: int = 2000) -> int:
    """UPDATE the named fields of many rows by primary key (Django's bulk_update builds a CASE per field and row,
    which costs far more in Python than the database spends on the update).

    SQLite: one executemany (in-process, each row costs microseconds). PostgreSQL: one ``UPDATE … FROM (VALUES …)``
    per ``chunk`` rows — executemany there is a round trip per row (a demo build spent 15 of its 38 s in it)."""
    objs = list(objs)
    if not objs:
        return 0
    meta = model._meta
    columns = [meta.get_field(f) for f in fields]
    qn = connection.ops.quote_name
    rows = [[c.get_db_prep_save(getattr(o, c.attname), connection) for c in columns] + [o.pk] for o in objs]
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            sql = (f"UPDATE {qn(meta.db_table)} SET " + ", ".join(f"{qn(c.column)} = %s" for c in columns)
                   + f" WHERE {qn(meta.pk.column)} = %s")
            cur.executemany(sql, rows)
            return len(rows)
        # Each value cast to its column's type, so a column of NULLs is not taken for text.
        casts = [f"CAST(%s AS {c.db_type(connection)})" for c in columns] + [
            f"CAST(%s AS {meta.pk.db_type(connection).replace('serial', 'integer')})"]
        one = "(" + ", ".join(casts) + ")"
        names = [f"c{i}" for i in range(len(columns))] + ["pk"]
        head = (f"UPDATE {qn(meta.db_table)} AS t SET "
                + ", ".join(f"{qn(c.column)} = v.c{i}" for i, c in enumerate(columns)))
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            sql = (f"{head} FROM (VALUES {', '.join([one] * len(part))}) AS v({', '.join(names)}) "
                   f"WHERE t.{qn(meta.pk.column)} = v.pk")
            cur.execute(sql, [value for row in part for value in row])
    return len(rows)


def year_usage(period: AppraisalPeriod, member_ids=None) -> dict[tuple[int, str], Decimal]:
    """What each member already has from each item code in the published months of the year before this one
    (absolute points), for the items' year caps. One aggregate query (per 10,000 members asked for)."""
    qs = MemberLine.objects.filter(
        evaluation__state=AState.PUBLISHED, evaluation__period__month__year=period.month.year,
        evaluation__period__month__lt=period.month, points__isnull=False,
        part__in=[MemberPart.BONUS, MemberPart.DEDUCTION])
    from dangjian.appraisal.prefill import _chunks

    if member_ids is None:
        parts = [qs.filter(evaluation__org_path__startswith=period.owner.path)]
    else:  # by chunks of members: SQLite's limit of bound variables
        parts = [qs.filter(evaluation__member_id__in=ids) for ids in _chunks(member_ids)]
    usage = {}
    for part in parts:
        rows = part.values("evaluation__member_id", "item__code").annotate(used=Sum(Abs("points")))
        usage.update({(r["evaluation__member_id"], r["item__code"]): r["used"] or Decimal("0") for r in rows})
    return usage


def prefill(period: AppraisalPeriod, evaluations=None) -> int:
    """Fill the counts of items fed by activity records (组织生活, 学习, 党费, 服务时长) and the self points and
    self totals they change, for the evaluations not yet self-evaluated: the whole period at opening, or the
    given evaluations (a member refreshing their month before reporting). Lines already at the record's count
    are not touched. A fixed number of queries plus one executemany per table."""
    from dangjian.appraisal.prefill import _chunks, prefill_counts

    qs = MemberLine.objects.filter(evaluation__period=period, evaluation__state=AState.NOT_STARTED,
                                   prefill_count__isnull=False)
    if evaluations is not None:
        evaluations = list(evaluations)
        qs = qs.filter(evaluation__in=evaluations)
        counts = prefill_counts(period.month, member_ids=sorted({e.member_id for e in evaluations}))
    else:
        counts = prefill_counts(period.month, org_path=period.owner.path)
    done_q = Q(part=MemberPart.BASE, item__source__in=DONE_SOURCES)
    member_ids = sorted({m for m, _source in counts})
    # Every base "done" line (none found is a miss), and the other lines of members with records — by chunks of
    # CHUNK members, so an enterprise-size month stays within SQLite's limit of bound variables.
    lines = list(qs.filter(done_q).select_related("item").annotate(member_id=F("evaluation__member_id")))
    for ids in _chunks(member_ids):
        lines += qs.filter(evaluation__member_id__in=ids).exclude(done_q).select_related("item").annotate(
            member_id=F("evaluation__member_id"))
    usage = year_usage(period, member_ids)
    changed = []
    for ln in lines:
        n = counts.get((ln.member_id, ln.item.source), 0)
        if ln.part == MemberPart.BASE and ln.item.source in DONE_SOURCES:
            # A base item's count is its misses: a "done" record (studied, attended) met it; none missed it.
            n = 0 if n > 0 else 1
        if n != ln.prefill_count or n != ln.self_count:
            ln.prefill_count = ln.self_count = n
            ln.self_points = line_points(ln.item, n, usage.get((ln.member_id, ln.item.code), Decimal("0")))
            changed.append(ln)
    update_rows(MemberLine, ["prefill_count", "self_count", "self_points"], changed)
    _refresh_self_totals(period, evaluations, {ln.evaluation_id for ln in changed})
    return len(changed)


def _refresh_self_totals(period: AppraisalPeriod, evaluations=None, changed_ids=()) -> None:
    """Self totals: at opening every evaluation gets the total of an untouched month in one UPDATE; those whose
    lines changed are recomputed from their lines (scoring.month_totals)."""
    ms = period.standard_set
    if evaluations is None:
        from dangjian.standards.models import MemberItem

        untouched = [MemberLine(part=i.part, dimension=i.dimension, self_points=line_points(i, 0), points=None)
                     for i in MemberItem.objects.filter(standard_set=ms)]
        MemberEvaluation.objects.filter(period=period, state=AState.NOT_STARTED).update(
            self_total=month_totals(ms, untouched).self_total)
    ids = set(changed_ids) | ({e.pk for e in evaluations} if evaluations is not None else set())
    if not ids:
        return
    by_eval = defaultdict(list)
    for ln in MemberLine.objects.filter(evaluation_id__in=ids).only(
            "evaluation_id", "part", "dimension", "points", "self_points", "count"):
        by_eval[ln.evaluation_id].append(ln)
    update_rows(MemberEvaluation, ["self_total"], [
        MemberEvaluation(pk=eid, self_total=month_totals(ms, lines).self_total) for eid, lines in by_eval.items()])


# ---- reading ------------------------------------------------------------------------------------------------------


def lines_of(evaluation: MemberEvaluation) -> list[MemberLine]:
    return list(evaluation.lines.select_related("item").order_by("item__order", "item_id"))


def totals_of(evaluation: MemberEvaluation, lines=None):
    lines = lines if lines is not None else list(evaluation.lines.all())
    return month_totals(evaluation.period.standard_set, lines)


def is_own(user, evaluation: MemberEvaluation) -> bool:
    return bool(user and user.is_authenticated and evaluation.member.user_id == user.pk)


def actor_roles(user, evaluation: MemberEvaluation) -> set[str]:
    roles = set(roles_at(user, evaluation.org_path))
    if is_own(user, evaluation):
        roles.add(SELF)
    return roles


def available_transitions(user, evaluation: MemberEvaluation) -> list[tuple[str, str]]:
    """(to_state, label) of the moves the user may make now (publishing is the branch's, see close.py)."""
    if evaluation.period.status != PeriodStatus.OPEN or evaluation.exempt:
        return []
    roles = actor_roles(user, evaluation)
    return [(to, label) for frm, to, who, label in TRANSITIONS
            if frm == evaluation.state and to != AState.PUBLISHED and roles & who]


def can_self_edit(user, evaluation: MemberEvaluation) -> bool:
    return (evaluation.state == AState.NOT_STARTED and evaluation.period.status == PeriodStatus.OPEN
            and not evaluation.exempt and bool(actor_roles(user, evaluation) & {SELF, "secretary", "staff", "admin"}))


def can_determine(user, evaluation: MemberEvaluation) -> bool:
    return (evaluation.state in (AState.NOT_STARTED, AState.SELF_EVALUATED)
            and evaluation.period.status == PeriodStatus.OPEN and not evaluation.exempt
            and bool(roles_at(user, evaluation.org_path) & {"secretary", "staff", "admin"}))


# ---- the member's self-evaluation -------------------------------------------------------------------------------


def _lock(evaluation: MemberEvaluation) -> MemberEvaluation:
    return (MemberEvaluation.objects.select_for_update(of=("self",))
            .select_related("period__standard_set", "member").get(pk=evaluation.pk))


def _check_open(evaluation: MemberEvaluation) -> None:
    if evaluation.period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月党员评价已结束，不能修改。"))
    if evaluation.state == AState.PUBLISHED:
        raise DomainError(_("该月评价结果已公示并锁定，不能修改。"))
    if evaluation.exempt:
        raise DomainError(_("该党员本月免于评价。"))


def parse_count(value, *, part: str) -> int:
    try:
        count = int(str(value).strip() or "0")
    except (TypeError, ValueError) as exc:
        raise DomainError(_("次数应为 0 至 {max} 的整数。").format(max=MAX_COUNT), "count") from exc
    if count < 0 or count > MAX_COUNT:
        raise DomainError(_("次数应为 0 至 {max} 的整数。").format(max=MAX_COUNT), "count")
    if part == MemberPart.VETO and count > 1:
        raise DomainError(_("一票否决项只需填写“是”（1）或“否”（0）。"), "count")
    return count


def _lock_line(line: MemberLine) -> tuple[MemberEvaluation, MemberLine]:
    evaluation = _lock(line.evaluation)
    line = MemberLine.objects.select_for_update(of=("self",)).select_related("item").get(pk=line.pk)
    return evaluation, line


def _check_version(line: MemberLine, expected_version) -> None:
    if expected_version is not None and int(expected_version) != line.version:
        who = line.updated_by.get_full_name() or line.updated_by.get_username() if line.updated_by else _("他人")
        raise ConflictError(_("“{item}”已被{who}于{at}修改（现为 {count} 次），请刷新后再保存；您填写的内容仍保留在页面上。")
                            .format(item=line.item.code, who=who, at=timezone.localtime(line.updated_at)
                                    .strftime("%H:%M:%S"), count=line.count if line.count is not None
                                    else line.self_count))


@transaction.atomic
def save_self_line(user, line: MemberLine, count, *, claim: str = "", expected_version=None) -> MemberLine:
    """The member (or the branch on their behalf) reports an item: base misses, bonus claims, deductions."""
    evaluation, line = _lock_line(line)
    _check_open(evaluation)
    if not can_self_edit(user, evaluation):
        if evaluation.state != AState.NOT_STARTED and actor_roles(user, evaluation):
            raise DomainError(_("自评已提交，不能再修改；如需修改，请先撤回自评。"))
        raise AccessDenied("appraisal.self")
    _check_version(line, expected_version)
    count = parse_count(count, part=line.part)
    claim = (claim or "").strip()
    if len(claim) > 500:
        raise DomainError(_("说明不能超过500字。"), "claim")
    before = {"count": line.self_count, "claim": line.claim}
    usage = year_usage(evaluation.period, [evaluation.member_id]).get((evaluation.member_id, line.item.code),
                                                                        Decimal("0"))
    line.self_count = count
    line.self_points = line_points(line.item, count, usage)
    line.claim = claim
    line.version += 1
    line.updated_by = _u(user)
    line.save(update_fields=["self_count", "self_points", "claim", "version", "updated_by", "updated_at"])
    evaluation.self_total = totals_of(evaluation).self_total
    evaluation.version += 1
    evaluation.save(update_fields=["self_total", "version", "updated_at"])
    log_action(user, "appraisal.self_line", evaluation, org_path=evaluation.org_path, item=line.item.code,
               before=before, after={"count": count, "claim": claim[:200]})
    return line


def _self_problems(evaluation: MemberEvaluation) -> list[str]:
    """What a self-evaluation must have before it is submitted: a remark on every claimed bonus or reported
    deduction, and a file where the item requires one."""
    problems = []
    with_files = set(MemberEvidence.objects.filter(evaluation=evaluation, withdrawn_at__isnull=True,
                                                   line__isnull=False).values_list("line_id", flat=True))
    for ln in evaluation.lines.select_related("item").filter(self_count__gt=0).exclude(part=MemberPart.BASE):
        if not ln.claim.strip():
            problems.append(_("“{item}”请写明事由").format(item=ln.item.text[:20]))
        elif ln.part == MemberPart.BONUS and ln.item.evidence_required and ln.pk not in with_files:
            problems.append(_("“{item}”请上传佐证材料").format(item=ln.item.text[:20]))
    return problems


@transaction.atomic
def move(user, evaluation: MemberEvaluation, to_state: str, *, note: str = "") -> MemberEvaluation:
    """Submit or withdraw a self-evaluation, determine or withdraw a determination (transition table)."""
    evaluation = _lock(evaluation)
    _check_open(evaluation)
    row = allowed_transition(evaluation.state, to_state)
    if row is None or to_state == AState.PUBLISHED:
        raise DomainError(_("当前状态为“{state}”，不能执行该操作。").format(state=AState(evaluation.state).label))
    if not actor_roles(user, evaluation) & row[2]:
        raise AccessDenied("appraisal.move")
    frm = evaluation.state
    note = (note or "").strip()
    if len(note) > 500:
        raise DomainError(_("说明不能超过500字。"), "note")
    fields = ["state", "version", "updated_at"]
    if to_state == AState.SELF_EVALUATED and frm == AState.NOT_STARTED:
        problems = _self_problems(evaluation)
        if problems:
            raise DomainError(_("还不能提交自评：{problems}。").format(problems="；".join(problems)))
        evaluation.self_at = timezone.now()
        fields.append("self_at")
    if to_state == AState.DETERMINED:
        _fill_determination(evaluation)
        evaluation.determined_by = _u(user)
        evaluation.determined_at = timezone.now()
        if note:
            evaluation.branch_note = note
        fields += ["determined_by", "determined_at", "total", "vetoed", "branch_note"]
    if frm == AState.DETERMINED and to_state == AState.SELF_EVALUATED:
        evaluation.total = None
        fields.append("total")
    evaluation.state = to_state
    evaluation.version += 1
    evaluation.save(update_fields=fields)
    MemberTransition.objects.create(evaluation=evaluation, from_state=frm, to_state=to_state, note=note,
                                    by=_u(user))
    log_action(user, "appraisal.moved", evaluation, org_path=evaluation.org_path, before={"state": frm},
               after={"state": to_state, "total": str(evaluation.total) if evaluation.total is not None else None},
               note=note)
    return evaluation


def _fill_determination(evaluation: MemberEvaluation) -> None:
    """Lines the branch did not change take the member's report; then the month's totals."""
    lines = list(evaluation.lines.select_related("item"))
    changed = []
    usage = None
    for ln in lines:
        if ln.count is None:
            if usage is None:
                usage = year_usage(evaluation.period, [evaluation.member_id])
            ln.count = ln.self_count or 0
            ln.points = line_points(ln.item, ln.count, usage.get((evaluation.member_id, ln.item.code),
                                                                  Decimal("0")))
            changed.append(ln)
    if changed:
        update_rows(MemberLine, ["count", "points"], changed)
    totals = month_totals(evaluation.period.standard_set, lines)
    evaluation.total = totals.total
    evaluation.vetoed = totals.vetoed


@transaction.atomic
def determine_line(user, line: MemberLine, count, *, reason: str = "", expected_version=None) -> MemberLine:
    """支部评定, one item: the branch's count with its reason. A count different from the member's report needs a
    reason (the member reads it)."""
    evaluation, line = _lock_line(line)
    _check_open(evaluation)
    require(user, "appraisal.determine", evaluation.org_path)
    if evaluation.state not in (AState.NOT_STARTED, AState.SELF_EVALUATED):
        raise DomainError(_("该党员本月已评定；如需修改，请先撤回评定。"))
    _check_version(line, expected_version)
    count = parse_count(count, part=line.part)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise DomainError(_("理由不能超过500字。"), "reason")
    if count != (line.self_count or 0) and not reason:
        raise DomainError(_("评定与本人填报不同，请写明理由。"), "reason")
    before = {"count": line.count, "reason": line.reason}
    usage = year_usage(evaluation.period, [evaluation.member_id]).get((evaluation.member_id, line.item.code),
                                                                        Decimal("0"))
    line.count = count
    line.points = line_points(line.item, count, usage)
    line.reason = reason
    line.version += 1
    line.updated_by = _u(user)
    line.save(update_fields=["count", "points", "reason", "version", "updated_by", "updated_at"])
    evaluation.version += 1
    evaluation.save(update_fields=["version", "updated_at"])
    log_action(user, "appraisal.line_determined", evaluation, org_path=evaluation.org_path, item=line.item.code,
               before=before, after={"count": count, "reason": reason[:200]})
    return line


@transaction.atomic
def determine_branch(user, period: AppraisalPeriod, org: Organization, changes: list[dict],
                     evaluation_ids: list[int]) -> int:
    """The secretary's one-page determination of a branch's month: the changed lines (``changes``: line id, count,
    reason, version), then every listed evaluation determined. All or nothing: the first error rolls it all back
    with the sentence naming the member and the item."""
    require(user, "appraisal.determine", org.path)
    lines = {ln.pk: ln for ln in MemberLine.objects.filter(
        pk__in=[c["line"] for c in changes], evaluation__period=period, evaluation__org=org)
        .select_related("evaluation")}
    for change in changes:
        line = lines.get(change["line"])
        if line is None:
            raise DomainError(_("评定的细则不属于该支部本月的评价。"))
        try:
            determine_line(user, line, change.get("count"), reason=change.get("reason", ""),
                           expected_version=change.get("version"))
        except DomainError as exc:
            raise type(exc)(_("{name}：{error}").format(name=line.evaluation.member_name, error=exc.message),
                            exc.field) from exc
    return _determine_many(user, period, org, evaluation_ids)


def _determine_many(user, period: AppraisalPeriod, org: Organization, evaluation_ids: list[int]) -> int:
    """Determine the listed evaluations of one branch at once — what ``move(…, DETERMINED)`` does for one, in a
    fixed number of statements whatever the branch's size: lock them, fill the lines the branch left as reported,
    total each month, one UPDATE per table (executemany), the transitions in one INSERT, one audit event."""
    evaluations = list(MemberEvaluation.objects.select_for_update(of=("self",))
                       .filter(pk__in=evaluation_ids, period=period, org=org, exempt=False)
                       .exclude(state__in=[AState.DETERMINED, AState.PUBLISHED]).order_by("pk"))
    if not evaluations:
        return 0
    period = AppraisalPeriod.objects.select_related("standard_set").get(pk=period.pk)
    if period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月党员评价已结束，不能修改。"))
    roles = set(roles_at(user, org.path))
    for ev in evaluations:
        row = allowed_transition(ev.state, AState.DETERMINED)
        if row is None:
            raise DomainError(_("{name}：当前状态为“{state}”，不能评定。").format(
                name=ev.member_name, state=AState(ev.state).label))
        if not roles & row[2]:
            raise AccessDenied("appraisal.move")
    by_eval: dict[int, list[MemberLine]] = {ev.pk: [] for ev in evaluations}
    for ln in MemberLine.objects.filter(evaluation_id__in=list(by_eval)).select_related("item"):
        by_eval[ln.evaluation_id].append(ln)
    member_of = {ev.pk: ev.member_id for ev in evaluations}
    usage = None
    changed = []
    for eval_id, lines in by_eval.items():
        for ln in lines:
            if ln.count is None:
                if usage is None:
                    usage = year_usage(period, list(member_of.values()))
                ln.count = ln.self_count or 0
                ln.points = line_points(ln.item, ln.count, usage.get((member_of[eval_id], ln.item.code), Decimal("0")))
                changed.append(ln)
    update_rows(MemberLine, ["count", "points"], changed)
    now = timezone.now()
    transitions = []
    for ev in evaluations:
        totals = month_totals(period.standard_set, by_eval[ev.pk])
        transitions.append(MemberTransition(evaluation=ev, from_state=ev.state, to_state=AState.DETERMINED,
                                            note="", by=_u(user)))
        ev.total, ev.vetoed, ev.state = totals.total, totals.vetoed, AState.DETERMINED
        ev.determined_by, ev.determined_at, ev.updated_at = _u(user), now, now
        ev.version += 1
    update_rows(MemberEvaluation, ["state", "version", "total", "vetoed", "determined_by", "determined_at",
                                   "updated_at"], evaluations)
    MemberTransition.objects.bulk_create(transitions)
    log_action(user, "appraisal.branch_determined", period, org_path=org.path, org=org.name, month=period.label,
               members=[[ev.pk, ev.member_name, str(ev.total)] for ev in evaluations])
    return len(evaluations)


@transaction.atomic
def set_exempt(user, evaluation: MemberEvaluation, exempt: bool, reason: str = "") -> MemberEvaluation:
    """免于评价 (retired, long-term mobile, elderly or long ill members, decided by the branch), with a reason."""
    evaluation = _lock(evaluation)
    require(user, "appraisal.determine", evaluation.org_path)
    if evaluation.period.status != PeriodStatus.OPEN or evaluation.state == AState.PUBLISHED:
        raise DomainError(_("该月评价结果已公示并锁定，不能修改。"))
    reason = (reason or "").strip()
    if exempt and not reason:
        raise DomainError(_("请写明免于评价的原因。"), "reason")
    if len(reason) > 200:
        raise DomainError(_("原因不能超过200字。"), "reason")
    before = {"exempt": evaluation.exempt, "reason": evaluation.exempt_reason}
    evaluation.exempt = bool(exempt)
    evaluation.exempt_reason = reason if exempt else ""
    evaluation.version += 1
    evaluation.save(update_fields=["exempt", "exempt_reason", "version", "updated_at"])
    log_action(user, "appraisal.exempt", evaluation, org_path=evaluation.org_path, before=before,
               after={"exempt": evaluation.exempt, "reason": evaluation.exempt_reason})
    return evaluation


@transaction.atomic
def save_self_note(user, evaluation: MemberEvaluation, text: str) -> MemberEvaluation:
    evaluation = _lock(evaluation)
    _check_open(evaluation)
    if not can_self_edit(user, evaluation):
        raise AccessDenied("appraisal.self")
    text = (text or "").strip()
    if len(text) > 2000:
        raise DomainError(_("自评小结不能超过2000字。"), "self_note")
    evaluation.self_note = text
    evaluation.version += 1
    evaluation.save(update_fields=["self_note", "version", "updated_at"])
    log_action(user, "appraisal.self_note", evaluation, org_path=evaluation.org_path, after={"text": text[:200]})
    return evaluation


# ---- evidence for bonus claims ----------------------------------------------------------------------------------


@transaction.atomic
def upload_evidence(user, evaluation: MemberEvaluation, upload, *, line: MemberLine | None = None) -> MemberEvidence:
    from dangjian.assessments.evidence import check_upload

    evaluation = _lock(evaluation)
    _check_open(evaluation)
    if not can_self_edit(user, evaluation):
        raise AccessDenied("appraisal.self")
    if line is not None and line.evaluation_id != evaluation.pk:
        raise DomainError(_("该细则不属于本次评价。"), "line")
    content_type, name = check_upload(upload)
    evidence = MemberEvidence(evaluation=evaluation, line=line, name=name, content_type=content_type,
                              size=upload.size, uploaded_by=_u(user))
    evidence.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            evidence.save()
            log_action(user, "appraisal.evidence_uploaded", evaluation, org_path=evaluation.org_path,
                       name=name, size=evidence.size, item=line.item.code if line is not None else "")
    except Exception:
        evidence.file.storage.delete(evidence.file.name)
        raise
    return evidence


@transaction.atomic
def withdraw_evidence(user, evidence: MemberEvidence) -> MemberEvidence:
    evaluation = _lock(evidence.evaluation)
    _check_open(evaluation)
    if not can_self_edit(user, evaluation):
        raise AccessDenied("appraisal.self")
    evidence = MemberEvidence.objects.select_for_update().get(pk=evidence.pk)
    if evidence.withdrawn_at is not None:
        raise DomainError(_("该文件已撤回。"))
    evidence.withdrawn_at = timezone.now()
    evidence.save(update_fields=["withdrawn_at"])
    log_action(user, "appraisal.evidence_withdrawn", evaluation, org_path=evaluation.org_path, name=evidence.name)
    return evidence


# ---- figures for pages ------------------------------------------------------------------------------------------


def branch_progress(period: AppraisalPeriod, org_ids=None) -> dict[int, dict[str, int]]:
    """{org_id: {state: count, "exempt": n}} for a period: one aggregate query."""
    qs = MemberEvaluation.objects.filter(period=period)
    if org_ids is not None:
        qs = qs.filter(org_id__in=org_ids)
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in qs.values("org_id", "state", "exempt").annotate(n=Count("id")):
        key = "exempt" if row["exempt"] else row["state"]
        out[row["org_id"]][key] += row["n"]
    return out
