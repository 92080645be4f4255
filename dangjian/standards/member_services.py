"""Operations on member standard sets (党员量化评价标准) and their items.

A set mirrors the organization ``StandardSet``: owned by a committee, per year, versioned, draft → published →
archived, at most one published per owner and year, frozen once a closed month used it; "copy to a new version"
is how a published or frozen set changes. Its settings (caps, floor, pass mark, dimension caps, veto effect,
rater weights, public ranking) are checked here, as are its items (part, dimension, points, per-miss, caps,
activity source).

Each write: checks ``standard.manage`` on the owner's path, locks the set row, checks its state (a published,
archived or frozen set refuses changes with a Chinese sentence saying to copy it), saves in one transaction and
writes the audit event (``member_standard.*``). Pages, the API, the Excel import, the management command and
the monthly evaluation (``member_set_for``, ``mark_member_set_frozen``) all call these functions.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.access import AccessDenied
from dangjian.core.audit import diff, log_action, snapshot
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Organization
from dangjian.standards.models import (
    ActivitySource,
    Dimension,
    MemberItem,
    MemberPart,
    MemberStandardSet,
    SetStatus,
    VetoEffect,
    ancestor_or_self_paths,
)
from dangjian.standards.rules import CODE_RE, clean_text
from dangjian.standards.services import SYSTEM, _check, _check_year, _u, can_view, copy_name

__all__ = [
    "SYSTEM", "add_member_item", "archive_member_set", "can_manage_member_set", "can_view", "check_editable",
    "copy_member_set", "create_member_set", "delete_member_item", "load_default_member_set",
    "mark_member_set_frozen", "member_set_contents", "member_set_for", "member_set_totals", "move_member_item",
    "publish_member_set", "reorder_member_items", "update_member_item", "update_member_set",
]

TENTH = Decimal("0.1")
MAX_POINTS = Decimal("999.9")
MAX_YEAR_CAP = Decimal("9999.9")
PART_ORDER = [value for value, _label in MemberPart.choices]
DIMENSION_ORDER = [value for value, _label in Dimension.choices]

SET_FIELDS = ["owner", "year", "name", "version", "based_on", "status", "note"]
SETTING_FIELDS = ["bonus_cap", "deduction_cap", "floor", "pass_mark", "dimension_caps", "veto_effect",
                  "weight_self", "weight_branch", "public_ranking"]
ITEM_FIELDS = ["code", "part", "dimension", "text", "rule", "points", "per_miss", "month_cap", "year_cap",
               "source", "evidence_required", "order"]
ITEM_EDITABLE = set(ITEM_FIELDS) - {"order"}
SET_EDITABLE = {"name", "note"} | set(SETTING_FIELDS)

# Which parts an activity source can feed: counts of misses (absences, unpaid dues) feed base items (as misses)
# and deductions; counts of things done feed base items (a month without any is a miss) and bonus items.
# Veto items are decided by the branch, never counted from records.
SOURCE_PARTS = {
    ActivitySource.MEETING_ATTENDED: {MemberPart.BASE, MemberPart.BONUS},
    ActivitySource.MEETING_ABSENT: {MemberPart.BASE, MemberPart.DEDUCTION},
    ActivitySource.LECTURE_GIVEN: {MemberPart.BASE, MemberPart.BONUS},
    ActivitySource.STUDY: {MemberPart.BASE, MemberPart.BONUS},
    ActivitySource.DUES_MISSING: {MemberPart.BASE, MemberPart.DEDUCTION},
    ActivitySource.SERVICE_HOURS: {MemberPart.BASE, MemberPart.BONUS},
}


def _lock(member_set: MemberStandardSet) -> MemberStandardSet:
    return MemberStandardSet.objects.select_for_update().select_related("owner").get(pk=member_set.pk)


def check_editable(member_set: MemberStandardSet) -> None:
    """Content and settings change in drafts only; the message says how to change a set in use."""
    if member_set.frozen_at is not None:
        raise DomainError(_("该党员评价标准已被已结束的评价月份使用，已冻结；请“复制为新版本”后修改。"))
    if member_set.status == SetStatus.PUBLISHED:
        raise DomainError(_("已发布的党员评价标准不能直接修改，请复制为新版本。"))
    if member_set.status == SetStatus.ARCHIVED:
        raise DomainError(_("已归档的党员评价标准不能修改，请复制为新版本。"))


def can_manage_member_set(user, member_set: MemberStandardSet) -> bool:
    from dangjian.core.access import can

    return user is SYSTEM or can(user, "standard.manage", member_set.owner.path)


# ---- field rules --------------------------------------------------------------------------------------


def _decimal(value, field: str, message: str, *, low: Decimal, high: Decimal, low_open: bool = True,
             required: bool = True) -> Decimal | None:
    """A decimal with at most one place in (low, high] (or [low, high] when not ``low_open``); None or ""
    gives None when not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError(message, field)
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite() or number != number.quantize(TENTH) or number > high \
            or number < low or (low_open and number == low):
        raise DomainError(message, field)
    return number.quantize(TENTH)


