"""Operations on standard sets, their categories and items.

Each write: checks the permission (``standard.manage`` on the owner's path), locks the set row and checks its
state (a published, archived or frozen set refuses changes to its content with a Chinese sentence saying to
copy it as a new version), saves in one transaction and writes the audit event. Pages, the API, the Excel
import, the management command and the demo all call these functions.

Reads: ``items_for(org, set)`` is the one query that decides which items apply to an organization (what the
monthly evaluation uses); ``applicable()`` adds the points after type weights; ``level_type_summary()`` gives
the item count and total points for every level × type combination.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.access import AccessDenied, allowed_paths, can, require
from dangjian.core.audit import diff, log_action, snapshot
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Organization, OrgType
from dangjian.standards.models import (
    LEVEL_ORDER,
    Category,
    Item,
    SetStatus,
    StandardSet,
    ancestor_or_self_paths,
)
from dangjian.standards.rules import (  # noqa: F401  (re-exported: forms, the API and the import use them)
    clean_code,
    clean_item,
    clean_levels,
    clean_methods,
    clean_points,
    clean_text,
    clean_weight,
    clean_weights,
)

SET_FIELDS = ["owner", "year", "name", "version", "based_on", "status", "note"]
CATEGORY_FIELDS = ["code", "name", "order"]
ITEM_FIELDS = ["category", "code", "text", "max_points", "rule", "evidence", "methods", "applies_levels",
               "weights", "is_veto", "order", "auto_source", "auto_full_at", "auto_zero_at", "auto_min_sample"]
ITEM_EDITABLE = {"category", "code", "text", "max_points", "rule", "evidence", "methods", "applies_levels",
                 "applies_types", "weights", "is_veto", "auto_source", "auto_full_at", "auto_zero_at",
                 "auto_min_sample"}



class SystemActor:
    """The actor of management commands and the demo builder: no permission checks, audited without a user."""

    is_authenticated = False
    is_active = True
    is_superuser = False
    pk = None

    def get_username(self):
        return ""


SYSTEM = SystemActor()


def _check(user, action: str, path: str) -> None:
    if user is SYSTEM:
        return
    require(user, action, path)


def _u(user):
    return user if getattr(user, "is_authenticated", False) else None


def _lock(standard_set: StandardSet) -> StandardSet:
    return StandardSet.objects.select_for_update().select_related("owner").get(pk=standard_set.pk)


def check_editable(standard_set: StandardSet) -> None:
    """Content changes are for drafts only; the message says how to change a set that is in use."""
    if standard_set.frozen_at is not None:
        raise DomainError(_("该标准已被已兑现月份使用，已冻结；请“复制为新版本”后修改。"))
    if standard_set.status == SetStatus.PUBLISHED:
        raise DomainError(_("已发布的标准不能直接修改，请复制为新版本。"))
    if standard_set.status == SetStatus.ARCHIVED:
        raise DomainError(_("已归档的标准不能修改，请复制为新版本。"))


def can_manage(user, standard_set: StandardSet) -> bool:
    return can(user, "standard.manage", standard_set.owner.path)


def can_view(user, standard_set: StandardSet) -> bool:
    """The rule of StandardSet.visible_to for one set, from the user's (cached) grants: no query."""
    if user is SYSTEM:
        return True
    paths = allowed_paths(user, "standard.view")
    if paths is None:
        return True
    owner = standard_set.owner.path
    return any(owner.startswith(p) or p.startswith(owner) for p in paths)


# ---- sets ---------------------------------------------------------------------------------------------


def next_version(owner: Organization, year: int) -> int:
    top = StandardSet.objects.filter(owner=owner, year=year).aggregate(v=Max("version"))["v"]
    return (top or 0) + 1


def _check_owner(owner: Organization) -> None:
    if owner.level != Level.COMMITTEE:
        raise DomainError(_("考评标准由党委制定，请选择党委作为制定单位。"), "owner")
    if owner.archived:
        raise DomainError(_("该组织已撤销，不能制定考评标准。"), "owner")


def _check_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= 2100:
        raise DomainError(_("年度应为2000至2100之间的年份。"), "year")
    return year


