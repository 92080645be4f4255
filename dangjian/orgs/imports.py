"""Excel import of organizations and members from the downloadable templates.

An upload is read whole (python-calamine), every row is checked and every problem collected; a file with any
problem changes nothing. A clean file is written in one transaction with one audit event. The member path is
set-based: referenced branches and existing ID numbers are loaded with a constant number of queries per chunk,
members and pledges go in with ``bulk_create`` in chunks.
"""

import datetime
import re
import uuid
from dataclasses import dataclass, field
from functools import cache, cached_property

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext, pgettext

from dangjian.core import crypto
from dangjian.core.access import allowed_paths, can, scope
from dangjian.core.audit import log_action, snapshot
from dangjian.core.errors import DomainError
from dangjian.core.excel import read_rows, workbook_bytes, xlsx_response
from dangjian.core.pinyin import name_keys
from dangjian.core.validators import id_check_char, normalize_id_number, validate_id_number, validate_phone
from dangjian.core.views import require_capability
from dangjian.orgs.models import (
    Gender,
    Level,
    Member,
    MemberStatus,
    Organization,
    OrgChange,
    OrgType,
    Pledge,
    path_segment,
)
from dangjian.orgs.services import ORG_FIELDS, check_member_facts, check_placement

CHUNK = 2000  # rows per IN (...) lookup and per INSERT batch
MAX_SHOWN_ERRORS = 1000  # the report page lists at most this many problems


# ---- the two kinds of import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # the header in the file: Chinese in every language, marked for the catalog so pages can show its label
    required: bool = False
    max_length: int | None = None

    @property
    def header(self) -> str:
        return self.title + ("*" if self.required else "")

    @property
    def label(self) -> str:
        return _(self.title)


@dataclass(frozen=True, eq=False)  # hashed by identity: the two kinds are module constants
class Kind:
    key: str
    noun: str  # what one row is: 党组织 / 党员 (Chinese: the template's sheet and file name; label: noun_label)
    heading: str  # 导入党组织 / 导入党员 (Chinese; title is its translation)
    capability: str  # may import at all
    manage: str  # the scope every referenced organization must lie in
    audit_action: str
    columns: tuple[Column, ...]
    back: str  # url name of the page the imported rows appear on

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def title(self) -> str:
        return _(self.heading)

    @property
    def noun_label(self) -> str:
        return _(self.noun)

    @cached_property
    def index(self) -> dict[str, int]:
        return {c.key: i for i, c in enumerate(self.columns)}


ORG_COLUMNS = (
    Column("code", gettext_noop("组织编码"), True, 40),
    Column("name", gettext_noop("组织名称"), True, 100),
    Column("level", gettext_noop("层级"), True),
    Column("type", gettext_noop("类型")),
    Column("parent", gettext_noop("上级组织编码"), True, 40),
    Column("established_on", gettext_noop("成立日期")),
    Column("term_ends_on", gettext_noop("届满日期")),
    Column("address", gettext_noop("活动阵地"), False, 200),
)

MEMBER_COLUMNS = (
    Column("name", gettext_noop("姓名"), True, 40),
    Column("gender", gettext_noop("性别"), True),
    Column("birth_date", gettext_noop("出生日期"), True),
    Column("id_number", gettext_noop("身份证号"), True),
    Column("phone", gettext_noop("手机号")),
    Column("org", gettext_noop("所在党支部编码"), True, 40),
    Column("joined_on", gettext_noop("入党日期"), True),
    Column("confirmed_on", gettext_noop("转正日期")),
    Column("status", gettext_noop("党员类别"), True),
    Column("post", gettext_noop("岗位"), False, 60),
    Column("title", gettext_noop("职务"), False, 60),
    Column("pledge", gettext_noop("承诺"), False, 500),
)

KINDS = {
    "orgs": Kind("orgs", gettext_noop("党组织"), gettext_noop("导入党组织"), "org.import", "org.manage",
                 "org.imported", ORG_COLUMNS, "orgs:org_list"),
    "members": Kind("members", gettext_noop("党员"), gettext_noop("导入党员"), "member.import", "member.manage",
                    "member.imported", MEMBER_COLUMNS, "orgs:member_list"),
}


def _example_id() -> str:
    first17 = "11010119900307" + "123"
    return first17 + id_check_char(first17)


