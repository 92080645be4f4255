"""Operations of the monthly organization evaluation.

Each function checks permission and the source state (raising DomainError with a Chinese sentence, or
AccessDenied), runs in one transaction with the rows it changes locked, saves, appends history and writes the
audit event. Views, the API and commands call these; none repeats their logic. The month close (finalize)
lives in ``close.py``.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.assessments.models import (
    TRANSITIONS,
    AssessorAssignment,
    EvalItem,
    Evaluation,
    Evidence,
    Objection,
    Period,
    PeriodStatus,
    ScoreEntry,
    State,
    Transition,
    allowed_transition,
)
from dangjian.core import partitions
from dangjian.core.access import AccessDenied, allowed_paths, require, roles_at, scope
from dangjian.core.audit import log_action
from dangjian.core.dates import month_start  # noqa: F401 (re-exported)
from dangjian.core.errors import ConflictError, DomainError, actor  # noqa: F401 (re-exported)
from dangjian.orgs.models import Level, Organization, OrgType, Role
from dangjian.standards.models import Method, SetStatus, StandardSet, ancestor_or_self_paths
from dangjian.standards.services import items_for, set_for

TENTH = Decimal("0.1")


_u = actor




# ---- opening a month ----------------------------------------------------------------------------------


@transaction.atomic
def open_period(user, owner: Organization, month, *, submit_due, self_due, assess_due, objection_days: int = 3,
                standard_set: StandardSet | None = None) -> Period:
    """Open a month for the subtree of ``owner``: every active organization below it gets an evaluation with
    exactly the items that apply to its level and type. Set-based: one INSERT…SELECT per standard item."""
    require(user, "eval.manage", owner.path)
    month = month_start(month)
    if owner.level == Level.BRANCH:
        raise DomainError(_("党支部没有下级组织，不能组织考评。"), "owner")
    if owner.archived:
        raise DomainError(_("该组织已撤销。"), "owner")
    if not (month <= submit_due <= self_due <= assess_due):
        raise DomainError(_("截止日期应依次为：报送 ≤ 自评 ≤ 考评，且不早于考评月份。"), "submit_due")
    if Period.objects.filter(owner=owner, month=month).exists():
        raise DomainError(_("{owner}的{month}考评已开启，不能重复开启。").format(owner=owner.name, month=f"{month:%Y-%m}"),
                          "month")
    if standard_set is None:
        standard_set = set_for(owner, month.year)
        if standard_set is None:
            raise DomainError(_("没有找到{year}年度已发布的考评标准，请先发布考评标准。").format(year=month.year),
                              "standard_set")
    elif standard_set.status != SetStatus.PUBLISHED:
        raise DomainError(_("只能使用已发布的考评标准。"), "standard_set")
    period = Period.objects.create(
        owner=owner, month=month, standard_set=standard_set, submit_due=submit_due, self_due=self_due,
        assess_due=assess_due, objection_days=objection_days, opened_by=_u(user))
    partitions.after_period_opened(period)  # its result partition, once committed (PostgreSQL)
    orgs = Organization.objects.filter(path__startswith=owner.path, archived=False).exclude(pk=owner.pk)
    Evaluation.objects.bulk_create(
        [Evaluation(period=period, org_id=o.pk, org_name=o.name, org_path=o.path, level=o.level,
                    org_type_id=o.type_id) for o in orgs.only("id", "name", "path", "level", "type_id")],
        batch_size=2000,
    )
    _insert_items(period)
    log_action(user, "period.opened", period, org_path=owner.path,
               after={"month": f"{month:%Y-%m}", "standard_set": str(standard_set),
                      "organizations": period.evaluations.count()})
    return period


def _insert_items(period: Period) -> None:
    """Every evaluation of the period gets the items that apply to its level and type, in one INSERT…SELECT: the
    month's evaluations joined to a VALUES list of (level, type, item, points, position) built from the standard
    set, ordered by evaluation and item so every index of the item table grows at its end (one INSERT per item,
    as before, scattered each item's rows over the whole evaluation index: 121 s for 50,000 organizations on
    PostgreSQL). Then one UPDATE sets each evaluation's full marks."""
    qn = connection.ops.quote_name
    ei, ev = EvalItem._meta.db_table, Evaluation._meta.db_table
    combos = period.evaluations.order_by().values_list("level", "org_type_id").distinct()
    types = {t.pk: t for t in OrgType.objects.all()}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows: list = []
    for level, type_id in combos:
        probe = Organization(level=level, type_id=type_id)
        type_code = types[type_id].code if type_id else None
        for position, item in enumerate(items_for(probe, period.standard_set).prefetch_related("applies_types")):
            # type 0 stands for "no type" so the join stays a plain equality (hashable on PostgreSQL)
            rows.append((level, type_id or 0, item.pk, str(item.points_for(type_code)), position))
    with connection.cursor() as cur:
        for chunk in range(0, len(rows), 1000):  # well under SQLite's 32,766 parameters
            part = rows[chunk:chunk + 1000]
            values = ", ".join(["(%s, %s, %s, CAST(%s AS DECIMAL(5, 1)), %s)"] * len(part))
            cur.execute(
                f"INSERT INTO {qn(ei)} (evaluation_id, item_id, max_points, self_remark, assessor_reason, "
                f"vetoed, version, updated_at) "
                f"WITH v (level, type_id, item_id, points, position) AS (VALUES {values}) "
                f"SELECT e.id, v.item_id, v.points, '', '', FALSE, 0, %s "
                f"FROM {qn(ev)} e JOIN v ON e.level = v.level AND COALESCE(e.org_type_id, 0) = v.type_id "
                f"WHERE e.period_id = %s ORDER BY e.id, v.position",
                [*[x for row in part for x in row], now, period.pk],
            )
        cur.execute(
            f"UPDATE {qn(ev)} SET max_total = COALESCE((SELECT SUM(max_points) FROM {qn(ei)} "
            f"WHERE {qn(ei)}.evaluation_id = {qn(ev)}.id), 0) WHERE period_id = %s",
            [period.pk],
        )


