"""Standard sets in and out of Excel.

The workbook has two sheets: 考评细则 (items, first) and 考评类别 (categories, second), then 填写说明. An export can
be imported again as it is and gives the same set. An import is checked whole: every problem of every row is
collected into a report (sheet, row, column, Chinese sentence); a file with any problem changes nothing. A clean
file creates a new draft set, or replaces the contents of a draft set, in one transaction with one audit event.

The column titles are the file format, so they stay Chinese in every interface language (like the
organization and member templates); pages show their translation beside them.
"""

import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.core.access import AccessDenied
from dangjian.core.audit import log_action, snapshot
from dangjian.core.errors import DomainError
from dangjian.core.excel import read_rows, workbook_bytes
from dangjian.orgs.models import Level, OrgType
from dangjian.standards import rules, services
from dangjian.standards.models import AutoSource, Method, StandardSet

ITEM_SHEET = gettext_noop("考评细则")
CATEGORY_SHEET = gettext_noop("考评类别")
MAX_SHOWN_PROBLEMS = 1000


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # the header in the file: Chinese, marked for the catalog so pages can show its translation
    required: bool = False
    added: bool = False  # a column added after the first template: files made before it may lack it (last only)

    @property
    def header(self) -> str:
        return self.title + ("*" if self.required else "")

    @property
    def label(self) -> str:
        return _(self.title)


ITEM_COLUMNS = (
    Column("category", gettext_noop("类别编码"), True),
    Column("code", gettext_noop("细则编码"), True),
    Column("text", gettext_noop("考评内容"), True),
    Column("max_points", gettext_noop("分值"), True),
    Column("rule", gettext_noop("扣分标准"), True),
    Column("evidence", gettext_noop("要求报送的资料")),
    Column("methods", gettext_noop("考评方式"), True),
    Column("applies_levels", gettext_noop("适用层级")),
    Column("applies_types", gettext_noop("适用类型")),
    Column("weights", gettext_noop("类型权重")),
    Column("is_veto", gettext_noop("一票否决")),
    Column("auto", gettext_noop("服务数据计分"), added=True),
)
CATEGORY_COLUMNS = (
    Column("code", gettext_noop("类别编码"), True),
    Column("name", gettext_noop("类别名称"), True),
)

EXAMPLE_CATEGORIES = (("ZZ", "组织建设"), ("SH", "组织生活"), ("JY", "党员教育管理"), ("ZY", "作用发挥"),
                      ("JC", "基础工作"))
EXAMPLE_ITEMS = (
    ("SH", "SH-01", "每月固定1天开展主题党日。", 4, "每缺1次扣2分，扣完为止。", "活动方案、记录、照片",
     "信息资料报送、现场考评", "党支部", "", "", "", ""),
    ("ZY", "ZY-11", "落实安全生产责任制，实现安全生产目标。", 8,
     "一般安全事件每起扣4分；发生重大安全责任事故的，一票否决。", "安全生产记录", "信息资料报送、自我评价、现场考评",
     "党支部", "生产类（含供电所类）", "", "是", ""),
)

NOTES = (
    "考评标准导入说明",
    "1. 第一个工作表“考评细则”每行一项细则，第二个工作表“考评类别”每行一个类别；第1行为表头，"
    "请勿修改表头或调整列的顺序，带 * 的列为必填。",
    "2. “考评细则”中的示例行请在导入前删除；“考评类别”中的类别可按需要修改、增删，类别和细则按行的先后排序。",
    "3. 类别编码须在“考评类别”表中列出；细则编码在本标准内不能重复，由字母、数字、短横线组成，如 ZZ-01。",
    "4. 分值为大于0的数，最多一位小数。",
    "5. 考评方式填写：信息资料报送、自我评价、现场考评，可填多个，用顿号“、”分隔。",
    "6. 适用层级填写：党委、党总支、党支部，可填多个；不填表示适用于全部层级。",
    "7. 适用类型填写组织类型名称，如 生产类（含供电所类）、管理类、经营类（可简写为生产类等），可填多个；"
    "不填表示各类型通用（公用项），填写后为差异项。",
    "8. 类型权重：某类型的分值倍数，如“经营类=1.5；管理类=0.5”；不填为1。",
    "9. 一票否决：填“是”表示该项为一票否决项（触发后不得评为最高等次），否则留空或填“否”。",
    "10. 文件中任意一行有错误时，整个文件都不会导入；系统会逐行列出问题，修改后重新上传即可。",
    "11. 服务数据计分（可不填）：按“来源；满分线；零分线；最少样本数”填写，如“客户满意度指数；95；60；5”，"
    "来源为客户满意度指数、政府满意度指数、满意度指数（客户与政府合并）或整改工单销号率；最少样本数可省略（默认1）。"
    "不填表示由考评员人工评分。",
)