@cache
def _example(kind: Kind) -> tuple:
    if kind.key == "orgs":
        return ("DZB001", "变电运维第二党支部", "党支部", "生产类（含供电所类）", "G001",
                datetime.date(2024, 7, 1), datetime.date(2027, 6, 30), "变电运维中心三楼党员活动室")
    return ("张三", "男", datetime.date(1990, 3, 7), _example_id(), "13912345678", "B001",
            datetime.date(2015, 7, 1), datetime.date(2016, 7, 1), "正式党员", "变电运维班班长", "班长",
            "立足岗位作贡献，保障电网安全稳定运行。")


def _notes(kind: Kind) -> list[str]:
    """The template file's notes: Chinese, like its headers and the values it takes, in every language."""
    common = [
        f"{kind.heading}填写说明",
        "1. 请在第一个工作表中填写，第1行为表头，请勿修改、增删或调整列的顺序；带 * 的列为必填。",
        "2. 第2行为示例，导入前请删除示例行。",
        "3. 日期请填写为 Excel 日期，或如 2020-07-01、2020/7/1、2020年7月1日 的文本。",
        "4. 文件中任意一行有错误时，整个文件都不会导入；系统会逐行列出问题，修改后重新上传即可。",
    ]
    if kind.key == "orgs":
        return common + [
            "5. 层级填写：党委、党总支或党支部。",
            "6. 类型填写：生产类（含供电所类）、管理类或经营类（可简写为生产类、管理类、经营类）；党支部必填。",
            "7. 上级组织编码：填写系统中已有组织的编码，或本文件中位于本行之前的组织的编码；"
            "上级组织须在您的管理范围内。",
            "8. 党委下可设党委、党总支、党支部；党总支下只能设党支部；党支部下不能再设组织。",
            "9. 组织编码须唯一，不能与系统中已有组织或本文件其他行重复。",
        ]
    return common + [
        "5. 性别填写：男或女；党员类别填写：正式党员或预备党员。正式党员须填写转正日期，预备党员不填。",
        "6. 身份证号为18位，请先把该列设置为“文本”格式再填写（或在号码前加英文单引号 '），"
        "否则 Excel 会把后几位变成 0。手机号同样建议设置为文本。",
        "7. 所在党支部编码：填写党员所在党支部的组织编码，该支部须在您的管理范围内。",
        "8. 出生日期须与身份证号一致；入党时应年满18周岁；转正日期应晚于入党日期。",
        "9. 承诺：本年度党员承诺内容，可不填，不超过500字。",
        "10. 身份证号不能与系统中已登记的党员或本文件其他行重复；调入的党员请使用“转接”。",
    ]


def template_bytes(kind: Kind) -> bytes:
    return workbook_bytes([(kind.noun, kind.headers, [_example(kind)])], notes=_notes(kind))


# ---- reading cells --------------------------------------------------------------------------------------


class CellError(Exception):
    pass