def clean_cap(value, field: str, label: str, high: Decimal = MAX_POINTS) -> Decimal | None:
    return _decimal(value, field, _("{label}应为大于0、不超过{high}的数，最多一位小数；留空表示不设上限。").format(
        label=label, high=high), low=Decimal("0"), high=high, required=False)


def clean_member_code(value) -> str:
    code = clean_text(value, "code", _("编码"), 20)
    if not CODE_RE.match(code):
        raise DomainError(_("编码只能由字母、数字、短横线、下划线或点组成，如 JC-01。"), "code")
    return code


def clean_dimension_caps(value) -> dict[str, str]:
    """{dimension: cap} -> {dimension: "5.0"} in the order of the dimensions; empty caps are dropped."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise DomainError(_("各维度奖励分上限的格式不正确。"), "dimension_caps")
    unknown = sorted(str(k) for k in value if k not in DIMENSION_ORDER)
    if unknown:
        raise DomainError(_("未知的维度：{codes}；维度只能是{names}。").format(
            codes="、".join(unknown), names="、".join(str(label) for _v, label in Dimension.choices)),
            "dimension_caps")
    out = {}
    for dim in DIMENSION_ORDER:
        if dim in value:
            cap = clean_cap(value[dim], "dimension_caps",
                            _("“{name}”的奖励分上限").format(name=Dimension(dim).label))
            if cap is not None:
                out[dim] = str(cap)
    return out


def clean_settings(member_set: MemberStandardSet, data: dict) -> dict:
    """The set's settings: the fields in ``data`` checked, then the whole combination (weights add up to 100,
    floor below the pass mark) checked against the values kept."""
    out = {}
    if "bonus_cap" in data:
        out["bonus_cap"] = clean_cap(data["bonus_cap"], "bonus_cap", _("奖励分上限"))
    if "deduction_cap" in data:
        out["deduction_cap"] = clean_cap(data["deduction_cap"], "deduction_cap", _("减项分上限"))
    if "floor" in data:
        out["floor"] = _decimal(data["floor"], "floor", _("月度最低分应为-999.9至999.9之间的数，最多一位小数；"
                                                         "留空表示不设下限。"),
                                low=-MAX_POINTS, high=MAX_POINTS, low_open=False, required=False)
    if "pass_mark" in data:
        out["pass_mark"] = _decimal(data["pass_mark"], "pass_mark", _("合格分数线应为大于0、不超过999.9的数，"
                                                                     "最多一位小数；留空表示只看否决项。"),
                                    low=Decimal("0"), high=MAX_POINTS, required=False)
    if "dimension_caps" in data:
        out["dimension_caps"] = clean_dimension_caps(data["dimension_caps"])
    if "veto_effect" in data:
        effect = data["veto_effect"] or ""
        effect = getattr(effect, "value", effect)
        if effect not in VetoEffect.values:
            raise DomainError(_("否决项的效果应为：{choices}。").format(
                choices="；".join(str(label) for _v, label in VetoEffect.choices)), "veto_effect")
        out["veto_effect"] = effect
    weight_message = _("{label}应为0至100之间的数，最多一位小数。")
    if "weight_self" in data:
        out["weight_self"] = _decimal(data["weight_self"], "weight_self",
                                      weight_message.format(label=_("自评权重")),
                                      low=Decimal("0"), high=Decimal("100"), low_open=False)
    if "weight_branch" in data:
        out["weight_branch"] = _decimal(data["weight_branch"], "weight_branch",
                                        weight_message.format(label=_("支部评定权重")),
                                        low=Decimal("0"), high=Decimal("100"), low_open=False)
    if "public_ranking" in data:
        out["public_ranking"] = bool(data["public_ranking"])
    merged = {f: out.get(f, getattr(member_set, f)) for f in SETTING_FIELDS}
    if merged["weight_self"] + merged["weight_branch"] != 100:
        raise DomainError(_("自评权重与支部评定权重之和应为100（现为{a}＋{b}）。").format(
            a=merged["weight_self"], b=merged["weight_branch"]),
            "weight_branch" if "weight_branch" in data else "weight_self")
    if merged["floor"] is not None and merged["pass_mark"] is not None and merged["floor"] >= merged["pass_mark"]:
        raise DomainError(_("月度最低分（{floor}）应低于合格分数线（{mark}），否则无人会因得分不合格。").format(
            floor=merged["floor"], mark=merged["pass_mark"]), "floor" if "floor" in data else "pass_mark")
    return out


def _part(value) -> str:
    value = getattr(value, "value", value) or ""
    if value not in PART_ORDER:
        raise DomainError(_("请选择部分：{choices}。").format(
            choices="、".join(str(label) for _v, label in MemberPart.choices)), "part")
    return value


def _dimension(value) -> str:
    value = getattr(value, "value", value) or ""
    if value not in DIMENSION_ORDER:
        raise DomainError(_("请选择维度：{choices}。").format(
            choices="、".join(str(label) for _v, label in Dimension.choices)), "dimension")
    return value


def _source(value) -> str:
    value = getattr(value, "value", value) or ""
    if value not in ActivitySource.values:
        raise DomainError(_("数据来源应为：{choices}。").format(
            choices="、".join(str(label) for _v, label in ActivitySource.choices)), "source")
    return value


def clean_member_item(member_set: MemberStandardSet, data: dict, *, item: MemberItem | None = None,
                      check_code: bool = True) -> dict:
    """The rules of an item, for every entry point. ``data`` holds the fields to set; missing ones keep the
    item's values (or the defaults of a new item). The combination (points by part, per-miss, caps, source)
    is checked on the merged values. ``check_code`` off: the caller checks uniqueness itself (the import)."""
    out = {}
    new = item is None
    if "code" in data or new:
        out["code"] = clean_member_code(data.get("code"))
        if check_code:
            clash = MemberItem.objects.filter(standard_set=member_set, code=out["code"])
            if item is not None:
                clash = clash.exclude(pk=item.pk)
            if clash.exists():
                raise DomainError(_("编码“{code}”在本标准中已被使用，请换一个。").format(code=out["code"]), "code")
    if "part" in data or new:
        out["part"] = _part(data.get("part"))
    if "dimension" in data or new:
        out["dimension"] = _dimension(data.get("dimension"))
    if "text" in data or new:
        out["text"] = clean_text(data.get("text"), "text", _("评价内容"), 300)
    if "rule" in data or new:
        out["rule"] = clean_text(data.get("rule"), "rule", _("计分说明"), 500, required=False)
    if "source" in data or new:
        out["source"] = _source(data.get("source"))
    if "evidence_required" in data or new:
        out["evidence_required"] = bool(data.get("evidence_required"))

    def merged(field, default=None):
        if field in data:
            return data[field]
        return getattr(item, field) if item is not None else default

    part = out.get("part") or item.part
    points_in = merged("points")
    if part == MemberPart.VETO:
        # A veto item carries no points; an item turned into one drops its points unless they were sent.
        if "points" in data and points_in not in (None, "") and not _zero(points_in):
            raise DomainError(_("一票否决项不计分，分值应为0。"), "points")
        points = Decimal("0.0")
    else:
        points = _decimal(points_in, "points", _("分值应为大于0、不超过999.9的数，最多一位小数，如 2 或 0.5。"),
                          low=Decimal("0"), high=MAX_POINTS)
    per_miss = _decimal(merged("per_miss"), "per_miss", _("每缺一次扣分应为大于0的数，最多一位小数；"
                                                          "留空表示缺一次即扣完本项分值。"),
                        low=Decimal("0"), high=MAX_POINTS, required=False)
    if per_miss is not None:
        if part != MemberPart.BASE:
            raise DomainError(_("只有基础分项目可以设置“每缺一次扣分”；奖励项和减项按次计分。"), "per_miss")
        if per_miss > points:
            raise DomainError(_("每缺一次扣分（{per}）不能大于本项分值（{points}）。").format(
                per=per_miss, points=points), "per_miss")
    month_cap = clean_cap(merged("month_cap"), "month_cap", _("每月上限"))
    year_cap = clean_cap(merged("year_cap"), "year_cap", _("全年上限"), MAX_YEAR_CAP)
    if (month_cap is not None or year_cap is not None) and part not in (MemberPart.BONUS, MemberPart.DEDUCTION):
        raise DomainError(_("只有奖励分和减项分项目按次计分，可以设置每月、全年上限；基础分项目最多得本项分值，"
                            "一票否决项不计分。"), "month_cap" if month_cap is not None else "year_cap")
    if month_cap is not None and month_cap < points:
        raise DomainError(_("每月上限（{cap}）不能小于每次的分值（{points}）。").format(cap=month_cap, points=points),
                          "month_cap")
    if year_cap is not None and year_cap < points:
        raise DomainError(_("全年上限（{cap}）不能小于每次的分值（{points}）。").format(cap=year_cap, points=points),
                          "year_cap")
    if month_cap is not None and year_cap is not None and year_cap < month_cap:
        raise DomainError(_("全年上限（{year}）不能小于每月上限（{month}）。").format(year=year_cap, month=month_cap),
                          "year_cap")
    source = out.get("source", item.source if item is not None else "")
    if source and part not in SOURCE_PARTS[source]:
        raise DomainError(_("数据来源“{source}”不能用于{part}项目。").format(
            source=ActivitySource(source).label, part=MemberPart(part).label), "source")
    # The numbers are always returned: their rules depend on the part, so they are checked on merged values.
    out.update({"points": points, "per_miss": per_miss, "month_cap": month_cap, "year_cap": year_cap})
    return out


def _zero(value) -> bool:
    try:
        return Decimal(str(value).strip()) == 0
    except (InvalidOperation, ValueError, TypeError):
        return False


def _check_owner(owner: Organization) -> None:
    if owner.level != Level.COMMITTEE:
        raise DomainError(_("党员评价标准由党委制定，请选择党委作为制定单位。"), "owner")
    if owner.archived:
        raise DomainError(_("该组织已撤销，不能制定党员评价标准。"), "owner")


# ---- sets ---------------------------------------------------------------------------------------------


def next_member_version(owner: Organization, year: int) -> int:
    top = MemberStandardSet.objects.filter(owner=owner, year=year).aggregate(v=Max("version"))["v"]
    return (top or 0) + 1


def _set_snapshot(ms: MemberStandardSet) -> dict:
    return snapshot(ms, SET_FIELDS + SETTING_FIELDS)


@transaction.atomic
def create_member_set(user, *, owner: Organization, year: int, name: str, note: str = "", audit: bool = True,
                      based_on: MemberStandardSet | None = None, settings: dict | None = None) -> MemberStandardSet:
    """A new draft, the next version for the owner and year; ``settings`` (optional) are checked like
    ``update_member_set``'s."""
    _check(user, "standard.manage", owner.path)
    _check_owner(owner)
    year = _check_year(year)
    name = clean_text(name, "name", _("标准名称"), 100)
    note = clean_text(note, "note", _("说明"), 2000, required=False)
    ms = MemberStandardSet(owner=owner, year=year, name=name, note=note, based_on=based_on, created_by=_u(user))
    for key, value in clean_settings(ms, settings or {}).items():
        setattr(ms, key, value)
    ms.weight_self, ms.weight_branch = ms.weight_self.quantize(TENTH), ms.weight_branch.quantize(TENTH)
    # Versions are numbered per owner and year; lock the owner so two creations cannot take the same number.
    Organization.objects.select_for_update().filter(pk=owner.pk).first()
    ms.version = next_member_version(owner, year)
    ms.save()
    if audit:
        log_action(_u(user), "member_standard.created", ms, after=_set_snapshot(ms))
    return ms


