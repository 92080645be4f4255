"""Member standard sets in and out of Excel: the export imports back losslessly, the template is the default set,
a bad file is reported row by row in Chinese and changes nothing."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.standards import member_excel
from dangjian.standards import member_services as svc
from dangjian.standards.models import MemberItem, MemberStandardSet, SetStatus

FIELDS = [f for f in svc.ITEM_FIELDS]


@pytest.fixture
def custom(company):
    """The default set with settings and items changed away from the defaults, so a round trip proves each
    value travels: caps cleared, a negative floor, weights, public ranking, a decimal per-miss, a year cap."""
    ms = svc.load_default_member_set(company.staff, company.committee, 2026)
    svc.update_member_set(company.staff, ms, bonus_cap=None, deduction_cap="35.5", floor="-10", pass_mark="55.5",
                          dimension_caps={"politics": "6.5", "central": "12"}, veto_effect="year_zero",
                          weight_self="30", weight_branch="70", public_ranking=True, note="第一行\n第二行")
    svc.add_member_item(company.staff, ms, code="JC-11", part="base", dimension="morals", text="诚实守信",
                        points="2.5", per_miss="0.5", rule="每次扣0.5分")
    svc.add_member_item(company.staff, ms, code="JL-16", part="bonus", dimension="politics", text="参加组织生活",
                        points="0.5", month_cap="2", source="meeting_attended", evidence_required=True)
    return MemberStandardSet.objects.get(pk=ms.pk)


def upload(content: bytes, name="党员评价标准.xlsx"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def sheets(content: bytes):
    wb = load_workbook(io.BytesIO(content))
    return [list(ws.values) for ws in wb.worksheets]


def rebuild(items, settings) -> bytes:
    """A workbook with the template's two sheets, from rows given as lists (header first)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "评价细则"
    for row in items:
        ws.append(list(row))
    ws2 = wb.create_sheet("评价设置")
    for row in settings:
        ws2.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def items_of(ms):
    return list(MemberItem.objects.filter(standard_set=ms).order_by("order").values(*FIELDS))


def settings_of(ms):
    ms = MemberStandardSet.objects.get(pk=ms.pk)
    return {f: getattr(ms, f) for f in svc.SETTING_FIELDS + ["note"]}


def test_an_export_imports_back_into_an_identical_set(company, custom):
    content, filename = member_excel.export_member_set_to_excel(company.staff, custom)
    assert filename.startswith("2026年度党员量化评价标准-V1-") and filename.endswith(".xlsx")
    items, settings, notes = sheets(content)
    assert items[0][:4] == ("部分*", "编码*", "维度*", "评价内容*") and len(items) == 45
    assert ("奖励分上限", None) in settings and ("讲政治有信念奖励分上限", 6.5) in settings
    assert notes[0][0] == "党员评价标准导入说明"
    result = member_excel.import_member_set_from_excel(company.staff, upload(content), owner=company.committee,
                                                       year=2026, name="")
    new = result["set"]
    assert result["count"] == 44 and new.version == 2 and new.status == SetStatus.DRAFT
    assert new.name == custom.name  # no name on the page: the file's
    assert items_of(new) == items_of(custom)
    assert settings_of(new) == settings_of(custom)
    event = AuditEvent.objects.get(action="member_standard.imported")
    assert event.data["created"] is True and event.data["count"] == 44 and event.data["filename"] == "党员评价标准.xlsx"
    assert AuditEvent.objects.filter(action="export", data__what="党员评价标准").exists()


def test_importing_into_a_draft_replaces_its_items_and_settings_but_keeps_its_name(company, custom):
    content, _ = member_excel.export_member_set_to_excel(company.staff, custom)
    target = svc.create_member_set(company.staff, owner=company.committee, year=2026, name="空草稿", note="原说明")
    svc.add_member_item(company.staff, target, code="OLD-1", part="base", dimension="rules", text="旧细则", points="5")
    result = member_excel.import_member_set_from_excel(company.staff, upload(content), target=target)
    assert result["set"].pk == target.pk
    assert items_of(target) == items_of(custom)
    assert {k: v for k, v in settings_of(target).items() if k != "note"} == \
        {k: v for k, v in settings_of(custom).items() if k != "note"}
    target.refresh_from_db()
    assert (target.name, target.note) == ("空草稿", "原说明")
    assert AuditEvent.objects.get(action="member_standard.imported").data["created"] is False


