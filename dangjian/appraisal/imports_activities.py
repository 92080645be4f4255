"""Excel import of activity records: attendance at organization life, study records, dues and service hours.

An upload is read whole (core.excel.read_rows, python-calamine); every row is checked with the same rules as the
services (appraisal.activities) and every problem goes to a row-by-row report in Chinese; a file with any problem
changes nothing. A clean file is written in one transaction with one audit event. Members are named by name, with
the last six characters (or all) of their ID number where two members share a name; only members on the rolls of
branches the user manages are found. Lookups are set-based: a constant number of queries per chunk of names.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.appraisal import activities as act
from dangjian.appraisal.models import (
    Attendance,
    AttendanceStatus,
    DuesPayment,
    Meeting,
    MeetingKind,
    MemberResult,
    ServiceRecord,
    StudyForm,
    StudyRecord,
)
from dangjian.appraisal.prefill import month_bounds
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.excel import read_rows, workbook_bytes
from dangjian.orgs.models import Member

CHUNK = 2000
MAX_SHOWN_ERRORS = 1000


# ---- the four kinds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # the template's header: the file format, kept in Chinese whatever the user's language
    required: bool = False

    @property
    def header(self) -> str:
        return self.title + ("*" if self.required else "")


@dataclass(frozen=True, eq=False)
class Kind:
    key: str
    noun: str  # Chinese source text (gettext_noop), translated where shown
    columns: tuple[Column, ...]
    example: tuple
    back: str  # url name of the list the imported rows appear on

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def index(self) -> dict[str, int]:
        return {c.key: i for i, c in enumerate(self.columns)}

    @property
    def title(self) -> str:
        return _("导入{noun}").format(noun=_(self.noun))


NAME = Column("name", "党员姓名", True)
IDNO = Column("id_number", "身份证号")
EXAMPLE_DAY = datetime.date(2026, 3, 6)

KINDS = {
    "attendance": Kind(
        "attendance", gettext_noop("组织生活出勤"),
        (Column("date", "日期", True), Column("kind", "类型", True), Column("title", "主题", True), NAME, IDNO,
         Column("status", "出勤", True), Column("note", "说明"), Column("place", "地点"), Column("host", "主持人")),
        (EXAMPLE_DAY, "主题党日", "学习贯彻全会精神", "张三", "12345X", "出席", "", "三楼党员活动室", "李建国"),
        "appraisal:meeting_list"),
    "study": Kind(
        "study", gettext_noop("学习记录"),
        (NAME, IDNO, Column("date", "日期", True), Column("title", "学习内容", True), Column("form", "形式"),
         Column("hours", "学时"), Column("notes", "心得体会")),
        ("张三", "12345X", EXAMPLE_DAY, "《中国共产党章程》总纲", "个人自学", 1.5, "对照党章找差距"),
        "appraisal:study_list"),
    "dues": Kind(
        "dues", gettext_noop("党费交纳"),
        (NAME, IDNO, Column("month", "所属月份", True), Column("amount", "金额（元）", True),
         Column("paid_on", "交纳日期", True)),
        ("张三", "12345X", "2026-03", 25.5, EXAMPLE_DAY),
        "appraisal:dues_list"),
    "service": Kind(
        "service", gettext_noop("志愿服务时长"),
        (NAME, IDNO, Column("date", "日期", True), Column("activity", "服务内容", True),
         Column("hours", "时长（小时）", True), Column("people", "服务人次"), Column("source", "来源")),
        ("张三", "12345X", EXAMPLE_DAY, "社区用电安全宣传", 2.5, 40, "共产党员服务队"),
        "appraisal:service_list"),
}


def _notes(kind: Kind) -> list[str]:
    common = [
        _("{title}填写说明").format(title=kind.title),
        _("1. 请在第一个工作表中填写，第1行为表头，请勿修改、增删或调整列的顺序；带 * 的列为必填。"),
        _("2. 第2行为示例，导入前请删除示例行（未修改的示例行会被忽略）。"),
        _("3. 日期请填写为 Excel 日期，或如 2026-03-06、2026/3/6、2026年3月6日 的文本；日期不能晚于今天。"),
        _("4. 党员姓名须为您管理的支部中的在册党员；有同名党员时，请在“身份证号”列填写身份证号后6位"
          "（或完整18位）区分，并把该列设置为“文本”格式。"),
        _("5. 文件中任意一行有错误时，整个文件都不会导入；系统会逐行列出问题，修改后重新上传即可。"),
        _("6. 已公示党员评价的月份，其记录已锁定，不能再导入。"),
    ]
    kinds = "、".join(str(label) for label in MeetingKind.labels)
    extra = {
        "attendance": [
            _("7. 每行是一名党员参加一次会议的情况：日期、类型、主题相同且属于同一支部的行视为同一次会议；"
              "每次会议请列出应参加的全部党员。"),
            _("8. 类型填写：{kinds}。出勤填写：出席、请假或缺席；请假、缺席可在“说明”中写明原因。").format(kinds=kinds),
            _("9. 系统中已登记的会议（同一支部、日期、类型、主题）不能重复导入，请在页面上修改。"),
        ],
        "study": [
            _("7. 形式填写：个人自学、集中学习、网络学习或培训，不填为个人自学；学时不填为1，最多一位小数。"),
            _("8. 同一党员同一天的学时合计（含系统中已有的记录）不能超过24小时。"),
        ],
        "dues": [
            _("7. 所属月份填写如 2026-03 的月份；金额大于0，最多两位小数。"),
            _("8. 在所属月份最后一天（含）之前交纳的为按时交纳，之后为逾期交纳。"),
            _("9. 每名党员每月只能有一条党费记录；系统中已登记的不能重复导入，请在页面上修改。"),
        ],
        "service": [
            _("7. 时长以小时计，大于0，最多一位小数；同一党员同一天的时长合计不能超过24小时。"),
            _("8. 服务人次填写整数，可不填；来源如“共产党员服务队”，可不填。"),
        ],
    }
    return common + extra[kind.key]


def template_bytes(kind: Kind) -> bytes:
    return workbook_bytes([(_(kind.noun), kind.headers, [kind.example])], notes=_notes(kind))


# ---- cells ---------------------------------------------------------------------------------------------


class CellError(Exception):
    pass


def _text(value) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else str(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)


def _date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    raise CellError(_("“{text}”不是有效的日期，请填写如 2026-03-06 的日期。").format(text=text))


def _month(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return (value.date() if isinstance(value, datetime.datetime) else value).replace(day=1)
    text = _text(value)
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(text)
        if m and 1 <= int(m.group(2)) <= 12:
            return datetime.date(int(m.group(1)), int(m.group(2)), 1)
    try:
        return _date(value).replace(day=1)
    except CellError:
        raise CellError(_("“{text}”不是有效的月份，请填写如 2026-03 的月份。").format(text=text)) from None


def _id_text(value) -> str:
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("身份证号被 Excel 保存成了数字，请把该列设置为“文本”格式后重新填写。"))
        value = str(int(value))
    return re.sub(r"[\s\-]", "", _text(value)).upper()


def _number(value) -> str:
    """A numeric cell as text for the services' parsers (0.1 + 0.2 artefacts of floats rounded away)."""
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return _text(value)


