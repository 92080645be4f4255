"""The demo of teams and projects: a team per 供电所 branch with hours written through the services, activities
skipped in published months, three projects with milestones and values; deterministic and run-once."""

import datetime
import random

from dangjian.appraisal.models import ServiceRecord
from dangjian.service.demo_teams import ensure_demo_teams
from dangjian.service.models import Indicator, Project, ServiceActivity, ServiceParticipation, ServiceTeam
from tests.factories import make_member, make_org
from tests.service.test_teams import publish_month


def _stations(company):
    out = []
    for i, name in enumerate(("城关供电所党支部", "东湖供电所党支部")):
        org = make_org(name, parent=company.general, code=f"S00{i}")
        for k in range(8):
            make_member(org, f"{name[:2]}队员{'甲乙丙丁戊己庚辛'[k]}")
        out.append(org)
    return out


def test_demo_builds_teams_activities_and_projects(company):
    stations = _stations(company)
    today = datetime.date(2026, 11, 20)
    stats = ensure_demo_teams(company.committee, company.staff, random.Random(7), today)
    assert stats["teams"] == 2 and stats["projects"] == 3 and stats["activities"] > 0
    for team in ServiceTeam.objects.all():
        assert 6 <= team.memberships.count() <= 8 and team.leader is not None
    # every participant's hours are a service record from the team
    assert ServiceParticipation.objects.count() == ServiceRecord.objects.filter(source="服务队").count() > 0
    assert not ServiceActivity.objects.filter(date__gt=today).exists()
    pv = Project.objects.get(kind="pv_poverty")
    income = Indicator.objects.get(project=pv, name="年度累计发电收益")
    assert income.target == 190000 and income.values.count() == 10  # Jan–Oct month ends
    assert Project.objects.get(kind="service_point").org == stations[0]
    # run again: nothing changes
    assert ensure_demo_teams(company.committee, company.staff, random.Random(7), today)["teams"] == 0
    assert ServiceTeam.objects.count() == 2


def test_demo_skips_published_months(company):
    org = make_org("城关供电所党支部", parent=company.general, code="S100")
    for k in range(8):
        make_member(org, f"队员{'甲乙丙丁戊己庚辛'[k]}")
    publish_month(company, "2026-10", org=org)
    ensure_demo_teams(company.committee, company.staff, random.Random(3), datetime.date(2026, 11, 20))
    acts = ServiceActivity.objects.filter(team__org=org)
    assert acts.exists()
    assert not acts.filter(date__gte=datetime.date(2026, 10, 1), date__lt=datetime.date(2026, 11, 1)).exists()
    assert acts.filter(date__gte=datetime.date(2026, 11, 1)).exists() or acts.filter(
        date__lt=datetime.date(2026, 10, 1)).exists()