def _text(value) -> str:
    """A cell as text: 1001.0 typed into a code column is the code "1001"."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _digits(value, what: str) -> str:
    """ID and phone numbers, which Excel likes to turn into (lossy) numbers."""
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 2**53:
            raise CellError(_("{what}被 Excel 保存成了数字，后几位已经丢失，无法还原；"
                              "请把该列设置为“文本”格式后重新填写{what}。").format(what=what))
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return re.sub(r"[\s\-]", "", _text(value))


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _date(value) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, datetime.time | datetime.timedelta):
        raise CellError(_("日期格式不正确，请填写如 2020-07-01 的日期。"))
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                d = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
            if not 1900 <= d.year <= 2100:
                break
            return d
    raise CellError(_("“{text}”不是有效的日期，请填写如 2020-07-01 的日期。").format(text=text))


def _lookup(text: str, table: dict, what, choices):
    """``what`` is a column's label (lazy); ``choices`` gives the values the file may hold (Chinese, the file's
    language) — a callable, so that a valid cell costs no translation (an import checks 100 k rows)."""
    if text in table:
        return table[text]
    raise CellError(_("{column}“{text}”不正确，应为{choices}。").format(
        column=what, text=text, choices=choices() if callable(choices) else choices))


# Column labels used in cell errors, translated only when an error is written.
LEVEL_LABEL, TYPE_LABEL = gettext_lazy("层级"), gettext_lazy("类型")
GENDER_LABEL, STATUS_LABEL = gettext_lazy("性别"), gettext_lazy("党员类别")
ID_LABEL, PHONE_LABEL = gettext_lazy("身份证号"), gettext_lazy("手机号")


# ---- the report ---------------------------------------------------------------------------------------


@dataclass
class Problem:
    row: int
    column: str  # the column's title (Chinese, as in the file)
    message: str

    @property
    def column_label(self) -> str:
        return _(self.column)

    @property
    def text(self) -> str:
        return _("第{row}行：{message}").format(row=self.row, message=self.message)


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    def add(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(row, column, message))

    def __bool__(self):
        return bool(self.problems)


class RowReader:
    """The cells of one data row, read by column key; a bad cell goes to the report and reads as None."""

    def __init__(self, kind: Kind, rownum: int, cells: list, report: Report):
        self.kind, self.row, self.cells, self.report = kind, rownum, cells, report
        self.index = kind.index
        self.ok = True

    def column(self, key) -> Column:
        return self.kind.columns[self.index[key]]

    def error(self, key: str, message: str) -> None:
        self.ok = False
        self.report.add(self.row, self.column(key).title, message)

    def raw(self, key):
        return self.cells[self.index[key]]

    def get(self, key, convert=_text):
        i = self.index[key]
        col = self.kind.columns[i]
        raw = self.cells[i]
        if raw is None or (type(raw) is str and not raw.strip()):
            if col.required:
                self.error(key, _("{column}不能为空。").format(column=col.label))
            return None
        try:
            value = convert(raw)
        except CellError as exc:
            self.error(key, str(exc))
            return None
        if type(value) is str:
            if col.max_length and len(value) > col.max_length:
                self.error(key, _("{column}不能超过{limit}个字（现有{length}个字）。").format(
                    column=col.label, limit=col.max_length, length=len(value)))
                return None
        return value


def _header_key(value) -> str:
    return _text(value).replace("＊", "*").rstrip("*").strip()


def data_rows(kind: Kind, rows: list[list]) -> list[tuple[int, list]]:
    """Check the header against the template and return (Excel row number, cells) of the non-empty rows."""
    if not rows:
        raise DomainError(_("文件中没有内容，请使用下载的模板填写后上传。"))
    header = [_header_key(v) for v in rows[0]]
    while header and not header[-1]:
        header.pop()
    expected = [c.title for c in kind.columns]
    if header != expected:
        for i, title in enumerate(expected):
            got = header[i] if i < len(header) else ""
            if got != title:
                raise DomainError(_(
                    "表头与{noun}导入模板不一致：第{column}列应为“{expected}”，实际为“{got}”。"
                    "请下载最新模板，按模板的列填写后上传。").format(
                        noun=kind.noun_label, column=i + 1, expected=title, got=got or _("（空）")))
        raise DomainError(_("表头与{noun}导入模板不一致：模板只有{count}列，文件中多出了“{extra}”等列。"
                            "请下载最新模板填写。").format(
                                noun=kind.noun_label, count=len(expected), extra=header[len(expected)]))
    width = len(expected)
    out = []
    for i, cells in enumerate(rows[1:], start=2):
        # The lists calamine made are reused, not copied: 100 k rows are read with one copy in memory.
        if len(cells) > width:
            del cells[width:]
        elif len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        if all(c is None or (type(c) is str and not c.strip()) for c in cells):
            continue
        out.append((i, cells))
    if not out:
        raise DomainError(_("文件中没有可导入的数据行，请在表头下方逐行填写。"))
    return out


@cache
def _example_texts(kind: Kind) -> list[str]:
    return [_text(c) for c in _example(kind)]


def _is_example(kind: Kind, cells: list) -> bool:
    example = _example_texts(kind)
    return _text(cells[0]) == example[0] and [_text(c) for c in cells] == example


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _scoped_orgs_by_code(user, action: str, codes) -> dict[str, Organization]:
    """Organizations with these codes inside the user's scope: one query per chunk of codes."""
    out = {}
    for chunk in _chunks(sorted(codes)):
        qs = scope(user, action, Organization.objects.filter(code__in=chunk))
        out.update({o.code: o for o in qs})
    return out