@transaction.atomic
def update_member_set(user, member_set: MemberStandardSet, **changes) -> MemberStandardSet:
    """Name, note and settings of a draft: bonus_cap, deduction_cap, floor, pass_mark, dimension_caps,
    veto_effect, weight_self and weight_branch (adding up to 100), public_ranking."""
    _check(user, "standard.manage", member_set.owner.path)
    ms = _lock(member_set)
    check_editable(ms)
    unknown = set(changes) - SET_EDITABLE
    if unknown:
        raise DomainError(_("年度和制定单位创建后不能修改；如需用于其他年度，请“复制为新版本”。"))
    before = _set_snapshot(ms)
    if "name" in changes:
        ms.name = clean_text(changes["name"], "name", _("标准名称"), 100)
    if "note" in changes:
        ms.note = clean_text(changes["note"], "note", _("说明"), 2000, required=False)
    for key, value in clean_settings(ms, {k: v for k, v in changes.items() if k in SETTING_FIELDS}).items():
        setattr(ms, key, value)
    ms.save()
    b, a = diff(before, _set_snapshot(ms))
    if a:
        log_action(_u(user), "member_standard.updated", ms, before=b, after=a)
    return ms


def _publish_problem(ms: MemberStandardSet) -> str | None:
    totals = member_set_totals(ms)
    if not totals["item_count"]:
        return _("标准中还没有评价细则，不能发布。")
    if not (totals["base"]["count"] or totals["bonus"]["count"]):
        return _("标准中没有基础分或奖励分项目，党员无从得分，不能发布。")
    if ms.pass_mark is not None and totals["max_total"] is not None and ms.pass_mark > totals["max_total"]:
        return _("合格分数线（{mark}分）高于可得的最高分（{top}分），所有党员都会不合格；请调低合格分数线或"
                 "调整分值后再发布。").format(mark=ms.pass_mark, top=totals["max_total"])
    return None