_STATUS = {
    "出席": AttendanceStatus.PRESENT, "参加": AttendanceStatus.PRESENT, "到会": AttendanceStatus.PRESENT,
    "请假": AttendanceStatus.LEAVE,
    "缺席": AttendanceStatus.ABSENT, "缺勤": AttendanceStatus.ABSENT, "未到": AttendanceStatus.ABSENT,
}


def _choice(text: str, choices) -> str | None:
    """A choice from its Chinese label (as stored, whatever the user's language) or its code."""
    for value, label in choices:
        if text in (value, str.__str__(label), str(label)):
            return value
    return None


# ---- the report ------------------------------------------------------------------------------------------


@dataclass
class Problem:
    row: int
    column: str
    message: str

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


class Row:
    """One data row's cells read by column key; a bad cell goes to the report and reads as None."""

    def __init__(self, kind: Kind, number: int, cells: list, report: Report):
        self.kind, self.number, self.cells, self.report = kind, number, cells, report
        self.index = kind.index
        self.ok = True
        self.member = None
        self.values: dict = {}

    def title(self, key: str) -> str:
        return self.kind.columns[self.index[key]].title

    def error(self, key: str, message: str) -> None:
        self.ok = False
        self.report.add(self.number, self.title(key) if key else "", message)

    def get(self, key: str, convert=_text):
        raw = self.cells[self.index[key]]
        if raw is None or (type(raw) is str and not raw.strip()):
            if self.kind.columns[self.index[key]].required:
                self.error(key, _("{column}不能为空。").format(column=self.title(key)))
            return None
        try:
            return convert(raw)
        except CellError as exc:
            self.error(key, str(exc))
            return None

    def check(self, key: str, func, *args):
        """Run a service check; its DomainError goes to the report under this column."""
        try:
            return func(*args)
        except DomainError as exc:
            self.error(key, exc.message)
            return None


