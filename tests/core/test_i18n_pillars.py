"""The member evaluation pillar in English: standard sets, evaluation months, activity records, the public wall and
the year-end appraisal, rendered with real data for the committee's Party-building staff (tests/conftest.py),
with no Chinese left on the page except data. Fixtures and helpers: tests/core/test_i18n.py."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from dangjian.appraisal import activities as act
from dangjian.appraisal import close, yearend
from tests.appraisal.conftest import ITEMS, determine_all, make_member_set, open_month
from tests.core import test_i18n
from tests.core.test_i18n import data_strings, leftover_chinese, navbar

english = test_i18n.english  # the fixture: a client whose session has switched to English

D = datetime.date
MEETING, STUDY, SERVICE = "学习贯彻全会精神", "学习党章第一章", "社区用电安全宣传"


@pytest.fixture
def pillar(company):
    """October 2026 of branch A: a meeting, a study record, dues and volunteer service recorded, the member
    evaluation opened for the committee, branch A rated (as recorded) and published, and branch A's 2026 appraisal computed."""
    c = company
    ms = make_member_set(c.committee)
    act.record_meeting(c.secretary_a, c.branch_a, kind="general", title=MEETING, date=D(2026, 10, 9),
                       attendance={c.member_a.pk: ("leave", "抢修值班")})
    act.add_study_record(c.secretary_a, c.member_a, date=D(2026, 10, 12), title=STUDY, hours=Decimal("2"))
    act.record_dues(c.secretary_a, c.member_a, month="2026-10", amount=Decimal("50"), paid_on=D(2026, 10, 20))
    act.add_service_record(c.secretary_a, c.member_a, date=D(2026, 10, 15), activity=SERVICE, hours=Decimal("3"),
                           people_served=20, source="共产党员服务队")
    period = open_month(c)
    determine_all(c.secretary_a, period, c.branch_a)
    close.publish_branch(c.secretary_a, period, c.branch_a)
    yearend.compute_year(c.staff, c.branch_a, 2026)
    return ms


def data(ms) -> list[str]:
    """Names of people and organizations, plus what the users typed: the set's name and item texts, records."""
    out = data_strings() + [ms.name, MEETING, STUDY, SERVICE, "抢修值班", "共产党员服务队"]
    return out + [text for _, _, _, text, *_ in ITEMS]


def page(client, name, query=""):
    resp = client.get(reverse(name) + query)
    assert resp.status_code == 200, (name, resp.status_code)
    return resp.content.decode()


def test_member_standard_sets_in_english(english, company, pillar):
    english.force_login(company.staff)
    html = page(english, "standards:member_set_list")
    assert "Member standards" in html and "Published" in html and "All issuing committees" in html
    assert leftover_chinese(navbar(html), data(pillar)) == []
    assert leftover_chinese(html, data(pillar)) == []


def test_member_evaluation_months_in_english(english, company, pillar):
    english.force_login(company.staff)
    html = page(english, "appraisal:period_list")
    assert "Open an evaluation month" in html and "Self-assessment / rating due" in html and "Share rated" in html
    assert leftover_chinese(html, data(pillar)) == []


def test_activity_home_in_english(english, company, pillar):
    english.force_login(company.staff)
    html = page(english, "appraisal:activity_home", f"?org={company.branch_a.pk}&month=2026-10")
    assert "Party activities this month" in html and "Previous month" in html and "Paid on time" in html
    assert "Branch general meeting" in html
    assert "has been published; this month's activity records are locked" in html
    assert leftover_chinese(html, data(pillar)) == []


def test_wall_index_in_english(english, company, pillar):
    english.force_login(company.staff)
    html = page(english, "appraisal:wall_index")
    assert "Latest month published" in html and "Not published yet" in html
    assert leftover_chinese(html, data(pillar)) == []


def test_yearend_list_in_english(english, company, pillar):
    english.force_login(company.staff)
    html = page(english, "appraisal:yearend_list", "?year=2026")
    assert "Democratic appraisal of Party members 2026" in html and "Grade distribution" in html
    assert "In appraisal" in html and "Not started" in html
    assert leftover_chinese(html, data(pillar)) == []
