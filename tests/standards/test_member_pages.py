"""The member standard pages: who sees what, what each state offers, the forms with their Chinese errors,
import and export, and query counts that do not grow with the data."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Level
from dangjian.standards import member_excel
from dangjian.standards import member_services as svc
from dangjian.standards.models import MemberItem, MemberStandardSet, SetStatus
from tests.factories import make_org


def url(name, *args):
    return reverse(f"standards:{name}", args=args)


def html(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


@pytest.fixture
def draft(company):
    return svc.load_default_member_set(company.staff, company.committee, 2026)


@pytest.fixture
def published(company):
    return svc.load_default_member_set(company.staff, company.committee, 2026, publish=True)


@pytest.fixture
def small(company):
    ms = svc.create_member_set(company.staff, owner=company.committee, year=2025, name="2025年度测试党员标准")
    svc.add_member_item(company.staff, ms, code="B-1", part="base", dimension="politics", text="参加组织生活",
                        points="10", per_miss="2", source="meeting_absent")
    svc.add_member_item(company.staff, ms, code="J-1", part="bonus", dimension="central", text="抢修保电",
                        points="2", month_cap="6", year_cap="20")
    return ms


# ---- list ---------------------------------------------------------------------------------------------


def test_the_list_filters_by_year_status_and_owner_and_exports(client, company, published, small):
    client.force_login(company.staff)
    page = html(client.get(url("member_set_list")))
    assert "2026年度党员量化评价标准" in page and "2025年度测试党员标准" in page
    assert url("member_set_load_default") in page and url("member_set_import") in page
    page = html(client.get(url("member_set_list"), {"status": "draft"}))
    assert "2025年度测试党员标准" in page and "2026年度党员量化评价标准" not in page
    page = html(client.get(url("member_set_list"), {"year": "2026"}))
    assert "2025年度测试党员标准" not in page and "2026年度党员量化评价标准" in page
    page = html(client.get(url("member_set_list"), {"owner": company.committee.pk, "q": "测试"}))
    assert page.count('data-testid="member-set-row"') == 1
    resp = client.get(url("member_set_list"), {"format": "xlsx", "status": "published"})
    rows = list(load_workbook(io.BytesIO(resp.content)).active.values)
    assert rows[0][:4] == ("制定单位", "年度", "标准名称", "版本") and len(rows) == 2 and rows[1][5] == 42
    assert AuditEvent.objects.filter(action="export", data__what="党员评价标准").exists()


def test_the_list_paginates(client, company):
    for year in range(2011, 2023):
        svc.create_member_set(company.staff, owner=company.committee, year=year, name=f"{year}年度标准")
    client.force_login(company.staff)
    page = html(client.get(url("member_set_list"), {"per_page": 10}))
    assert page.count('data-testid="member-set-row"') == 10 and "第 1/2 页" in page
    page = html(client.get(url("member_set_list"), {"per_page": 10, "page": 2}))
    assert page.count('data-testid="member-set-row"') == 2


def _count(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_and_detail_use_a_constant_number_of_queries(client, company, small):
    client.force_login(company.secretary_a)
    list_few, detail_small = _count(client, url("member_set_list")), _count(client, url("member_set_detail", small.pk))
    big = svc.load_default_member_set(company.staff, company.committee, 2026)
    for year in range(2011, 2020):
        svc.load_default_member_set(company.staff, company.committee, year)
    assert _count(client, url("member_set_list")) == list_few <= 15
    assert _count(client, url("member_set_detail", big.pk)) == detail_small <= 15
    client.force_login(company.staff)
    assert _count(client, url("member_set_detail", big.pk)) <= 15


# ---- detail -------------------------------------------------------------------------------------------


def test_the_detail_shows_parts_items_caps_sources_settings_and_draft_buttons(client, company, draft):
    client.force_login(company.staff)
    page = html(client.get(url("member_set_detail", draft.pk)))
    assert page.count('data-testid="member-item"') == 42 and page.count('data-testid="member-part"') == 4
    summary = page[page.index('data-testid="member-part-summary"'):]
    summary = summary[:summary.index("</table>")]
    assert "80.0" in summary and "20.0" in summary and "40.0" in summary
    assert "每月最高可得 100.0 分" in page and "满分 80.0 分" in page
    assert "无故缺席组织生活次数" in page and "志愿服务时长（小时）" in page and "每月 3.0" in page
    assert "全年 15.0" in page and "每缺一次 −2.0" in page
    settings = page[page.index('data-testid="member-settings"'):]
    assert "当月不合格，当月得分计0" in settings and "讲奉献有作为 10.0" in settings and "自评 0.0%" in settings
    for name in ("member_set_edit", "member_set_import_into", "member_set_publish", "member_set_archive",
                 "member_item_create", "member_set_copy", "member_set_export"):
        assert url(name, draft.pk) in page, name
    item = MemberItem.objects.get(standard_set=draft, code="JL-04")
    for name in ("member_item_edit", "member_item_delete", "member_item_move"):
        assert url(name, item.pk) in page, name


def test_a_published_set_offers_copy_and_archive_but_no_edits(client, company, published):
    client.force_login(company.staff)
    page = html(client.get(url("member_set_detail", published.pk)))
    assert url("member_set_copy", published.pk) in page and url("member_set_archive", published.pk) in page
    for name in ("member_set_edit", "member_set_import_into", "member_set_publish", "member_item_create"):
        assert url(name, published.pk) not in page, name
    assert "已发布的党员评价标准不能直接修改，请复制为新版本。" in page
    svc.mark_member_set_frozen(published)
    assert "已冻结" in html(client.get(url("member_set_detail", published.pk)))


def test_the_secretary_reads_but_cannot_change_anything(client, company, draft):
    client.force_login(company.secretary_a)
    page = html(client.get(url("member_set_detail", draft.pk)))
    assert page.count('data-testid="member-item"') == 42
    for name in ("member_set_edit", "member_set_publish", "member_set_copy", "member_item_create"):
        assert url(name, draft.pk) not in page, name
    assert url("member_set_export", draft.pk) in page
    assert url("member_set_load_default") not in html(client.get(url("member_set_list")))
    item = draft.items.first()
    assert client.get(url("member_set_edit", draft.pk)).status_code == 404
    assert client.post(url("member_set_publish", draft.pk)).status_code == 404
    assert client.post(url("member_item_delete", item.pk)).status_code == 404
    assert client.get(url("member_set_create")).status_code == 404
    assert MemberStandardSet.objects.get(pk=draft.pk).status == SetStatus.DRAFT and draft.items.count() == 42


def test_an_outsider_and_a_sibling_committees_secretary_get_404(client, company, draft):
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    county_set = svc.create_member_set(company.staff, owner=county, year=2026, name="县公司党员评价标准")
    client.force_login(company.outsider)
    assert client.get(url("member_set_list")).status_code == 404
    for name in ("member_set_detail", "member_set_export", "member_set_copy"):
        assert client.get(url(name, draft.pk)).status_code == 404, name
    client.force_login(company.secretary_b)  # the city committee's set is theirs to read; the county's is not
    assert client.get(url("member_set_detail", draft.pk)).status_code == 200
    assert client.get(url("member_set_detail", county_set.pk)).status_code == 404
    assert "县公司党员评价标准" not in html(client.get(url("member_set_list")))
    client.force_login(company.staff)
    assert client.get(url("member_set_detail", 999999)).status_code == 404
    assert client.get(url("member_item_edit", 999999)).status_code == 404


# ---- writing through the pages ------------------------------------------------------------------------


def test_create_a_set_change_its_settings_and_add_items(client, company):
    client.force_login(company.staff)
    resp = client.post(url("member_set_create"), {"owner": company.committee.pk, "year": 2026,
                                                  "name": "2026年度新标准", "note": ""})
    ms = MemberStandardSet.objects.get(name="2026年度新标准")
    assert resp.status_code == 302 and resp.url == url("member_set_detail", ms.pk)
    form = {"name": "2026年度新标准", "note": "", "bonus_cap": "20", "deduction_cap": "", "floor": "0",
            "pass_mark": "60", "veto_effect": "bar_top", "weight_self": "20", "weight_branch": "80",
            "public_ranking": "on", "cap_politics": "5", "cap_central": "8"}
    page = html(client.get(url("member_set_edit", ms.pk)))
    assert 'name="cap_dedication"' in page and 'name="weight_branch"' in page
    resp = client.post(url("member_set_edit", ms.pk), form)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    ms.refresh_from_db()
    assert (str(ms.bonus_cap), ms.veto_effect, str(ms.weight_self), ms.public_ranking) == ("20.0", "bar_top",
                                                                                           "20.0", True)
    assert ms.dimension_caps == {"politics": "5.0", "central": "8.0"}
    page = html(client.get(url("member_item_create", ms.pk) + "?part=bonus"))
    assert '<option value="bonus" selected>' in page
    resp = client.post(url("member_item_create", ms.pk), {
        "part": "bonus", "code": "JL-01", "dimension": "politics", "text": "讲党课", "rule": "每次加3分",
        "points": "3", "per_miss": "", "month_cap": "3", "year_cap": "9", "source": "lecture_given",
        "evidence_required": "on", "another": "1"})
    assert resp.status_code == 302 and resp.url == url("member_item_create", ms.pk) + "?part=bonus"
    item = MemberItem.objects.get(standard_set=ms, code="JL-01")
    assert (item.source, item.evidence_required, str(item.year_cap)) == ("lecture_given", True, "9.0")
    resp = client.post(url("member_item_create", ms.pk), {
        "part": "veto", "code": "FJ-01", "dimension": "rules", "text": "受到党纪处分", "points": "", "source": ""})
    assert resp.status_code == 302 and MemberItem.objects.get(code="FJ-01").points == 0


def test_settings_errors_are_shown_and_change_nothing(client, company, small):
    client.force_login(company.staff)
    before = MemberStandardSet.objects.filter(pk=small.pk).values().get()
    base = {"name": small.name, "note": "", "veto_effect": "month", "weight_self": "0", "weight_branch": "100"}
    page = html(client.post(url("member_set_edit", small.pk), {**base, "weight_self": "30"}))
    assert "自评权重与支部评定权重之和应为100" in page
    page = html(client.post(url("member_set_edit", small.pk), {**base, "floor": "70", "pass_mark": "60"}))
    assert "月度最低分（70.0）应低于合格分数线（60.0）" in page
    page = html(client.post(url("member_set_edit", small.pk), {**base, "cap_rules": "0"}))
    assert "“讲规矩有纪律”的奖励分上限应为大于0" in page
    assert MemberStandardSet.objects.filter(pk=small.pk).values().get() == before


def test_item_errors_are_shown_next_to_the_fields(client, company, small):
    client.force_login(company.staff)
    data = {"part": "bonus", "code": "J-1", "dimension": "central", "text": "重复", "points": "2", "source": ""}
    page = html(client.post(url("member_item_create", small.pk), data))
    assert "编码“J-1”在本标准中已被使用" in page
    page = html(client.post(url("member_item_create", small.pk), {**data, "code": "J-2", "per_miss": "1"}))
    assert "只有基础分项目可以设置“每缺一次扣分”" in page
    page = html(client.post(url("member_item_create", small.pk), {**data, "code": "J-2", "month_cap": "6",
                                                                  "year_cap": "4"}))
    assert "全年上限（4.0）不能小于每月上限（6.0）" in page
    page = html(client.post(url("member_item_create", small.pk), {**data, "code": "J-2",
                                                                  "source": "meeting_absent"}))
    assert "不能用于奖励分项目" in page
    assert small.items.count() == 2


def test_edit_move_and_delete_items(client, company, small):
    client.force_login(company.staff)
    item = MemberItem.objects.get(code="J-1")
    page = html(client.get(url("member_item_edit", item.pk)))
    assert 'value="抢修保电"' in page or "抢修保电</textarea>" in page
    resp = client.post(url("member_item_edit", item.pk), {
        "part": "bonus", "code": "J-1", "dimension": "central", "text": "抢修保电表现突出", "points": "2.5",
        "month_cap": "5", "year_cap": "20", "source": ""})
    assert resp.status_code == 302 and resp.url.endswith(f"#item-{item.pk}")
    item.refresh_from_db()
    assert (item.text, str(item.points)) == ("抢修保电表现突出", "2.5")
    svc.add_member_item(company.staff, small, code="J-2", part="bonus", dimension="morals", text="表扬信",
                        points="1")
    j2 = MemberItem.objects.get(code="J-2")
    assert client.post(url("member_item_move", j2.pk), {"direction": "up"}).status_code == 302
    assert list(small.items.order_by("order").values_list("code", flat=True)) == ["B-1", "J-2", "J-1"]
    assert client.post(url("member_item_delete", j2.pk)).status_code == 302
    assert not MemberItem.objects.filter(pk=j2.pk).exists()
    assert client.get(url("member_item_delete", item.pk)).status_code == 405


def test_a_published_set_sends_item_edits_back_with_the_message(client, company, published):
    client.force_login(company.staff)
    item = published.items.first()
    page = html(client.get(url("member_item_edit", item.pk), follow=True))
    assert "已发布的党员评价标准不能直接修改，请复制为新版本。" in page
    page = html(client.post(url("member_item_delete", item.pk), follow=True))
    assert "已发布的党员评价标准不能直接修改" in page and MemberItem.objects.filter(pk=item.pk).exists()
    page = html(client.get(url("member_set_edit", published.pk), follow=True))
    assert "已发布的党员评价标准不能直接修改" in page


def test_publish_archive_copy_and_load_default_through_the_pages(client, company, draft, small):
    client.force_login(company.staff)
    page = html(client.post(url("member_set_publish", draft.pk), follow=True))
    assert "同一年度此前发布的版本已自动归档" in page
    assert MemberStandardSet.objects.get(pk=draft.pk).status == SetStatus.PUBLISHED
    page = html(client.post(url("member_set_publish", draft.pk), follow=True))
    assert "只有草稿状态的党员评价标准可以发布" in page
    resp = client.post(url("member_set_copy", draft.pk), {"owner": company.committee.pk, "year": 2027, "name": ""})
    new = MemberStandardSet.objects.get(year=2027)
    assert resp.status_code == 302 and resp.url == url("member_set_detail", new.pk)
    assert new.name == "2027年度党员量化评价标准" and new.items.count() == 42
    client.post(url("member_set_archive", small.pk))
    assert MemberStandardSet.objects.get(pk=small.pk).status == SetStatus.ARCHIVED
    resp = client.post(url("member_set_load_default"), {"owner": company.committee.pk, "year": 2026,
                                                        "publish": "on"})
    loaded = MemberStandardSet.objects.get(year=2026, version=2)
    assert resp.status_code == 302 and loaded.status == SetStatus.PUBLISHED
    assert MemberStandardSet.objects.get(pk=draft.pk).status == SetStatus.ARCHIVED
    page = html(client.post(url("member_set_load_default"), {"owner": company.branch_a.pk, "year": 2026}))
    assert "选择一个有效的选项" in page or "党员评价标准由党委制定" in page


# ---- Excel --------------------------------------------------------------------------------------------


def test_export_then_import_as_a_new_set_through_the_pages(client, company, draft):
    client.force_login(company.staff)
    resp = client.get(url("member_set_export", draft.pk))
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    resp = client.post(url("member_set_import"), {
        "owner": company.committee.pk, "year": 2026, "name": "",
        "file": SimpleUploadedFile("标准.xlsx", resp.content)})
    new = MemberStandardSet.objects.get(version=2)
    assert resp.status_code == 302 and resp.url == url("member_set_detail", new.pk) and new.items.count() == 42
    template = client.get(url("member_set_template"))
    assert template.status_code == 200 and template.content[:2] == b"PK"


def test_a_bad_import_shows_the_report_and_changes_nothing(client, company, small):
    client.force_login(company.staff)
    content = member_excel.workbook(
        [("奖励分", "J-9", "体育", "抢修", "", 2, None, None, None, "", "")],
        [("自评权重（%）", 10)])
    before = list(MemberItem.objects.values_list("pk", flat=True))
    page = html(client.post(url("member_set_import_into", small.pk), {"file": SimpleUploadedFile("坏.xlsx", content)}))
    assert 'data-testid="import-errors"' in page and "维度“体育”不正确" in page and "本次未导入任何数据" in page
    page = html(client.post(url("member_set_import"), {"owner": company.committee.pk, "year": 2026, "name": "x",
                                                       "file": SimpleUploadedFile("坏.txt", b"hello")}))
    assert "文件不是有效的 Excel" in page
    assert list(MemberItem.objects.values_list("pk", flat=True)) == before and MemberStandardSet.objects.count() == 1


def test_importing_into_a_published_set_is_refused(client, company, published):
    client.force_login(company.staff)
    page = html(client.get(url("member_set_import_into", published.pk)))
    assert "已发布的党员评价标准不能直接修改" in page and 'data-testid="import-form"' not in page
    content, _ = member_excel.export_member_set_to_excel(company.staff, published)
    page = html(client.post(url("member_set_import_into", published.pk),
                            {"file": SimpleUploadedFile("a.xlsx", content)}))
    assert MemberStandardSet.objects.get(pk=published.pk).items.count() == 42
    assert not AuditEvent.objects.filter(action="member_standard.imported").exists()