@transaction.atomic
def create_set(user, *, owner: Organization, year: int, name: str, note: str = "", audit: bool = True,
               based_on: StandardSet | None = None) -> StandardSet:
    _check(user, "standard.manage", owner.path)
    _check_owner(owner)
    year = _check_year(year)
    name = clean_text(name, "name", _("标准名称"), 100)
    note = clean_text(note, "note", _("说明"), 2000, required=False)
    # Versions are numbered per owner and year; lock the owner so two creations cannot take the same number.
    Organization.objects.select_for_update().filter(pk=owner.pk).first()
    ss = StandardSet.objects.create(owner=owner, year=year, name=name, note=note, based_on=based_on,
                                    version=next_version(owner, year), created_by=_u(user))
    if audit:
        log_action(_u(user), "standard.created", ss, after=snapshot(ss, SET_FIELDS))
    return ss


@transaction.atomic
def update_set(user, standard_set: StandardSet, **changes) -> StandardSet:
    _check(user, "standard.manage", standard_set.owner.path)
    ss = _lock(standard_set)
    check_editable(ss)
    unknown = set(changes) - {"name", "note"}
    if unknown:
        raise DomainError(_("年度和制定单位创建后不能修改；如需用于其他年度，请“复制为新版本”。"))
    before = snapshot(ss, SET_FIELDS)
    if "name" in changes:
        ss.name = clean_text(changes["name"], "name", _("标准名称"), 100)
    if "note" in changes:
        ss.note = clean_text(changes["note"], "note", _("说明"), 2000, required=False)
    ss.save()
    b, a = diff(before, snapshot(ss, SET_FIELDS))
    if a:
        log_action(_u(user), "standard.updated", ss, before=b, after=a)
    return ss


@transaction.atomic
def publish_set(user, standard_set: StandardSet) -> StandardSet:
    _check(user, "standard.manage", standard_set.owner.path)
    ss = _lock(standard_set)
    if ss.status != SetStatus.DRAFT:
        raise DomainError(_("只有草稿状态的标准可以发布。"))
    if not ss.items.exists():
        raise DomainError(_("标准中还没有考评细则，不能发布。"))
    previous = list(StandardSet.objects.select_for_update().filter(
        owner_id=ss.owner_id, year=ss.year, status=SetStatus.PUBLISHED).exclude(pk=ss.pk))
    for old in previous:
        old.status = SetStatus.ARCHIVED
        old.save(update_fields=["status", "updated_at"])
        log_action(_u(user), "standard.archived", old, before={"status": SetStatus.PUBLISHED.value},
                   after={"status": SetStatus.ARCHIVED.value}, replaced_by=ss.pk)
    ss.status, ss.published_at = SetStatus.PUBLISHED, timezone.now()
    ss.save(update_fields=["status", "published_at", "updated_at"])
    log_action(_u(user), "standard.published", ss, before={"status": SetStatus.DRAFT.value},
               after={"status": SetStatus.PUBLISHED.value}, replaces=[o.pk for o in previous])
    return ss


@transaction.atomic
def archive_set(user, standard_set: StandardSet) -> StandardSet:
    """归档: a draft that is not wanted, or a published set that is no longer in force. A frozen set may be
    archived too: its content, which past months were scored under, does not change."""
    _check(user, "standard.manage", standard_set.owner.path)
    ss = _lock(standard_set)
    if ss.status == SetStatus.ARCHIVED:
        raise DomainError(_("该标准已归档。"))
    before = ss.status
    ss.status = SetStatus.ARCHIVED
    ss.save(update_fields=["status", "updated_at"])
    log_action(_u(user), "standard.archived", ss, before={"status": before}, after={"status": ss.status})
    return ss


def copy_name(name: str, old_year: int, new_year: int) -> str:
    return name.replace(str(old_year), str(new_year)) if old_year != new_year else name