def _header_key(value) -> str:
    return _text(value).replace("＊", "*").rstrip("*").strip()


def data_rows(kind: Kind, rows: list[list]) -> list[tuple[int, list]]:
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
                raise DomainError(_("表头与{noun}导入模板不一致：第{n}列应为“{title}”，实际为“{got}”。"
                                    "请下载最新模板，按模板的列填写后上传。").format(
                    noun=_(kind.noun), n=i + 1, title=title, got=got or _("（空）")))
        raise DomainError(_("表头与{noun}导入模板不一致：模板只有{n}列，文件中多出了“{extra}”等列。"
                            "请下载最新模板填写。").format(noun=_(kind.noun), n=len(expected),
                                                         extra=header[len(expected)]))
    width = len(expected)
    example = [_text(c) for c in kind.example]
    out = []
    for i, cells in enumerate(rows[1:], start=2):
        if len(cells) > width:
            del cells[width:]
        elif len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        if all(c is None or (type(c) is str and not c.strip()) for c in cells):
            continue
        if [_text(c) for c in cells] == example:
            continue
        out.append((i, cells))
    if not out:
        raise DomainError(_("文件中没有可导入的数据行，请在表头下方逐行填写。"))
    return out


# ---- members ---------------------------------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Members:
    """Members on the rolls of branches the user manages, found by name (and ID number where names repeat)."""

    def __init__(self, user, names):
        self.by_name: dict[str, list[Member]] = defaultdict(list)
        for chunk in _chunks(sorted(names)):
            qs = act.entry_members(user).filter(name__in=chunk).select_related("org").only(
                "id", "name", "id_number", "org_id", "org__name", "org__path", "user_id")
            for m in qs:
                self.by_name[m.name].append(m)

    def find(self, row: Row) -> Member | None:
        name = row.get("name")
        id_text = row.get("id_number", _id_text)
        if not name or not row.ok:
            return None
        found = self.by_name.get(name, [])
        if not found:
            row.error("name", _("在您管理的支部中没有找到在册党员“{name}”。").format(name=name))
            return None
        if id_text:
            if len(id_text) == 18:
                found = [m for m in found if m.id_number.upper() == id_text]
            elif len(id_text) == 6:
                found = [m for m in found if m.id_number.upper().endswith(id_text)]
            else:
                row.error("id_number", _("身份证号请填写后6位或完整的18位（现为{n}位）。").format(n=len(id_text)))
                return None
            if not found:
                row.error("id_number", _("“{name}”的身份证号与系统中登记的不一致，请核对。").format(name=name))
                return None
        if len(found) > 1:
            row.error("id_number", _("有{n}名在册党员叫“{name}”（{orgs}），请填写身份证号后6位区分。").format(
                n=len(found), name=name, orgs="、".join(sorted({m.org.name for m in found}))))
            return None
        return found[0]


def _published(member_ids=None, org_ids=None, first=None, last=None) -> set[tuple[int, datetime.date]]:
    """(member or org id, first day of month) of published member months among these ids and dates."""
    out = set()
    key = "member_id" if member_ids is not None else "org_id"
    ids = sorted(member_ids if member_ids is not None else org_ids)
    for chunk in _chunks(ids):
        rows = MemberResult.objects.filter(**{f"{key}__in": chunk}, month__gte=first, month__lte=last)
        out.update((k, m.replace(day=1)) for k, m in rows.values_list(key, "month"))
    return out


# ---- checking each kind ----------------------------------------------------------------------------------


