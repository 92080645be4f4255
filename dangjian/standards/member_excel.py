"""Member standard sets in and out of Excel.

The workbook has two sheets: 评价细则 (the items, first) and 评价设置 (the set's name, note and settings, one per
row), then 填写说明. An export imports again as it is and gives the same set (settings and items). The template
is the platform's default set, ready to adapt. An import is checked whole: every problem of every row is
collected into a report (sheet, row, column, Chinese sentence); a file with any problem changes nothing. A clean
file creates a new draft set, or replaces the settings and items of a draft set, in one transaction with one
audit event.

Column titles and setting names are the file format, so they stay Chinese in every interface language (like
the other templates); pages show their translation beside them.
"""

import datetime
import io
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.core.access import AccessDenied
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.excel import read_rows, workbook_bytes
from dangjian.standards import member_defaults
from dangjian.standards import member_services as ms_services
from dangjian.standards.excel_io import NO, YES, Column, Problem, Report, RowReader, _number, _text, data_rows
from dangjian.standards.models import ActivitySource, Dimension, MemberPart, MemberStandardSet, VetoEffect
from dangjian.standards.rules import clean_text

ITEM_SHEET = gettext_noop("评价细则")
SETTING_SHEET = gettext_noop("评价设置")
MAX_SHOWN_PROBLEMS = 1000

ITEM_COLUMNS = (
    Column("part", gettext_noop("部分"), True),
    Column("code", gettext_noop("编码"), True),
    Column("dimension", gettext_noop("维度"), True),
    Column("text", gettext_noop("评价内容"), True),
    Column("rule", gettext_noop("计分说明")),
    Column("points", gettext_noop("分值")),
    Column("per_miss", gettext_noop("每缺一次扣分")),
    Column("month_cap", gettext_noop("每月上限")),
    Column("year_cap", gettext_noop("全年上限")),
    Column("source", gettext_noop("数据来源")),
    Column("evidence_required", gettext_noop("需附佐证")),
)
SETTING_COLUMNS = (
    Column("key", gettext_noop("设置项"), True),
    Column("value", gettext_noop("值")),
)

# The rows of the settings sheet: (key, name in the file). Dimension caps are "<dimension>奖励分上限".
SETTING_ROWS = (
    ("name", gettext_noop("名称")),
    ("note", gettext_noop("说明")),
    ("bonus_cap", gettext_noop("奖励分上限")),
    ("deduction_cap", gettext_noop("减项分上限")),
    ("floor", gettext_noop("月度最低分")),
    ("pass_mark", gettext_noop("合格分数线")),
    *((f"dim:{value}", str.__str__(label) + "奖励分上限") for value, label in Dimension.choices),
    ("veto_effect", gettext_noop("否决项的效果")),
    ("weight_self", gettext_noop("自评权重（%）")),
    ("weight_branch", gettext_noop("支部评定权重（%）")),
    ("public_ranking", gettext_noop("公开显示排名")),
)
SETTING_KEYS = {title: key for key, title in SETTING_ROWS}

NOTES = (
    "党员评价标准导入说明",
    "1. 第一个工作表“评价细则”每行一项细则，第二个工作表“评价设置”每行一项设置；第1行为表头，请勿修改表头或"
    "调整列的顺序，带 * 的列为必填。细则按部分（基础分、奖励分、减项分、一票否决）分组，同一部分内按行的先后排序。",
    "2. 部分填写：基础分、奖励分、减项分、一票否决。维度填写：讲政治有信念、讲规矩有纪律、讲道德有品行、"
    "讲奉献有作为、中心工作。",
    "3. 编码在本标准内不能重复，由字母、数字、短横线组成，如 JC-01。",
    "4. 分值：基础分项目为本项满分；奖励分、减项分项目为每次的分值；一票否决项不计分，留空或填0。"
    "分值最多一位小数。",
    "5. 每缺一次扣分：只用于基础分项目，不大于本项分值；留空表示缺一次即扣完本项分值。",
    "6. 每月上限、全年上限：只用于奖励分、减项分项目，不小于每次的分值，全年上限不小于每月上限；留空表示不设上限。",
    "7. 数据来源：留空（手工填报），或填 参加组织生活次数、无故缺席组织生活次数、讲党课次数、学习记录条数、"
    "当月党费未按时交纳、志愿服务时长（小时），由活动记录自动带入次数。",
    "8. 需附佐证：填“是”表示党员申报该项时需上传佐证材料，否则留空或填“否”。",
    "9. “评价设置”表：奖励分上限、减项分上限、各维度奖励分上限留空表示不设上限；月度最低分留空表示不设下限；"
    "合格分数线留空表示只看否决项；自评权重与支部评定权重之和应为100；否决项的效果填写："
    + "；".join(str.__str__(label) for _v, label in VetoEffect.choices) + "；公开显示排名填“是”或“否”。",
    "10. 导入为新标准时，名称以页面上填写的为准，未填写时使用“评价设置”表中的名称；导入到已有草稿时，"
    "替换其全部细则和设置，名称和说明不变。",
    "11. 文件中任意一行有错误时，整个文件都不会导入；系统会逐行列出问题，修改后重新上传即可。",
)