@transaction.atomic
def publish_member_set(user, member_set: MemberStandardSet) -> MemberStandardSet:
    """Draft → published; the set published before for the same owner and year is archived."""
    _check(user, "standard.manage", member_set.owner.path)
    ms = _lock(member_set)
    if ms.status != SetStatus.DRAFT:
        raise DomainError(_("只有草稿状态的党员评价标准可以发布。"))
    problem = _publish_problem(ms)
    if problem:
        raise DomainError(problem)
    previous = list(MemberStandardSet.objects.select_for_update().filter(
        owner_id=ms.owner_id, year=ms.year, status=SetStatus.PUBLISHED).exclude(pk=ms.pk))
    for old in previous:
        old.status = SetStatus.ARCHIVED
        old.save(update_fields=["status", "updated_at"])
        log_action(_u(user), "member_standard.archived", old, before={"status": SetStatus.PUBLISHED.value},
                   after={"status": SetStatus.ARCHIVED.value}, replaced_by=ms.pk)
    ms.status, ms.published_at = SetStatus.PUBLISHED, timezone.now()
    ms.save(update_fields=["status", "published_at", "updated_at"])
    log_action(_u(user), "member_standard.published", ms, before={"status": SetStatus.DRAFT.value},
               after={"status": SetStatus.PUBLISHED.value}, replaces=[o.pk for o in previous])
    return ms


