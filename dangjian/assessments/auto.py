"""服务数据计分: organization items scored from the month's service figures (the loop of pillar 3).

A standard item may name a service figure (``standards.models.AutoSource``): the month's customer and/or
government satisfaction index, or the month's ticket closure rate, of the evaluated organization's subtree. For
every evaluation of the month, the figure is read set-based (one query for the whole month, whatever the number
of organizations: a correlated subquery per figure over the organization's path prefix), turned into points by
the item's rule (``Item.auto_points``), and written the way an assessor score is written: the assessor score and
its reason on the item, plus an append-only ``ScoreEntry`` — by nobody (the platform), with the reason saying
where the number came from ("来自2026年10月客户满意度指数 92.5（样本 37）…"), so the evaluation page shows it.

Rules:
- only open months, and evaluations not yet published (未开始 … 已考评); an item a person has scored
  (``EvalItem.assessor`` set) is never overwritten: the assessor's judgement stands;
- an organization without data (no index with a score, no due ticket) or with fewer than the item's minimum
  sample gets no automatic score: the item stays for the assessor, and the page says why;
- running it again writes only what changed (no new history rows for the same value and source).

It runs when an evaluation moves into assessment (已自评, ``services.move``) and from the 按服务数据计分 button
of the month (``eval.manage``). The ticket closure rate is ``service.dashboards.closure_conditions``
(docs/decisions.md "Service figures scored into organization items").
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, Subquery, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.assessments.models import EvalItem, Evaluation, Period, PeriodStatus, ScoreEntry, State
from dangjian.core.access import require
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.standards.models import AutoSource

TENTH = Decimal("0.1")
# The states in which the platform may write an assessor score (after publishing, only people change scores).
AUTO_STATES = (State.NOT_STARTED, State.SUBMITTED, State.SELF_ASSESSED, State.ASSESSED)
SATISFACTION_KINDS = {
    AutoSource.CUSTOMER: ("customer",),
    AutoSource.GOVERNMENT: ("government",),
    AutoSource.SATISFACTION: ("customer", "government"),
}
MONEY = DecimalField(max_digits=16, decimal_places=2)


@dataclass
class Figure:
    """One organization's figure of the month for one source: the value (0–100), the sample behind it and the
    sentence saying where it came from."""

    value: Decimal | None
    sample: int
    source_text: str  # "2026年10月客户满意度指数 92.5（样本 37）" / "… 无数据"


@dataclass
class Outcome:
    eval_item_id: int
    code: str
    score: Decimal | None  # None: not scored automatically
    note: str  # the reason written, or why nothing was written


def _one(qs, expr):
    """A correlated subquery giving one aggregate of ``qs`` (grouped by a constant: one row, even when empty)."""
    return Subquery(qs.annotate(_one=Value(1)).values("_one").annotate(v=expr).values("v")[:1])


def _month_label(month: datetime.date) -> str:
    return _("{year}年{month}月").format(year=month.year, month=month.month)


def _quantize(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        value = Decimal(str(round(value, 6)))
    return Decimal(value).quantize(TENTH, rounding=ROUND_HALF_UP)


def figures(evaluations, month: datetime.date, sources: set[str]) -> dict[tuple[int, str], Figure]:
    """{(evaluation id, source): Figure} for the evaluations' organizations (their subtrees) in ``month``: one
    query, the figures as correlated subqueries on each evaluation's path."""
    from dangjian.service.dashboards import closure_conditions
    from dangjian.service.models import SatisfactionIndex, Ticket

    annotations = {}
    for source in sources:
        if source in SATISFACTION_KINDS:
            rows = SatisfactionIndex.objects.filter(
                month=month, kind__in=SATISFACTION_KINDS[source], mean_score__isnull=False,
                org__path__startswith=OuterRef("org_path")).order_by()
            annotations[f"{source}__n"] = _one(rows, Sum("responses"))
            annotations[f"{source}__w"] = _one(rows, Sum(ExpressionWrapper(F("mean_score") * F("responses"),
                                                                           output_field=MONEY)))
            annotations[f"{source}__orgs"] = _one(rows, Count("org", distinct=True))
        elif source == AutoSource.TICKET_CLOSURE:
            counted, done = closure_conditions(month)
            rows = Ticket.objects.filter(counted, org__path__startswith=OuterRef("org_path")).order_by()
            annotations[f"{source}__n"] = _one(rows, Count("id"))
            annotations[f"{source}__d"] = _one(rows, Count("id", filter=done))
    if not annotations:
        return {}
    out = {}
    label = _month_label(month)
    for row in evaluations.order_by().annotate(**annotations).values("pk", *annotations):
        for source in sources:
            name = str(AutoSource(source).label)
            n = row.get(f"{source}__n") or 0
            if source in SATISFACTION_KINDS:
                value = _quantize(row[f"{source}__w"] / n) if n and row[f"{source}__w"] is not None else None
                orgs = row.get(f"{source}__orgs") or 0
                if value is None:
                    text = _("{month}无{source}数据").format(month=label, source=name)
                elif orgs > 1:
                    text = _("{month}{source} {value}（样本 {n}，含 {orgs} 个单位）").format(
                        month=label, source=name, value=value, n=n, orgs=orgs)
                else:
                    text = _("{month}{source} {value}（样本 {n}）").format(month=label, source=name, value=value, n=n)
            else:
                d = row.get(f"{source}__d") or 0
                value = _quantize(Decimal(d) * 100 / n) if n else None
                text = (_("{month}{source} {value}%（应销号 {n} 件，月末已销号 {d} 件）").format(
                    month=label, source=name, value=value, n=n, d=d) if n
                    else _("{month}无应销号的整改工单").format(month=label))
            out[(row["pk"], source)] = Figure(value, int(n), text)
    return out