def _existing(model_field, values) -> set[str]:
    model, name = model_field
    found = set()
    for chunk in _chunks(sorted(values)):
        found.update(model.objects.filter(**{f"{name}__in": chunk}).values_list(name, flat=True))
    return found


def _registered_id_numbers(id_numbers) -> set[str]:
    """The ID numbers already registered, found by their blind index (the column itself is sealed)."""
    by_index = {}
    for idn in id_numbers:
        for index in crypto.blind_indexes(idn):
            by_index[index] = idn
    found = _existing((Member, "id_number_index"), by_index)
    return {by_index[index] for index in found}


def _common_path(paths) -> str:
    """The deepest organization path all ``paths`` lie under ("" when they share none)."""
    split = [p.split(".")[:-1] for p in set(paths) if p]
    if not split:
        return ""
    common = []
    for parts in zip(*split, strict=False):
        if any(p != parts[0] for p in parts):
            break
        common.append(parts[0])
    return ".".join(common) + "." if common else ""


def _audit_path(user, action: str, paths) -> str:
    path = _common_path(paths)
    if path:
        return path
    roots = allowed_paths(user, action)
    return roots[0] if roots and len(roots) == 1 else ""


# ---- organizations ------------------------------------------------------------------------------------

def _or(words: list[str]) -> str:
    """["党委", "党总支", "党支部"] -> "党委、党总支或党支部" (the words are what the file holds: Chinese)."""
    words = [str.__str__(w) for w in words]
    return pgettext("list separator", "、").join(words[:-1]) + _("或") + words[-1] if len(words) > 1 else "".join(words)


LEVELS = {label: value for value, label in Level.choices}
LEVEL_WORDS = [label for _value, label in Level.choices]
# Stands in for a parent that could not be resolved, so that the rules about the row itself (a 党支部 needs a
# type) are still reported; every level may sit under a 党委.
_ANY_PARENT = Organization(name="", level=Level.COMMITTEE, archived=False)


def _types() -> tuple[dict[str, OrgType], str]:
    table = {}
    names = []
    for t in OrgType.objects.filter(active=True):
        names.append(t.name)
        table[t.name] = t
        short = re.split(r"[（(]", t.name)[0].strip()
        table.setdefault(short, t)
    return table, _or(names) or _("（系统中尚无组织类型）")


def check_orgs(user, kind: Kind, rows: list[tuple[int, list]]):
    """Validate an organizations file; returns (plans in file order, report)."""
    report = Report()
    types, type_choices = _types()
    code_i, parent_i = kind.index["code"], kind.index["parent"]
    file_codes = {_text(cells[code_i]): n for n, cells in reversed(rows) if _text(cells[code_i])}
    taken = _existing((Organization, "code"), file_codes)
    parent_codes = {_text(cells[parent_i]) for _rownum, cells in rows} - {""}
    db_parents = _scoped_orgs_by_code(user, kind.manage, parent_codes)

    defined: dict[str, Organization] = {}  # codes of earlier rows -> an unsaved stand-in for placement
    first_row: dict[str, int] = {}
    plans = []
    for rownum, cells in rows:
        r = RowReader(kind, rownum, cells, report)
        if _is_example(kind, cells):
            r.error("code", _("这是模板中的示例行，请删除后再导入。"))
            continue
        code = r.get("code")
        name = r.get("name")
        level = r.get("level", lambda v: _lookup(_text(v), LEVELS, LEVEL_LABEL, lambda: _or(LEVEL_WORDS)))
        type_ok = True
        org_type = None
        if _text(r.raw("type")):
            org_type = r.get("type", lambda v: _lookup(_text(v), types, TYPE_LABEL, type_choices))
            type_ok = org_type is not None
        parent_code = r.get("parent")
        established_on = r.get("established_on", _date)
        term_ends_on = r.get("term_ends_on", _date)
        address = r.get("address") or ""

        if code:
            if code in taken:
                r.error("code", _("组织编码“{code}”已被使用，请换一个。").format(code=code))
            elif code in first_row:
                r.error("code", _("组织编码“{code}”与第{row}行重复。").format(code=code, row=first_row[code]))
        parent = None
        parent_from_file = False
        if parent_code and code and parent_code == code:
            r.error("parent", _("上级组织编码不能是本组织自己的编码。"))
        elif parent_code:
            if parent_code in defined:
                parent, parent_from_file = defined[parent_code], True
            elif parent_code in db_parents:
                parent = db_parents[parent_code]
            elif parent_code in file_codes and file_codes[parent_code] > rownum:
                r.error("parent", _("上级组织编码“{code}”在本行之后才出现，请把上级组织放在下级组织之前。").format(
                    code=parent_code))
            else:
                r.error("parent", _("上级组织编码“{code}”不存在或不在您的管理范围内。").format(code=parent_code))
        if level and type_ok:
            try:
                check_placement(level, org_type, parent if parent is not None and parent.level else _ANY_PARENT)
            except DomainError as exc:
                r.error("type" if exc.field == "type" else "parent", exc.message)

        if code and code not in first_row:
            first_row[code] = rownum
            # Later rows may hang under this one; without a valid level it cannot be placement-checked.
            defined[code] = Organization(name=name or code, code=code, level=level or "", archived=False)
        if r.ok:
            plans.append({
                "row": rownum, "code": code, "name": name, "level": level, "type": org_type,
                "parent_code": parent_code, "parent": None if parent_from_file else parent,
                "established_on": established_on, "term_ends_on": term_ends_on, "address": address,
            })
    return plans, report