@transaction.atomic
def copy_to_new_version(user, standard_set: StandardSet, *, owner: Organization | None = None,
                        year: int | None = None, name: str | None = None) -> StandardSet:
    """A new draft with the same categories, items and type links (set-based: a constant number of queries
    whatever the size). Same owner and year: the next version. Another year, or another committee the user
    manages (a county committee starting from the city's set): version 1 there, or the next one."""
    source = standard_set
    if not can_view(user, source):
        raise AccessDenied("standard.view")
    owner = owner or source.owner
    year = _check_year(source.year if year is None else year)
    name = name if name and name.strip() else copy_name(source.name, source.year, year)
    new = create_set(user, owner=owner, year=year, name=name, note=source.note, based_on=source, audit=False)
    categories = list(Category.objects.filter(standard_set=source).order_by("order", "id")
                      .values("id", "code", "name"))
    items = list(Item.objects.filter(standard_set=source).order_by("category__order", "category_id", "order", "id")
                 .values("id", "category_id", "code", "text", "max_points", "rule", "evidence", "methods",
                         "applies_levels", "weights", "is_veto", "auto_source", "auto_full_at", "auto_zero_at",
                         "auto_min_sample"))
    through = Item.applies_types.through
    links: dict[int, list[int]] = {}
    for item_id, type_id in through.objects.filter(item__standard_set=source).values_list("item_id", "orgtype_id"):
        links.setdefault(item_id, []).append(type_id)
    code_of = {c["id"]: c["code"] for c in categories}
    for it in items:
        it["category_code"] = code_of[it.pop("category_id")]
        it["type_ids"] = links.get(it.pop("id"), [])
    write_contents(new, categories, items)
    log_action(_u(user), "standard.copied", new, after=snapshot(new, SET_FIELDS), source=source.pk,
               source_name=str(source), items=len(items))
    return new


def mark_frozen(standard_set: StandardSet, when=None) -> StandardSet:
    """Called by the month close when a finalized month used the set: from then on it never changes."""
    with transaction.atomic():
        ss = _lock(standard_set)
        if ss.frozen_at is None:
            ss.frozen_at = when or timezone.now()
            ss.save(update_fields=["frozen_at", "updated_at"])
            log_action(None, "standard.frozen", ss, after={"frozen_at": ss.frozen_at})
    return ss


def write_contents(ss: StandardSet, categories: list[dict], items: list[dict]) -> None:
    """Insert categories (code, name; in order) and items (category_code, fields, type_ids; in order) into an
    empty set: three bulk inserts, whatever the number of items."""
    cats = Category.objects.bulk_create(
        [Category(standard_set=ss, code=c["code"], name=c["name"], order=i) for i, c in enumerate(categories, 1)])
    if any(c.pk is None for c in cats):  # a backend that cannot return ids from a bulk insert
        ids = dict(Category.objects.filter(standard_set=ss).values_list("code", "pk"))
        for c in cats:
            c.pk = ids[c.code]
    by_code = {c.code: c for c in cats}
    order: dict[str, int] = {}
    objs = []
    for it in items:
        order[it["category_code"]] = order.get(it["category_code"], 0) + 1
        objs.append(Item(
            standard_set=ss, category=by_code[it["category_code"]], code=it["code"], text=it["text"],
            max_points=it["max_points"], rule=it["rule"], evidence=it.get("evidence", ""), methods=it["methods"],
            applies_levels=it.get("applies_levels", []), weights=it.get("weights", {}),
            is_veto=it.get("is_veto", False), order=order[it["category_code"]],
            auto_source=it.get("auto_source", ""), auto_full_at=it.get("auto_full_at"),
            auto_zero_at=it.get("auto_zero_at"), auto_min_sample=it.get("auto_min_sample", 1),
        ))
    Item.objects.bulk_create(objs)
    if any(o.pk is None for o in objs):
        ids = dict(Item.objects.filter(standard_set=ss).values_list("code", "pk"))
        for o in objs:
            o.pk = ids[o.code]
    through = Item.applies_types.through
    through.objects.bulk_create(
        [through(item_id=o.pk, orgtype_id=t) for o, it in zip(objs, items, strict=True) for t in it["type_ids"]])


def clear_contents(ss: StandardSet) -> None:
    Item.applies_types.through.objects.filter(item__standard_set=ss).delete()
    Item.objects.filter(standard_set=ss).delete()
    Category.objects.filter(standard_set=ss).delete()