def _outcome(ei: EvalItem, fig: Figure | None) -> Outcome:
    item = ei.item
    if fig is None or fig.value is None:
        note = (fig.source_text if fig else _("无服务数据")) + _("，由考评员评分")
        return Outcome(ei.pk, item.code, None, note)
    if fig.sample < item.auto_min_sample:
        return Outcome(ei.pk, item.code, None, _("{source}：样本 {n} 少于 {min}，由考评员评分").format(
            source=fig.source_text, n=fig.sample, min=item.auto_min_sample))
    score = item.auto_points(fig.value, ei.max_points)
    reason = _("来自{source}；{full} 及以上满分，{zero} 及以下0分，其间按比例").format(
        source=fig.source_text, full=item.auto_full_at, zero=item.auto_zero_at)
    return Outcome(ei.pk, item.code, score, reason[:500])


def _auto_items(evaluations):
    return (EvalItem.objects.filter(evaluation__in=evaluations).exclude(item__auto_source="")
            .select_related("item", "evaluation").order_by("evaluation_id", "id"))


def preview(evaluation: Evaluation) -> dict[int, Outcome]:
    """What the platform would write for each auto-scored item of one evaluation (for the page's notes):
    two queries, none when the evaluation has no such item."""
    items = list(_auto_items(Evaluation.objects.filter(pk=evaluation.pk)))
    if not items:
        return {}
    figs = figures(Evaluation.objects.filter(pk=evaluation.pk), evaluation.period.month,
                   {ei.item.auto_source for ei in items})
    return {ei.pk: _outcome(ei, figs.get((evaluation.pk, ei.item.auto_source))) for ei in items}