# ---- states ---------------------------------------------------------------------------------------------


def available_transitions(user, evaluation: Evaluation) -> list[tuple[str, str]]:
    """(to_state, label) of the moves this user may make now: the pages show exactly these buttons."""
    if evaluation.period.status != PeriodStatus.OPEN:
        return []
    roles = roles_at(user, evaluation.org_path)
    out = []
    for frm, to, allowed, label in TRANSITIONS:
        if frm == evaluation.state and to != State.FINALIZED and roles & allowed:
            if to == State.ASSESSED and not _may_assess(user, evaluation, roles):
                continue
            out.append((to, _(label)))
    return out


def _may_assess(user, evaluation, roles=None) -> bool:
    roles = roles if roles is not None else roles_at(user, evaluation.org_path)
    if roles & {Role.STAFF, Role.ADMIN}:
        return True
    if Role.ASSESSOR not in roles:
        return False
    assigned = AssessorAssignment.objects.filter(evaluation=evaluation)
    return not assigned.exists() or assigned.filter(assessor=user).exists()


def _lock(evaluation: Evaluation) -> Evaluation:
    return Evaluation.objects.select_for_update().select_related("period").get(pk=evaluation.pk)


def _check_open(evaluation: Evaluation) -> None:
    if evaluation.period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月已兑现并锁定；如需更正，请使用“调整”并说明理由。"))


def _missing(evaluation: Evaluation, field: str, only_method: str | None = None) -> list[str]:
    qs = evaluation.items.filter(**{f"{field}__isnull": True}).select_related("item")
    if only_method:
        qs = qs.filter(item__methods__icontains=f'"{only_method}"')
    return [ei.item.code for ei in qs[:10]]