@transaction.atomic
def archive_member_set(user, member_set: MemberStandardSet) -> MemberStandardSet:
    """归档: a draft that is not wanted, or a published set no longer in force. A frozen set may be archived:
    its content, which past months were scored under, does not change."""
    _check(user, "standard.manage", member_set.owner.path)
    ms = _lock(member_set)
    if ms.status == SetStatus.ARCHIVED:
        raise DomainError(_("该党员评价标准已归档。"))
    before = ms.status
    ms.status = SetStatus.ARCHIVED
    ms.save(update_fields=["status", "updated_at"])
    log_action(_u(user), "member_standard.archived", ms, before={"status": before}, after={"status": ms.status})
    return ms


def _item_rows(member_set: MemberStandardSet) -> list[dict]:
    return list(MemberItem.objects.filter(standard_set=member_set).order_by("order", "id")
                .values(*[f for f in ITEM_FIELDS if f != "order"]))


@transaction.atomic
def copy_member_set(user, member_set: MemberStandardSet, *, owner: Organization | None = None,
                    year: int | None = None, name: str | None = None) -> MemberStandardSet:
    """复制为新版本: a new draft with the same settings and items (one bulk insert). Same owner and year: the
    next version; another year, or another committee the user manages: version 1 there, or the next one."""
    source = MemberStandardSet.objects.select_related("owner").get(pk=member_set.pk)  # its saved settings
    if not can_view(user, source):
        raise AccessDenied("standard.view")
    owner = owner or source.owner
    year = _check_year(source.year if year is None else year)
    name = name if name and name.strip() else copy_name(source.name, source.year, year)
    new = create_member_set(user, owner=owner, year=year, name=name, note=source.note, based_on=source,
                            audit=False)
    for f in SETTING_FIELDS:
        setattr(new, f, getattr(source, f))
    new.save()
    rows = _item_rows(source)
    write_member_items(new, rows)
    log_action(_u(user), "member_standard.copied", new, after=_set_snapshot(new), source=source.pk,
               source_name=str(source), items=len(rows))
    return new