# ---- export -------------------------------------------------------------------------------------------


def _num(value: Decimal | None):
    return None if value is None else _number(value)


def item_rows(items) -> list[tuple]:
    return [(
        str.__str__(MemberPart(it.part).label), it.code, str.__str__(Dimension(it.dimension).label), it.text,
        it.rule, _number(it.points), _num(it.per_miss), _num(it.month_cap), _num(it.year_cap),
        str.__str__(ActivitySource(it.source).label) if it.source else "", "是" if it.evidence_required else "",
    ) for it in items]


def setting_rows(values: dict) -> list[tuple]:
    """``values``: name, note and the settings as on the model (dimension_caps a dict of decimal strings)."""
    rows = []
    for key, title in SETTING_ROWS:
        if key.startswith("dim:"):
            cap = (values.get("dimension_caps") or {}).get(key[4:])
            value = _number(Decimal(cap)) if cap not in (None, "") else None
        elif key == "veto_effect":
            value = str.__str__(VetoEffect(values["veto_effect"]).label)
        elif key == "public_ranking":
            value = "是" if values["public_ranking"] else "否"
        elif key in ("name", "note"):
            value = values.get(key, "")
        else:
            value = values.get(key)
            value = _num(value if value is None or isinstance(value, Decimal) else Decimal(str(value)))
        rows.append((title, value))
    return rows


def workbook(items: list[tuple], settings: list[tuple]) -> bytes:
    return workbook_bytes([
        (ITEM_SHEET, [c.header for c in ITEM_COLUMNS], items),
        (SETTING_SHEET, [c.header for c in SETTING_COLUMNS], settings),
    ], notes=list(NOTES))


def _set_values(ms: MemberStandardSet) -> dict:
    return {"name": ms.name, "note": ms.note, **{f: getattr(ms, f) for f in ms_services.SETTING_FIELDS}}


def template_bytes() -> bytes:
    """The template: the platform's default set, to adapt."""
    from types import SimpleNamespace

    items = [SimpleNamespace(**row) for row in ms_services.default_member_rows()]
    rank = {p: i for i, p in enumerate(ms_services.PART_ORDER)}
    items.sort(key=lambda it: rank[it.part])
    values = {"name": member_defaults.NAME.format(year=datetime.date.today().year), "note": member_defaults.NOTE,
              **member_defaults.SETTINGS}
    return workbook(item_rows(items), setting_rows(values))


def export_member_set_to_excel(user, member_set: MemberStandardSet, request=None) -> tuple[bytes, str]:
    """The set as a workbook that imports back into the same set; the export is audited."""
    if not ms_services.can_view(user, member_set):
        raise AccessDenied("standard.view")
    items = ms_services.member_set_contents(member_set)
    content = workbook(item_rows(items), setting_rows(_set_values(member_set)))
    log_action(ms_services._u(user), "export", member_set, request=request, what="党员评价标准",
               filename=member_set.name, rows=len(items))
    stamp = datetime.date.today().strftime("%Y%m%d")
    return content, f"{member_set.name}-V{member_set.version}-{stamp}.xlsx"


# ---- reading ------------------------------------------------------------------------------------------


def _names(choices, extra=None) -> dict[str, str]:
    table = {str.__str__(label): value for value, label in choices}
    table.update({value: value for value, _label in choices if value})
    table.update(extra or {})
    return table


PART_NAMES = _names(MemberPart.choices, {"基础": "base", "基础项": "base", "奖励": "bonus", "奖励项": "bonus",
                                          "加分": "bonus", "减项": "deduction", "减分": "deduction",
                                          "扣分": "deduction", "否决": "veto", "否决项": "veto",
                                          "一票否决项": "veto"})
DIMENSION_NAMES = _names(Dimension.choices, {
    "讲政治": "politics", "政治合格": "politics", "讲规矩": "rules", "守纪合格": "rules", "讲道德": "morals",
    "品德合格": "morals", "讲奉献": "dedication", "履责合格": "dedication"})
