"""Excel import of needs (e.g. a month's 95598 / 12345 work orders handed over as a spreadsheet).

The file is read whole (core.excel.read_rows); every row is checked with the rules of ``service.needs.check_fields``
and every problem goes to a row-by-row report in Chinese; a file with any problem changes nothing. A clean file is
written in one transaction (bulk insert, then the numbers) with one audit event. The reading of cells, the header
check and the report are those of the activity import (appraisal.imports_activities). Organizations are named by
their code or exact name among those the user manages needs of; areas by name within the row's organization —
each looked up once per file.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.appraisal.imports_activities import (
    MAX_SHOWN_ERRORS,
    Column,
    Kind,
    Report,
    Row,
    _choice,
    _date,
    _text,
    data_rows,
)
from dangjian.core.access import scope
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.excel import read_rows, workbook_bytes
from dangjian.orgs.models import Organization
from dangjian.service import needs as services
from dangjian.service.common import number_for, placeholder_number
from dangjian.service.models import Channel, Need, NeedCategory, NeedKind, NeedSource, ServiceArea, Urgency

KIND = Kind(
    "needs", gettext_noop("需求"),
    (Column("org", "受理单位", True), Column("area", "服务区域"), Column("kind", "类型", True),
     Column("category", "类别", True), Column("source", "来源", True), Column("urgency", "紧急程度"),
     Column("title", "标题"), Column("text", "内容", True), Column("requester", "诉求人"),
     Column("contact", "联系方式"), Column("address", "地址"), Column("received_on", "受理日期", True)),
    ("城关供电所党支部", "城关网格", "客户/群众诉求", "需求", "95598热线", "一般", "老旧小区表箱锈蚀",
     "幸福里小区3号楼表箱锈蚀严重，门无法关闭，存在安全隐患，请尽快更换。", "王女士", "13912345678",
     "幸福里小区3号楼", datetime.date(2026, 3, 6)),
    "service:need_list",
)

__all__ = ["KIND", "MAX_SHOWN_ERRORS", "run_import", "template_bytes"]


def _labels(choices) -> str:
    return "、".join(str(label) for label in choices.labels)


def _notes() -> list[str]:
    return [
        _("需求导入填写说明"),
        _("1. 请在第一个工作表中填写，第1行为表头，请勿修改、增删或调整列的顺序；带 * 的列为必填。"),
        _("2. 第2行为示例，导入前请删除示例行（未修改的示例行会被忽略）。"),
        _("3. 受理单位填写组织编码或完整名称，须为您有权管理需求的单位；服务区域须为该单位已建立且未停用的区域，可不填。"),
        _("4. 类型填写：{v}。").format(v=_labels(NeedKind)),
        _("5. 类别填写：{v}。").format(v=_labels(NeedCategory)),
        _("6. 来源填写：{v}（也可只写 95598、12398、12345）。").format(v=_labels(NeedSource)),
        _("7. 紧急程度填写：{v}，不填为一般。").format(v=_labels(Urgency)),
        _("8. 标题不超过60字，不填时取内容的第一句；内容2–2000字。"),
        _("9. 联系方式填写手机号、固定电话（如 010-12345678）或电子邮箱，可不填；诉求人和联系方式仅有权人员可见。"),
        _("10. 受理日期填写为 Excel 日期或如 2026-03-06 的文本，不能晚于今天。"),
        _("11. 文件中任意一行有错误时，整个文件都不会导入；系统会逐行列出问题，修改后重新上传即可。"),
    ]


def template_bytes() -> bytes:
    return workbook_bytes([(_("需求"), KIND.headers, [KIND.example])], notes=_notes())


def _source(text: str) -> str | None:
    found = _choice(text, NeedSource.choices)
    if found:
        return found
    for value, label in NeedSource.choices:  # "95598热线" also as "95598"
        if text and (text == value or str.__str__(label).startswith(text)):
            return value
    return None


class Places:
    """The organizations the user manages needs of, by code and by name, and their areas by name (two queries)."""

    def __init__(self, user, org_texts: set[str], rows_areas: set[str]):
        orgs = list(scope(user, "need.manage", Organization.objects.filter(archived=False))
                    .filter(Q(code__in=org_texts) | Q(name__in=org_texts)).only("id", "name", "code", "path",
                                                                                  "archived"))
        self.by_code = {o.code: o for o in orgs}
        self.by_name: dict[str, list[Organization]] = {}
        for o in orgs:
            self.by_name.setdefault(o.name, []).append(o)
        self.areas = {(a.org_id, a.name): a for a in ServiceArea.objects.filter(
            org__in=orgs, name__in=rows_areas)} if rows_areas and orgs else {}

    def org(self, row: Row) -> Organization | None:
        text = row.get("org")
        if not text:
            return None
        if text in self.by_code:
            return self.by_code[text]
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            row.error("org", _("有{n}个单位叫“{name}”，请改填组织编码。").format(n=len(found), name=text))
        else:
            row.error("org", _("没有找到您有权管理需求的单位“{name}”，请填写组织编码或完整名称。").format(name=text))
        return None

    def area(self, row: Row, org: Organization | None) -> ServiceArea | None:
        text = row.get("area")
        if not text or org is None:
            return None
        area = self.areas.get((org.pk, text))
        if area is None:
            row.error("area", _("“{org}”没有名为“{name}”的服务区域，请先在服务区域中新建，或不填。").format(
                org=org.name, name=text))
        elif area.archived:
            row.error("area", _("服务区域“{name}”已停用。").format(name=text))
            return None
        return area


def _check(user, rows, report: Report) -> list[dict]:
    i = KIND.index
    places = Places(user, {_text(c[i["org"]]) for _, c in rows} - {""}, {_text(c[i["area"]]) for _, c in rows} - {""})
    plan = []
    for number, cells in rows:
        row = Row(KIND, number, cells, report)
        org = places.org(row)
        area = places.area(row, org)
        values = {}
        for key, choices in (("kind", NeedKind.choices), ("category", NeedCategory.choices),
                             ("urgency", Urgency.choices)):
            text = row.get(key)
            if text:
                values[key] = _choice(text, choices)
                if values[key] is None:
                    row.error(key, _("“{text}”不是有效的{column}，请按填写说明填写。").format(
                        text=text, column=row.title(key)))
        text = row.get("source")
        if text:
            values["source"] = _source(text)
            if values["source"] is None:
                row.error("source", _("“{text}”不是有效的来源，请按填写说明填写。").format(text=text))
        received_on = row.get("received_on", _date)
        if not row.ok or org is None:
            continue
        try:
            data = services.check_fields(
                org, kind=values["kind"], category=values["category"], source=values["source"],
                urgency=values.get("urgency") or Urgency.NORMAL, area=area, title=row.get("title") or "",
                text=row.get("text") or "", requester=row.get("requester") or "", contact=row.get("contact") or "",
                address=row.get("address") or "", received_on=received_on)
        except DomainError as exc:
            key = exc.field if exc.field in KIND.index else ""
            row.error(key, exc.message)
            continue
        plan.append({"org": org, **data})
    return plan


def run_import(user, upload, request=None) -> dict:
    """Read, check and (when clean) write one uploaded file. Raises DomainError for a file that cannot be read at
    all; returns {"problems": [...], "rows": n} or {"count": n}."""
    filename = (getattr(upload, "name", "") or "")[:200]
    rows = data_rows(KIND, read_rows(upload))
    report = Report()
    plan = _check(user, rows, report)
    if report:
        report.problems.sort(key=lambda p: p.row)
        return {"problems": report.problems, "rows": len(rows)}
    now = timezone.now()
    try:
        with transaction.atomic():
            created = Need.objects.bulk_create([
                Need(number=placeholder_number(), channel=Channel.IMPORT, created_by=user, **p) for p in plan])
            if any(n.pk is None for n in created):  # a backend without RETURNING: read the ids back
                created = list(Need.objects.filter(created_by=user, channel=Channel.IMPORT, created_at__gte=now,
                                                   number__startswith="~").order_by("id"))
            for need in created:
                need.number = number_for(services.NUMBER_PREFIX, need.pk, need.received_on)
            Need.objects.bulk_update(created, ["number"], batch_size=1000)
            paths = sorted({p["org"].path for p in plan})
            common = paths[0]
            for path in paths[1:]:
                while not path.startswith(common):
                    common = common[:common.rstrip(".").rfind(".") + 1] if "." in common.rstrip(".") else ""
            log_action(user, "need.imported", org_path=common, request=request, filename=filename,
                       count=len(created), first=created[0].number, last=created[-1].number)
    except IntegrityError as exc:
        raise DomainError(_("导入时发生冲突，本次未导入任何数据，请重新上传。")) from exc
    return {"count": len(created)}