def _parse_member_rows(user, kind: Kind, rows, report: Report) -> tuple[list[Row], Members]:
    name_i = kind.index["name"]
    members = Members(user, {_text(cells[name_i]) for _, cells in rows} - {""})
    parsed = []
    for number, cells in rows:
        row = Row(kind, number, cells, report)
        row.member = members.find(row)
        parsed.append(row)
    return parsed, members


def check_attendance(user, kind: Kind, rows, report: Report) -> dict:
    parsed, _members = _parse_member_rows(user, kind, rows, report)
    kinds = MeetingKind.choices
    groups: dict[tuple, dict] = {}
    for row in parsed:
        day = row.get("date", _date)
        day = row.check("date", act.check_date, day, "date", _("日期")) if day else None
        kind_text = row.get("kind")
        kind_value = _choice(kind_text, kinds) if kind_text else None
        if kind_text and kind_value is None:
            row.error("kind", _("类型“{text}”不正确，应为{choices}。").format(
                text=kind_text, choices="、".join(str(label) for label in MeetingKind.labels)))
        title = row.get("title")
        title = row.check("title", act._text, title, "title", _("主题"), 200, True) if title else None
        status_text = row.get("status")
        status = _STATUS.get(status_text) or (_choice(status_text, AttendanceStatus.choices) if status_text else None)
        if status_text and status is None:
            row.error("status", _("出勤“{text}”不正确，应为出席、请假或缺席。").format(text=status_text))
        note = row.check("note", act._text, row.get("note"), "note", _("说明"), 200)
        place = row.check("place", act._text, row.get("place"), "place", _("地点"), 100)
        host = row.check("host", act._text, row.get("host"), "host", _("主持人"), 40)
        if not row.ok or row.member is None:
            continue
        key = (row.member.org_id, day, kind_value, title)
        g = groups.setdefault(key, {"org": row.member.org, "first": row.number, "place": "", "host": "",
                                    "marks": {}})
        g["place"] = g["place"] or place or ""
        g["host"] = g["host"] or host or ""
        if row.member.pk in g["marks"]:
            row.error("name", _("{name}在第{first}行已列入这次会议，同一次会议每名党员只能出现一次。").format(
                name=row.member.name, first=g["marks"][row.member.pk][2]))
            continue
        g["marks"][row.member.pk] = (status, note or "", row.number)
    if report or not groups:
        return {"groups": groups}
    days = [k[1] for k in groups]
    first, last = min(days).replace(day=1), month_bounds(max(days))[1]
    org_ids = {k[0] for k in groups}
    published = _published(org_ids=org_ids, first=first, last=last)
    existing = set()
    for chunk in _chunks(sorted(org_ids)):
        existing.update(Meeting.objects.filter(org_id__in=chunk, date__gte=min(days), date__lte=max(days))
                        .values_list("org_id", "date", "kind", "title"))
    for key, g in groups.items():
        org_id, day, kind_value, title = key
        if (org_id, day.replace(day=1)) in published:
            report.add(g["first"], _("日期"), _("{org}{month}的党员评价已公示，该月的组织生活记录已锁定，不能再导入。").format(
                org=g["org"].name, month=act.month_text(day)))
        elif key in existing:
            report.add(g["first"], _("主题"), _("{org}在{date}的{kind}“{title}”已登记，不能重复导入；如需修改请在页面上编辑。")
                       .format(org=g["org"].name, date=day.isoformat(), kind=MeetingKind(kind_value).label,
                               title=title))
    return {"groups": groups}


def write_attendance(user, plan: dict) -> dict:
    groups = plan["groups"]
    meetings = []
    for (org_id, day, kind_value, title), g in groups.items():
        meetings.append(Meeting(org_id=org_id, kind=kind_value, title=title, date=day, place=g["place"],
                                host=g["host"], created_by=act._u(user)))
    Meeting.objects.bulk_create(meetings, batch_size=CHUNK)
    if any(m.pk is None for m in meetings):  # a database without RETURNING
        for m in meetings:
            m.save()
    rows = []
    for meeting, g in zip(meetings, groups.values(), strict=True):
        rows.extend(Attendance(meeting=meeting, member_id=mid, status=s, note=n) for mid, (s, n, _r) in g["marks"].items())
    Attendance.objects.bulk_create(rows, batch_size=CHUNK)
    return {"count": len(rows), "meetings": len(meetings), "paths": {g["org"].path for g in groups.values()}}