def _totals(evaluation: Evaluation, field: str) -> Decimal:
    return evaluation.items.aggregate(t=Sum(field))["t"] or Decimal("0")


def _after_commit(func, *args) -> None:
    """站内消息 for an event, written once the transaction commits (never for a rolled-back one); a failure there is
    logged and does not undo the committed change."""
    import functools

    transaction.on_commit(functools.partial(func, *args), robust=True)


@transaction.atomic
def move(user, evaluation: Evaluation, to_state: str, *, note: str = "", notify: bool = True) -> Evaluation:
    evaluation = _lock(evaluation)
    _check_open(evaluation)
    row = allowed_transition(evaluation.state, to_state)
    if row is None or to_state == State.FINALIZED:
        raise DomainError(_("当前状态为“{state}”，不能执行该操作。").format(state=State(evaluation.state).label))
    roles = roles_at(user, evaluation.org_path)
    if not roles & row[2] or (to_state == State.ASSESSED and not _may_assess(user, evaluation, roles)):
        raise AccessDenied("eval.transition")
    frm = evaluation.state
    if to_state == State.SUBMITTED and frm == State.NOT_STARTED and not evaluation.summary.strip():
        raise DomainError(_("请先填写月小结再报送。"), "summary")
    if to_state == State.SELF_ASSESSED and frm == State.SUBMITTED:
        missing = _missing(evaluation, "self_score", Method.SELF)
        if missing:
            raise DomainError(_("以下细则尚未自评：{codes}。").format(codes="、".join(missing)))
        evaluation.self_total = _totals(evaluation, "self_score")
    if to_state == State.ASSESSED and frm == State.SELF_ASSESSED:
        missing = _missing(evaluation, "assessor_score")
        if missing:
            raise DomainError(_("以下细则尚未考评打分：{codes}。").format(codes="、".join(missing)))
        evaluation.assessor_total = _totals(evaluation, "assessor_score")
    if to_state == State.OBJECTED and not note.strip():
        raise DomainError(_("请写明异议内容。"), "note")
    if frm == State.OBJECTED and to_state == State.PUBLISHED and not note.strip():
        raise DomainError(_("请填写对异议的答复。"), "note")
    if to_state in (State.NOT_STARTED, State.SUBMITTED, State.SELF_ASSESSED) and _is_return(frm, to_state) \
            and not note.strip():
        raise DomainError(_("退回时请说明理由。"), "note")
    evaluation.state = to_state
    evaluation.version += 1
    evaluation.save(update_fields=["state", "version", "self_total", "assessor_total", "updated_at"])
    Transition.objects.create(evaluation=evaluation, from_state=frm, to_state=to_state, note=note[:500],
                              by=_u(user))
    if to_state == State.SELF_ASSESSED and frm == State.SUBMITTED:
        from dangjian.assessments.auto import on_assessment_started

        on_assessment_started(evaluation)  # 服务数据计分: the assessor finds these items scored, with sources
    log_action(user, "evaluation.moved", evaluation, org_path=evaluation.org_path,
               before={"state": frm}, after={"state": to_state}, note=note[:500])
    if notify and frm == State.ASSESSED and to_state == State.PUBLISHED:
        from dangjian.assessments.reminders import notice_published

        _after_commit(notice_published, [evaluation.pk])
    return evaluation


def _is_return(frm: str, to: str) -> bool:
    order = [State.NOT_STARTED, State.SUBMITTED, State.SELF_ASSESSED, State.ASSESSED]
    return frm in order and to in order and order.index(to) < order.index(frm)