@transaction.atomic
def apply_auto_scores(user, target: Period | Evaluation, *, request=None) -> list[Outcome]:
    """Score every auto-scored item of the month (a Period) or of one organization's month (an Evaluation).

    ``user`` None: the platform itself (the hook when an evaluation moves into assessment); otherwise the user
    needs ``eval.manage`` on the month's committee. A constant number of queries: the items, the figures, one
    bulk update of the items, one bulk insert of the history, one update of the totals of assessed evaluations,
    one audit event."""
    if isinstance(target, Evaluation):
        period = target.period
        evaluations = Evaluation.objects.filter(pk=target.pk)
    else:
        period = target
        evaluations = Evaluation.objects.filter(period=period)
    if user is not None:
        require(user, "eval.manage", period.owner.path)
    if period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月已兑现并锁定；如需更正，请使用“调整”并说明理由。"))
    evaluations = evaluations.filter(state__in=AUTO_STATES)
    items = list(_auto_items(evaluations).select_for_update(of=("self",)))
    if not items:
        return []
    figs = figures(evaluations, period.month, {ei.item.auto_source for ei in items})
    now = timezone.now()
    outcomes, changed, entries, touched = [], [], [], set()
    for ei in items:
        out = _outcome(ei, figs.get((ei.evaluation_id, ei.item.auto_source)))
        outcomes.append(out)
        if out.score is None or ei.assessor_id is not None:
            continue  # no data (left to the assessor), or a person has scored it: their judgement stands
        if ei.assessor_score == out.score and ei.assessor_reason == out.note:
            continue
        ei.assessor_score, ei.assessor_reason, ei.vetoed = out.score, out.note, False
        ei.version += 1
        ei.updated_at = now
        changed.append(ei)
        entries.append(ScoreEntry(eval_item=ei, kind=ScoreEntry.Kind.ASSESSOR, value=out.score, reason=out.note,
                                  by=None))
        if ei.evaluation.state == State.ASSESSED:
            touched.add(ei.evaluation_id)
    if changed:
        EvalItem.objects.bulk_update(changed, ["assessor_score", "assessor_reason", "vetoed", "version", "updated_at"])
        ScoreEntry.objects.bulk_create(entries)
    if touched:
        # An assessed month's assessor total follows its items, as a person's correction during review does.
        total = EvalItem.objects.filter(evaluation=OuterRef("pk")).order_by().values("evaluation").annotate(
            t=Sum("assessor_score")).values("t")
        Evaluation.objects.filter(pk__in=touched).update(assessor_total=Subquery(total))
    scope_path = target.org_path if isinstance(target, Evaluation) else period.owner.path
    written = {c.pk for c in changed}
    log_action(user, "evaluation.auto_scored", target, org_path=scope_path, request=request,
               month=f"{period.month:%Y-%m}", by_platform=user is None, scored=len(changed),
               left_to_assessor=sum(1 for o in outcomes if o.score is None),
               items=[{"item": o.code, "evaluation_item": o.eval_item_id, "score": o.score, "note": o.note}
                      for o in outcomes if o.eval_item_id in written][:100])
    return outcomes


def on_assessment_started(evaluation: Evaluation) -> None:
    """The hook of ``services.move``: an evaluation that has just moved into assessment (已自评) gets its
    automatic scores, so the assessor finds them with their sources. Nothing happens without auto items."""
    if _auto_items(Evaluation.objects.filter(pk=evaluation.pk)).exists():
        apply_auto_scores(None, evaluation)


def annotate_items(evaluation: Evaluation, items: list[EvalItem]) -> None:
    """For the evaluation page: ``ei.auto_note`` on each auto-scored item — where its score came from, or why
    the platform left it to the assessor. No query when no item of the month is auto-scored."""
    if not any(ei.item.auto_source for ei in items):
        return
    notes = preview(evaluation)
    for ei in items:
        out = notes.get(ei.pk)
        if out is None:
            continue
        ei.auto_rule = ei.item.auto_rule_text()
        if ei.assessor_score is not None and ei.assessor_id is None and ei.assessor_reason:
            ei.auto_note, ei.auto_done = ei.assessor_reason, True  # written by the platform
        elif ei.assessor_id is not None:
            ei.auto_note, ei.auto_done = _("考评员已人工评分（服务数据：{note}）").format(note=out.note), False
        else:
            ei.auto_note, ei.auto_done = out.note, False
