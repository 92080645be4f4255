"""The standard pages: who sees what, what each state offers, the forms, import, preview, query counts, English."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.core.models import AuditEvent
from dangjian.orgs.models import OrgType
from dangjian.standards import excel_io, services
from dangjian.standards.models import Item, SetStatus, StandardSet
from tests.core.test_i18n import leftover_chinese


def url(name, *args):
    return reverse(f"standards:{name}", args=args)


def html(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


# ---- list and detail ----------------------------------------------------------------------------------


def test_the_list_shows_sets_with_filters_and_exports(client, company, published, small_set):
    client.force_login(company.staff)
    page = html(client.get(url("set_list")))
    assert "2026年度党组织量化考评标准" in page and "2026年度测试标准" in page and "载入默认标准" in page
    page = html(client.get(url("set_list"), {"status": "draft"}))
    assert "2026年度测试标准" in page and "2026年度党组织量化考评标准" not in page
    resp = client.get(url("set_list"), {"format": "xlsx", "status": "published"})
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.values)
    assert rows[0][:4] == ("制定单位", "年度", "标准名称", "版本") and len(rows) == 2 and rows[1][5] == 52
    assert AuditEvent.objects.filter(action="export", data__what="考评标准").exists()


def test_the_detail_shows_items_applicability_summary_and_draft_buttons(client, company, default_set):
    client.force_login(company.staff)
    page = html(client.get(url("set_detail", default_set.pk)))
    assert page.count('data-testid="item"') == 52 and page.count('data-testid="category"') == 5
    assert "公用" in page and "差异" in page and "党支部·生产类（含供电所类）" in page
    assert page.count('data-testid="veto-badge"') == 3
    assert "经营类 ×1.5" in page  # the weight of ZY-02
    summary = page[page.index('data-testid="summary"'):]
    summary = summary[:summary.index("</table>")]
    assert summary.count("100.0") == 5
    for action in ("set_edit", "import_into", "set_publish", "set_archive", "item_create", "category_create"):
        assert url(action, default_set.pk) in page, action


def test_a_published_set_offers_copy_and_archive_but_no_edits(client, company, published):
    client.force_login(company.staff)
    page = html(client.get(url("set_detail", published.pk)))
    assert url("set_copy", published.pk) in page and url("set_archive", published.pk) in page
    for action in ("set_edit", "import_into", "set_publish", "item_create"):
        assert url(action, published.pk) not in page, action
    assert "已发布的标准不能直接修改，请复制为新版本。" in page


def test_a_frozen_set_says_so(client, company, published):
    services.mark_frozen(published)
    client.force_login(company.staff)
    page = html(client.get(url("set_detail", published.pk)))
    assert "已冻结" in page and "请“复制为新版本”后修改" in page


def test_the_secretary_reads_but_does_not_see_edit_buttons(client, company, default_set):
    client.force_login(company.secretary_a)
    page = html(client.get(url("set_detail", default_set.pk)))
    assert page.count('data-testid="item"') == 52
    assert url("set_edit", default_set.pk) not in page and url("set_publish", default_set.pk) not in page
    assert url("set_copy", default_set.pk) not in page
    assert url("preview", default_set.pk) in page and url("set_export", default_set.pk) in page
    assert "考评标准" in html(client.get(reverse("home")))  # the nav item
    assert client.get(url("set_edit", default_set.pk)).status_code == 404
    assert client.post(url("set_publish", default_set.pk)).status_code == 404
    assert StandardSet.objects.get(pk=default_set.pk).status == SetStatus.DRAFT


def test_an_outsider_gets_404_everywhere(client, company, default_set):
    client.force_login(company.outsider)
    for name in ("set_detail", "preview", "set_export"):
        assert client.get(url(name, default_set.pk)).status_code == 404
    assert client.get(url("set_list")).status_code == 404
    assert "考评标准" not in html(client.get(reverse("home")))


# ---- state changes through the pages ------------------------------------------------------------------


def test_publish_and_copy_through_the_pages(client, company, default_set):
    client.force_login(company.staff)
    resp = client.post(url("set_publish", default_set.pk), follow=True)
    assert "已发布" in html(resp)
    resp = client.post(url("set_copy", default_set.pk), {"owner": company.committee.pk, "year": 2026, "name": ""})
    new = StandardSet.objects.get(version=2)
    assert resp.status_code == 302 and resp.url == url("set_detail", new.pk)
    assert new.items.count() == 52 and new.status == SetStatus.DRAFT


def test_editing_a_published_set_redirects_with_the_message(client, company, published):
    client.force_login(company.staff)
    item = published.items.first()
    resp = client.get(url("item_edit", item.pk), follow=True)
    assert "已发布的标准不能直接修改，请复制为新版本。" in html(resp)
    resp = client.post(url("item_delete", item.pk), follow=True)
    assert "已发布的标准不能直接修改" in html(resp) and Item.objects.filter(pk=item.pk).exists()


def test_create_a_set_add_a_category_and_an_item(client, company):
    client.force_login(company.staff)
    resp = client.post(url("set_create"), {"owner": company.committee.pk, "year": 2026, "name": "2026年度新标准",
                                           "note": ""})
    ss = StandardSet.objects.get(name="2026年度新标准")
    assert resp.status_code == 302
    resp = client.get(url("item_create", ss.pk))  # no category yet: sent to add one first
    assert resp.status_code == 302 and resp.url == url("category_create", ss.pk)
    client.post(url("category_create", ss.pk), {"code": "ZY", "name": "作用发挥"})
    category = ss.categories.get()
    page = html(client.get(url("item_create", ss.pk)))
    assert 'name="applies_types"' in page and 'name="weight_business"' in page and 'type="checkbox"' in page
    business = OrgType.objects.get(code="business")
    resp = client.post(url("item_create", ss.pk), {
        "category": category.pk, "code": "ZY-31", "text": "窗口优质服务", "max_points": "7", "rule": "每起扣3分",
        "evidence": "", "methods": ["report", "onsite"], "applies_levels": ["branch"],
        "applies_types": [business.pk], "weight_business": "1.2", "is_veto": "on"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    item = Item.objects.get(code="ZY-31")
    assert item.is_veto and item.weights == {"business": "1.2"} and item.applies_levels == ["branch"]
    assert list(item.applies_types.all()) == [business]


def test_item_form_errors_are_shown_next_to_the_fields(client, company, small_set):
    client.force_login(company.staff)
    zz = small_set.categories.get(code="ZZ")
    page = html(client.post(url("item_create", small_set.pk), {
        "category": zz.pk, "code": "ZZ-01", "text": "重复的编码", "max_points": "4", "rule": "r",
        "methods": ["report"]}))
    assert "细则编码“ZZ-01”在本标准中已被使用" in page
    page = html(client.post(url("item_create", small_set.pk), {
        "category": zz.pk, "code": "ZZ-08", "text": "x", "max_points": "4", "rule": "r", "methods": ["report"],
        "applies_types": [OrgType.objects.get(code="production").pk], "weight_business": "1.5"}))
    assert "不在本项的适用类型内" in page


def test_move_and_delete_item_and_category(client, company, small_set):
    client.force_login(company.staff)
    zz = small_set.categories.get(code="ZZ")
    second = zz.items.order_by("order").last()
    client.post(url("item_move", second.pk), {"direction": "up"})
    assert zz.items.order_by("order").first() == second
    client.post(url("item_delete", second.pk))
    assert not Item.objects.filter(pk=second.pk).exists()
    resp = client.post(url("category_delete", zz.pk), follow=True)
    assert "下还有考评细则" in html(resp)


def test_load_default_through_the_page(client, company):
    client.force_login(company.staff)
    resp = client.post(url("load_default"), {"owner": company.committee.pk, "year": 2026, "publish": "on"})
    ss = StandardSet.objects.get()
    assert resp.status_code == 302 and ss.status == SetStatus.PUBLISHED and ss.items.count() == 52


# ---- import and export pages --------------------------------------------------------------------------


def test_import_page_reports_problems_row_by_row(client, company, small_set):
    client.force_login(company.staff)
    content = excel_io.template_bytes()
    resp = client.post(url("import_into", small_set.pk), {"file": SimpleUploadedFile("t.xlsx", content)})
    page = html(resp)
    assert 'data-testid="import-errors"' in page and "这是模板中的示例行，请删除后再导入。" in page
    assert "本次未导入任何数据" in page and small_set.items.count() == 3


def test_import_new_set_and_template_download(client, company, default_set):
    client.force_login(company.staff)
    resp = client.get(url("import_template"))
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    exported = client.get(url("set_export", default_set.pk))
    assert exported.status_code == 200
    resp = client.post(url("import_new"), {"owner": company.committee.pk, "year": 2027, "name": "2027年度标准",
                                           "file": SimpleUploadedFile("s.xlsx", exported.content)})
    new = StandardSet.objects.get(year=2027)
    assert resp.status_code == 302 and resp.url == url("set_detail", new.pk) and new.items.count() == 52


def test_import_into_a_published_set_is_refused_on_the_page(client, company, published):
    client.force_login(company.staff)
    page = html(client.get(url("import_into", published.pk)))
    assert "已发布的标准不能直接修改" in page and 'data-testid="import-form"' not in page


# ---- preview ------------------------------------------------------------------------------------------


def test_secretary_previews_her_branch_only(client, company, default_set):
    client.force_login(company.secretary_a)
    page = html(client.get(url("preview", default_set.pk)))
    options = re.findall(r'<option value="(\d+)"', page)
    assert options == [str(company.branch_a.pk)]
    page = html(client.get(url("preview", default_set.pk), {"org": company.branch_a.pk}))
    assert 'data-testid="preview-total">100.0<' in page and page.count('data-testid="item"') == 31
    assert client.get(url("preview", default_set.pk), {"org": company.branch_b.pk}).status_code == 404


def test_staff_preview_shows_weighted_points(client, company, default_set):
    client.force_login(company.staff)
    page = html(client.get(url("preview", default_set.pk), {"org": company.branch_c.pk}))
    assert 'data-testid="preview-total">100.0<' in page and "4.0 ×0.5" in page
    page = html(client.get(url("preview", default_set.pk), {"q": "机关"}))
    assert re.findall(r'<option value="(\d+)"', page) == [str(company.branch_c.pk)]


# ---- query counts -------------------------------------------------------------------------------------


def _grow(company, ss, n):
    category = ss.categories.first()
    production = OrgType.objects.get(code="production")
    start = ss.items.count()
    for i in range(start, start + n):
        services.add_item(company.staff, ss, category=category, code=f"T-{i:03d}", text=f"细则{i}", max_points="1",
                          rule="扣1分", methods=["report"], applies_types=[production] if i % 2 else [],
                          weights={} if i % 2 else {"business": "1.5"})


@pytest.mark.parametrize("name", ["set_detail", "preview", "set_export", "item_edit"])
def test_pages_run_a_constant_number_of_queries(client, company, small_set, name):
    client.force_login(company.staff)
    _grow(company, small_set, 7)
    item = small_set.items.first()

    def count():
        target = url(name, item.pk) if name == "item_edit" else url(name, small_set.pk)
        params = {"org": company.branch_a.pk} if name == "preview" else {}
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(target, params)
        assert resp.status_code == 200
        return len(ctx.captured_queries)

    small = count()
    assert small_set.items.count() == 10
    _grow(company, small_set, 50)
    assert small_set.items.count() == 60
    assert count() == small, f"{name}: more queries with 60 items than with 10"
    assert small <= 18  # session, user, grants, the set, its contents (3), types; an export also writes its audit


def test_the_list_runs_a_constant_number_of_queries(client, company):
    client.force_login(company.staff)
    counts = []
    for n in (2, 12):
        while StandardSet.objects.count() < n:
            services.load_default_set(company.staff, company.committee, 2026)
        with CaptureQueriesContext(connection) as ctx:
            html(client.get(url("set_list")))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# ---- English ------------------------------------------------------------------------------------------


def data_strings(ss):
    out = [ss.name, ss.note, ss.owner.name]
    out += list(ss.categories.values_list("name", flat=True))
    for it in ss.items.all():
        out += [it.text, it.rule, it.evidence]
    return [s for s in out if s]


def main(resp) -> str:
    """The page's own content (the navigation bar belongs to every app and is tested in tests/core)."""
    page = html(resp)
    return page[page.index("<main"):page.index("</main>")]