@transaction.atomic
def save_summary(user, evaluation: Evaluation, text: str, *, expected_version: int | None = None) -> Evaluation:
    """月小结: the organization's summary of its month, editable until it is submitted."""
    evaluation = _lock(evaluation)
    _check_open(evaluation)
    require(user, "eval.submit", evaluation.org_path)
    if evaluation.state != State.NOT_STARTED:
        raise DomainError(_("月小结已报送，不能再修改；如需修改，请联系党建管理员退回。"))
    if expected_version is not None and expected_version != evaluation.version:
        raise ConflictError(_("月小结已被他人修改，请刷新页面后再保存。"))
    text = (text or "").strip()
    if len(text) > 5000:
        raise DomainError(_("月小结不能超过5000字。"), "summary")
    before = evaluation.summary
    evaluation.summary = text
    evaluation.version += 1
    evaluation.save(update_fields=["summary", "version", "updated_at"])
    log_action(user, "evaluation.summary_saved", evaluation, org_path=evaluation.org_path,
               before={"summary": before[:200]}, after={"summary": text[:200]})
    return evaluation


def parse_score(value, max_points: Decimal) -> Decimal:
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("得分应为数字，例如 4.5。"), "score") from exc
    if not score.is_finite():
        raise DomainError(_("得分应为数字，例如 4.5。"), "score")
    if score != score.quantize(TENTH):
        raise DomainError(_("得分最多保留一位小数。"), "score")
    if score < 0 or score > max_points:
        raise DomainError(_("得分应在 0 至 {max} 之间。").format(max=max_points), "score")
    return score.quantize(TENTH)


@transaction.atomic
def score_item(user, eval_item: EvalItem, kind: str, value, *, reason: str = "", veto: bool = False,
               expected_version: int | None = None) -> EvalItem:
    """Self-assessment (kind "self") or assessor scoring (kind "assessor") of one item.

    A deduction needs a remark. If the item changed since ``expected_version`` was read, nothing is saved
    and the user is told who changed it to what."""
    ei = EvalItem.objects.select_for_update().select_related("evaluation__period", "item").get(pk=eval_item.pk)
    evaluation = ei.evaluation
    _check_open(evaluation)
    roles = roles_at(user, evaluation.org_path)
    if kind == ScoreEntry.Kind.SELF:
        if not roles & {Role.SECRETARY, Role.STAFF, Role.ADMIN}:
            raise AccessDenied("eval.submit")
        if evaluation.state not in (State.NOT_STARTED, State.SUBMITTED):
            raise DomainError(_("自评已提交，不能再修改。"))
    elif kind == ScoreEntry.Kind.ASSESSOR:
        if not _may_assess(user, evaluation, roles):
            raise AccessDenied("eval.assess")
        staff_only = (State.ASSESSED, State.OBJECTED)
        if evaluation.state == State.SELF_ASSESSED:
            pass
        elif evaluation.state in staff_only and roles & {Role.STAFF, Role.ADMIN}:
            pass
        else:
            raise DomainError(_("当前状态为“{state}”，不能考评打分。").format(state=State(evaluation.state).label))
    else:
        raise DomainError(_("未知的评分类型。"))
    if expected_version is not None and expected_version != ei.version:
        last = ei.entries.select_related("by").order_by("-id").first()
        who = (last.by.get_full_name() or last.by.get_username()) if last and last.by else _("他人")
        raise ConflictError(_("该项已被{who}修改为 {value} 分，您的修改未保存，请核对后重新提交。").format(
            who=who, value=ei.assessor_score if kind == ScoreEntry.Kind.ASSESSOR else ei.self_score))
    score = parse_score(value, ei.max_points)
    reason = (reason or "").strip()[:500]
    if score < ei.max_points and not reason:
        raise DomainError(_("扣分须说明理由。"), "reason")
    if veto and not ei.item.is_veto:
        raise DomainError(_("该细则不是一票否决项。"), "veto")
    before = {"self": ei.self_score, "assessor": ei.assessor_score}
    if kind == ScoreEntry.Kind.SELF:
        ei.self_score, ei.self_remark = score, reason
    else:
        ei.assessor_score, ei.assessor_reason, ei.assessor = score, reason, _u(user)
        ei.vetoed = veto
    ei.version += 1
    ei.save()
    ScoreEntry.objects.create(eval_item=ei, kind=kind, value=score, veto=veto, reason=reason, by=_u(user))
    if kind == ScoreEntry.Kind.ASSESSOR and evaluation.state in (State.ASSESSED, State.OBJECTED):
        # A correction during review: the evaluation's assessor total follows in the same transaction.
        Evaluation.objects.filter(pk=evaluation.pk).update(assessor_total=_totals(evaluation, "assessor_score"))
    log_action(user, "evaluation.item_scored", evaluation, org_path=evaluation.org_path,
               item=ei.item.code, kind=kind, before=before, after={kind: score}, reason=reason)
    return ei


