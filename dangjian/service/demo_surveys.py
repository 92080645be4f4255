"""Demo surveys: a customer satisfaction survey (from the shipped template) answered about the 供电所 branches for
the last four months — mostly 满意/比较满意, one branch low in the latest month so its ticket opens by itself — and
a government survey with invitation codes. Deterministic for a given ``rng`` and ``today``; a second call changes
nothing. Responses and answers are inserted with bulk_create; the indices are computed set-based afterwards."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dangjian.core.dates import month_start
from dangjian.orgs.models import Level, Organization
from dangjian.service import surveys
from dangjian.service.models import (
    SCALE_LEVELS,
    Answer,
    QKind,
    Survey,
    SurveyInvitation,
    SurveyLink,
    SurveyResponse,
)

MONTHS = 4
# weights of 满意 / 比较满意 / 不太满意 / 不满意 / 不清楚
GOOD = (62, 28, 5, 1, 4)
LOW = (18, 34, 32, 12, 4)
SUGGESTIONS = [
    "希望停电能提前多通知几天，最好短信提醒。", "抢修师傅来得很快，点赞！", "营业厅排队时间有点长。",
    "电费账单能不能写得更清楚一些。", "网格经理服务很热情，有问题随叫随到。", "夏天傍晚电压偏低，空调启动困难。",
    "新装表办理比以前快多了。", "希望增加村里的便民服务点。",
]
GOV_GOOD = (70, 25, 3, 0, 2)
GOV_SUGGESTIONS = ["希望加快产业园区配套电网建设。", "迎峰度夏期间保障有力，值得肯定。", "建议加强重大项目用电信息的提前沟通。"]


def _branches(root: Organization) -> list[Organization]:
    """The 供电所 branches of the subtree (by name), else the production-type branches; then the business
    branches (营业厅, 客户服务中心), whose item ZY-33 is scored from the customer index."""
    base = Organization.objects.subtree(root.path).filter(level=Level.BRANCH, archived=False).order_by("path")
    stations = list(base.filter(name__contains="供电所")) or list(base.filter(type__code="production"))[:4]
    return stations + [o for o in base.filter(type__code="business") if o not in stations]


def _months(today: datetime.date) -> list[datetime.date]:
    months = [month_start(today)]
    while len(months) < MONTHS:
        months.insert(0, month_start(months[0] - datetime.timedelta(days=1)))
    return months


def _answers(questions, rng, weights, suggestions) -> tuple[list[tuple], Decimal | None]:
    """(question, choice, choices, text, score) of one made-up response, and its score."""
    out, scores = [], []
    for q in questions:
        if q.kind == QKind.SCALE:
            i = rng.choices(range(len(SCALE_LEVELS)), weights=weights)[0]
            score = SCALE_LEVELS[i][1]
            out.append((q, i, [], "", score))
            if score is not None:
                scores.append(score)
        elif q.kind == QKind.CHOICE and rng.random() < 0.8:
            out.append((q, rng.randrange(len(q.options)), [], "", None))
        elif q.kind == QKind.MULTI and rng.random() < 0.7:
            out.append((q, None, sorted(rng.sample(range(len(q.options)), rng.randint(1, 2))), "", None))
        elif q.kind == QKind.TEXT and rng.random() < 0.25:
            out.append((q, None, [], rng.choice(suggestions), None))
    return out, (surveys.round1(sum(scores) / len(scores)) if scores else None)


def _fill(survey: Survey, plan: list[tuple[SurveyLink, datetime.date, int, tuple]], rng, suggestions,
          today: datetime.date, invitations: dict[int, list[SurveyInvitation]] | None = None) -> None:
    """Insert the planned responses (link, month, count, weights) with their answers in bulk."""
    made = []
    questions = list(survey.questions.order_by("order", "id"))
    for link, month, count, weights in plan:
        pool = (invitations or {}).get(link.pk, [])
        for _i in range(count):
            answers, score = _answers(questions, rng, weights, suggestions)
            invitation = pool.pop() if pool else None
            made.append((SurveyResponse(survey=survey, link=link, org_id=link.org_id, area_id=link.area_id,
                                        invitation=invitation, month=month, score=score), answers))
    responses = SurveyResponse.objects.bulk_create([r for r, _a in made], batch_size=500)
    Answer.objects.bulk_create([Answer(response=r, question=q, choice=ch, choices=chs, text=t, score=s)
                                for r, (_x, answers) in zip(responses, made, strict=True)
                                for q, ch, chs, t, s in answers], batch_size=1000)
    used = [r.invitation_id for r in responses if r.invitation_id]
    # submitted_at is set on insert; put each month's responses back in their month (one UPDATE per month).
    for month in sorted({m for _l, m, _c, _w in plan}):
        day = min(max(today.day - 1, 1), 15) if month == month_start(today) else 15
        at = timezone.make_aware(datetime.datetime(month.year, month.month, day, 10, 0))
        SurveyResponse.objects.filter(survey=survey, month=month).update(submitted_at=at)
        SurveyInvitation.objects.filter(pk__in=used, response__month=month).update(used_at=at)


@transaction.atomic
def ensure_demo_surveys(root_org: Organization, staff_user, rng, today: datetime.date | None = None) -> list[Survey]:
    """The two demo surveys of ``root_org`` (made once; a second call returns them unchanged)."""
    today = today or timezone.localdate()
    existing = list(Survey.objects.filter(owner=root_org, title__startswith="【示范】"))
    if existing:
        return existing
    months = _months(today)
    branches = _branches(root_org)

    customer = surveys.create_from_template(staff_user, root_org, "customer",
                                            title="【示范】供电服务客户满意度调查")
    surveys.update_survey(staff_user, customer, min_responses=10, opens_on=months[0])
    surveys.add_links(staff_user, customer, orgs=branches)
    surveys.open_survey(staff_user, customer)
    links = list(customer.links.select_related("org").order_by("org__path"))
    # the last 供电所 (or production branch) slips in the latest month
    low = next((link for link in reversed(links) if "供电所" in link.org.name), links[-1] if links else None)
    plan = []
    for link in links:
        for month in months:
            weights = LOW if link is low and month == months[-1] else GOOD
            plan.append((link, month, rng.randint(22, 36), weights))
    _fill(customer, plan, rng, SUGGESTIONS, today)

    government = surveys.create_from_template(staff_user, root_org, "government",
                                              title="【示范】政府满意度调查")
    surveys.update_survey(staff_user, government, one_per_invitation=True, min_responses=5, opens_on=months[1])
    committees = list(Organization.objects.subtree(root_org.path)
                      .filter(level=Level.COMMITTEE, archived=False).order_by("path"))
    surveys.add_links(staff_user, government, orgs=committees)
    surveys.open_survey(staff_user, government)
    gov_links = list(government.links.order_by("org__path"))
    pools = {lk.pk: surveys.create_invitations(staff_user, lk, 40) for lk in gov_links}
    gov_plan = [(lk, month, rng.randint(6, 9), GOV_GOOD) for lk in gov_links for month in months[1:]]
    _fill(government, gov_plan, rng, GOV_SUGGESTIONS, today, invitations=pools)

    for month in months:
        surveys.refresh(month)
    return [customer, government]
