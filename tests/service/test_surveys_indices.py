"""Satisfaction indices (set-based, per organization, month and kind) and the tickets a low index opens by itself:
the figures, rounding half up, the threshold edge, the minimum sample, idempotence, the command and the demo."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from dangjian.core.access import AccessDenied
from dangjian.service import surveys as svc
from dangjian.service.models import (
    Answer,
    Origin,
    QKind,
    SatisfactionIndex,
    SurveyKind,
    SurveyResponse,
    SurveyState,
    Ticket,
)

MONTH = datetime.date(2026, 10, 1)


def make_open_survey(c, *, kind=SurveyKind.CUSTOMER, threshold="80", min_responses=3, orgs=None, **kw):
    survey = svc.create_survey(c.staff, c.committee, title="客户满意度调查", kind=kind, threshold=Decimal(threshold),
                               min_responses=min_responses, **kw)
    svc.add_question(c.staff, survey, kind=QKind.SCALE, text="供电质量", topic="供电质量")
    svc.add_question(c.staff, survey, kind=QKind.SCALE, text="服务态度", topic="服务态度")
    svc.add_question(c.staff, survey, kind=QKind.TEXT, text="意见建议", required=False)
    svc.add_links(c.staff, survey, orgs=orgs or [c.branch_a, c.branch_b])
    return svc.open_survey(c.staff, survey)


def add_responses(survey, org, levels_list, month=MONTH):
    """Responses stored directly (the public path is tested elsewhere): each item is the scale levels chosen."""
    link = survey.links.get(org=org, area=None)
    scale = list(survey.questions.filter(kind=QKind.SCALE).order_by("order"))
    for levels in levels_list:
        scores = [svc.SCALE_LEVELS[i][1] for i in levels]
        known = [s for s in scores if s is not None]
        score = svc.round1(sum(known) / len(known)) if known else None
        r = SurveyResponse.objects.create(survey=survey, link=link, org=org, month=month, score=score)
        Answer.objects.bulk_create([Answer(response=r, question=q, choice=i, score=s)
                                    for q, i, s in zip(scale, levels, scores, strict=False)])


def test_index_figures_are_computed_per_org_month_and_kind(company):
    c = company
    s = make_open_survey(c)
    # branch A: 100, 90, 60 -> mean 83.3, satisfied 2 of 3; branch B: 不清楚 only -> counted, not scored
    add_responses(s, c.branch_a, [(0, 0), (0, 1), (1, 2)])
    add_responses(s, c.branch_b, [(4, 4)])
    assert svc.compute_indices(MONTH) == 2
    a = SatisfactionIndex.objects.get(org=c.branch_a, month=MONTH, kind="customer")
    assert (a.responses, a.mean_score, a.share_satisfied, a.threshold) == (3, Decimal("83.3"), Decimal("66.7"),
                                                                            Decimal("80.0"))
    b = SatisfactionIndex.objects.get(org=c.branch_b)
    assert (b.responses, b.mean_score, b.share_satisfied) == (1, None, None)


def test_mean_is_rounded_half_up(company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 0), (0, 0)])
    first, second = SurveyResponse.objects.filter(org=c.branch_a).order_by("pk")
    SurveyResponse.objects.filter(pk=first.pk).update(score=Decimal("72.4"))
    SurveyResponse.objects.filter(pk=second.pk).update(score=Decimal("72.5"))
    svc.compute_indices(MONTH)
    ix = SatisfactionIndex.objects.get(org=c.branch_a)
    assert ix.mean_score == Decimal("72.5")  # 72.45 rounds half up (banker's rounding would give 72.4)
    assert ix.share_satisfied == Decimal("0.0")


def test_low_index_opens_one_ticket_and_rerunning_opens_nothing_new(company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(1, 2), (2, 2), (1, 1)])  # 60, 40, 80 -> 60.0
    add_responses(s, c.branch_b, [(0, 0), (0, 0), (0, 1)])  # high
    assert svc.refresh(MONTH) == (2, 1)
    ticket = Ticket.objects.get()
    assert ticket.org == c.branch_a and ticket.origin == Origin.SURVEY
    assert ticket.index == SatisfactionIndex.objects.get(org=c.branch_a)
    assert ticket.title == "客户满意度偏低：2026年10月 60.0分"
    assert "服务态度" in ticket.description and "预警线80.0分" in ticket.description
    assert svc.refresh(MONTH) == (2, 0)
    call_command("compute_satisfaction", "--month", "2026-10")
    assert Ticket.objects.count() == 1
    # more low responses later: the same index row, still one ticket
    add_responses(s, c.branch_a, [(3, 3)])
    svc.refresh(MONTH)
    assert Ticket.objects.count() == 1
    assert SatisfactionIndex.objects.get(org=c.branch_a).mean_score == Decimal("45.0")


def test_threshold_edge_and_minimum_sample(company):
    c = company
    s = make_open_survey(c, min_responses=3)
    add_responses(s, c.branch_a, [(1, 1), (1, 1), (1, 1)])  # exactly 80.0: not below
    add_responses(s, c.branch_b, [(2, 2), (2, 2)])  # 40.0 but only 2 responses
    svc.refresh(MONTH)
    assert not Ticket.objects.exists()
    add_responses(s, c.branch_b, [(2, 2)])  # the third response: now it counts
    svc.refresh(MONTH)
    assert list(Ticket.objects.values_list("org", flat=True)) == [c.branch_b.pk]


def test_threshold_is_the_lowest_of_the_kinds_surveys(company):
    c = company
    s1 = make_open_survey(c, threshold="90")
    s2 = make_open_survey(c, threshold="70")
    add_responses(s1, c.branch_a, [(1, 1)] * 3)  # 80
    add_responses(s2, c.branch_a, [(1, 1)] * 3)
    svc.refresh(MONTH)
    ix = SatisfactionIndex.objects.get(org=c.branch_a)
    assert (ix.threshold, ix.responses, ix.mean_score) == (Decimal("70.0"), 6, Decimal("80.0"))
    assert not Ticket.objects.exists()


def test_kinds_are_kept_apart_and_orgs_limit_the_work(company):
    c = company
    cust = make_open_survey(c)
    gov = make_open_survey(c, kind=SurveyKind.GOVERNMENT, threshold="85")
    add_responses(cust, c.branch_a, [(0, 0)] * 3)
    add_responses(gov, c.branch_a, [(1, 1)] * 3)
    add_responses(cust, c.branch_b, [(0, 0)])
    svc.compute_indices(MONTH, orgs=[c.branch_a])
    assert set(SatisfactionIndex.objects.values_list("org", "kind")) == {(c.branch_a.pk, "customer"),
                                                                          (c.branch_a.pk, "government")}
    svc.open_low_tickets(MONTH)
    assert Ticket.objects.get().title.startswith("政府满意度偏低")


def test_compute_is_set_based(company):
    """The number of queries does not grow with the number of organizations."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_org

    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 0)] * 3)
    add_responses(s, c.branch_b, [(1, 0)] * 3)
    with CaptureQueriesContext(connection) as small:
        svc.compute_indices(MONTH)
    more = [make_org(f"供电所{i}党支部", parent=c.general) for i in range(8)]
    svc.add_links(c.staff, s, orgs=more)
    for org in more:
        add_responses(s, org, [(0, 1)] * 2)
    with CaptureQueriesContext(connection) as large:
        assert svc.compute_indices(MONTH) == 10
    assert len(large) == len(small) <= 8