def test_set_pages_in_english(client, company, default_set):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.force_login(company.staff)
    page = main(client.get(url("set_detail", default_set.pk)))
    assert "Common" in page and "Differential" in page and "Veto" in page and "Production" in page
    assert leftover_chinese(page, data_strings(default_set)) == []
    page = main(client.get(url("set_list")))
    assert "Load default standard" in page
    assert leftover_chinese(page, data_strings(default_set)) == []
    page = main(client.get(url("preview", default_set.pk), {"org": company.branch_a.pk}))
    orgs = [company.committee.name, company.general.name, company.branch_a.name, company.branch_b.name,
            company.branch_c.name]
    assert leftover_chinese(page.replace("\u3000", ""), data_strings(default_set) + orgs) == []
    page = main(client.get(url("item_edit", default_set.items.first().pk)))
    names = [f"{c.code} {c.name}" for c in default_set.categories.all()]
    assert leftover_chinese(page, data_strings(default_set) + names) == []
    # The import pages list the template's column titles: the file format, Chinese in every language.
    columns = [c.title for c in excel_io.ITEM_COLUMNS + excel_io.CATEGORY_COLUMNS]
    for name in ("set_create", "load_default", "import_new"):
        page = main(client.get(url(name)))
        assert leftover_chinese(page.replace("\u3000", ""), data_strings(default_set) + orgs + columns) == [], name
    page = main(client.get(url("import_into", default_set.pk)))
    assert "Deduction rule" in page
    assert leftover_chinese(page, data_strings(default_set) + columns) == []