@transaction.atomic
def raise_objection(user, evaluation: Evaluation, text: str, eval_item: EvalItem | None = None) -> Objection:
    """异议 in the publicity window (the days after publishing set by the period)."""
    evaluation = _lock(evaluation)
    _check_open(evaluation)
    if evaluation.state != State.PUBLISHED:
        raise DomainError(_("只有公示中的考评结果可以提出异议。"))
    # The same window as the close waits for (close.window_end): from the first publication, in calendar days.
    from dangjian.assessments.close import window_end

    if not evaluation.period.objection_days:
        raise DomainError(_("本月不设公示期，不能提出异议。"))
    first = evaluation.transitions.filter(to_state=State.PUBLISHED).order_by("at", "id").first()
    end = window_end(first.at if first else timezone.now(), evaluation.period.objection_days)
    if timezone.localdate() > end:
        raise DomainError(_("公示期已于{date}结束，不能再提出异议。").format(date=f"{end:%Y-%m-%d}"))
    text = (text or "").strip()
    if not text:
        raise DomainError(_("请写明异议内容。"), "text")
    move(user, evaluation, State.OBJECTED, note=text[:500])
    objection = Objection.objects.create(evaluation=evaluation, eval_item=eval_item, text=text[:2000],
                                         raised_by=_u(user))
    from dangjian.assessments.reminders import notice_objection

    _after_commit(notice_objection, objection.pk)
    return objection


@transaction.atomic
def answer_objection(user, objection: Objection, answer: str, *, upheld: bool) -> Objection:
    objection = Objection.objects.select_for_update().select_related("evaluation").get(pk=objection.pk)
    if objection.answered_at:
        raise DomainError(_("该异议已答复。"))
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_("请填写对异议的答复。"), "answer")
    evaluation = objection.evaluation
    if upheld:
        evaluation.assessor_total = _totals(evaluation, "assessor_score")
        Evaluation.objects.filter(pk=evaluation.pk).update(assessor_total=evaluation.assessor_total)
    move(user, evaluation, State.PUBLISHED, note=answer[:500])
    objection.answer, objection.upheld = answer[:2000], upheld
    objection.answered_by, objection.answered_at = _u(user), timezone.now()
    objection.save()
    from dangjian.assessments.reminders import notice_answered

    _after_commit(notice_answered, objection.pk)
    return objection


@transaction.atomic
def publish_all(user, period: Period) -> int:
    """Publish every assessed evaluation of the period at once (the review page's button)."""
    require(user, "eval.manage", period.owner.path)
    published = []
    for evaluation in period.evaluations.filter(state=State.ASSESSED):
        move(user, evaluation, State.PUBLISHED, notify=False)
        published.append(evaluation.pk)
    if published:
        from dangjian.assessments.reminders import notice_published

        _after_commit(notice_published, published)  # one batch for the whole month
    return len(published)