def mark_member_set_frozen(member_set: MemberStandardSet, when=None) -> MemberStandardSet:
    """Called by the month close when a closed month used the set: from then on it never changes."""
    with transaction.atomic():
        ms = _lock(member_set)
        if ms.frozen_at is None:
            ms.frozen_at = when or timezone.now()
            ms.save(update_fields=["frozen_at", "updated_at"])
            log_action(None, "member_standard.frozen", ms, after={"frozen_at": ms.frozen_at})
    return ms


def write_member_items(ms: MemberStandardSet, rows: list[dict]) -> list[MemberItem]:
    """Insert already checked items into an empty set in one bulk insert, grouped by part (base, bonus,
    deduction, veto) and in the given order within a part."""
    rank = {p: i for i, p in enumerate(PART_ORDER)}
    ordered = sorted(rows, key=lambda r: rank[r["part"]])  # stable: the rows' order within a part is kept
    objs = [MemberItem(standard_set=ms, order=n,
                       **{f: r[f] if f in r else _ITEM_DEFAULTS[f] for f in ITEM_FIELDS if f != "order"})
            for n, r in enumerate(ordered, 1)]
    return MemberItem.objects.bulk_create(objs)


_ITEM_DEFAULTS = {"rule": "", "per_miss": None, "month_cap": None, "year_cap": None, "source": "",
                  "evidence_required": False}


def clear_member_items(ms: MemberStandardSet) -> None:
    MemberItem.objects.filter(standard_set=ms).delete()


# ---- items --------------------------------------------------------------------------------------------


def _item_snapshot(item: MemberItem) -> dict:
    return snapshot(item, ITEM_FIELDS)


def _renumber(ms: MemberStandardSet) -> None:
    """Keep ``order`` one sequence over the set, grouped by part: base items first, then bonus, deduction and
    veto items, each part in its own order. One read and at most one bulk update."""
    rank = {p: i for i, p in enumerate(PART_ORDER)}
    items = list(MemberItem.objects.filter(standard_set=ms).only("id", "part", "order"))
    items.sort(key=lambda it: (rank.get(it.part, 9), it.order, it.pk))
    changed = []
    for n, it in enumerate(items, 1):
        if it.order != n:
            it.order = n
            changed.append(it)
    if changed:
        MemberItem.objects.bulk_update(changed, ["order"])