# ---- categories ---------------------------------------------------------------------------------------


def _clean_category(ss: StandardSet, data: dict, category: Category | None = None) -> dict:
    out = {}
    others = Category.objects.filter(standard_set=ss)
    if category is not None:
        others = others.exclude(pk=category.pk)
    if "code" in data or category is None:
        out["code"] = clean_code(data.get("code"), "code", _("类别编码"), 10)
        if others.filter(code=out["code"]).exists():
            raise DomainError(_("类别编码“{code}”在本标准中已被使用。").format(code=out["code"]), "code")
    if "name" in data or category is None:
        out["name"] = clean_text(data.get("name"), "name", _("类别名称"), 40)
        if others.filter(name=out["name"]).exists():
            raise DomainError(_("本标准中已有名为“{name}”的类别。").format(name=out["name"]), "name")
    if "order" in data and data["order"] is not None:
        out["order"] = max(0, int(data["order"]))
    return out


@transaction.atomic
def add_category(user, standard_set: StandardSet, *, code: str, name: str) -> Category:
    _check(user, "standard.manage", standard_set.owner.path)
    ss = _lock(standard_set)
    check_editable(ss)
    data = _clean_category(ss, {"code": code, "name": name})
    top = ss.categories.aggregate(m=Max("order"))["m"] or 0
    category = Category.objects.create(standard_set=ss, order=top + 1, **data)
    log_action(_u(user), "standard.category_added", ss, after=snapshot(category, CATEGORY_FIELDS))
    return category


@transaction.atomic
def update_category(user, category: Category, **changes) -> Category:
    ss = category.standard_set
    _check(user, "standard.manage", ss.owner.path)
    ss = _lock(ss)
    check_editable(ss)
    category = Category.objects.get(pk=category.pk)
    before = snapshot(category, CATEGORY_FIELDS)
    for key, value in _clean_category(ss, changes, category).items():
        setattr(category, key, value)
    category.save()
    b, a = diff(before, snapshot(category, CATEGORY_FIELDS))
    if a:
        log_action(_u(user), "standard.category_updated", ss, before=b, after=a, category=category.code)
    return category


@transaction.atomic
def delete_category(user, category: Category) -> None:
    ss = category.standard_set
    _check(user, "standard.manage", ss.owner.path)
    ss = _lock(ss)
    check_editable(ss)
    if category.items.exists():
        raise DomainError(_("类别“{name}”下还有考评细则，请先删除细则或把细则移到其他类别。").format(
            name=category.name))
    log_action(_u(user), "standard.category_deleted", ss, before=snapshot(category, CATEGORY_FIELDS))
    category.delete()


# ---- items --------------------------------------------------------------------------------------------


def _item_snapshot(item: Item, types=None) -> dict:
    data = snapshot(item, ITEM_FIELDS)
    data["category"] = item.category.code
    data["applies_types"] = sorted(t.code for t in (types if types is not None else item.applies_types.all()))
    return data


@transaction.atomic
def add_item(user, standard_set: StandardSet, **data) -> Item:
    _check(user, "standard.manage", standard_set.owner.path)
    ss = _lock(standard_set)
    check_editable(ss)
    clean = clean_item(ss, data)
    types = clean.pop("applies_types")
    top = Item.objects.filter(category=clean["category"]).aggregate(m=Max("order"))["m"] or 0
    item = Item.objects.create(standard_set=ss, order=top + 1, **clean)
    item.applies_types.set(types)
    log_action(_u(user), "standard.item_added", ss, after=_item_snapshot(item, types))
    return item