SOURCE_NAMES = _names(ActivitySource.choices, {"": "", "手工填报": "", "手工": "", "无": ""})
VETO_NAMES = _names(VetoEffect.choices)


def _choice(table: dict, what: str, choices):
    """A converter from a cell to a choice value; ``what`` is a Chinese source string (gettext_noop), translated
    when the message is made."""

    def convert(value):
        text = _text(value)
        if text not in table:
            raise DomainError(_("{what}“{value}”不正确，应为{choices}。").format(
                what=_(what), value=text, choices="、".join(str(label) for v, label in choices if v)))
        return table[text]

    return convert


def _decimal_cell(value):
    """The cell as it came, for the services' rules: a float becomes its shortest text (0.5, not 0.5000001)."""
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bool):
        raise DomainError(_("应为数字。"))
    return _text(value)


def _yes_no(value) -> bool:
    text = _text(value)
    if text in YES:
        return True
    if text in NO:
        return False
    raise DomainError(_("应填“是”或“否”（也可留空）。"))


def read_sheets(upload) -> tuple[list[list], list[list]]:
    """The rows of the items sheet and of the settings sheet. The core reader checks size, format and row
    count (and reads the first sheet); the second sheet is read from the same, already checked, bytes."""
    from python_calamine import CalamineWorkbook

    item_rows_ = read_rows(upload)
    upload.seek(0)
    data = upload.read()
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if len(wb.sheet_names) < 2:
            raise DomainError(_("文件中缺少第二个工作表“评价设置”，请使用下载的模板填写。"))
        setting_rows_ = wb.get_sheet_by_index(1).to_python(skip_empty_area=False)
    except DomainError:
        raise
    except Exception as exc:  # calamine's own error types
        raise DomainError(_("无法读取该 Excel 文件，请确认文件未损坏并使用模板格式。")) from exc
    return item_rows_, setting_rows_


ITEM_CONVERTERS = {
    "code": lambda v: ms_services.clean_member_code(_text(v)),
    "part": _choice(PART_NAMES, gettext_noop("部分"), MemberPart.choices),
    "dimension": _choice(DIMENSION_NAMES, gettext_noop("维度"), Dimension.choices),
    "points": _decimal_cell, "per_miss": _decimal_cell, "month_cap": _decimal_cell, "year_cap": _decimal_cell,
    "source": _choice(SOURCE_NAMES, gettext_noop("数据来源"), ActivitySource.choices),
    "evidence_required": _yes_no,
}


def _check_settings(rows: list[list], report: Report) -> dict:
    """The settings sheet -> {"name", "note", settings...}; problems go to the report."""
    values: dict = {}
    caps: dict[str, object] = {}
    seen: dict[str, int] = {}
    where: dict[str, int] = {}
    probe = MemberStandardSet()
    for rownum, cells in data_rows(SETTING_SHEET, SETTING_COLUMNS, rows):
        r = RowReader(SETTING_SHEET, SETTING_COLUMNS, rownum, cells, report)
        title = r.get("key")
        if not title:
            continue
        key = SETTING_KEYS.get(title)
        if key is None:
            r.error("key", _("设置项“{name}”不正确，应为{names}。").format(
                name=title, names="、".join(t for _k, t in SETTING_ROWS)))
            continue
        if key in seen:
            r.error("key", _("设置项“{name}”与第{row}行重复。").format(name=title, row=seen[key]))
            continue
        seen[key] = where[key] = rownum
        raw = r.raw("value")
        try:
            if key == "name":
                values["name"] = clean_text(_text(raw), "name", _("标准名称"), 100, required=False)
            elif key == "note":
                values["note"] = clean_text(_text(raw), "note", _("说明"), 2000, required=False)
            elif key.startswith("dim:"):
                caps[key[4:]] = _decimal_cell(raw)
                ms_services.clean_dimension_caps({key[4:]: caps[key[4:]]})
            elif key == "veto_effect":
                values["veto_effect"] = _choice(VETO_NAMES, gettext_noop("否决项的效果"), VetoEffect.choices)(raw)
            elif key == "public_ranking":
                values["public_ranking"] = _yes_no(raw)
            elif key in ("weight_self", "weight_branch"):
                values[key] = _weight(key, raw)
            else:
                values[key] = ms_services.clean_settings(probe, {key: _decimal_cell(raw)})[key]
        except DomainError as exc:
            r.error("value", str(exc.message))
    if caps:
        try:
            values["dimension_caps"] = ms_services.clean_dimension_caps(caps)
        except DomainError:
            pass  # each bad cap is already reported on its row
    settings = {k: v for k, v in values.items() if k in ms_services.SETTING_FIELDS}
    if not report.problems:
        try:
            ms_services.clean_settings(probe, settings)
        except DomainError as exc:
            field = exc.field if exc.field in where else next(
                (f for f in ("weight_branch", "weight_self", "pass_mark", "floor") if f in where), None)
            report.problems.append(Problem(SETTING_SHEET, where.get(field, 1), SETTING_COLUMNS[1].title,
                                           str(exc.message)))
    return values