# ---- export -------------------------------------------------------------------------------------------


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else value


def set_rows(standard_set: StandardSet) -> tuple[list[tuple], list[tuple]]:
    categories = services.set_contents(standard_set)
    type_names = {t.code: t.name for t in OrgType.objects.all()}
    items = []
    for c in categories:
        for it in c.items.all():
            items.append((
                c.code, it.code, it.text, _number(it.max_points), it.rule, it.evidence,
                "、".join(str.__str__(m) for m in it.method_labels()),
                "、".join(str.__str__(lv) for lv in it.level_labels()),
                "、".join(t.name for t in it.applies_types.all()),
                "；".join(f"{type_names.get(code, code)}={w}" for code, w in it.weights.items()),
                "是" if it.is_veto else "",
                auto_cell(it),
            ))
    return items, [(c.code, c.name) for c in categories]


def auto_cell(it) -> str:
    """"客户满意度指数；95；60；5" (the source's Chinese name: the file format), "" for a manually scored item."""
    if not it.auto_source:
        return ""
    label = str.__str__(AutoSource(it.auto_source).label)
    return "；".join([label, _plain(it.auto_full_at), _plain(it.auto_zero_at), str(it.auto_min_sample)])


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def workbook(items, categories) -> bytes:
    return workbook_bytes([
        (ITEM_SHEET, [c.header for c in ITEM_COLUMNS], items),
        (CATEGORY_SHEET, [c.header for c in CATEGORY_COLUMNS], categories),
    ], notes=list(NOTES))


def template_bytes() -> bytes:
    return workbook(EXAMPLE_ITEMS, EXAMPLE_CATEGORIES)


def export_set_to_excel(user, standard_set: StandardSet, request=None) -> tuple[bytes, str]:
    """The set as a workbook that imports back into the same set; the export is audited."""
    if not services.can_view(user, standard_set):
        raise AccessDenied("standard.view")
    items, categories = set_rows(standard_set)
    content = workbook(items, categories)
    log_action(services._u(user), "export", standard_set, request=request, what="考评标准",
               filename=standard_set.name, rows=len(items))
    stamp = datetime.date.today().strftime("%Y%m%d")
    return content, f"{standard_set.name}-V{standard_set.version}-{stamp}.xlsx"


# ---- reading cells ------------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value).strip()


SEPARATORS = re.compile(r"[、,，;；/\s]+")


def _tokens(value) -> list[str]:
    return [t for t in SEPARATORS.split(_text(value)) if t]


def _or(words) -> str:
    words = list(words)
    return "、".join(words[:-1]) + _("或") + words[-1] if len(words) > 1 else "".join(words)


AUTO_NAMES_SHOWN = [str.__str__(label) for value, label in AutoSource.choices if value]
AUTO_NAMES = {str.__str__(label): value for value, label in AutoSource.choices if value} | {
    v: v for v in AutoSource.values if v}
METHOD_NAMES = {str.__str__(label): value for value, label in Method.choices} | {
    "资料报送": Method.REPORT, "自评": Method.SELF, "现场": Method.ONSITE} | {v: v for v in Method.values}
LEVEL_NAMES = {str.__str__(label): value for value, label in Level.choices} | {v: v for v in Level.values}
ALL_WORDS = {"全部", "所有", "全部层级", "全部类型", "通用"}
YES = {"是", "Y", "y", "yes", "Yes", "YES", "1", "√", "TRUE", "True", "true"}
NO = {"", "否", "N", "n", "no", "No", "NO", "0", "FALSE", "False", "false"}


def type_table(all_types) -> dict[str, OrgType]:
    """Active types by name, code and short name (生产类 for 生产类（含供电所类）)."""
    table = {}
    for t in all_types:
        if not t.active:
            continue
        table[t.name] = t
        table[t.code] = t
        table.setdefault(re.split(r"[（(]", t.name)[0].strip(), t)
    return table


class CellError(Exception):
    pass