def write_orgs(user, plans: list[dict], filename: str, request=None) -> int:
    """Create the organizations in file order, so each parent exists before its children."""
    today = datetime.date.today()
    created: dict[str, Organization] = {}
    changes = []
    root_paths = []
    for p in plans:
        parent = p["parent"] or created[p["parent_code"]]
        if p["parent"] is not None:
            root_paths.append(parent.path)
        org = Organization.objects.create(
            parent=parent, name=p["name"], code=p["code"], level=p["level"], type=p["type"],
            established_on=p["established_on"], term_ends_on=p["term_ends_on"], address=p["address"],
            path=f"tmp-{uuid.uuid4().hex}", depth=parent.depth + 1,
        )
        org.path = parent.path + path_segment(org.pk)
        Organization.objects.filter(pk=org.pk).update(path=org.path)
        created[org.code] = org
        changes.append(OrgChange(org=org, kind=OrgChange.Kind.CREATE, effective_on=org.established_on or today,
                                 after=snapshot(org, ORG_FIELDS), by=user))
    OrgChange.objects.bulk_create(changes, batch_size=CHUNK)
    log_action(user, "org.imported", org_path=_audit_path(user, "org.manage", root_paths), request=request,
               filename=filename, count=len(created), codes=list(created)[:200])
    return len(created)


# ---- members ------------------------------------------------------------------------------------------

GENDERS = {label: value for value, label in Gender.choices}
GENDER_WORDS = [label for _value, label in Gender.choices]  # 男、女
STATUSES = {label: value for value, label in MemberStatus.choices} | {"正式": MemberStatus.FULL,
                                                                      "预备": MemberStatus.PROBATIONARY}
STATUS_WORDS = [label for _value, label in MemberStatus.choices]  # 正式党员、预备党员
FACT_COLUMNS = {"birth_date": "birth_date", "id_number": "id_number", "joined_on": "joined_on",
                "confirmed_on": "confirmed_on", "status": "status"}


def _id_number(value) -> str:
    idn = normalize_id_number(_digits(value, ID_LABEL))
    try:
        validate_id_number(idn)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc
    return idn


def _phone(value) -> str:
    phone = _digits(value, PHONE_LABEL)
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc
    return phone