def _day_totals(model, member_ids, first, last) -> dict[tuple[int, datetime.date], Decimal]:
    out = {}
    for chunk in _chunks(sorted(member_ids)):
        rows = (model.objects.filter(member_id__in=chunk, date__gte=first, date__lte=last).order_by()
                .values_list("member_id", "date").annotate(t=Sum("hours")))
        out.update({(m, d): t for m, d, t in rows})
    return out


def _check_days(model, parsed: list[Row], hours_key: str, label: str, report: Report) -> None:
    """Published months and the 24 hours of a day, over the file and what is recorded already."""
    good = [r for r in parsed if r.ok]
    if not good:
        return
    days = [r.values["date"] for r in good]
    ids = {r.member.pk for r in good}
    first, last = min(days).replace(day=1), month_bounds(max(days))[1]
    published = _published(member_ids=ids, first=first, last=last)
    totals = _day_totals(model, ids, min(days), max(days))
    for r in good:
        day = r.values["date"]
        if (r.member.pk, day.replace(day=1)) in published:
            r.error("date", _("{name}{month}的党员评价已公示，该月的记录已锁定，不能再导入。").format(
                name=r.member.name, month=act.month_text(day)))
            continue
        key = (r.member.pk, day)
        totals[key] = totals.get(key, act.ZERO) + r.values["hours"]
        if totals[key] > act.MAX_HOURS_A_DAY:
            r.error(hours_key, _("{name}在{date}的{label}合计（含已登记的记录和本文件前面的行）达到{total}小时，"
                                 "超过一天24小时。").format(name=r.member.name, date=day.isoformat(), label=label,
                                                          total=totals[key]))


def check_study(user, kind: Kind, rows, report: Report) -> dict:
    parsed, _members = _parse_member_rows(user, kind, rows, report)
    for row in parsed:
        day = row.get("date", _date)
        day = row.check("date", act.check_date, day, "date", _("日期")) if day else None
        title = row.get("title")
        title = row.check("title", act._text, title, "title", _("学习内容"), 200, True) if title else None
        form_text = row.get("form")
        form = _choice(form_text, StudyForm.choices) if form_text else StudyForm.SELF
        if form is None:
            row.error("form", _("形式“{text}”不正确，应为个人自学、集中学习、网络学习或培训。").format(text=form_text))
        hours_raw = row.get("hours", _number)
        hours = row.check("hours", act.check_hours, "1" if hours_raw is None else hours_raw, "hours", _("学时"))
        notes = row.check("notes", act._text, row.get("notes"), "notes", _("心得体会"), 2000)
        row.values = {"date": day, "title": title, "form": form, "hours": hours, "notes": notes or ""}
    _check_days(StudyRecord, parsed, "hours", _("学时"), report)
    return {"rows": [r for r in parsed if r.ok]}


def write_study(user, plan: dict) -> dict:
    objs = [StudyRecord(member=r.member, created_by=act._u(user), **r.values) for r in plan["rows"]]
    StudyRecord.objects.bulk_create(objs, batch_size=CHUNK)
    return {"count": len(objs), "paths": {r.member.org.path for r in plan["rows"]}}


def check_service(user, kind: Kind, rows, report: Report) -> dict:
    parsed, _members = _parse_member_rows(user, kind, rows, report)
    for row in parsed:
        day = row.get("date", _date)
        day = row.check("date", act.check_date, day, "date", _("日期")) if day else None
        activity = row.get("activity")
        activity = row.check("activity", act._text, activity, "activity", _("服务内容"), 200, True) if activity else None
        hours_raw = row.get("hours", _number)
        hours = row.check("hours", act.check_hours, hours_raw, "hours", _("服务时长")) if hours_raw else None
        people_raw = row.get("people", _number)
        people = 0
        if people_raw:
            if not re.fullmatch(r"\d{1,7}", people_raw):
                row.error("people", _("服务人次应为不小于0的整数。"))
            else:
                people = int(people_raw)
        source = row.check("source", act._text, row.get("source"), "source", _("来源"), 40)
        row.values = {"date": day, "activity": activity, "hours": hours, "people_served": people,
                      "source": source or ""}
    _check_days(ServiceRecord, parsed, "hours", _("服务时长"), report)
    return {"rows": [r for r in parsed if r.ok]}


