"""《党员量化评价手册》: the PDF (font embedded, Chinese text, one member or a whole branch in one file, no ID number),
who may print whose, the audit, a constant number of queries, the page and the API.

``publish`` writes published months with the ORM the way the close leaves them (evaluation, lines, result), so the
handbook and year-end tests choose every figure; one test runs on a month published by the real close."""

import datetime
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.appraisal import close, handbook
from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    MemberEvaluation,
    MemberLine,
    MemberResult,
    PeriodStatus,
    StudyRecord,
)
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import ApiToken, AuditEvent
from dangjian.orgs.models import Pledge
from tests.appraisal.conftest import make_member_set
from tests.factories import make_member, make_org, make_user

D = Decimal
YEAR = 2025
PLEDGE = "带头落实安全生产责任，全年所辖变电站零误操作。"


# ---- data: published months written as the close leaves them ------------------------------------------------


def publish(ms, owner, rows):
    """Write published months. ``rows``: dicts with member, month (1–12 of ``ms.year``), total and optionally
    vetoed, qualified, rank, size, base/bonus/deduction and lines {code: (self_count, count, reason)}."""
    periods = {}
    for month in sorted({r["month"] for r in rows}):
        start = datetime.date(ms.year, month, 1)
        periods[month] = AppraisalPeriod.objects.get_or_create(
            owner=owner, month=start, defaults=dict(standard_set=ms, self_due=start + datetime.timedelta(days=24),
                                                    determine_due=start + datetime.timedelta(days=27),
                                                    status=PeriodStatus.CLOSED))[0]
    items = list(ms.items.order_by("order"))
    evs = MemberEvaluation.objects.bulk_create([
        MemberEvaluation(period=periods[r["month"]], member=r["member"], org=r["member"].org,
                         org_path=r["member"].org.path, org_name=r["member"].org.name, member_name=r["member"].name,
                         post=r["member"].post, state=AState.DETERMINED, total=D(r["total"]),
                         self_total=D(r["total"]), vetoed=r.get("vetoed", False)) for r in rows])
    lines = []
    for ev, r in zip(evs, rows, strict=True):
        spec = r.get("lines", {})
        for it in items:
            self_count, count, reason = spec.get(it.code, (0, 0, ""))
            sign = -1 if it.part == "deduction" else 1
            if it.part == "base":
                points = it.points - (it.per_miss or it.points) * count if count else it.points
                self_points = it.points - (it.per_miss or it.points) * self_count if self_count else it.points
            else:
                points, self_points = sign * it.points * count, sign * it.points * self_count
            if it.part == "veto":
                points = self_points = D("0")
            lines.append(MemberLine(evaluation=ev, item=it, part=it.part, dimension=it.dimension,
                                    self_count=self_count, self_points=self_points, count=count, points=points,
                                    reason=reason))
    MemberLine.objects.bulk_create(lines)
    MemberEvaluation.objects.filter(pk__in=[e.pk for e in evs]).update(state=AState.PUBLISHED)
    now = timezone.now()
    MemberResult.objects.bulk_create([
        MemberResult(period=ev.period, evaluation=ev, member=r["member"], org=r["member"].org,
                     org_path=r["member"].org.path, org_name=r["member"].org.name, member_name=r["member"].name,
                     month=ev.period.month, base=D(r.get("base", "80")), bonus=D(r.get("bonus", "0")),
                     deduction=D(r.get("deduction", "0")), self_total=D(r["total"]), branch_total=D(r["total"]),
                     total=D(r["total"]), vetoed=r.get("vetoed", False), qualified=r.get("qualified", True),
                     rank=r.get("rank", 1), branch_size=r.get("size", 1), published_at=now)
        for ev, r in zip(evs, rows, strict=True)])
    # The branch months' figures and digests, as the close writes them (the wall and the handbook check them).
    for period in periods.values():
        for org_id, digest in close.engine(period).digests().items():
            mine = MemberResult.objects.filter(period=period, org_id=org_id)
            totals = list(mine.values_list("total", flat=True))
            first = mine.first()
            BranchAggregate.objects.create(
                period=period, org_id=org_id, org_path=first.org_path, month=period.month, count=len(totals),
                avg=(sum(totals) / len(totals)).quantize(D("0.01")), min=min(totals), max=max(totals),
                unqualified=mine.filter(qualified=False).count(), published_at=now, digest=digest)
    return evs