def check_members(user, kind: Kind, rows: list[tuple[int, list]]):
    """Validate a members file; returns (plans, report). Queries: one per chunk of IDs, one per chunk of codes."""
    report = Report()
    org_i, id_i = kind.index["org"], kind.index["id_number"]
    branches = _scoped_orgs_by_code(user, kind.manage, {_text(cells[org_i]) for _rownum, cells in rows} - {""})
    ids_in_file = set()
    for _rownum, cells in rows:
        try:
            ids_in_file.add(normalize_id_number(_digits(cells[id_i], "身份证号")))
        except CellError:
            pass
    registered = _registered_id_numbers(ids_in_file - {""})

    first_row: dict[str, int] = {}
    plans = []
    for rownum, cells in rows:
        r = RowReader(kind, rownum, cells, report)
        if _is_example(kind, cells):
            r.error("name", _("这是模板中的示例行，请删除后再导入。"))
            continue
        name = r.get("name")
        gender = r.get("gender", lambda v: _lookup(_text(v), GENDERS, GENDER_LABEL, lambda: _or(GENDER_WORDS)))
        birth_date = r.get("birth_date", _date)
        id_number = r.get("id_number", _id_number)
        phone = r.get("phone", _phone) or ""
        org_code = r.get("org")
        joined_on = r.get("joined_on", _date)
        confirmed_on = r.get("confirmed_on", _date)
        status = r.get("status", lambda v: _lookup(_text(v), STATUSES, STATUS_LABEL, lambda: _or(STATUS_WORDS)))
        post = r.get("post") or ""
        title = r.get("title") or ""
        pledge = r.get("pledge") or ""

        if id_number:
            if id_number in registered:
                r.error("id_number", _("该身份证号已登记，请勿重复添加；如需调入，请使用“转接”。"))
            elif id_number in first_row:
                r.error("id_number", _("身份证号与第{row}行重复。").format(row=first_row[id_number]))
            else:
                first_row[id_number] = rownum
        org = None
        if org_code:
            org = branches.get(org_code)
            if org is None:
                r.error("org", _("所在党支部编码“{code}”不存在或不在您的管理范围内。").format(code=org_code))
            elif org.level != Level.BRANCH:
                r.error("org", _("“{code}”（{name}）是{level}，党员应编入党支部。").format(
                    code=org_code, name=org.name, level=org.get_level_display()))
                org = None
            elif org.archived:
                r.error("org", _("“{code}”（{name}）已撤销，不能新增党员。").format(code=org_code, name=org.name))
                org = None
        facts = {"birth_date": birth_date, "id_number": id_number, "joined_on": joined_on,
                 "confirmed_on": confirmed_on, "status": status}
        try:
            check_member_facts(facts)
        except DomainError as exc:
            r.error(FACT_COLUMNS.get(exc.field, "name"), exc.message)
        if r.ok:
            plans.append({
                "row": rownum, "org": org, "name": name, "gender": gender, "birth_date": birth_date,
                "id_number": id_number, "phone": phone, "joined_on": joined_on, "confirmed_on": confirmed_on,
                "status": status, "post": post, "title": title, "pledge": pledge,
            })
    return plans, report


def write_members(user, plans: list[dict], filename: str, request=None) -> tuple[int, int]:
    """Set-based: ids are allocated up front and the rows go in with executemany (SQLite) or COPY
    (PostgreSQL) through orgs.bulk, about five times faster than bulk_create. Pinyin keys are computed here,
    once per distinct name, because no Member.save() runs. The caller's transaction makes it all-or-nothing."""
    from django.db import connection
    from django.utils import timezone

    from dangjian.orgs import bulk

    ops = connection.ops
    keys: dict[str, tuple[str, str]] = {}
    year = datetime.date.today().year
    now = ops.adapt_datetimefield_value(timezone.now())
    day = ops.adapt_datefield_value
    bulk.lock([Member, Pledge])
    member_base, pledge_base = bulk.id_base(Member), bulk.id_base(Pledge)
    member_rows, pledge_rows = [], []
    seal, index_of = crypto.encrypter(), crypto.indexer()  # no Member.save(): seal here (core.crypto)
    for n, p in enumerate(plans, 1):
        name = p["name"]
        if name not in keys:
            keys[name] = name_keys(name)
        pinyin, initials = keys[name]
        member_rows.append((
            member_base + n, p["org"].pk, name, pinyin, initials, p["gender"], day(p["birth_date"]),
            seal(p["id_number"]), seal(p["phone"]) if p["phone"] else "", index_of(p["id_number"]),
            day(p["joined_on"]), day(p["confirmed_on"]), p["status"], p["post"], p["title"], "", None, True, now,
        ))
        if p["pledge"]:
            pledge_rows.append((pledge_base + len(pledge_rows) + 1, member_base + n, year, p["pledge"], now))
    member_cols = bulk.columns_of(Member, [
        "id", "org", "name", "name_pinyin", "name_initials", "gender", "birth_date", "id_number", "phone",
        "id_number_index", "joined_on", "confirmed_on", "status", "post", "title", "photo", "user", "active",
        "created_at"])
    pledge_cols = bulk.columns_of(Pledge, ["id", "member", "year", "text", "updated_at"])
    with connection.wrap_database_errors:  # a unique violation surfaces as Django's IntegrityError
        bulk.insert_rows(Member._meta.db_table, member_cols, member_rows)
        bulk.insert_rows(Pledge._meta.db_table, pledge_cols, pledge_rows)
    bulk.reset_sequences([Member, Pledge])
    pledges = len(pledge_rows)
    org_paths = {p["org"].path for p in plans}
    log_action(user, "member.imported", org_path=_audit_path(user, "member.manage", org_paths), request=request,
               filename=filename, count=len(plans), pledges=pledges, branches=len(org_paths))
    return len(plans), pledges