@transaction.atomic
def update_item(user, item: Item, **changes) -> Item:
    ss = item.standard_set
    _check(user, "standard.manage", ss.owner.path)
    ss = _lock(ss)
    check_editable(ss)
    unknown = set(changes) - ITEM_EDITABLE
    if unknown:
        raise DomainError(_("不能修改这些字段：{fields}。").format(fields="、".join(sorted(unknown))))
    item = Item.objects.select_related("category").get(pk=item.pk)
    before = _item_snapshot(item)
    clean = clean_item(ss, changes, item=item)
    types = clean.pop("applies_types", None)
    if "category" in clean and clean["category"].pk != item.category_id:
        clean["order"] = (Item.objects.filter(category=clean["category"]).aggregate(m=Max("order"))["m"] or 0) + 1
    for key, value in clean.items():
        setattr(item, key, value)
    item.save()
    if types is not None:
        item.applies_types.set(types)
    b, a = diff(before, _item_snapshot(item, types))
    if a:
        log_action(_u(user), "standard.item_updated", ss, before=b, after=a, item=item.code)
    return item


@transaction.atomic
def delete_item(user, item: Item) -> None:
    ss = item.standard_set
    _check(user, "standard.manage", ss.owner.path)
    ss = _lock(ss)
    check_editable(ss)
    log_action(_u(user), "standard.item_deleted", ss, before=_item_snapshot(item))
    item.delete()


@transaction.atomic
def reorder_items(user, category: Category, item_ids: list[int]) -> None:
    """Put the items of a category in the given order (every item of the category, each once)."""
    ss = category.standard_set
    _check(user, "standard.manage", ss.owner.path)
    ss = _lock(ss)
    check_editable(ss)
    items = {i.pk: i for i in Item.objects.filter(category=category)}
    ids = [int(i) for i in item_ids]
    if sorted(ids) != sorted(items):
        raise DomainError(_("排序须包含该类别的全部考评细则，且每项只出现一次。"))
    before = [items[pk].code for pk in sorted(items, key=lambda pk: (items[pk].order, pk))]
    for n, pk in enumerate(ids, 1):
        items[pk].order = n
    Item.objects.bulk_update(items.values(), ["order"])
    after = [items[pk].code for pk in ids]
    if before != after:
        log_action(_u(user), "standard.items_reordered", ss, before={"order": before}, after={"order": after},
                   category=category.code)