def coverage(period: Period):
    """Counts per state, and the organizations that have not yet submitted, self-assessed or been assessed:
    one aggregate query plus one list query."""
    counts = dict(period.evaluations.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    behind = period.evaluations.filter(
        state__in=[State.NOT_STARTED, State.SUBMITTED, State.SELF_ASSESSED]).order_by("state", "org_path")
    return counts, behind


__all__ = ["open_period", "move", "save_summary", "score_item", "raise_objection", "answer_objection",
           "publish_all", "coverage", "available_transitions", "ConflictError"]


# ---- for the pages and the API: visibility, deadlines, evidence, assessors, one entry point per action -----
# (appended to the module; the functions above are unchanged)

# The state an evaluation is waiting to leave, and the period's deadline for leaving it.
WAITING_DUE = {State.NOT_STARTED: "submit_due", State.SUBMITTED: "self_due", State.SELF_ASSESSED: "assess_due"}


def visible_periods(user):
    """The months a user may look at: those opened by a committee inside a subtree where the user has
    ``eval.view`` (core.access.scope), and those opened by an ancestor of such an organization, because that
    month covers it (a branch secretary sees the committee's month, with only the rows of their branch).
    Path arithmetic only: one query."""
    qs = Period.objects.all()
    paths = allowed_paths(user, "eval.view")
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    ancestors = sorted({a for p in paths for a in ancestor_or_self_paths(p)})
    return scope(user, "eval.view", qs) | qs.filter(owner__path__in=ancestors)


def due_date(evaluation: Evaluation) -> datetime.date | None:
    """The deadline of the step the evaluation is waiting for (None once it has been assessed)."""
    field = WAITING_DUE.get(evaluation.state)
    return getattr(evaluation.period, field) if field else None


def is_overdue(evaluation: Evaluation, today: datetime.date | None = None) -> bool:
    due = due_date(evaluation)
    today = today or timezone.localdate()
    return evaluation.period.status == PeriodStatus.OPEN and due is not None and today > due


def overdue_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    """The same rule as ``is_overdue`` as a filter on evaluations (``prefix`` for a related query)."""
    today = today or timezone.localdate()
    cond = Q()
    for state, field in WAITING_DUE.items():
        cond |= Q(**{f"{prefix}state": state, f"{prefix}period__{field}__lt": today})
    return cond & Q(**{f"{prefix}period__status": PeriodStatus.OPEN})


def awaiting_assessment(user):
    """Evaluations waiting for this user's on-site scoring: self-assessed, in an open month, in the user's
    ``eval.assess`` scope, and either assigned to the user or assigned to nobody."""
    assigned = AssessorAssignment.objects.filter(evaluation=OuterRef("pk"))
    return (scope(user, "eval.assess", Evaluation.objects.filter(state=State.SELF_ASSESSED,
                                                                 period__status=PeriodStatus.OPEN))
            .filter(~Exists(assigned) | Exists(assigned.filter(assessor_id=user.pk))))


def _may_file(user, evaluation: Evaluation, kind: str, roles: set) -> bool:
    """Who may add files of a kind at all: the organization's evidence by its secretary and the committee's
    staff; photos by those who may assess it."""
    if kind == Evidence.Kind.EVIDENCE:
        return bool(roles & {Role.SECRETARY, Role.STAFF, Role.ADMIN})
    return _may_assess(user, evaluation, roles)


def evidence_kinds(user, evaluation: Evaluation) -> set[str]:
    """The kinds of file the user may upload or withdraw now: 佐证资料 while the organization reports and
    self-assesses; 现场照片 while it is assessed on site (and while the committee reviews it)."""
    if evaluation.period.status != PeriodStatus.OPEN:
        return set()
    roles = roles_at(user, evaluation.org_path)
    kinds = set()
    if evaluation.state in (State.NOT_STARTED, State.SUBMITTED) and roles & {Role.SECRETARY, Role.STAFF, Role.ADMIN}:
        kinds.add(Evidence.Kind.EVIDENCE)
    if (evaluation.state == State.SELF_ASSESSED and _may_assess(user, evaluation, roles)) or \
            (evaluation.state in (State.ASSESSED, State.OBJECTED) and roles & {Role.STAFF, Role.ADMIN}):
        kinds.add(Evidence.Kind.PHOTO)
    return kinds


def _check_file_rights(user, evaluation: Evaluation, kind: str) -> None:
    if kind not in Evidence.Kind.values:
        raise DomainError(_("未知的文件类别。"), "kind")
    if not _may_file(user, evaluation, kind, roles_at(user, evaluation.org_path)):
        raise AccessDenied("eval.submit" if kind == Evidence.Kind.EVIDENCE else "eval.assess")
    _check_open(evaluation)
    if kind not in evidence_kinds(user, evaluation):
        state = State(evaluation.state).label
        if kind == Evidence.Kind.EVIDENCE:
            raise DomainError(_("佐证资料只能在报送和自评阶段上传或撤回，当前状态为“{state}”。").format(state=state))
        raise DomainError(_("现场照片只能在考评阶段上传或撤回，当前状态为“{state}”。").format(state=state))


@transaction.atomic
def upload_evidence(user, evaluation: Evaluation, upload, *, eval_item: EvalItem | None = None,
                    kind: str = Evidence.Kind.EVIDENCE) -> Evidence:
    """Store one file for an item (or for the month as a whole) after ``evidence.check_upload`` accepted its
    content; a refused file stores nothing. The stored name is random; the original name is kept for display."""
    from dangjian.assessments.evidence import check_upload

    evaluation = _lock(evaluation)
    _check_file_rights(user, evaluation, kind)
    if eval_item is not None and eval_item.evaluation_id != evaluation.pk:
        raise DomainError(_("该细则不属于本次考评。"), "eval_item")
    content_type, name = check_upload(upload, photo=kind == Evidence.Kind.PHOTO)
    evidence = Evidence(evaluation=evaluation, eval_item=eval_item, kind=kind, name=name, content_type=content_type,
                        size=upload.size, uploaded_by=_u(user))
    evidence.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            evidence.save()
            log_action(user, "evidence.uploaded", evaluation, org_path=evaluation.org_path,
                       item=eval_item.item.code if eval_item is not None else "", kind=kind, name=name,
                       size=evidence.size, content_type=content_type)
    except Exception:
        evidence.file.storage.delete(evidence.file.name)
        raise
    return evidence


@transaction.atomic
def withdraw_evidence(user, evidence: Evidence) -> Evidence:
    """撤回: the file disappears from the lists and downloads; the row and the audit entry stay."""
    evaluation = _lock(evidence.evaluation)
    evidence = Evidence.objects.select_for_update(of=("self",)).select_related("eval_item__item").get(pk=evidence.pk)
    _check_file_rights(user, evaluation, evidence.kind)
    if evidence.withdrawn_at is not None:
        raise DomainError(_("该文件已撤回。"))
    evidence.withdrawn_at = timezone.now()
    evidence.save(update_fields=["withdrawn_at"])
    log_action(user, "evidence.withdrawn", evaluation, org_path=evaluation.org_path, name=evidence.name,
               kind=evidence.kind, item=evidence.eval_item.item.code if evidence.eval_item_id else "")
    return evidence


@transaction.atomic
def score(user, eval_item: EvalItem, kind: str, value, *, reason: str = "", veto: bool = False,
          expected_version: int | None = None) -> EvalItem:
    """``score_item`` as the pages and the API call it (kept as the one name they use)."""
    return score_item(user, eval_item, kind, value, reason=reason, veto=veto, expected_version=expected_version)


def transition(user, evaluation: Evaluation, to_state: str, *, note: str = "", upheld: bool | None = None,
               eval_item: EvalItem | None = None) -> Evaluation:
    """A move as the pages and the API offer it: 提出异议 records an Objection (``raise_objection``), 答复异议
    answers the open objection (``answer_objection``, with 成立/不成立), every other move is ``move``."""
    if to_state == State.OBJECTED:
        raise_objection(user, evaluation, note, eval_item=eval_item)
    elif evaluation.state == State.OBJECTED and to_state == State.PUBLISHED:
        objection = evaluation.objections.filter(answered_at__isnull=True).order_by("-id").first()
        if objection is None:
            move(user, evaluation, to_state, note=note)
        else:
            if upheld is None:
                raise DomainError(_("请选择异议是否成立。"), "upheld")
            answer_objection(user, objection, note, upheld=upheld)
    else:
        move(user, evaluation, to_state, note=note)
    return Evaluation.objects.select_related("period__owner", "org_type").get(pk=evaluation.pk)


def eligible_assessors(period: Period):
    """Active users holding the 考评员 role on the period's committee, an ancestor of it, or inside its subtree."""
    from django.contrib.auth.models import User

    from dangjian.orgs.models import RoleGrant

    owner_path = period.owner.path
    grants = RoleGrant.objects.filter(user=OuterRef("pk"), role=Role.ASSESSOR, org__archived=False).filter(
        Q(org__path__in=ancestor_or_self_paths(owner_path)) | Q(org__path__startswith=owner_path))
    return User.objects.filter(is_active=True).filter(Exists(grants)).order_by("username")


@transaction.atomic
def assign_assessors(user, period: Period, assessor, evaluations, *, replace: bool = False) -> int:
    """Assign an assessor to organizations of the month. With ``replace`` the assessor's other assignments in
    this month are removed. Once an organization has an assignment, only its assigned assessors score it."""
    require(user, "eval.manage", period.owner.path)
    if period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月已兑现并锁定；如需更正，请使用“调整”并说明理由。"))
    evaluations = list(evaluations)
    if not evaluations:
        raise DomainError(_("请至少选择一个组织。"), "evaluations")
    if any(ev.period_id != period.pk for ev in evaluations):
        raise DomainError(_("所选组织不属于本月考评。"), "evaluations")
    lacking = [ev.org_name for ev in evaluations if Role.ASSESSOR not in roles_at(assessor, ev.org_path)]
    if lacking:
        raise DomainError(_("{name}没有覆盖以下组织的考评员授权：{orgs}。").format(
            name=assessor.get_full_name() or assessor.get_username(), orgs="、".join(lacking[:5])), "assessor")
    if replace:
        (AssessorAssignment.objects.filter(evaluation__period=period, assessor=assessor)
         .exclude(evaluation__in=evaluations).delete())
    AssessorAssignment.objects.bulk_create(
        [AssessorAssignment(evaluation=ev, assessor=assessor) for ev in evaluations], ignore_conflicts=True)
    log_action(user, "period.assessors_assigned", period, org_path=period.owner.path,
               assessor=assessor.get_username(), organizations=[ev.org_name for ev in evaluations[:100]],
               count=len(evaluations), replace=replace)
    return len(evaluations)


@transaction.atomic
def unassign_assessor(user, assignment: AssessorAssignment) -> None:
    assignment = AssessorAssignment.objects.select_related("evaluation__period__owner", "assessor").get(
        pk=assignment.pk)
    period = assignment.evaluation.period
    require(user, "eval.manage", period.owner.path)
    if period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月已兑现并锁定；如需更正，请使用“调整”并说明理由。"))
    assignment.delete()
    log_action(user, "period.assessor_unassigned", period, org_path=period.owner.path,
               assessor=assignment.assessor.get_username(), organization=assignment.evaluation.org_name)


def shows_assessor_scores(user, evaluation: Evaluation) -> bool:
    """Assessor scores are the committee's until published: assessors and staff see them at once, the
    organization and its members from 已公示 on."""
    if evaluation.state in (State.PUBLISHED, State.OBJECTED, State.FINALIZED):
        return True
    return bool(roles_at(user, evaluation.org_path) & {Role.ASSESSOR, Role.STAFF, Role.ADMIN})


__all__ += ["visible_periods", "due_date", "is_overdue", "overdue_q", "awaiting_assessment", "evidence_kinds",
            "upload_evidence", "withdraw_evidence", "score", "transition", "eligible_assessors",
            "assign_assessors", "unassign_assessor", "shows_assessor_scores"]
