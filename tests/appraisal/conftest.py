"""Fixtures of the member evaluation (tests/appraisal): a small member standard set built here (so these tests
do not depend on the shipped default set), a month opened for the committee, and a month published for branch A.

The set, scheme "base 80 + bonus capped at 20 − deductions, floor 0, pass mark 60":
    B1 base 40 按时参加组织生活 (source meeting_absent, −10 per miss)      politics
    B2 base 20 按月交纳党费 (source dues_missing, all at the first miss)   rules
    B3 base 20 履行岗位职责                                                 dedication
    J1 bonus 2 per occurrence, month cap 6, year cap 10 讲党课              politics
    J2 bonus 5 抢修保电, evidence required                                  central
    J3 bonus 1 per hour of service, month cap 8 (source service_hours)     dedication
    K1 deduction 3 违反安全规定, month cap 6                                rules
    V1 veto 受到党纪处分                                                    rules
with bonus_cap 10 and a 5-point cap on the 中心工作 dimension.
"""

import datetime
from decimal import Decimal

import pytest

from dangjian.appraisal import services
from dangjian.standards.models import MemberItem, MemberStandardSet, SetStatus

D = Decimal

ITEMS = [
    # code, part, dimension, text, points, per_miss, month_cap, year_cap, source, evidence
    ("B1", "base", "politics", "按时参加组织生活", "40", "10", None, None, "meeting_absent", False),
    ("B2", "base", "rules", "按月足额交纳党费", "20", None, None, None, "dues_missing", False),
    ("B3", "base", "dedication", "履行岗位职责", "20", None, None, None, "", False),
    ("J1", "bonus", "politics", "讲授党课或微党课", "2", None, "6", "10", "", False),
    ("J2", "bonus", "central", "参加抢修保电", "5", None, None, None, "", True),
    ("J3", "bonus", "dedication", "志愿服务（每小时）", "1", None, "8", None, "service_hours", False),
    ("K1", "deduction", "rules", "违反安全规定", "3", None, "6", None, "", False),
    ("V1", "veto", "rules", "受到党纪处分", "0", None, None, None, "", False),
]


def make_member_set(owner, year=2026, **settings) -> MemberStandardSet:
    defaults = dict(bonus_cap=D("10"), floor=D("0"), pass_mark=D("60"), dimension_caps={"central": "5"})
    defaults.update(settings)
    ms = MemberStandardSet.objects.create(owner=owner, year=year, name=f"{year}年党员量化评价标准",
                                          status=SetStatus.PUBLISHED, **defaults)
    for order, (code, part, dim, text, pts, per_miss, mcap, ycap, source, ev) in enumerate(ITEMS):
        MemberItem.objects.create(
            standard_set=ms, code=code, part=part, dimension=dim, text=text, points=D(pts),
            per_miss=D(per_miss) if per_miss else None, month_cap=D(mcap) if mcap else None,
            year_cap=D(ycap) if ycap else None, source=source, evidence_required=ev, order=order)
    return ms


@pytest.fixture
def member_set(company):
    return make_member_set(company.committee)


def open_month(company, month="2026-10"):
    start = services.month_start(month)
    return services.open_period(company.staff, company.committee, month, self_due=start + datetime.timedelta(days=24),
                                determine_due=start + datetime.timedelta(days=27))


@pytest.fixture
def appraisal_period(company, member_set):
    return open_month(company)


def line(evaluation, code):
    return evaluation.lines.select_related("item", "evaluation").get(item__code=code)


@pytest.fixture
def eval_a(appraisal_period, company):
    """Member A's month (member_user_a is its member)."""
    return appraisal_period.evaluations.get(member=company.member_a)


def determine_all(user, period, org):
    from dangjian.appraisal.models import AState

    for ev in period.evaluations.filter(org=org, exempt=False).exclude(state=AState.DETERMINED):
        services.move(user, ev, AState.DETERMINED)


@pytest.fixture
def published_month(company, appraisal_period):
    """Branch A's October published: member A claimed a 党课 (J1 ×1) and was determined with it; the secretary's
    own month taken as reported."""
    from dangjian.appraisal import close
    from dangjian.appraisal.models import AState

    ev = appraisal_period.evaluations.get(member=company.member_a)
    services.save_self_line(company.member_user_a, line(ev, "J1"), 1, claim="10月讲授微党课一次")
    services.move(company.member_user_a, ev, AState.SELF_EVALUATED)
    determine_all(company.secretary_a, appraisal_period, company.branch_a)
    close.publish_branch(company.secretary_a, appraisal_period, company.branch_a)
    return appraisal_period