def test_the_template_is_the_default_set_and_imports_as_it_is(company):
    content = member_excel.template_bytes()
    items, settings, _notes = sheets(content)
    assert len(items) == 43 and items[1][:3] == ("基础分", "JC-01", "讲政治有信念")
    assert ("合格分数线", 60) in settings and ("否决项的效果", "当月不合格，当月得分计0") in settings
    result = member_excel.import_member_set_from_excel(company.staff, upload(content), owner=company.committee,
                                                       year=2026, name="导入的标准")
    default = svc.load_default_member_set(company.staff, company.committee, 2026)
    assert result["set"].name == "导入的标准" and items_of(result["set"]) == items_of(default)
    assert {k: v for k, v in settings_of(result["set"]).items() if k != "note"} == \
        {k: v for k, v in settings_of(default).items() if k != "note"}


def test_cells_may_use_short_names_and_are_grouped_by_part(company):
    header = [c.header for c in member_excel.ITEM_COLUMNS]
    content = rebuild([
        header,
        ["否决", "F-1", "讲规矩", "受到党纪处分", "", None, None, None, None, "", ""],
        ["奖励", "J-1", "讲奉献", "志愿服务", "每小时0.5分", 0.5, None, 3, 15, "志愿服务时长（小时）", "是"],
        ["基础分", "B-1", "politics", "参加组织生活", "", 10, 2, None, None, "meeting_absent", "否"],
        ["减分", "K-1", "中心工作", "违章", "", "3", None, None, None, "手工填报", None],
    ], [["设置项*", "值"], ["名称", "文件中的名称"], ["自评权重（%）", 0], ["支部评定权重（%）", 100]])
    result = member_excel.import_member_set_from_excel(company.staff, upload(content), owner=company.committee,
                                                       year=2026, name="")
    ms = result["set"]
    assert ms.name == "文件中的名称"
    rows = items_of(ms)
    assert [(r["code"], r["part"], r["dimension"]) for r in rows] == [
        ("B-1", "base", "politics"), ("J-1", "bonus", "dedication"), ("K-1", "deduction", "central"),
        ("F-1", "veto", "rules")]
    j = rows[1]
    assert (j["points"], j["month_cap"], j["year_cap"], j["source"], j["evidence_required"]) == (
        Decimal("0.5"), Decimal("3"), Decimal("15"), "service_hours", True)


def test_a_bad_file_is_reported_row_by_row_and_changes_nothing(company, custom):
    header = [c.header for c in member_excel.ITEM_COLUMNS]
    content = rebuild([
        header,
        ["奖励分", "J-1", "中心工作", "抢修", "", 2, None, 6, 4, "", ""],  # year cap below month cap
        ["加分项", "J-2", "中心工作", "抢修", "", 2, None, None, None, "", ""],  # unknown part
        ["奖励分", "J-3", "体育", "抢修", "", 2, None, None, None, "", ""],  # unknown dimension
        ["奖励分", "J-1", "中心工作", "抢修", "", 2, None, None, None, "", ""],  # duplicate code
        ["一票否决", "F-1", "讲规矩有纪律", "处分", "", 5, None, None, None, "", ""],  # veto with points
        ["基础分", "B-1", "讲规矩有纪律", "", "", 5, 6, None, None, "", "也许"],  # no text, per-miss, yes/no
        ["减项分", "K-1", "讲规矩有纪律", "违纪", "", 2, None, None, None, "天气", ""],  # unknown source
    ], [["设置项*", "值"], ["奖励分上限", 0], ["自评权重（%）", 10], ["颜色", "红"],
        ["合格分数线", 60], ["合格分数线", 50]])
    before_sets = MemberStandardSet.objects.count()
    before_items = MemberItem.objects.count()
    result = member_excel.import_member_set_from_excel(company.staff, upload(content), owner=company.committee,
                                                       year=2026, name="坏文件")
    problems = [(p.sheet, p.row, p.column, p.message) for p in result["problems"]]
    assert result["rows"] == 7
    texts = "\n".join(f"{s} {r} {c} {m}" for s, r, c, m in problems)
    assert "评价细则 2 全年上限 全年上限（4.0）不能小于每月上限（6.0）。" in texts
    assert "评价细则 3 部分 部分“加分项”不正确，应为基础分、奖励分、减项分、一票否决。" in texts
    assert "评价细则 4 维度 维度“体育”不正确" in texts
    assert "评价细则 5 编码 编码“J-1”与第2行重复。" in texts
    assert "评价细则 6 分值 一票否决项不计分，分值应为0。" in texts
    assert "评价细则 7 评价内容 评价内容不能为空。" in texts and "评价细则 7 需附佐证 应填“是”或“否”" in texts
    assert "评价细则 8 数据来源 数据来源“天气”不正确" in texts
    assert "评价设置 2 值 奖励分上限应为大于0" in texts
    assert "评价设置 4 设置项 设置项“颜色”不正确" in texts
    assert "评价设置 6 设置项 设置项“合格分数线”与第5行重复。" in texts
    assert [p[0] for p in problems] == sorted((p[0] for p in problems), key=["评价细则", "评价设置"].index)
    assert MemberStandardSet.objects.count() == before_sets and MemberItem.objects.count() == before_items
    assert not AuditEvent.objects.filter(action="member_standard.imported").exists()