def year_of(member, totals, **extra):
    """Rows for a member: ``totals`` maps month → total (or a dict of row fields)."""
    out = []
    for month, value in totals.items():
        row = {"member": member, "month": month, **extra}
        row.update(value if isinstance(value, dict) else {"total": value})
        out.append(row)
    return out


@pytest.fixture
def handbook_year(company):
    """Member A's 2025: January to October published (a 党课 claimed in March with a reason), a pledge, three
    study records; the secretary's months too."""
    ms = make_member_set(company.committee, year=YEAR)
    rows = year_of(company.member_a, {m: "86.0" for m in range(1, 11)}, size=2)
    rows[2]["lines"] = {"J1": (1, 1, "3月为班组讲授微党课《安全生产与党员担当》")}
    rows[2]["total"] = "88.0"
    rows += year_of(company.secretary_member_a, {m: "84.0" for m in range(1, 11)}, rank=2, size=2)
    publish(ms, company.committee, rows)
    Pledge.objects.create(member=company.member_a, year=YEAR, text=PLEDGE)
    for day, title in ((datetime.date(YEAR, 2, 3), "学习党的二十届三中全会精神"),
                       (datetime.date(YEAR, 5, 9), "《中国共产党纪律处分条例》专题学习"),
                       (datetime.date(YEAR, 9, 1), "安全生产法律法规网络培训")):
        StudyRecord.objects.create(member=company.member_a, date=day, title=title, form="group", hours=D("2"))
    return ms


def pdf_pages(content: bytes, tmp_path) -> list[str]:
    """The text of each page, by poppler's pdftotext (the test needs poppler-utils)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext（poppler-utils）未安装")
    path = tmp_path / "book.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                         check=True).stdout.decode()
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---- the PDF ----------------------------------------------------------------------------------------------------


def test_member_handbook_is_a_pdf_with_the_font_embedded(company, handbook_year):
    content = handbook.member_handbook(company.staff, company.member_a, YEAR)
    assert content.startswith(b"%PDF-")
    assert b"/FontFile2" in content


def test_handbook_shows_cover_oath_pledge_months_study_and_signatures(company, handbook_year, tmp_path):
    pages = pdf_pages(handbook.member_handbook(company.member_user_a, company.member_a, YEAR), tmp_path)
    text = flat("".join(pages))
    cover = flat(pages[0])
    assert "党员量化评价手册" in cover and f"{YEAR}年度" in cover and "张三" in cover
    assert "变电运维党支部" in cover and "运维检修班班长" in cover and "2010年07月01日" in cover
    assert flat(handbook.OATH) in text
    assert PLEDGE in text
    for month in range(1, 13):
        assert f"{YEAR}年{month}月" in text
    assert text.count("未评价") == 2  # November and December were not published
    assert "3月为班组讲授微党课《安全生产与党" in text and "员担当》" in text
    assert "88.0" in text and "1/2" in text.replace(" ", "")
    assert "学习党的二十届三中全会精神" in text and "集中学习" in text and "合计" in text
    assert text.count("党员签字") == 12 and text.count("支部书记签字") == 12
    assert "第1页" in flat(pages[0]) and f"第{len(pages)}页" in flat(pages[-1])


def test_handbook_has_no_id_number_or_phone(company, handbook_year, tmp_path):
    content = handbook.member_handbook(company.staff, company.member_a, YEAR)
    text = flat("".join(pdf_pages(content, tmp_path)))
    member = company.member_a
    assert member.id_number not in text and member.id_number.encode() not in content
    assert member.phone not in text


def test_a_month_without_a_published_result_is_an_empty_table_marked_not_evaluated(company, tmp_path):
    make_member_set(company.committee, year=YEAR)
    pages = pdf_pages(handbook.member_handbook(company.staff, company.member_c, YEAR), tmp_path)
    text = flat("".join(pages))
    assert text.count("未评价") == 12
    assert "本年度尚未填写承诺" in text and "本年度没有学习记录" in text


def test_branch_handbooks_are_one_file_with_each_member_from_a_new_page(company, handbook_year, tmp_path):
    extra = [make_member(company.branch_a, name) for name in ("钱进", "孙立")]
    content = handbook.branch_handbooks(company.secretary_a, company.branch_a, YEAR)
    pages = pdf_pages(content, tmp_path)
    starts = [p for p in pages if "第 1 页" in p]
    names = ["张三", "李建国", *(m.name for m in extra)]
    assert len(starts) == len(names) == 4
    for name in names:
        assert sum(1 for p in starts if name in p and "党员量化评价手册" in p) == 1
    assert content.count(b"/Outlines") >= 1 and b"/FontFile2" in content


def test_handbook_lines_come_from_a_month_published_by_the_close(company, published_month, tmp_path):
    """Member A's October 2026 published through the real close: the 党课 claimed and determined appears."""
    text = flat("".join(pdf_pages(handbook.member_handbook(company.member_user_a, company.member_a, 2026),
                                  tmp_path)))
    assert "讲授党课或微党课" in text and "2026年10月" in text
    assert text.count("未评价") == 11