@dataclass
class Problem:
    sheet: str
    row: int
    column: str
    message: str

    @property
    def sheet_label(self) -> str:
        return _(self.sheet)

    @property
    def column_label(self) -> str:
        return _(self.column)

    @property
    def text(self) -> str:
        return _("{sheet} 第{row}行：{message}").format(sheet=self.sheet_label, row=self.row, message=self.message)


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0  # data rows of the items sheet

    def __bool__(self):
        return bool(self.problems)


class RowReader:
    def __init__(self, sheet: str, columns, rownum: int, cells: list, report: Report):
        self.sheet, self.columns, self.row, self.cells, self.report = sheet, columns, rownum, cells, report
        self.index = {c.key: i for i, c in enumerate(columns)}
        self.ok = True

    def error(self, key: str, message: str) -> None:
        self.ok = False
        self.report.problems.append(Problem(self.sheet, self.row, self.columns[self.index[key]].title, message))

    def raw(self, key):
        return self.cells[self.index[key]]

    def get(self, key, convert=None):
        col = self.columns[self.index[key]]
        raw = self.raw(key)
        if _text(raw) == "":
            if col.required:
                self.error(key, _("{column}不能为空。").format(column=_(col.title)))
                return None
            raw = None
        try:
            return convert(raw) if convert else _text(raw)
        except (CellError, DomainError) as exc:
            self.error(key, str(getattr(exc, "message", exc)))
            return None


def _header(value) -> str:
    return _text(value).replace("＊", "*").rstrip("*").strip()


def data_rows(sheet: str, columns, rows: list[list]) -> list[tuple[int, list]]:
    """Check the header against the template and return (Excel row number, cells) of the non-empty rows."""
    if not rows:
        raise DomainError(_("工作表“{sheet}”中没有内容，请使用下载的模板填写后上传。").format(sheet=_(sheet)))
    header = [_header(v) for v in rows[0]]
    while header and not header[-1]:
        header.pop()
    expected = [c.title for c in columns]
    for i, title in enumerate(expected):
        if i >= len(header) and all(c.added for c in columns[i:]):
            break  # a file made from an older template: the columns added since are empty
        got = header[i] if i < len(header) else ""
        if got != title:
            raise DomainError(_("工作表“{sheet}”的表头与模板不一致：第{n}列应为“{title}”，实际为“{got}”。"
                                "请下载最新模板，按模板的列填写后上传。").format(
                sheet=_(sheet), n=i + 1, title=title, got=got or _("（空）")))
    if len(header) > len(expected):
        raise DomainError(_("工作表“{sheet}”的表头与模板不一致：模板只有{n}列，文件中多出了“{extra}”等列。").format(
            sheet=_(sheet), n=len(expected), extra=header[len(expected)]))
    width = len(expected)
    out = []
    for i, cells in enumerate(rows[1:], start=2):
        cells = (list(cells) + [None] * width)[:width]
        if all(_text(c) == "" for c in cells):
            continue
        out.append((i, cells))
    return out


def read_sheets(upload) -> tuple[list[list], list[list]]:
    """The rows of the items sheet and of the categories sheet. The core reader checks size, format and row
    count (and reads the first sheet); the second sheet is read from the same, already checked, bytes."""
    from python_calamine import CalamineWorkbook

    item_rows = read_rows(upload)
    upload.seek(0)
    data = upload.read()
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if len(wb.sheet_names) < 2:
            raise DomainError(_("文件中缺少第二个工作表“考评类别”，请使用下载的模板填写。"))
        category_rows = wb.get_sheet_by_index(1).to_python(skip_empty_area=False)
    except DomainError:
        raise
    except Exception as exc:  # calamine's own error types
        raise DomainError(_("无法读取该 Excel 文件，请确认文件未损坏并使用模板格式。")) from exc
    return item_rows, category_rows


# ---- checking -----------------------------------------------------------------------------------------


def _points(value):
    if isinstance(value, float):
        value = repr(value)
    return rules.clean_points(value)


EXAMPLE_TEXTS = {tuple(_text(c) for c in row) for row in EXAMPLE_ITEMS}