def test_close_recomputes_and_opens_the_ticket(company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(2, 2)] * 3)
    svc.close_survey(c.staff, s)
    s.refresh_from_db()
    assert s.state == SurveyState.CLOSED
    assert Ticket.objects.filter(org=c.branch_a, origin=Origin.SURVEY).count() == 1


def test_recompute_needs_survey_manage(company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(0, 0)])
    with pytest.raises(AccessDenied):
        svc.recompute_survey(c.secretary_a, s)
    assert not SatisfactionIndex.objects.exists()
    assert svc.recompute_survey(c.staff, s) == (1, 0)


def test_command_defaults_to_this_and_last_month(company, capsys):
    c = company
    s = make_open_survey(c)
    this = svc.month_start(timezone.localdate())
    add_responses(s, c.branch_a, [(0, 0)], month=this)
    call_command("compute_satisfaction")
    assert SatisfactionIndex.objects.filter(month=this).count() == 1
    assert "2026-" in capsys.readouterr().out


def test_bad_month_for_the_command(company):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("compute_satisfaction", "--month", "2026-13")


def test_demo_surveys_open_a_ticket_by_themselves(company):
    from dangjian.service.demo_surveys import ensure_demo_surveys

    c = company
    today = datetime.date(2026, 11, 20)
    ensure_demo_surveys(c.committee, c.staff, random.Random(7), today)
    first = (SurveyResponse.objects.count(), SatisfactionIndex.objects.count(), Ticket.objects.count())
    assert first[0] > 50 and first[1] >= 4 and first[2] >= 1
    ensure_demo_surveys(c.committee, c.staff, random.Random(7), today)  # idempotent
    assert (SurveyResponse.objects.count(), SatisfactionIndex.objects.count(), Ticket.objects.count()) == first