def move_item(user, item: Item, direction: str) -> None:
    """Move an item one place up or down within its category."""
    ids = list(Item.objects.filter(category_id=item.category_id).order_by("order", "id").values_list("pk", flat=True))
    i = ids.index(item.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        reorder_items(user, item.category, ids)


# ---- reading: which items apply -----------------------------------------------------------------------


def level_q(level: str) -> Q:
    """Items whose level list is empty (every level) or names ``level``. The list is stored as JSON text
    such as ["general", "branch"]; matching the quoted value works the same on SQLite and PostgreSQL."""
    return Q(applies_levels=[]) | Q(applies_levels__icontains=f'"{level}"')


def type_q(type_id: int | None) -> Q:
    through = Item.applies_types.through
    unrestricted = ~Exists(through.objects.filter(item_id=OuterRef("pk")))
    if type_id is None:
        return unrestricted
    return unrestricted | Exists(through.objects.filter(item_id=OuterRef("pk"), orgtype_id=type_id))


def items_for(org: Organization, standard_set: StandardSet):
    """The items of ``standard_set`` that apply to ``org`` by its level and type, in category and item order:
    one query."""
    return (Item.objects.filter(standard_set=standard_set).filter(level_q(org.level), type_q(org.type_id))
            .select_related("category").order_by("category__order", "category_id", "order", "id"))


def applicable(org: Organization, standard_set: StandardSet) -> tuple[list[Item], Decimal]:
    """The applicable items with ``points`` (after the weight of the organization's type) and their total."""
    type_code = org.type.code if org.type_id else None
    items = list(items_for(org, standard_set).prefetch_related("applies_types"))
    total = Decimal("0")
    for it in items:
        it.weight = it.weight_for(type_code)
        it.points = it.points_for(type_code)
        total += it.points
    return items, total


def set_for(org: Organization, year: int) -> StandardSet | None:
    """The published set an organization is evaluated under in ``year``: the one of its nearest committee
    (itself or an ancestor) that has published one."""
    return (StandardSet.objects.filter(status=SetStatus.PUBLISHED, year=year,
                                       owner__path__in=ancestor_or_self_paths(org.path))
            .select_related("owner").order_by("-owner__depth").first())


def set_contents(standard_set: StandardSet) -> list[Category]:
    """Categories with their items (and the items' types) prefetched: three queries."""
    items = Item.objects.order_by("order", "id").prefetch_related("applies_types")
    return list(standard_set.categories.order_by("order", "id").prefetch_related(Prefetch("items", queryset=items)))


def level_type_summary(categories: list[Category], types: list[OrgType]) -> list[dict]:
    """For every level × type an organization can have: how many items apply, how many are veto items, and
    the total points (after weights). Branches always have a type; committees and general branches are shown
    without one, and with a type only where some 差异 item of that type reaches their level."""
    items = [it for c in categories for it in c.items.all()]
    differential = [it for it in items if not it.is_common]
    rows = []
    for level in LEVEL_ORDER:
        combos = [] if level == Level.BRANCH else [None]
        for t in types:
            if level == Level.BRANCH or any(it.applies_to(level, t.pk) for it in differential):
                combos.append(t)
        for t in combos:
            matched = [it for it in items if it.applies_to(level, t.pk if t else None)]
            code = t.code if t else None
            rows.append({
                "level": level, "level_label": Level(level).label, "type": t,
                "count": len(matched), "common": sum(1 for it in matched if it.is_common),
                "veto": sum(1 for it in matched if it.is_veto),
                "total": sum((it.points_for(code) for it in matched), Decimal("0")),
            })
    return rows


def summary_types(categories: list[Category], all_types: list[OrgType] | None = None) -> list[OrgType]:
    """Active types, and inactive ones that items of the set still name."""
    named = {t.pk for c in categories for it in c.items.all() for t in it.applies_types.all()}
    all_types = list(OrgType.objects.all()) if all_types is None else all_types
    return [t for t in all_types if t.active or t.pk in named]


def form_types(standard_set: StandardSet) -> list[OrgType]:
    """The types an item form offers: active ones and any the set's items still name (one query)."""
    named = Item.applies_types.through.objects.filter(item__standard_set=standard_set).values("orgtype_id")
    return list(OrgType.objects.filter(Q(active=True) | Q(pk__in=named)))


def label_weights(categories: list[Category], all_types: list[OrgType]) -> None:
    """Give each item ``weight_labels``: [(type name in the user's language, weight)] for display."""
    names = {t.code: t.display_name for t in all_types}
    for c in categories:
        for it in c.items.all():
            it.weight_labels = [(names.get(code, code), w) for code, w in it.weights.items()]


# ---- the default set ----------------------------------------------------------------------------------


def default_contents() -> tuple[list[dict], list[dict]]:
    """The categories and items of the default set (dangjian/standards/defaults), ready for write_contents."""
    from dangjian.standards import defaults

    types = dict(OrgType.objects.values_list("code", "pk"))
    missing = sorted({code for it in defaults.ITEMS for code in it["types"]} - set(types))
    if missing:
        raise DomainError(_("缺少组织类型：{codes}，请先运行 manage.py migrate。").format(codes="、".join(missing)))
    items = [{**it, "category_code": it["category"], "max_points": Decimal(it["points"]),
              "type_ids": [types[c] for c in it["types"]], "applies_levels": clean_levels(it["levels"]),
              "methods": clean_methods(it["methods"])} for it in defaults.ITEMS]
    return [{"code": c, "name": n} for c, n in defaults.CATEGORIES], items


@transaction.atomic
def load_default_set(user, owner: Organization, year: int, *, publish: bool = False) -> StandardSet:
    """A new draft (the next version for the owner and year) filled with the default set shipped with the
    platform (dangjian/standards/defaults); published at once when ``publish``."""
    from dangjian.standards import defaults

    year = _check_year(year)
    ss = create_set(user, owner=owner, year=year, name=defaults.NAME.format(year=year), note=defaults.NOTE,
                    audit=False)
    categories, items = default_contents()
    write_contents(ss, categories, items)
    log_action(_u(user), "standard.defaults_loaded", ss, after=snapshot(ss, SET_FIELDS), items=len(items))
    if publish:
        publish_set(user, ss)
        ss.refresh_from_db()
    return ss
