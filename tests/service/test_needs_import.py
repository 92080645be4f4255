"""Excel import of needs: the template, a good file (numbers, channel "import", one audit event), a bad file with
row-level Chinese errors that changes nothing, files that cannot be read, and organizations out of the user's reach."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from dangjian.core.excel import workbook_bytes
from dangjian.core.models import AuditEvent
from dangjian.service import imports_needs as imports
from dangjian.service import needs as services
from dangjian.service.models import Need

DAY = datetime.date(2026, 3, 6)


def upload(rows, header=None, name="needs.xlsx"):
    content = workbook_bytes([("需求", header or imports.KIND.headers, rows)])
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def row(org="B001", area="城关网格", kind="客户/群众诉求", category="需求", source="95598热线", urgency="一般",
        title="表箱锈蚀", text="幸福里小区3号楼表箱锈蚀，门关不上。", requester="王芳", contact="13912345678",
        address="幸福里小区3号楼", received_on=DAY):
    return [org, area, kind, category, source, urgency, title, text, requester, contact, address, received_on]


@pytest.fixture
def areas(company):
    company.area_a = services.create_area(company.staff, company.branch_a, name="城关网格")
    return company


def test_the_template_has_the_columns_an_example_and_notes(client, company):
    client.force_login(company.staff)
    resp = client.get(reverse("service:need_import_template"))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    import io

    wb = CalamineWorkbook.from_filelike(io.BytesIO(resp.content))
    rows = wb.get_sheet_by_index(0).to_python()
    assert rows[0] == imports.KIND.headers and rows[0][0] == "受理单位*"
    assert "填写说明" in wb.sheet_names


def test_a_good_file_is_imported_with_numbers_and_one_audit_event(areas):
    c = areas
    rows = [row(), row(org="输电运检党支部", area="", kind="政府统筹发展要求", category="建议", source="12345",
                       urgency="紧急", title="", text="优化营商环境，小微企业办电压减环节。", requester="", contact="",
                       received_on="2026/2/3")]
    result = imports.run_import(c.staff, upload(rows))
    assert result == {"count": 2}
    a, b = Need.objects.order_by("id")
    assert (a.org, a.area, a.kind, a.category, a.source, a.channel) == (c.branch_a, c.area_a, "people", "need",
                                                                        "95598", "import")
    assert a.number == f"XQ2026-{a.pk:06d}" and a.contact == "13912345678" and a.received_on == DAY
    assert (b.org, b.kind, b.source, b.urgency, b.title) == (c.branch_b, "government", "12345", "urgent",
                                                              "优化营商环境，小微企业办电压减环节")
    assert b.received_on == datetime.date(2026, 2, 3) and b.created_by == c.staff
    event = AuditEvent.objects.get(action="need.imported")
    assert event.data["count"] == 2 and event.org_path == c.general.path
    assert "13912345678" not in str(event.data)


def test_a_bad_file_lists_every_row_and_changes_nothing(areas):
    c = areas
    rows = [
        row(),
        row(org="不存在的单位"),
        row(area="月球网格"),
        row(kind="别的"),
        row(category="咨询", source="110"),
        row(text=""),
        row(contact="12345"),
        row(received_on="2999-01-01"),
        row(org="B003"),  # 机关第一党支部: not managed by secretary A
    ]
    result = imports.run_import(c.secretary_a, upload(rows))
    problems = [(p.row, p.column, p.message) for p in result["problems"]]
    assert result["rows"] == 9
    rows_with_problems = {p[0] for p in problems}
    assert rows_with_problems == {3, 4, 5, 6, 7, 8, 9, 10}
    text = "\n".join(f"{r} {col} {m}" for r, col, m in problems)
    assert "没有找到您有权管理需求的单位“不存在的单位”" in text
    assert "没有名为“月球网格”的服务区域" in text
    assert "“别的”不是有效的类型" in text and "“咨询”不是有效的类别" in text and "“110”不是有效的来源" in text
    assert "内容不能为空" in text and "联系方式请填写手机号" in text and "不能晚于今天" in text
    assert "没有找到您有权管理需求的单位“B003”" in text
    assert not Need.objects.exists() and not AuditEvent.objects.filter(action="need.imported").exists()


@pytest.mark.parametrize(("content", "sentence"), [
    (b"not an excel file", "不是有效的 Excel"),
    (b"PK\x03\x04broken", "已损坏"),
])
def test_unreadable_files_are_refused(areas, content, sentence):
    with pytest.raises(Exception, match=sentence):
        imports.run_import(areas.staff, SimpleUploadedFile("x.xlsx", content))
    assert not Need.objects.exists()


def test_a_wrong_header_or_an_empty_file_is_refused(areas):
    with pytest.raises(Exception, match="表头与需求导入模板不一致"):
        imports.run_import(areas.staff, upload([row()], header=["单位", *imports.KIND.headers[1:]]))
    with pytest.raises(Exception, match="没有可导入的数据行"):
        imports.run_import(areas.staff, upload([list(imports.KIND.example)]))
    assert not Need.objects.exists()


def test_the_import_page_shows_row_errors_then_success(client, areas):
    c = areas
    client.force_login(c.secretary_a)
    url = reverse("service:need_import")
    resp = client.post(url, {"file": upload([row(), row(contact="abc")])})
    html = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="import-errors"' in html and "第3行" in html
    assert "本次未导入任何数据" in html and not Need.objects.exists()
    resp = client.post(url, {"file": upload([row(), row(title="第二条")])})
    assert "已导入 2 条需求" in resp.content.decode() and Need.objects.count() == 2
    resp = client.post(url, {})
    assert "请选择要上传的 Excel" in resp.content.decode()