def test_handbook_is_audited_as_an_export(company, handbook_year):
    handbook.branch_handbooks(company.staff, company.branch_a, YEAR)
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.data["what"] == "党员量化评价手册" and event.data["members"] == 2 and event.data["year"] == YEAR
    assert event.org_path == company.branch_a.path


def test_secretary_of_another_branch_may_not_print_branch_a(company, handbook_year):
    with pytest.raises(AccessDenied):
        handbook.branch_handbooks(company.secretary_b, company.branch_a, YEAR)
    with pytest.raises(AccessDenied):
        handbook.member_handbook(company.secretary_b, company.member_a, YEAR)


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_branch(company):
    ms = make_member_set(company.committee, year=YEAR)
    small, large = make_org("小支部", parent=company.general), make_org("大支部", parent=company.general)
    for org, n in ((small, 2), (large, 9)):
        members = [make_member(org, f"{org.name}{i}") for i in range(n)]
        publish(ms, company.committee, [r for m in members for r in year_of(m, {1: "80", 2: "82", 7: "90"})])
        for m in members:
            StudyRecord.objects.create(member=m, date=datetime.date(YEAR, 3, 1), title="集中学习", hours=D("1"))
            Pledge.objects.create(member=m, year=YEAR, text="立足岗位作贡献。")
    handbook.branch_handbooks(company.staff, small, YEAR)  # the user's grants are read once and kept
    n_small = _queries(lambda: handbook.branch_handbooks(company.staff, small, YEAR))
    n_large = _queries(lambda: handbook.branch_handbooks(company.staff, large, YEAR))
    assert n_small == n_large <= 10


def test_a_branch_without_members_says_so(company):
    empty = make_org("新成立党支部", parent=company.general)
    with pytest.raises(DomainError) as exc:
        handbook.branch_handbooks(company.staff, empty, YEAR)
    assert "没有在册党员" in exc.value.message


def test_bad_year_is_refused_in_chinese():
    with pytest.raises(DomainError) as exc:
        handbook.parse_year("20x5")
    assert "年度应为" in exc.value.message
    assert handbook.parse_year("") == datetime.date.today().year


# ---- the pages --------------------------------------------------------------------------------------------------


def url(name, *args, **query):
    base = reverse(f"appraisal:{name}", args=args)
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_member_gets_own_handbook_inline_but_not_anothers(client, company, handbook_year):
    client.force_login(company.member_user_a)
    resp = client.get(url("handbook_member", company.member_a.pk, year=YEAR))
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp["Content-Disposition"].startswith("inline;") and resp.content.startswith(b"%PDF-")
    assert "Content-Security-Policy" not in resp
    assert client.get(url("handbook_member", company.secretary_member_a.pk, year=YEAR)).status_code == 404
    assert client.get(url("handbook_branch", company.branch_a.pk, year=YEAR)).status_code == 404