def test_duplicate_codes_and_weights_not_adding_up_are_reported(company):
    header = [c.header for c in member_excel.ITEM_COLUMNS]
    content = rebuild([
        header,
        ["奖励分", "J-1", "中心工作", "抢修", "", 2, None, None, None, "", ""],
        ["奖励分", "J-1", "中心工作", "抢修", "", 2, None, None, None, "", ""],
    ], [["设置项*", "值"], ["自评权重（%）", 10], ["支部评定权重（%）", 80]])
    result = member_excel.import_member_set_from_excel(company.staff, upload(content), owner=company.committee,
                                                       year=2026, name="甲")
    texts = [(p.sheet, p.row, p.message) for p in result["problems"]]
    assert ("评价细则", 3, "编码“J-1”与第2行重复。") in texts
    assert ("评价设置", 3, "自评权重与支部评定权重之和应为100（现为10.0＋80.0）。") in texts
    assert not MemberStandardSet.objects.exists()


@pytest.mark.parametrize(("content", "message"), [
    (b"not a workbook", "文件不是有效的 Excel"),
    (None, "缺少第二个工作表“评价设置”"),
    ("header", "表头与模板不一致：第1列应为“部分”"),
    ("empty", "没有可导入的细则"),
])
def test_unreadable_files_are_refused_whole(company, content, message):
    if content is None:
        wb = Workbook()
        wb.active.append([c.header for c in member_excel.ITEM_COLUMNS])
        buf = io.BytesIO()
        wb.save(buf)
        content = buf.getvalue()
    elif content == "header":
        content = rebuild([["类别", "编码"]], [["设置项", "值"]])
    elif content == "empty":
        content = rebuild([[c.header for c in member_excel.ITEM_COLUMNS]], [["设置项", "值"]])
    with pytest.raises(DomainError, match=message):
        member_excel.import_member_set_from_excel(company.staff, upload(content), owner=company.committee,
                                                  year=2026, name="甲")
    assert not MemberStandardSet.objects.exists()


def test_import_checks_the_target_state_and_the_permission(company, custom):
    content, _ = member_excel.export_member_set_to_excel(company.staff, custom)
    svc.publish_member_set(company.staff, custom)
    with pytest.raises(DomainError, match="已发布的党员评价标准不能直接修改"):
        member_excel.import_member_set_from_excel(company.staff, upload(content), target=custom)
    with pytest.raises(AccessDenied):
        member_excel.import_member_set_from_excel(company.secretary_a, upload(content), owner=company.committee,
                                                  year=2026, name="甲")
    with pytest.raises(DomainError, match="党员评价标准由党委制定"):
        member_excel.import_member_set_from_excel(company.staff, upload(content), owner=company.branch_a,
                                                  year=2026, name="甲")
    with pytest.raises(AccessDenied):
        member_excel.export_member_set_to_excel(company.outsider, custom)
    assert MemberStandardSet.objects.count() == 1
