"""Satisfaction indices and survey results, computed in the database.

- ``compute_indices(month, orgs=None)`` is set-based: one aggregate query over the month's responses grouped by
  organization and survey kind, one UPSERT of the ``SatisfactionIndex`` rows and one DELETE of rows left without
  responses, whatever the number of organizations (the same SQL on SQLite and PostgreSQL).
- ``open_low_tickets(month)`` opens one ticket (origin 满意度偏低) for every index below its threshold with enough
  responses and no ticket yet; the index row is locked and checked again first, so re-running opens nothing new.
- ``refresh`` does both; it runs on survey close, the results page's "重新计算" button, ``manage.py
  compute_satisfaction`` (nightly) and after each public response (that organization's row only).
- The results page's figures: per organization, per question (distribution), per topic, each one grouped query.

Means are summed in tenths of a point as integers (exact on SQLite's floating point too) and rounded half up in
Decimal to one decimal place.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, F, IntegerField, Min, Q, Sum
from django.db.models.functions import Cast, Round
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.access import require
from dangjian.core.audit import log_action
from dangjian.core.dates import month_start
from dangjian.orgs.models import Organization
from dangjian.service.common import open_ticket
from dangjian.service.models import (
    SATISFIED_AT,
    SCALE_LEVELS,
    Answer,
    Origin,
    QKind,
    Question,
    SatisfactionIndex,
    Survey,
    SurveyKind,
    SurveyResponse,
    SurveyState,
    Ticket,
)

ONE = Decimal("0.1")
HUNDRED = Decimal("100")


def round1(value) -> Decimal | None:
    """One decimal place, half up, as the index tables show it."""
    if value is None:
        return None
    return Decimal(value).quantize(ONE, rounding=ROUND_HALF_UP)


def tenths(field_name: str = "score"):
    """The sum of a one-decimal column in tenths of a point, as an exact integer on SQLite and PostgreSQL alike
    (SQLite keeps decimals as floating point: summing them directly could land a hair below a .x5 boundary)."""
    return Sum(Cast(Round(F(field_name) * 10), IntegerField()))


def mean_of(tenths_sum, count) -> Decimal | None:
    """The mean of ``count`` values whose sum is ``tenths_sum`` tenths, rounded half up to one decimal."""
    if not count or tenths_sum is None:
        return None
    return round1(Decimal(int(tenths_sum)) / 10 / count)


def month_label(month: datetime.date) -> str:
    return _("{year}年{month}月").format(year=month.year, month=month.month)


def scale_labels() -> list[str]:
    return [_(label) for label, _score in SCALE_LEVELS]




# ---- indices ----------------------------------------------------------------------------------------------------


def compute_indices(month, *, orgs=None) -> int:
    """(Re)write the month's SatisfactionIndex rows from the responses, set-based: one aggregate query grouped by
    organization and survey kind, one UPSERT, one DELETE of rows left without responses (and without a ticket).

    ``orgs`` (ids or organizations) limits the work to those organizations. The mean is summed in tenths of a
    point (exact on SQLite's floating point too) and rounded half up in Decimal; ``share_satisfied`` is the share
    of scored responses at or above SATISFIED_AT; ``threshold`` the lowest threshold of the surveys of that kind
    answered for the organization that month. Returns the number of rows written."""
    month = month_start(month)
    org_ids = None if orgs is None else [getattr(o, "pk", o) for o in orgs]
    responses = SurveyResponse.objects.filter(month=month, survey__state__in=(SurveyState.OPEN, SurveyState.CLOSED))
    if org_ids is not None:
        responses = responses.filter(org_id__in=org_ids)
    rows = (responses.values("org_id", "survey__kind").order_by()
            .annotate(n=Count("id"), scored=Count("score"), tenths=tenths(),
                      satisfied=Count("id", filter=Q(score__gte=SATISFIED_AT)), threshold=Min("survey__threshold")))
    indices = []
    for r in rows:
        scored = r["scored"]
        mean = share = None
        if scored:
            mean = mean_of(r["tenths"], scored)
            share = round1(Decimal(r["satisfied"]) * HUNDRED / scored)
        indices.append(SatisfactionIndex(org_id=r["org_id"], month=month, kind=r["survey__kind"], responses=r["n"],
                                         mean_score=mean, share_satisfied=share, threshold=round1(r["threshold"])))
    with transaction.atomic():
        if indices:
            SatisfactionIndex.objects.bulk_create(
                indices, update_conflicts=True, unique_fields=["org", "month", "kind"],
                update_fields=["responses", "mean_score", "share_satisfied", "threshold", "computed_at"])
        stale = SatisfactionIndex.objects.filter(month=month, ticket__isnull=True)
        if org_ids is not None:
            stale = stale.filter(org_id__in=org_ids)
        kept = Q()
        for ix in indices:
            kept |= Q(org_id=ix.org_id, kind=ix.kind)
        if indices and len(indices) <= 500:
            stale = stale.exclude(kept)
        elif indices:  # many rows: exclude through the responses themselves (still one statement)
            stale = stale.exclude(org_id__in=responses.values("org_id"))
        stale.delete()
    return len(indices)


def _min_responses(index_rows: list[SatisfactionIndex]) -> dict[tuple[int, str], int]:
    """The smallest ``min_responses`` of the surveys answered for each (org, kind) of the rows' month."""
    if not index_rows:
        return {}
    month = index_rows[0].month
    rows = (SurveyResponse.objects.filter(month=month, org_id__in={ix.org_id for ix in index_rows})
            .values("org_id", "survey__kind").order_by().annotate(m=Min("survey__min_responses")))
    return {(r["org_id"], r["survey__kind"]): r["m"] for r in rows}


def lowest_topics(org_id: int, month: datetime.date, kind: str, limit: int = 3) -> list[tuple[str, Decimal]]:
    """The weakest topics (关注方面; the question's text where it names none) of an organization's month."""
    rows = (Answer.objects.filter(response__org_id=org_id, response__month=month, response__survey__kind=kind,
                                  question__kind=QKind.SCALE, score__isnull=False)
            .values("question__topic", "question__text").order_by()
            .annotate(t=tenths(), n=Count("id")))
    merged: dict[str, list[int]] = {}
    for r in rows:
        name = r["question__topic"] or r["question__text"][:20]
        acc = merged.setdefault(name, [0, 0])
        acc[0] += int(r["t"] or 0)
        acc[1] += r["n"]
    means = sorted(((name, mean_of(t, n)) for name, (t, n) in merged.items()), key=lambda x: (x[1], x[0]))
    return means[:limit]


def _ticket_text(ix: SatisfactionIndex, org: Organization) -> tuple[str, str]:
    kind = _(SurveyKind(ix.kind).label)
    title = _("{kind}偏低：{month} {score}分").format(kind=kind, month=month_label(ix.month), score=ix.mean_score)
    lines = [_("{org}{month}{kind}指数为{score}分，低于预警线{threshold}分（有效样本{n}份，满意率{share}%）。").format(
        org=org.name, month=month_label(ix.month), kind=kind, score=ix.mean_score, threshold=ix.threshold,
        n=ix.responses, share=ix.share_satisfied)]
    topics = lowest_topics(ix.org_id, ix.month, ix.kind)
    if topics:
        lines.append(_("得分最低的方面：{items}。").format(
            items="、".join(_("{name}{score}分").format(name=n, score=s) for n, s in topics)))
    lines.append(_("请分析原因、制定整改措施，并在整改后回访客户。"))
    return title, "\n".join(lines)


def open_low_tickets(month, *, orgs=None) -> list:
    """Open one ticket (origin 满意度偏低) for every index of the month whose mean is below its threshold, with at
    least the surveys' minimum number of responses, and without a ticket yet. Idempotent: the index row is locked
    and checked again before its ticket is opened, so re-running (or two runs at once) opens nothing new."""
    month = month_start(month)
    candidates = SatisfactionIndex.objects.filter(month=month, ticket__isnull=True, mean_score__isnull=False,
                                                  threshold__isnull=False, mean_score__lt=F("threshold"))
    if orgs is not None:
        candidates = candidates.filter(org_id__in=[getattr(o, "pk", o) for o in orgs])
    candidates = list(candidates.select_related("org"))
    minimum = _min_responses(candidates)
    opened = []
    due = timezone.localdate() + datetime.timedelta(days=30)
    for ix in candidates:
        if ix.responses < minimum.get((ix.org_id, ix.kind), 1):
            continue
        with transaction.atomic():
            locked = SatisfactionIndex.objects.select_for_update().filter(pk=ix.pk).order_by("pk").first()
            if locked is None or Ticket.objects.filter(index_id=ix.pk).exists():
                continue
            title, description = _ticket_text(ix, ix.org)
            opened.append(open_ticket(None, ix.org, origin=Origin.SURVEY, index=locked, title=title,
                                      description=description, due_date=due))
    return opened


def refresh(month, *, orgs=None) -> tuple[int, int]:
    """Indices of the month, then their tickets: (rows written, tickets opened)."""
    n = compute_indices(month, orgs=orgs)
    return n, len(open_low_tickets(month, orgs=orgs))


def refresh_survey(survey: Survey) -> tuple[int, int]:
    """Every month the survey was answered in, for the organizations it was answered about."""
    months = list(SurveyResponse.objects.filter(survey=survey).values_list("month", flat=True).distinct()
                  .order_by("month"))
    org_ids = list(SurveyResponse.objects.filter(survey=survey).values_list("org_id", flat=True).distinct()
                   .order_by("org_id"))
    written = opened = 0
    for month in months:
        n, t = refresh(month, orgs=org_ids)
        written, opened = written + n, opened + t
    return written, opened


def recompute_survey(user, survey: Survey) -> tuple[int, int]:
    """The "重新计算" button: the survey's months again, with an audit event."""
    require(user, "survey.manage", survey.owner.path)
    written, opened = refresh_survey(survey)
    with transaction.atomic():
        log_action(user, "survey.recomputed", survey, org_path=survey.owner.path, indices=written, tickets=opened)
    return written, opened


# ---- results ----------------------------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    counts: list[tuple[str, int, Decimal]]  # (label, answers, % of the question's answers)
    answered: int
    mean: Decimal | None = None


def question_results(survey: Survey, responses) -> list[QuestionResult]:
    """Per question: how many chose each level or option (one grouped query for scale/choice, one for multi),
    and a scale question's mean."""
    questions = list(survey.questions.order_by("order", "id"))
    answers = Answer.objects.filter(response__in=responses.values("pk"))
    grouped: dict[tuple[int, int], int] = {}
    for r in (answers.filter(choice__isnull=False).values("question_id", "choice").order_by()
              .annotate(n=Count("id"))):
        grouped[(r["question_id"], r["choice"])] = r["n"]
    answered = {r["question_id"]: (r["n"], mean_of(r["t"], r["scored"])) for r in
                answers.values("question_id").order_by().annotate(n=Count("id"), scored=Count("score"), t=tenths())}
    multi_ids = [q.pk for q in questions if q.kind == QKind.MULTI]
    if multi_ids:
        for qid, picks in answers.filter(question_id__in=multi_ids).values_list("question_id", "choices"):
            for i in picks or []:
                grouped[(qid, i)] = grouped.get((qid, i), 0) + 1
    out = []
    for q in questions:
        n, mean = answered.get(q.pk, (0, None))
        if q.kind == QKind.TEXT:
            out.append(QuestionResult(q, [], n))
            continue
        labels = scale_labels() if q.kind == QKind.SCALE else q.options
        counts = []
        for i, label in enumerate(labels):
            c = grouped.get((q.pk, i), 0)
            counts.append((label, c, round1(Decimal(c) * HUNDRED / n) if n else Decimal("0.0")))
        out.append(QuestionResult(q, counts, n, mean if q.kind == QKind.SCALE else None))
    return out


def topic_means(responses) -> list[tuple[str, Decimal, int]]:
    """(topic, mean, answers) over the responses' scale answers, weakest first."""
    rows = (Answer.objects.filter(response__in=responses.values("pk"), question__kind=QKind.SCALE,
                                  score__isnull=False).exclude(question__topic="")
            .values("question__topic").order_by().annotate(t=tenths(), n=Count("id")))
    return sorted(((r["question__topic"], mean_of(r["t"], r["n"]), r["n"]) for r in rows),
                  key=lambda x: (x[1], x[0]))


def org_results(responses):
    """Per organization: responses, mean score and share satisfied (one grouped query)."""
    rows = (responses.values("org_id", "org__name", "org__path").order_by("org__path")
            .annotate(n=Count("id"), scored=Count("score"), tenths=tenths(),
                      satisfied=Count("id", filter=Q(score__gte=SATISFIED_AT))))
    out = []
    for r in rows:
        mean = share = None
        if r["scored"]:
            mean = mean_of(r["tenths"], r["scored"])
            share = round1(Decimal(r["satisfied"]) * HUNDRED / r["scored"])
        out.append({"org_id": r["org_id"], "name": r["org__name"], "responses": r["n"], "mean": mean,
                    "share": share})
    return out


def answer_text(question: Question, answer: Answer | None) -> str:
    """An answer as a spreadsheet cell shows it."""
    if answer is None:
        return ""
    if question.kind == QKind.TEXT:
        return answer.text
    if question.kind == QKind.SCALE:
        labels = scale_labels()
        return labels[answer.choice] if answer.choice is not None and answer.choice < len(labels) else ""
    opts = question.options
    if question.kind == QKind.CHOICE:
        return opts[answer.choice] if answer.choice is not None and answer.choice < len(opts) else ""
    return "、".join(opts[i] for i in answer.choices if i < len(opts))