class ItemChecker:
    """Reads and checks the cells of one item row; the organization types are loaded once per file."""

    def __init__(self, all_types: list[OrgType]):
        self.by_code = {t.code: t for t in all_types}
        self.types = type_table(all_types)
        self.type_choices = _or(t.name for t in all_types if t.active)

    def methods(self, value) -> list[str]:
        out = []
        for token in _tokens(value):
            if token not in METHOD_NAMES:
                raise CellError(_("考评方式“{value}”不正确，应为{choices}。").format(
                    value=token, choices=_or(str.__str__(lbl) for _v, lbl in Method.choices)))
            out.append(METHOD_NAMES[token])
        return rules.clean_methods(out)

    def levels(self, value) -> list[str]:
        out = []
        for token in _tokens(value):
            if token in ALL_WORDS:
                return []
            if token not in LEVEL_NAMES:
                raise CellError(_("适用层级“{value}”不正确，应为{choices}，不填表示全部层级。").format(
                    value=token, choices=_or(str.__str__(lbl) for _v, lbl in Level.choices)))
            out.append(LEVEL_NAMES[token])
        return rules.clean_levels(out)

    def org_types(self, value) -> list[OrgType]:
        out = []
        for token in _tokens(value):
            if token in ALL_WORDS:
                return []
            if token not in self.types:
                raise CellError(_("适用类型“{value}”不正确，应为{choices}，不填表示各类型通用。").format(
                    value=token, choices=self.type_choices))
            out.append(self.types[token])
        return sorted(set(out), key=lambda t: (t.order, t.pk))

    def weights(self, value, applies_types: list[OrgType]) -> dict[str, str]:
        parsed = {}
        for part in re.split(r"[；;，,\n]+", _text(value)):
            part = part.strip()
            if not part:
                continue
            m = re.match(r"^(.+?)\s*[=＝:：]\s*(\S+)$", part)
            if not m or m.group(1).strip() not in self.types:
                raise CellError(_("类型权重“{value}”不正确，应写成“类型=倍数”，如“经营类=1.5；管理类=0.5”。").format(
                    value=part))
            parsed[self.types[m.group(1).strip()].code] = m.group(2)
        return rules.clean_weights(parsed, applies_types, self.by_code)

    @staticmethod
    def auto(value) -> dict:
        parts = [p.strip() for p in re.split(r"[；;]+", _text(value)) if p.strip()]
        if not parts:
            return rules.clean_auto({})
        if parts[0] not in AUTO_NAMES or not 3 <= len(parts) <= 4:
            raise CellError(_("服务数据计分应写成“来源；满分线；零分线；最少样本数”，如“客户满意度指数；95；60；5”，"
                              "来源为{choices}。").format(choices=_or(AUTO_NAMES_SHOWN)))
        return rules.clean_auto({"auto_source": AUTO_NAMES[parts[0]], "auto_full_at": parts[1],
                                 "auto_zero_at": parts[2], "auto_min_sample": parts[3] if len(parts) > 3 else None})

    @staticmethod
    def veto(value) -> bool:
        text = _text(value)
        if text in YES:
            return True
        if text in NO:
            return False
        raise CellError(_("一票否决应填“是”或“否”（也可留空）。"))

    def check(self, r: "RowReader", category_codes: set[str], first_row: dict[str, int]) -> dict:
        category = r.get("category")
        if category and category not in category_codes:
            r.error("category", _("类别编码“{code}”不在“考评类别”工作表中，请先在该表中列出这个类别。").format(
                code=category))
        code = r.get("code", lambda v: rules.clean_code(v, "code", _("细则编码"), 20))
        if code:
            if code in first_row:
                r.error("code", _("细则编码“{code}”与第{row}行重复。").format(code=code, row=first_row[code]))
            else:
                first_row[code] = r.row
        text = r.get("text", lambda v: rules.clean_text(_text(v), "text", _("考评内容"), 1000))
        points = r.get("max_points", _points)
        rule = r.get("rule", lambda v: rules.clean_text(_text(v), "rule", _("扣分标准"), 1000))
        evidence = r.get("evidence", lambda v: rules.clean_text(_text(v), "evidence", _("要求报送的资料"), 1000,
                                                                   required=False))
        methods = r.get("methods", self.methods)
        levels = r.get("applies_levels", self.levels) or []
        applies_types = r.get("applies_types", self.org_types)
        weights = {}
        if applies_types is not None and _text(r.raw("weights")):
            weights = r.get("weights", lambda v: self.weights(v, applies_types)) or {}
        is_veto = r.get("is_veto", self.veto) or False
        auto = r.get("auto", self.auto) or rules.clean_auto({})
        return {**auto,
            "row": r.row, "category_code": category, "code": code, "text": text, "max_points": points,
            "rule": rule, "evidence": evidence or "", "methods": methods, "applies_levels": levels,
            "type_ids": [t.pk for t in applies_types or []], "weights": weights, "is_veto": is_veto,
        }


