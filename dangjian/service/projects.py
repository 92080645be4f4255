"""Social-responsibility projects (社会责任根植项目: 便民服务点, 小小新闻发言人, 光伏扶贫 …): goals, milestones and
outcome indicators with their values over time.

Every write takes the acting user first, checks ``project.manage`` on the project's organization, checks the
input, runs in one transaction and writes one audit event last; a user error raises ``DomainError`` with a
Chinese sentence and changes nothing.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.access import require, scope
from dangjian.core.audit import diff, log_action, snapshot
from dangjian.core.errors import DomainError, actor
from dangjian.orgs.models import Member, Organization
from dangjian.service.models import Indicator, IndicatorValue, Milestone, Project, ProjectKind, ProjectState

PROJECT_FIELDS = ["org", "name", "kind", "goal", "state", "starts_on", "ends_on", "lead"]
INDICATOR_FIELDS = ["name", "unit", "baseline", "target"]
MAX_VALUE = Decimal("999999999999.99")
EARLIEST = datetime.date(1990, 1, 1)


def today() -> datetime.date:
    return timezone.localdate()


def visible_projects(user) -> QuerySet:
    return scope(user, "project.view", Project.objects.all())


# ---- checks -----------------------------------------------------------------------------------------------------


def _text(value, fld: str, label: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(_("请填写{label}。").format(label=label), fld)
    if len(text) > max_length:
        raise DomainError(_("{label}不能超过{n}个字（现有{m}个字）。").format(label=label, n=max_length, m=len(text)),
                          fld)
    return text


def _date(value, fld: str, label: str, required: bool = True) -> datetime.date | None:
    if value in (None, ""):
        if required:
            raise DomainError(_("请填写{label}。").format(label=label), fld)
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise DomainError(_("{label}格式不正确，请填写如 2026-10-09 的日期。").format(label=label), fld) from exc
    if not isinstance(value, datetime.date):
        raise DomainError(_("请填写{label}。").format(label=label), fld)
    if value < EARLIEST or value.year > 2100:
        raise DomainError(_("{label}应在1990年至2100年之间。").format(label=label), fld)
    return value


def _decimal(value, fld: str, label: str, required: bool = False) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise DomainError(_("请填写{label}。").format(label=label), fld)
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("{label}应为数字。").format(label=label), fld) from exc
    if not number.is_finite() or abs(number) > MAX_VALUE:
        raise DomainError(_("{label}超出允许范围。").format(label=label), fld)
    if number != number.quantize(Decimal("0.01")):
        raise DomainError(_("{label}最多保留两位小数。").format(label=label), fld)
    return number.quantize(Decimal("0.01"))


def _clean_project(data, org: Organization, creating: bool, current: Project | None = None) -> dict:
    out = {}
    if "name" in data or creating:
        out["name"] = _text(data.get("name"), "name", _("项目名称"), 100, required=True)
    if "kind" in data or creating:
        kind = data.get("kind") or ProjectKind.OTHER
        if kind not in ProjectKind.values:
            raise DomainError(_("项目类型不正确。"), "kind")
        out["kind"] = kind
    if "goal" in data or creating:
        out["goal"] = _text(data.get("goal"), "goal", _("项目目标"), 2000, required=True)
    if "state" in data:
        state = data.get("state") or ProjectState.PLANNED
        if state not in ProjectState.values:
            raise DomainError(_("项目状态不正确。"), "state")
        out["state"] = state
    if "starts_on" in data or creating:
        out["starts_on"] = _date(data.get("starts_on"), "starts_on", _("开始日期"))
    if "ends_on" in data:
        out["ends_on"] = _date(data.get("ends_on"), "ends_on", _("计划结束日期"), required=False)
    if "lead" in data:
        lead = data.get("lead")
        if lead is not None and not lead.org.path.startswith(org.path):
            raise DomainError(_("{name}不是{org}及其下级组织的党员，不能担任项目负责人。").format(
                name=lead.name, org=org.name), "lead")
        out["lead"] = lead
    starts = out.get("starts_on", current.starts_on if current else None)
    ends = out.get("ends_on", current.ends_on if current else None)
    if starts and ends and ends < starts:
        raise DomainError(_("计划结束日期不能早于开始日期。"), "ends_on")
    return out


# ---- projects ---------------------------------------------------------------------------------------------------


@transaction.atomic
def create_project(user, org: Organization, **data) -> Project:
    require(user, "project.manage", org.path)
    if org.archived:
        raise DomainError(_("{org}已撤销，不能新建项目。").format(org=org.name), "org")
    unknown = set(data) - {"name", "kind", "goal", "state", "starts_on", "ends_on", "lead"}
    if unknown:
        raise DomainError(_("不能填写这些字段：{names}。").format(names="、".join(sorted(unknown))))
    project = Project.objects.create(org=org, created_by=actor(user), **_clean_project(data, org, True))
    log_action(user, "project.created", project, after=snapshot(project, PROJECT_FIELDS))
    return project


def _lock(project: Project) -> Project:
    return Project.objects.select_for_update().select_related("org").get(pk=project.pk)


@transaction.atomic
def update_project(user, project: Project, **data) -> Project:
    project = _lock(project)
    require(user, "project.manage", project.org.path)
    unknown = set(data) - {"name", "kind", "goal", "state", "starts_on", "ends_on", "lead"}
    if unknown:
        raise DomainError(_("不能修改这些字段：{names}。").format(names="、".join(sorted(unknown))))
    clean = _clean_project(data, project.org, False, project)
    before = snapshot(project, PROJECT_FIELDS)
    for k, v in clean.items():
        setattr(project, k, v)
    project.save()
    b, a = diff(before, snapshot(project, PROJECT_FIELDS))
    log_action(user, "project.updated", project, before=b, after=a)
    return project


# ---- milestones -------------------------------------------------------------------------------------------------


@transaction.atomic
def add_milestone(user, project: Project, *, title, due_on, note="") -> Milestone:
    project = _lock(project)
    require(user, "project.manage", project.org.path)
    m = Milestone.objects.create(project=project, title=_text(title, "title", _("里程碑"), 100, required=True),
                                 due_on=_date(due_on, "due_on", _("计划日期")),
                                 note=_text(note, "note", _("说明"), 300))
    log_action(user, "project.milestone_added", m, title=m.title, due_on=m.due_on)
    return m


@transaction.atomic
def complete_milestone(user, milestone: Milestone, done_on=None) -> Milestone:
    """Mark done on ``done_on`` (today when empty); not in the future. Done again: the new date replaces it."""
    m = Milestone.objects.select_for_update().select_related("project__org").get(pk=milestone.pk)
    require(user, "project.manage", m.project.org.path)
    day = _date(done_on, "done_on", _("完成日期"), required=False) or today()
    if day > today():
        raise DomainError(_("完成日期不能晚于今天（{today}）。").format(today=today().isoformat()), "done_on")
    m.done_on = day
    m.save(update_fields=["done_on"])
    log_action(user, "project.milestone_done", m, title=m.title, done_on=day)
    return m


@transaction.atomic
def delete_milestone(user, milestone: Milestone) -> None:
    m = Milestone.objects.select_related("project__org").get(pk=milestone.pk)
    require(user, "project.manage", m.project.org.path)
    log_action(user, "project.milestone_deleted", m, title=m.title, due_on=m.due_on)
    m.delete()


# ---- indicators and values --------------------------------------------------------------------------------------


@transaction.atomic
def add_indicator(user, project: Project, *, name, unit="", baseline=None, target=None) -> Indicator:
    project = _lock(project)
    require(user, "project.manage", project.org.path)
    name = _text(name, "name", _("指标名称"), 60, required=True)
    if Indicator.objects.filter(project=project, name=name).exists():
        raise DomainError(_("该项目已有名为“{name}”的指标。").format(name=name), "name")
    ind = Indicator.objects.create(project=project, name=name, unit=_text(unit, "unit", _("单位"), 20),
                                   baseline=_decimal(baseline, "baseline", _("基线值")),
                                   target=_decimal(target, "target", _("目标值")))
    log_action(user, "project.indicator_added", ind, after=snapshot(ind, INDICATOR_FIELDS))
    return ind


@transaction.atomic
def update_indicator(user, indicator: Indicator, **data) -> Indicator:
    ind = Indicator.objects.select_for_update().select_related("project__org").get(pk=indicator.pk)
    require(user, "project.manage", ind.project.org.path)
    before = snapshot(ind, INDICATOR_FIELDS)
    if "name" in data:
        name = _text(data["name"], "name", _("指标名称"), 60, required=True)
        if Indicator.objects.filter(project=ind.project, name=name).exclude(pk=ind.pk).exists():
            raise DomainError(_("该项目已有名为“{name}”的指标。").format(name=name), "name")
        ind.name = name
    if "unit" in data:
        ind.unit = _text(data["unit"], "unit", _("单位"), 20)
    if "baseline" in data:
        ind.baseline = _decimal(data["baseline"], "baseline", _("基线值"))
    if "target" in data:
        ind.target = _decimal(data["target"], "target", _("目标值"))
    ind.save()
    b, a = diff(before, snapshot(ind, INDICATOR_FIELDS))
    log_action(user, "project.indicator_updated", ind, before=b, after=a)
    return ind


@transaction.atomic
def add_value(user, indicator: Indicator, *, on, value, note="") -> IndicatorValue:
    """One measured value on a date (not in the future); one value per indicator and date."""
    ind = Indicator.objects.select_for_update().select_related("project__org").get(pk=indicator.pk)
    require(user, "project.manage", ind.project.org.path)
    day = _date(on, "on", _("日期"))
    if day > today():
        raise DomainError(_("日期不能晚于今天（{today}）。").format(today=today().isoformat()), "on")
    number = _decimal(value, "value", _("数值"), required=True)
    if IndicatorValue.objects.filter(indicator=ind, on=day).exists():
        raise DomainError(_("{name}在{day}已登记过数值；如需更正，请先删除原数值。").format(
            name=ind.name, day=day.isoformat()), "on")
    v = IndicatorValue.objects.create(indicator=ind, on=day, value=number, note=_text(note, "note", _("说明"), 200),
                                      created_by=actor(user))
    log_action(user, "project.value_added", v, indicator=ind.name, on=day, value=number)
    return v


@transaction.atomic
def delete_value(user, value: IndicatorValue) -> None:
    v = IndicatorValue.objects.select_related("indicator__project__org").get(pk=value.pk)
    require(user, "project.manage", v.indicator.project.org.path)
    log_action(user, "project.value_deleted", v, indicator=v.indicator.name, on=v.on, value=v.value)
    v.delete()


# ---- progress ---------------------------------------------------------------------------------------------------


@dataclass
class IndicatorProgress:
    indicator: Indicator
    values: list = field(default_factory=list)
    latest: IndicatorValue | None = None
    percent: Decimal | None = None  # of the way from baseline to target, 0–100+ (None without a target)


@dataclass
class Progress:
    milestones: list
    done: int
    overdue: int
    indicators: list
    percent_milestones: int


def progress(project: Project, on: datetime.date | None = None) -> Progress:
    """The project's milestones (overdue flagged) and indicators with their values, in three queries."""
    on = on or today()
    milestones = list(project.milestones.all())
    for m in milestones:
        m.overdue = m.done_on is None and m.due_on < on
        m.late = m.done_on is not None and m.done_on > m.due_on
    done = sum(1 for m in milestones if m.done_on)
    indicators = []
    by_ind: dict[int, list] = {}
    inds = list(project.indicators.all())
    for v in IndicatorValue.objects.filter(indicator__project=project).order_by("on", "id"):
        by_ind.setdefault(v.indicator_id, []).append(v)
    for ind in inds:
        values = by_ind.get(ind.pk, [])
        latest = values[-1] if values else None
        percent = None
        if latest is not None and ind.target is not None:
            base = ind.baseline or Decimal("0")
            span = ind.target - base
            if span:
                percent = ((latest.value - base) / span * 100).quantize(Decimal("0.1"))
        indicators.append(IndicatorProgress(ind, values, latest, percent))
    return Progress(milestones, done, sum(1 for m in milestones if m.overdue), indicators,
                    round(done * 100 / len(milestones)) if milestones else 0)


def chart_data(prog: Progress) -> list[dict]:
    """One ECharts line per indicator (dates and values) with its target, for the detail page's charts."""
    return [{"id": p.indicator.pk, "name": p.indicator.name, "unit": p.indicator.unit,
             "target": float(p.indicator.target) if p.indicator.target is not None else None,
             "dates": [v.on.isoformat() for v in p.values], "values": [float(v.value) for v in p.values]}
            for p in prog.indicators if p.values]


def lead_choices(org: Organization) -> QuerySet:
    return Member.objects.filter(org__path__startswith=org.path, active=True).order_by("name_pinyin", "id")
