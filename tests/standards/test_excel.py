"""Standard sets in and out of Excel: the round trip gives the same set; a bad file is reported row by row and
changes nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.excel import XLSX_MIME, workbook_bytes
from dangjian.core.models import AuditEvent
from dangjian.standards import excel_io, services
from dangjian.standards.models import Category, Item, StandardSet

HEAD = [c.header for c in excel_io.ITEM_COLUMNS]
CAT_HEAD = [c.header for c in excel_io.CATEGORY_COLUMNS]
CATS = [("ZZ", "组织建设"), ("ZY", "作用发挥")]


def upload(content: bytes, name="标准.xlsx"):
    return SimpleUploadedFile(name, content, content_type=XLSX_MIME)


def book(items, categories=CATS, item_head=HEAD, cat_head=CAT_HEAD) -> bytes:
    return workbook_bytes([("考评细则", item_head, items), ("考评类别", cat_head, categories)])


def row(code="ZZ-01", category="ZZ", points=4, methods="信息资料报送、现场考评", levels="党支部", types="",
        weights="", veto="", text="每月开展主题党日", rule="每缺1次扣2分", evidence="活动记录"):
    return (category, code, text, points, rule, evidence, methods, levels, types, weights, veto)


def contents(ss):
    return [(c.code, c.name, [(it.code, it.text, it.max_points, it.rule, it.evidence, it.methods,
                               it.applies_levels, sorted(t.code for t in it.applies_types.all()), it.weights,
                               it.is_veto) for it in c.items.all()]) for c in services.set_contents(ss)]


def test_export_then_import_gives_an_identical_set(company, default_set):
    content, filename = excel_io.export_set_to_excel(company.staff, default_set)
    assert filename.startswith("2026年度党组织量化考评标准-V1-") and filename.endswith(".xlsx")
    wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert wb.sheet_names[:2] == ["考评细则", "考评类别"]
    result = excel_io.import_set_from_excel(company.staff, upload(content), owner=company.committee, year=2026,
                                            name="2026年度党组织量化考评标准（导入）")
    assert "problems" not in result, [p.text for p in result.get("problems", [])]
    new = result["set"]
    assert (new.version, new.status, result["count"]) == (2, "draft", default_set.items.count())
    assert contents(new) == contents(default_set)
    assert AuditEvent.objects.filter(action="export", object_id=str(default_set.pk)).exists()
    event = AuditEvent.objects.get(action="standard.imported")
    assert event.data["count"] == result["count"] and event.data["created"] is True


def test_import_replaces_the_contents_of_a_draft(company, default_set, small_set):
    content, _name = excel_io.export_set_to_excel(company.staff, default_set)
    result = excel_io.import_set_from_excel(company.staff, upload(content), target=small_set)
    assert result["set"].pk == small_set.pk
    assert contents(small_set) == contents(default_set)
    assert not Item.objects.filter(standard_set=small_set, code="ZZ-02", text="班子建设").exists()


def test_import_into_a_published_set_is_refused(company, published):
    content, _name = excel_io.export_set_to_excel(company.staff, published)
    with pytest.raises(DomainError, match="已发布的标准不能直接修改"):
        excel_io.import_set_from_excel(company.staff, upload(content), target=published)


def test_export_is_scoped(company, default_set):
    with pytest.raises(AccessDenied):
        excel_io.export_set_to_excel(company.outsider, default_set)
    excel_io.export_set_to_excel(company.secretary_a, default_set)  # the rules are readable by every role


def test_import_needs_the_manage_right(company, small_set):
    with pytest.raises(AccessDenied):
        excel_io.import_set_from_excel(company.secretary_a, upload(book([row()])), target=small_set)


def test_a_clean_file_with_differential_items_and_weights(company):
    items = [
        row(),
        row("ZY-11", "ZY", 8, "信息资料报送、自我评价、现场考评", "党支部", "生产类", "", "是", text="安全生产"),
        row("ZY-02", "ZY", 4, "资料报送、自评", "", "", "经营类=1.5；管理类：0.5", "否", text="志愿服务"),
        row("ZZ-11", "ZZ", 10, "现场考评", "党委、党总支", "全部", text="班子建设"),
    ]
    result = excel_io.import_set_from_excel(company.staff, upload(book(items)), owner=company.committee,
                                            year=2026, name="导入的标准")
    ss = result["set"]
    got = {it.code: it for it in Item.objects.filter(standard_set=ss).prefetch_related("applies_types")}
    assert got["ZY-11"].is_veto and [t.code for t in got["ZY-11"].applies_types.all()] == ["production"]
    assert got["ZY-11"].methods == ["report", "self", "onsite"]
    assert got["ZY-02"].weights == {"business": "1.5", "management": "0.5"} and got["ZY-02"].applies_levels == []
    assert got["ZY-02"].methods == ["report", "self"]
    assert got["ZZ-11"].applies_levels == ["committee", "general"] and got["ZZ-11"].is_common
    assert list(ss.categories.order_by("order").values_list("code", flat=True)) == ["ZZ", "ZY"]
    assert list(Item.objects.filter(category__code="ZY", standard_set=ss).order_by("order")
                .values_list("code", flat=True)) == ["ZY-11", "ZY-02"]


BAD_ROWS = [
    (row(category="XX"), "类别编码", "类别编码“XX”不在“考评类别”工作表中"),
    (row(points="五分"), "分值", "分值应为大于0"),
    (row(points=0), "分值", "分值应为大于0"),
    (row(points=2.55), "分值", "最多一位小数"),
    (row(types="研发类"), "适用类型", "适用类型“研发类”不正确"),
    (row(methods="电话抽查"), "考评方式", "考评方式“电话抽查”不正确"),
    (row(methods=""), "考评方式", "考评方式不能为空"),
    (row(levels="班组"), "适用层级", "适用层级“班组”不正确"),
    (row(weights="经营类1.5"), "类型权重", "应写成“类型=倍数”"),
    (row(types="生产类", weights="经营类=1.5"), "类型权重", "不在本项的适用类型内"),
    (row(veto="可能"), "一票否决", "一票否决应填“是”或“否”"),
    (row(rule=""), "扣分标准", "扣分标准不能为空"),
    (row(code="组织-01"), "细则编码", "只能由字母"),
]


@pytest.mark.parametrize(("bad", "column", "message"), BAD_ROWS)
def test_a_bad_row_is_reported_and_nothing_changes(company, small_set, bad, column, message):
    before = contents(small_set)
    result = excel_io.import_set_from_excel(company.staff, upload(book([row("ZZ-05"), bad])), target=small_set)
    problems = result["problems"]
    assert len(problems) == 1, [p.text for p in problems]
    p = problems[0]
    assert (p.sheet, p.row, p.column) == ("考评细则", 3, column)
    assert message in p.message and p.text.startswith("考评细则 第3行：")
    assert contents(small_set) == before
    assert not AuditEvent.objects.filter(action="standard.imported").exists()


def test_every_problem_of_every_row_is_reported_and_a_new_set_is_not_created(company):
    items = [row(), row(), row("ZZ-02", category="XX", points=-1, methods="电话", types="研发类")]
    categories = CATS + [("ZZ", "重复的类别"), ("QQ", "组织建设")]
    result = excel_io.import_set_from_excel(company.staff, upload(book(items, categories)),
                                            owner=company.committee, year=2026, name="不会创建")
    texts = [p.text for p in result["problems"]]
    assert texts == [
        "考评细则 第3行：细则编码“ZZ-01”与第2行重复。",
        "考评细则 第4行：类别编码“XX”不在“考评类别”工作表中，请先在该表中列出这个类别。",
        "考评细则 第4行：分值应为大于0、不超过999.9的数，最多一位小数，如 5 或 2.5。",
        "考评细则 第4行：考评方式“电话”不正确，应为信息资料报送、自我评价或现场考评。",
        "考评细则 第4行：适用类型“研发类”不正确，应为生产类（含供电所类）、管理类或经营类，不填表示各类型通用。",
        "考评类别 第4行：类别编码“ZZ”与第2行重复。",
        "考评类别 第5行：类别名称“组织建设”与第2行重复。",
    ]
    assert result["rows"] == 3
    assert not StandardSet.objects.exists()


def test_the_template_example_rows_must_be_removed(company, small_set):
    result = excel_io.import_set_from_excel(company.staff, upload(excel_io.template_bytes()), target=small_set)
    assert {p.message for p in result["problems"]} == {"这是模板中的示例行，请删除后再导入。"}


def test_the_template_has_both_sheets_and_notes():
    wb = load_workbook(io.BytesIO(excel_io.template_bytes()))
    assert wb.sheetnames == ["考评细则", "考评类别", "填写说明"]
    assert [c.value for c in wb["考评细则"][1]] == HEAD
    assert [c.value for c in wb["考评类别"][1]] == CAT_HEAD


@pytest.mark.parametrize(("content", "message"), [
    (b"not an excel file", "不是有效的 Excel"),
    (workbook_bytes([("考评细则", HEAD, [row()])]), "缺少第二个工作表"),
    (book([row()], item_head=HEAD[:3] + ["分数"] + HEAD[4:]), "第4列应为“分值”"),
    (book([row()], cat_head=["编码", "名称"]), "第1列应为“类别编码”"),
    (book([]), "没有可导入的细则"),
    (book([row()], categories=[]), "没有类别"),
])
def test_a_file_that_cannot_be_read_is_refused_with_a_sentence(company, small_set, content, message):
    with pytest.raises(DomainError, match=message):
        excel_io.import_set_from_excel(company.staff, upload(content), target=small_set)
    assert small_set.items.count() == 3


def test_new_set_details_are_checked_before_the_file(company):
    with pytest.raises(DomainError, match="考评标准由党委制定"):
        excel_io.import_set_from_excel(company.staff, upload(book([row()])), owner=company.general, year=2026,
                                       name="x")
    assert not Category.objects.exists()