def check_workbook(item_rows: list[list], category_rows: list[list]):
    """Validate both sheets; returns (categories, items, report). Queries: the organization types, once."""
    report = Report()
    categories: list[dict] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for rownum, cells in data_rows(CATEGORY_SHEET, CATEGORY_COLUMNS, category_rows):
        r = RowReader(CATEGORY_SHEET, CATEGORY_COLUMNS, rownum, cells, report)
        code = r.get("code", lambda v: rules.clean_code(v, "code", _("类别编码"), 10))
        name = r.get("name", lambda v: rules.clean_text(_text(v), "name", _("类别名称"), 40))
        if code:
            if code in seen_codes:
                r.error("code", _("类别编码“{code}”与第{row}行重复。").format(code=code, row=seen_codes[code]))
            else:
                seen_codes[code] = rownum
        if name:
            if name in seen_names:
                r.error("name", _("类别名称“{name}”与第{row}行重复。").format(name=name, row=seen_names[name]))
            else:
                seen_names[name] = rownum
        if r.ok:
            categories.append({"code": code, "name": name})
    category_codes = set(seen_codes)
    if not categories and not report:
        raise DomainError(_("工作表“考评类别”中没有类别，请至少填写一个类别。"))

    checker = ItemChecker(list(OrgType.objects.all()))
    items: list[dict] = []
    first_row: dict[str, int] = {}
    rows = data_rows(ITEM_SHEET, ITEM_COLUMNS, item_rows)
    if not rows:
        raise DomainError(_("工作表“考评细则”中没有可导入的细则，请在表头下方逐行填写。"))
    for rownum, cells in rows:
        r = RowReader(ITEM_SHEET, ITEM_COLUMNS, rownum, cells, report)
        if tuple(_text(c) for c in cells) in EXAMPLE_TEXTS:
            r.error("code", _("这是模板中的示例行，请删除后再导入。"))
            continue
        item = checker.check(r, category_codes, first_row)
        if r.ok:
            items.append(item)
    order = {ITEM_SHEET: 0, CATEGORY_SHEET: 1}
    report.problems.sort(key=lambda p: (order[p.sheet], p.row))
    report.rows = len(rows)
    return categories, items, report


# ---- importing ----------------------------------------------------------------------------------------


def import_set_from_excel(user, upload, *, target: StandardSet | None = None, owner=None, year=None,
                          name: str = "", request=None) -> dict:
    """Check the whole file; when clean, replace the contents of the draft ``target`` or create a new draft
    set (owner, year, name). Returns {"problems": [...], "rows": n} or {"set": set, "count": n}; raises
    DomainError when the file cannot be read at all or the target may not be changed."""
    if target is not None:
        services._check(user, "standard.manage", target.owner.path)
        services.check_editable(target)
    else:
        if owner is None:
            raise DomainError(_("请选择制定单位。"), "owner")
        services._check(user, "standard.manage", owner.path)
        services._check_owner(owner)
        services._check_year(year)
        rules.clean_text(name, "name", _("标准名称"), 100)
    filename = (getattr(upload, "name", "") or "")[:200]
    item_rows, category_rows = read_sheets(upload)
    categories, items, report = check_workbook(item_rows, category_rows)
    if report:
        return {"problems": report.problems, "rows": report.rows}
    try:
        with transaction.atomic():
            if target is not None:
                ss = services._lock(target)
                services.check_editable(ss)
                services.clear_contents(ss)
                created = False
            else:
                ss = services.create_set(user, owner=owner, year=year, name=name, audit=False)
                created = True
            services.write_contents(ss, categories, items)
            log_action(services._u(user), "standard.imported", ss, request=request, filename=filename,
                       created=created, categories=len(categories), count=len(items),
                       after=snapshot(ss, services.SET_FIELDS) if created else None)
    except IntegrityError as exc:
        raise DomainError(_("导入时标准已被他人同时修改，本次未导入任何数据，请重新上传。")) from exc
    return {"set": ss, "count": len(items), "categories": len(categories)}
