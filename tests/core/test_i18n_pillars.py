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


# ---- the Excel import of organizations and members ------------------------------------------------------


def _import_columns() -> list[str]:
    """The templates' column titles and the values their cells take: the file format, Chinese in every language."""
    from dangjian.orgs import imports

    titles = [c.title for kind in imports.KINDS.values() for c in kind.columns]
    return titles + imports.LEVEL_WORDS + imports.GENDER_WORDS + imports.STATUS_WORDS


def _xlsx(kind, rows, name):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    from dangjian.orgs import imports

    wb = Workbook()
    ws = wb.active
    ws.append(imports.KINDS[kind].headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


def test_import_home_in_english(english, company):
    english.force_login(company.staff)
    html = page(english, "orgs:import_home")
    assert "Import Party organizations" in html and "Import Party members" in html
    assert "Download template" in html and "Create Party committees, general branches and branches in bulk" in html
    # The columns are listed as they must appear in the file, each followed by its English label.
    assert "组织编码<span class=\"text-danger\">*</span> (Organization code), 组织名称" in html
    assert leftover_chinese(html, data_strings() + _import_columns()) == []


def test_import_problems_in_english(english, company):
    """A members file and an organizations file with errors: the report is English, nothing is imported."""
    from dangjian.orgs.models import Member, Organization

    english.force_login(company.staff)
    before = Organization.objects.count(), Member.objects.count()
    orgs = [
        ["B100", "Alpha", "支部", "", "NOPE", None, None, ""],
        ["B100", "Beta", "党支部", "生产类", "G001", "2020-02-30", None, ""],
        ["", "", "党支部", "生产类", "", None, None, "x" * 201],
    ]
    url = reverse("orgs:import_upload", args=["orgs"])
    resp = english.post(url, {"file": _xlsx("orgs", orgs, "orgs.xlsx")})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-testid="import-errors"' in html
    assert "The file “orgs.xlsx” has 3 data rows with" in html and "nothing was imported" in html
    assert "Row 2: Level &quot;支部&quot; is not valid; use 党委, 党总支 or 党支部." in html
    assert "Row 2: Parent organization code &quot;NOPE&quot; does not exist or is outside your scope." in html
    assert "Row 3: Organization code &quot;B100&quot; repeats row 2." in html
    assert "Row 3: &quot;2020-02-30&quot; is not a valid date" in html
    assert "Row 4: Organization code is required." in html
    assert "Row 4: Activity venue may have at most 200 characters (it has 201)." in html
    assert leftover_chinese(html, data_strings() + _import_columns() + ["支部"]) == []  # 支部: what the row holds

    members = [["Li Si", "男", datetime.date(1990, 3, 7), 1.1e17, "", "B999", datetime.date(2015, 7, 1), None,
                "正式", "", "", ""]]
    resp = english.post(reverse("orgs:import_upload", args=["members"]),
                        {"file": _xlsx("members", members, "members.xlsx")})
    html = resp.content.decode()
    assert "Excel saved the ID card number as a number" in html
    assert "Party branch code &quot;B999&quot; does not exist or is outside your scope." in html
    assert leftover_chinese(html, data_strings() + _import_columns()) == []
    assert (Organization.objects.count(), Member.objects.count()) == before


def test_import_header_error_and_success_in_english(english, company):
    from dangjian.orgs.models import Organization

    english.force_login(company.staff)
    url = reverse("orgs:import_upload", args=["orgs"])
    bad = _xlsx("members", [["x"]], "wrong.xlsx")  # a members file uploaded as organizations
    html = english.post(url, {"file": bad}).content.decode()
    assert 'data-testid="import-file-error"' in html
    assert "The header does not match the Party organizations import template: column 1 should be" in html
    assert leftover_chinese(html, data_strings() + _import_columns()) == []
    rows = [["B100", "Alpha branch", "党支部", "生产类", "G001", None, None, ""]]
    html = english.post(url, {"file": _xlsx("orgs", rows, "orgs.xlsx")}).content.decode()
    assert "1 Party organization imported." in html and "View Party organizations" in html
    assert leftover_chinese(html, data_strings() + _import_columns()) == []
    assert Organization.objects.filter(code="B100", name="Alpha branch").exists()