def write_service(user, plan: dict) -> dict:
    objs = [ServiceRecord(member=r.member, created_by=act._u(user), **r.values) for r in plan["rows"]]
    ServiceRecord.objects.bulk_create(objs, batch_size=CHUNK)
    return {"count": len(objs), "paths": {r.member.org.path for r in plan["rows"]}}


def check_dues(user, kind: Kind, rows, report: Report) -> dict:
    parsed, _members = _parse_member_rows(user, kind, rows, report)
    seen: dict[tuple[int, datetime.date], int] = {}
    for row in parsed:
        month = row.get("month", _month)
        month = row.check("month", act.check_dues_month, month, "month") if month else None
        amount_raw = row.get("amount", _number)
        amount = row.check("amount", act.check_amount, amount_raw, "amount") if amount_raw else None
        paid_on = row.get("paid_on", _date)
        paid_on = row.check("paid_on", act.check_date, paid_on, "paid_on", _("交纳日期")) if paid_on else None
        row.values = {"month": month, "amount": amount, "paid_on": paid_on}
        if row.ok and row.member is not None:
            key = (row.member.pk, month)
            if key in seen:
                row.error("month", _("{name}{month}的党费在第{first}行已填写，每名党员每月只能有一条党费记录。").format(
                    name=row.member.name, month=act.month_text(month), first=seen[key]))
            else:
                seen[key] = row.number
    good = [r for r in parsed if r.ok]
    if good:
        ids = sorted({r.member.pk for r in good})
        months = sorted({r.values["month"] for r in good})
        existing = set()
        for chunk in _chunks(ids):
            existing.update(DuesPayment.objects.filter(member_id__in=chunk, month__in=months)
                            .values_list("member_id", "month"))
        for r in good:
            if (r.member.pk, r.values["month"]) in existing:
                r.error("month", _("{name}{month}的党费已登记，不能重复导入；如需修改请在页面上编辑。").format(
                    name=r.member.name, month=act.month_text(r.values["month"])))
    return {"rows": [r for r in parsed if r.ok]}


def write_dues(user, plan: dict) -> dict:
    objs = [DuesPayment(member=r.member, on_time=act.on_time(r.values["month"], r.values["paid_on"]),
                        recorded_by=act._u(user), **r.values) for r in plan["rows"]]
    DuesPayment.objects.bulk_create(objs, batch_size=CHUNK)
    return {"count": len(objs), "paths": {r.member.org.path for r in plan["rows"]}}


CHECKS = {"attendance": (check_attendance, write_attendance), "study": (check_study, write_study),
          "dues": (check_dues, write_dues), "service": (check_service, write_service)}


# ---- running an import -----------------------------------------------------------------------------------


def _common_path(paths) -> str:
    split = [p.split(".")[:-1] for p in set(paths) if p]
    if not split:
        return ""
    common = []
    for parts in zip(*split, strict=False):
        if any(p != parts[0] for p in parts):
            break
        common.append(parts[0])
    return ".".join(common) + "." if common else ""


def run_import(user, kind: Kind, upload, request=None) -> dict:
    """Read, check and (when clean) write one uploaded file. Raises DomainError for a file that cannot be read
    at all; returns {"problems": [...], "rows": n} or {"count": n, ...}. Only branches the user manages."""
    filename = (getattr(upload, "name", "") or "")[:200]
    rows = data_rows(kind, read_rows(upload))
    check, write = CHECKS[kind.key]
    report = Report()
    plan = check(user, kind, rows, report)
    row_count = len(rows)
    del rows
    if report:
        report.problems.sort(key=lambda p: p.row)
        return {"problems": report.problems, "rows": row_count}
    try:
        with transaction.atomic():
            result = write(user, plan)
            paths = result.pop("paths")
            log_action(user, "activity.imported", org_path=_common_path(paths), request=request, kind=kind.key,
                       filename=filename, **result)
    except IntegrityError as exc:
        raise DomainError(_("导入时发现有记录已被他人同时登记，本次未导入任何数据，请重新上传。")) from exc
    return result


__all__ = ["KINDS", "MAX_SHOWN_ERRORS", "run_import", "template_bytes"]