@transaction.atomic
def add_member_item(user, member_set: MemberStandardSet, **data) -> MemberItem:
    """A new item at the end of its part."""
    _check(user, "standard.manage", member_set.owner.path)
    ms = _lock(member_set)
    check_editable(ms)
    unknown = set(data) - ITEM_EDITABLE
    if unknown:
        raise DomainError(_("不能设置这些字段：{fields}。").format(fields="、".join(sorted(unknown))))
    clean = clean_member_item(ms, data)
    top = MemberItem.objects.filter(standard_set=ms).aggregate(m=Max("order"))["m"] or 0
    item = MemberItem.objects.create(standard_set=ms, order=top + 1, **clean)
    _renumber(ms)
    item.refresh_from_db(fields=["order"])
    log_action(_u(user), "member_standard.item_added", ms, after=_item_snapshot(item))
    return item


@transaction.atomic
def update_member_item(user, item: MemberItem, **changes) -> MemberItem:
    ms = item.standard_set
    _check(user, "standard.manage", ms.owner.path)
    ms = _lock(ms)
    check_editable(ms)
    unknown = set(changes) - ITEM_EDITABLE
    if unknown:
        raise DomainError(_("不能修改这些字段：{fields}。").format(fields="、".join(sorted(unknown))))
    item = MemberItem.objects.get(pk=item.pk)
    before = _item_snapshot(item)
    clean = clean_member_item(ms, changes, item=item)
    moved = "part" in clean and clean["part"] != item.part
    if moved:  # to the end of its new part
        clean["order"] = (MemberItem.objects.filter(standard_set=ms).aggregate(m=Max("order"))["m"] or 0) + 1
    for key, value in clean.items():
        setattr(item, key, value)
    item.save()
    if moved:
        _renumber(ms)
        item.refresh_from_db(fields=["order"])
    b, a = diff(before, _item_snapshot(item))
    if a:
        log_action(_u(user), "member_standard.item_updated", ms, before=b, after=a, item=item.code)
    return item


@transaction.atomic
def delete_member_item(user, item: MemberItem) -> None:
    ms = item.standard_set
    _check(user, "standard.manage", ms.owner.path)
    ms = _lock(ms)
    check_editable(ms)
    item = MemberItem.objects.get(pk=item.pk)
    log_action(_u(user), "member_standard.item_deleted", ms, before=_item_snapshot(item))
    item.delete()
    _renumber(ms)


@transaction.atomic
def reorder_member_items(user, member_set: MemberStandardSet, part: str, item_ids: list[int]) -> None:
    """Put the items of one part in the given order (every item of the part, each once)."""
    _check(user, "standard.manage", member_set.owner.path)
    ms = _lock(member_set)
    check_editable(ms)
    part = _part(part)
    items = {i.pk: i for i in MemberItem.objects.filter(standard_set=ms, part=part)}
    try:
        ids = [int(i) for i in item_ids]
    except (TypeError, ValueError):
        ids = []
    if sorted(ids) != sorted(items):
        raise DomainError(_("排序须包含该部分的全部评价细则，且每项只出现一次。"))
    slots = sorted(it.order for it in items.values())
    before = [items[pk].code for pk in sorted(items, key=lambda pk: (items[pk].order, pk))]
    for slot, pk in zip(slots, ids, strict=True):
        items[pk].order = slot
    MemberItem.objects.bulk_update(items.values(), ["order"])
    _renumber(ms)
    after = [items[pk].code for pk in ids]
    if before != after:
        log_action(_u(user), "member_standard.items_reordered", ms, before={"order": before},
                   after={"order": after}, part=part)