def test_secretary_prints_branch_and_may_download(client, company, handbook_year):
    client.force_login(company.secretary_a)
    resp = client.get(url("handbook_branch", company.branch_a.pk, year=YEAR, download=1))
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment;")
    assert client.get(url("handbook_member", company.member_a.pk, year=YEAR)).status_code == 200


@pytest.mark.parametrize("persona", ["secretary_b", "outsider", "assessor"])
def test_others_get_404_for_branch_a_handbooks(client, company, handbook_year, persona):
    client.force_login(getattr(company, persona))
    assert client.get(url("handbook_branch", company.branch_a.pk, year=YEAR)).status_code == 404
    assert client.get(url("handbook_member", company.member_a.pk, year=YEAR)).status_code == 404


def test_staff_prints_any_branch_and_an_org_that_is_not_a_branch_is_404(client, company, handbook_year):
    client.force_login(company.staff)
    assert client.get(url("handbook_branch", company.branch_a.pk, year=YEAR)).status_code == 200
    assert client.get(url("handbook_branch", company.general.pk, year=YEAR)).status_code == 404


def test_bad_year_on_the_page_goes_back_with_a_chinese_message(client, company, handbook_year):
    client.force_login(company.staff)
    before = AuditEvent.objects.filter(action="export").count()
    resp = client.get(url("handbook_member", company.member_a.pk, year="abc"), follow=True)
    assert resp.status_code == 200 and "年度应为" in resp.content.decode()
    assert AuditEvent.objects.filter(action="export").count() == before


def test_handbook_page_for_a_member_shows_only_their_own(client, company, handbook_year):
    client.force_login(company.member_user_a)
    resp = client.get(url("handbook_index", year=YEAR))
    body = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="my-handbook"' in body
    assert 'data-testid="member-table"' not in body and "李建国" not in body


def test_handbook_page_for_the_secretary_lists_branch_members_with_months(client, company, handbook_year):
    client.force_login(company.secretary_a)
    resp = client.get(url("handbook_index", year=YEAR))
    body = resp.content.decode()
    assert resp.status_code == 200 and "10/12" in body and "李建国" in body and "王芳" not in body
    xlsx = client.get(url("handbook_index", year=YEAR, format="xlsx"))
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")


def test_handbook_page_is_404_for_an_outsider(client, company):
    client.force_login(company.outsider)
    assert client.get(url("handbook_index")).status_code == 404


def test_handbook_page_queries_do_not_grow(client, company, handbook_year):
    client.force_login(company.staff)
    first = _queries(lambda: client.get(url("handbook_index", year=YEAR)))
    for i in range(6):
        make_member(company.branch_a, f"新党员{i}")
    assert _queries(lambda: client.get(url("handbook_index", year=YEAR))) == first


# ---- the API ----------------------------------------------------------------------------------------------------


def api_get(client, user, path):
    return client.get(path, headers={"Authorization": f"Bearer {ApiToken.issue(user)}"})


def test_api_member_handbook_for_the_member_and_404_for_another(client, company, handbook_year):
    resp = api_get(client, company.member_user_a, f"/api/v1/handbooks/{company.member_a.pk}?year={YEAR}")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert b"/FontFile2" in resp.content
    other = api_get(client, company.member_user_a, f"/api/v1/handbooks/{company.secretary_member_a.pk}?year={YEAR}")
    assert other.status_code == 404


def test_api_branch_handbooks_and_a_bad_year(client, company, handbook_year):
    ok = api_get(client, company.secretary_a, f"/api/v1/handbooks/branch/{company.branch_a.pk}?year={YEAR}")
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF-")
    assert api_get(client, company.secretary_b,
                   f"/api/v1/handbooks/branch/{company.branch_a.pk}?year={YEAR}").status_code == 404
    bad = api_get(client, company.secretary_a, f"/api/v1/handbooks/branch/{company.branch_a.pk}?year=1900")
    assert bad.status_code == 400 and "年度应为" in bad.json()["detail"]


def test_api_outsider_gets_404(client, company, handbook_year):
    outsider = make_user("visitor")
    assert api_get(client, outsider, f"/api/v1/handbooks/{company.member_a.pk}").status_code == 404