# ---- pages --------------------------------------------------------------------------------------------


def _kind(user, key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise Http404(_("页面不存在。"))
    require_capability(user, kind.capability)
    return kind


@login_required
def import_home(request):
    kinds = [k for k in KINDS.values() if can(request.user, k.capability)]
    if not kinds:
        raise Http404(_("页面不存在，或您无权访问。"))
    return render(request, "orgs/import_home.html", {"kinds": kinds})


@login_required
def import_template(request, kind):
    kind = _kind(request.user, kind)
    return xlsx_response(template_bytes(kind), f"{kind.noun}导入模板.xlsx")


def run_import(user, kind: Kind, upload, request=None) -> dict:
    """Read, check and (when clean) write one uploaded file. Raises DomainError for a file that cannot be
    read at all; returns {"problems": [...]} or {"count": n, ...}."""
    filename = (getattr(upload, "name", "") or "")[:200]
    rows = data_rows(kind, read_rows(upload))
    check = check_orgs if kind.key == "orgs" else check_members
    plans, report = check(user, kind, rows)
    row_count = len(rows)
    del rows  # the raw cells are not needed any more; 100 k rows of them are a good part of the memory
    if report:
        report.problems.sort(key=lambda p: p.row)
        return {"problems": report.problems, "rows": row_count}
    try:
        with transaction.atomic():
            if kind.key == "orgs":
                return {"count": write_orgs(user, plans, filename, request)}
            count, pledges = write_members(user, plans, filename, request)
            return {"count": count, "pledges": pledges}
    except IntegrityError as exc:
        # Someone else registered the same code or ID number between the check and the write.
        raise DomainError(_("导入时发现组织编码或身份证号已被他人同时登记，本次未导入任何数据，请重新上传。")) from exc


@login_required
def import_upload(request, kind):
    kind = _kind(request.user, kind)
    ctx = {"kind": kind, "columns": kind.columns}
    if request.method == "POST":
        upload = request.FILES.get("file")
        ctx["filename"] = getattr(upload, "name", "")
        if upload is None:
            ctx["file_error"] = _("请选择要上传的 Excel（.xlsx）文件。")
        elif not upload.size:
            ctx["file_error"] = _("上传的文件是空的，请选择按模板填写的 Excel（.xlsx）文件。")
        else:
            try:
                result = run_import(request.user, kind, upload, request)
            except DomainError as exc:
                ctx["file_error"] = exc.message
            else:
                if "problems" in result:
                    ctx["problems"] = result["problems"][:MAX_SHOWN_ERRORS]
                    ctx["problem_total"] = len(result["problems"])
                    ctx["row_total"] = result["rows"]
                    ctx["truncated"] = len(result["problems"]) > MAX_SHOWN_ERRORS
                elif kind.key == "orgs":
                    n = result["count"]
                    ctx["success"] = ngettext("已导入 {n} 个党组织。", "已导入 {n} 个党组织。", n).format(n=n)
                elif result["pledges"]:
                    n = result["count"]
                    ctx["success"] = ngettext("已导入 {n} 名党员，其中 {pledges} 名填写了本年度承诺。",
                                              "已导入 {n} 名党员，其中 {pledges} 名填写了本年度承诺。", n).format(
                                                  n=n, pledges=result["pledges"])
                else:
                    n = result["count"]
                    ctx["success"] = ngettext("已导入 {n} 名党员。", "已导入 {n} 名党员。", n).format(n=n)
    return render(request, "orgs/import_result.html", ctx)