def move_member_item(user, item: MemberItem, direction: str) -> None:
    """Move an item one place up or down within its part."""
    ids = list(MemberItem.objects.filter(standard_set_id=item.standard_set_id, part=item.part)
               .order_by("order", "id").values_list("pk", flat=True))
    i = ids.index(item.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        reorder_member_items(user, item.standard_set, item.part, ids)


# ---- reading ------------------------------------------------------------------------------------------


def member_set_for(org: Organization, year: int) -> MemberStandardSet | None:
    """The published member set an organization's members are evaluated under in ``year``: the one of its
    nearest committee (itself or an ancestor) that has published one. One query."""
    return (MemberStandardSet.objects.filter(status=SetStatus.PUBLISHED, year=year,
                                             owner__path__in=ancestor_or_self_paths(org.path))
            .select_related("owner").order_by("-owner__depth").first())


def member_set_contents(member_set: MemberStandardSet) -> list[MemberItem]:
    """The items in display order (grouped by part): one query."""
    return list(MemberItem.objects.filter(standard_set=member_set).order_by("order", "id"))


def member_set_totals(member_set: MemberStandardSet, items: list[MemberItem] | None = None) -> dict:
    """For display and for the publish check: per part the item count and the sum of points (base: the full
    base score; bonus and deduction: the points of one occurrence of each item); the bonus and deduction a
    month can reach at most (the items' month caps, limited by the part's cap; None when some item has no
    month cap and the part has none); the highest month total (base + bonus at most, None when unbounded)."""
    if items is None:
        items = member_set_contents(member_set)
    zero = Decimal("0.0")
    parts = {p: {"count": 0, "points": zero, "month_max": zero, "items": []} for p in PART_ORDER}
    for it in items:
        row = parts[it.part]
        row["count"] += 1
        row["points"] += it.points
        row["items"].append(it)
        if row["month_max"] is not None:
            row["month_max"] = None if it.month_cap is None else row["month_max"] + it.month_cap
    for part, cap in ((MemberPart.BONUS, member_set.bonus_cap), (MemberPart.DEDUCTION, member_set.deduction_cap)):
        row = parts[part]
        if cap is not None:
            row["month_max"] = cap if row["month_max"] is None else min(cap, row["month_max"])
    base = parts[MemberPart.BASE]
    base["month_max"] = base["points"]
    parts[MemberPart.VETO]["month_max"] = None
    bonus_max = parts[MemberPart.BONUS]["month_max"]
    return {
        "item_count": len(items),
        "base": parts[MemberPart.BASE], "bonus": parts[MemberPart.BONUS],
        "deduction": parts[MemberPart.DEDUCTION], "veto": parts[MemberPart.VETO],
        "parts": [{"part": p, "label": MemberPart(p).label, **parts[p]} for p in PART_ORDER],
        "max_total": None if bonus_max is None else base["points"] + bonus_max,
    }


# ---- the default set ----------------------------------------------------------------------------------


def default_member_rows() -> list[dict]:
    """The items of the default set (dangjian/standards/member_defaults.py) as checked rows."""
    from dangjian.standards import member_defaults

    probe = MemberStandardSet()
    rows = []
    for raw in member_defaults.ITEMS:
        clean = clean_member_item(probe, raw, check_code=False)
        rows.append(clean)
    return rows


@transaction.atomic
def load_default_member_set(user, owner: Organization, year: int, *, publish: bool = False) -> MemberStandardSet:
    """A new draft (the next version for the owner and year) filled with the default member set shipped with
    the platform (dangjian/standards/member_defaults.py): settings and items; published at once when
    ``publish`` (which archives the set published before for the owner and year)."""
    from dangjian.standards import member_defaults

    year = _check_year(year)
    ms = create_member_set(user, owner=owner, year=year, name=member_defaults.NAME.format(year=year),
                           note=member_defaults.NOTE, audit=False, settings=member_defaults.SETTINGS)
    rows = default_member_rows()
    write_member_items(ms, rows)
    log_action(_u(user), "member_standard.defaults_loaded", ms, after=_set_snapshot(ms), items=len(rows))
    if publish:
        publish_member_set(user, ms)
        ms.refresh_from_db()
    return ms