def _weight(key: str, raw) -> Decimal:
    """One rater weight on its own (the sum is checked once both are read)."""
    label = _("自评权重") if key == "weight_self" else _("支部评定权重")
    return ms_services._decimal(_decimal_cell(raw), key, _("{label}应为0至100之间的数，最多一位小数。").format(
        label=label), low=Decimal("0"), high=Decimal("100"), low_open=False)


def check_workbook(item_sheet: list[list], setting_sheet: list[list]):
    """Validate both sheets; returns (items, values, report). No queries."""
    report = Report()
    values = _check_settings(setting_sheet, report)
    rows = data_rows(ITEM_SHEET, ITEM_COLUMNS, item_sheet)
    if not rows:
        raise DomainError(_("工作表“评价细则”中没有可导入的细则，请在表头下方逐行填写。"))
    probe = MemberStandardSet()
    items: list[dict] = []
    first_row: dict[str, int] = {}
    for rownum, cells in rows:
        r = RowReader(ITEM_SHEET, ITEM_COLUMNS, rownum, cells, report)
        data = {}
        for col in ITEM_COLUMNS:
            value = r.get(col.key, ITEM_CONVERTERS.get(col.key))
            if value is not None:
                data[col.key] = value
        code = data.get("code")
        if code:
            if code in first_row:
                r.error("code", _("编码“{code}”与第{row}行重复。").format(code=code, row=first_row[code]))
            else:
                first_row[code] = rownum
        if not r.ok:
            continue
        try:
            items.append(ms_services.clean_member_item(probe, data, check_code=False))
        except DomainError as exc:
            r.error(exc.field if exc.field in r.index else "code", str(exc.message))
    order = {ITEM_SHEET: 0, SETTING_SHEET: 1}
    report.problems.sort(key=lambda p: (order[p.sheet], p.row))
    report.rows = len(rows)
    return items, values, report


# ---- importing ----------------------------------------------------------------------------------------


def import_member_set_from_excel(user, upload, *, target: MemberStandardSet | None = None, owner=None, year=None,
                                 name: str = "", request=None) -> dict:
    """Check the whole file; when clean, replace the settings and items of the draft ``target`` or create a
    new draft set (owner, year, name — or the file's name). Returns {"problems": [...], "rows": n} or
    {"set": set, "count": n}; raises DomainError when the file cannot be read at all or the target may not be
    changed."""
    if target is not None:
        target = MemberStandardSet.objects.select_related("owner").get(pk=target.pk)  # its current state
        ms_services._check(user, "standard.manage", target.owner.path)
        ms_services.check_editable(target)
    else:
        if owner is None:
            raise DomainError(_("请选择制定单位。"), "owner")
        ms_services._check(user, "standard.manage", owner.path)
        ms_services._check_owner(owner)
        ms_services._check_year(year)
    filename = (getattr(upload, "name", "") or "")[:200]
    item_sheet, setting_sheet = read_sheets(upload)
    items, values, report = check_workbook(item_sheet, setting_sheet)
    if report:
        return {"problems": report.problems, "rows": report.rows}
    settings = {k: v for k, v in values.items() if k in ms_services.SETTING_FIELDS}
    try:
        with transaction.atomic():
            if target is not None:
                ms = ms_services._lock(target)
                ms_services.check_editable(ms)
                ms_services.clear_member_items(ms)
                for key, value in ms_services.clean_settings(ms, settings).items():
                    setattr(ms, key, value)
                ms.save()
                created = False
            else:
                set_name = (name or "").strip() or values.get("name") or ""
                if not set_name:
                    raise DomainError(_("请填写标准名称（页面上或“评价设置”表的“名称”行）。"), "name")
                ms = ms_services.create_member_set(user, owner=owner, year=year, name=set_name,
                                                   note=values.get("note", ""), settings=settings, audit=False)
                created = True
            ms_services.write_member_items(ms, items)
            log_action(ms_services._u(user), "member_standard.imported", ms, request=request, filename=filename,
                       created=created, count=len(items), after=ms_services._set_snapshot(ms))
    except IntegrityError as exc:
        raise DomainError(_("导入时标准已被他人同时修改，本次未导入任何数据，请重新上传。")) from exc
    return {"set": ms, "count": len(items)}
