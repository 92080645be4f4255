"""Standard sets: applicability (公用 vs 差异 by level and type), weights, totals, the default set, state rules
(draft, published, archived, frozen), copies, visibility and audit."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Level, OrgType
from dangjian.standards import defaults, services
from dangjian.standards.models import Category, Item, SetStatus, StandardSet
from tests.factories import make_org, make_user

FROZEN = "该标准已被已兑现月份使用，已冻结；请“复制为新版本”后修改。"
PUBLISHED = "已发布的标准不能直接修改，请复制为新版本。"


def codes(items):
    return [it.code for it in items]


def summary_of(ss):
    categories = services.set_contents(ss)
    rows = services.level_type_summary(categories, services.summary_types(categories))
    return {(r["level"], r["type"].code if r["type"] else None): r for r in rows}


# ---- applicability ------------------------------------------------------------------------------------


def test_items_for_picks_common_and_differential_items_by_level_and_type(company, small_set):
    assert codes(services.items_for(company.branch_a, small_set)) == ["ZZ-01", "ZY-01"]  # production branch
    assert codes(services.items_for(company.branch_c, small_set)) == ["ZZ-01"]  # management branch
    assert codes(services.items_for(company.committee, small_set)) == ["ZZ-02"]
    assert codes(services.items_for(company.general, small_set)) == ["ZZ-02"]


def test_items_for_is_one_query(company, default_set):
    with CaptureQueriesContext(connection) as ctx:
        items = list(services.items_for(company.branch_a, default_set))
    assert len(ctx.captured_queries) == 1
    assert len(items) == 31 and all(it.category.name for it in items)  # the category came with it


def test_common_means_no_type_restriction(company, small_set):
    common, production, upper = (Item.objects.prefetch_related("applies_types").get(code=c)
                                 for c in ("ZZ-01", "ZY-01", "ZZ-02"))
    assert common.is_common and upper.is_common and not production.is_common
    assert production.applies_to(Level.BRANCH, company.branch_a.type_id)
    assert not production.applies_to(Level.BRANCH, company.branch_c.type_id)
    assert not production.applies_to(Level.COMMITTEE, None)


def test_an_item_without_levels_applies_everywhere_and_untyped_orgs_get_only_common_items(company, small_set):
    zz = small_set.categories.get(code="ZZ")
    services.add_item(company.staff, small_set, category=zz, code="ZZ-09", text="意识形态", max_points="5",
                      rule="责任事故一票否决", methods=["report"])
    for org in (company.committee, company.general, company.branch_a, company.branch_c):
        assert "ZZ-09" in codes(services.items_for(org, small_set))
    # A general branch that happens to have a type still gets no branch-only production item.
    typed = make_org("有类型的党总支", parent=company.committee, level=Level.GENERAL_BRANCH, type_code="production")
    assert codes(services.items_for(typed, small_set)) == ["ZZ-02", "ZZ-09"]


def test_weights_multiply_points_for_that_type(company, small_set):
    zz = small_set.categories.get(code="ZZ")
    business = OrgType.objects.get(code="business")
    management = OrgType.objects.get(code="management")
    item = services.add_item(company.staff, small_set, category=zz, code="ZZ-05", text="志愿服务", max_points="4",
                             rule="每少1次扣1分", methods=["report"], applies_levels=["branch"],
                             weights={"business": "1.5", "management": Decimal("0.5"), "production": "1"})
    assert item.weights == {"business": "1.5", "management": "0.5"}  # 1 is the default and is not stored
    assert item.points_for("business") == Decimal("6.0")
    assert item.points_for("management") == Decimal("2.0")
    assert item.points_for("production") == Decimal("4.0") and item.points_for(None) == Decimal("4.0")
    shop = make_org("营业厅党支部", parent=company.committee, type_code="business")
    items, total = services.applicable(shop, small_set)
    assert [(it.code, it.points) for it in items] == [("ZZ-01", Decimal("4.0")), ("ZZ-05", Decimal("6.0"))]
    assert total == Decimal("10.0")
    _items, total_c = services.applicable(company.branch_c, small_set)
    assert total_c == Decimal("6.0")
    assert business.pk and management.pk


def test_weight_rules(company, small_set):
    zz = small_set.categories.get(code="ZZ")
    production = OrgType.objects.get(code="production")
    base = dict(category=zz, text="x", max_points="4", rule="r", methods=["report"])
    with pytest.raises(DomainError, match="权重应为大于0"):
        services.add_item(company.staff, small_set, code="W-1", weights={"business": "0"}, **base)
    with pytest.raises(DomainError, match="不存在"):
        services.add_item(company.staff, small_set, code="W-2", weights={"nosuch": "1.2"}, **base)
    with pytest.raises(DomainError, match="不在本项的适用类型内"):
        services.add_item(company.staff, small_set, code="W-3", applies_types=[production],
                          weights={"business": "1.2"}, **base)


def test_summary_gives_count_and_total_per_level_and_type(company, small_set):
    s = summary_of(small_set)
    assert set(s) == {("committee", None), ("general", None), ("branch", "production"),
                      ("branch", "management"), ("branch", "business")}
    assert (s["branch", "production"]["count"], s["branch", "production"]["total"]) == (2, Decimal("12.0"))
    assert s["branch", "production"]["veto"] == 1 and s["branch", "production"]["common"] == 1
    assert (s["branch", "management"]["count"], s["branch", "management"]["total"]) == (1, Decimal("4.0"))
    assert s["committee", None]["total"] == Decimal("10.0")


# ---- the default set ----------------------------------------------------------------------------------


def test_default_set_has_every_category_forty_items_and_the_veto_items(default_set):
    assert default_set.status == SetStatus.DRAFT and default_set.version == 1
    assert default_set.name == "2026年度党组织量化考评标准"
    names = list(default_set.categories.order_by("order").values_list("name", flat=True))
    assert names == ["组织建设", "组织生活", "党员教育管理", "作用发挥", "基础工作"]
    items = list(default_set.items.prefetch_related("applies_types"))
    assert len(items) >= 40
    assert all(it.rule and it.evidence and it.methods for it in items)
    veto = {it.code: it.rule for it in items if it.is_veto}
    assert {"ZZ-01", "ZZ-02", "ZY-11"} <= set(veto)
    assert "意识形态责任事故" in veto["ZZ-01"] and "八项规定" in veto["ZZ-02"] and "重大安全责任事故" in veto["ZY-11"]
    texts = " ".join(it.text + it.rule for it in items)
    for word in ("安全生产", "供电可靠率", "线损", "95598", "45分钟", "90分钟", "党员示范岗", "责任区", "制度健全",
                 "深入基层", "作风建设", "营商环境", "客户满意度", "廉洁风险", "领导班子", "指导", "覆盖率100%",
                 "党建工作责任制"):
        assert word in texts, word
    assert any(not it.is_common for it in items) and any(it.is_common for it in items)


def test_default_set_gives_100_points_to_every_level_and_type(default_set):
    s = summary_of(default_set)
    assert {k: r["total"] for k, r in s.items()} == {
        ("committee", None): Decimal("100.0"), ("general", None): Decimal("100.0"),
        ("branch", "production"): Decimal("100.0"), ("branch", "management"): Decimal("100.0"),
        ("branch", "business"): Decimal("100.0"),
    }
    assert s["branch", "production"]["count"] == 31 and s["committee", None]["count"] == 14


def test_default_data_is_consistent():
    categories = {c for c, _n in defaults.CATEGORIES}
    item_codes = [it["code"] for it in defaults.ITEMS]
    assert len(item_codes) == len(set(item_codes))
    assert all(it["category"] in categories and it["code"].startswith(it["category"]) for it in defaults.ITEMS)
    assert all(Decimal(it["points"]) > 0 for it in defaults.ITEMS)


def test_default_set_can_be_loaded_again_as_the_next_version(company, default_set):
    again = services.load_default_set(company.staff, company.committee, 2026)
    assert again.version == 2 and again.items.count() == default_set.items.count()


# ---- states -------------------------------------------------------------------------------------------


def test_a_draft_is_editable(company, small_set):
    item = small_set.items.get(code="ZZ-01")
    services.update_item(company.staff, item, text="每月开展主题党日", max_points="5")
    item.refresh_from_db()
    assert item.text == "每月开展主题党日" and item.max_points == Decimal("5.0")
    services.update_set(company.staff, small_set, name="2026年度测试标准（修订）")
    assert StandardSet.objects.get(pk=small_set.pk).name == "2026年度测试标准（修订）"


def test_a_published_set_refuses_every_change_with_the_chinese_message(company, small_set):
    services.publish_set(company.staff, small_set)
    ss = StandardSet.objects.get(pk=small_set.pk)
    item = ss.items.first()
    category = ss.categories.first()
    attempts = [
        lambda: services.update_set(company.staff, ss, name="新名称"),
        lambda: services.add_category(company.staff, ss, code="JC", name="基础工作"),
        lambda: services.update_category(company.staff, category, name="改名"),
        lambda: services.delete_category(company.staff, category),
        lambda: services.add_item(company.staff, ss, category=category, code="X-1", text="x", max_points=1,
                                  rule="r", methods=["report"]),
        lambda: services.update_item(company.staff, item, text="改"),
        lambda: services.delete_item(company.staff, item),
        lambda: services.reorder_items(company.staff, category, list(category.items.values_list("pk", flat=True))),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as exc:
            attempt()
        assert exc.value.message == PUBLISHED
    assert ss.items.count() == 3 and Item.objects.get(pk=item.pk).text == item.text


def test_a_frozen_set_refuses_changes_but_may_be_copied_and_archived(company, small_set):
    services.publish_set(company.staff, small_set)
    services.mark_frozen(small_set)
    ss = StandardSet.objects.get(pk=small_set.pk)
    assert ss.is_frozen and not ss.is_editable
    for attempt in (lambda: services.update_item(company.staff, ss.items.first(), text="改"),
                    lambda: services.update_set(company.staff, ss, note="x")):
        with pytest.raises(DomainError) as exc:
            attempt()
        assert exc.value.message == FROZEN
    new = services.copy_to_new_version(company.staff, ss)
    assert new.version == 2 and new.is_editable and new.frozen_at is None
    services.archive_set(company.staff, ss)
    assert StandardSet.objects.get(pk=ss.pk).status == SetStatus.ARCHIVED
    assert StandardSet.objects.get(pk=ss.pk).is_frozen


def test_a_frozen_draft_is_refused_with_the_frozen_message(company, small_set):
    services.mark_frozen(small_set)
    with pytest.raises(DomainError, match="已冻结"):
        services.add_category(company.staff, small_set, code="JC", name="基础工作")


def test_copy_makes_the_next_version_with_identical_items(company, default_set):
    services.publish_set(company.staff, default_set)
    with CaptureQueriesContext(connection) as ctx:
        new = services.copy_to_new_version(company.staff, default_set)
    assert len(ctx.captured_queries) < 25  # set-based: the same for 5 items or 500
    assert (new.version, new.year, new.status, new.based_on_id) == (2, 2026, SetStatus.DRAFT, default_set.pk)

    def contents(ss):
        cats = services.set_contents(ss)
        return [(c.code, c.name, [(it.code, it.text, it.max_points, it.rule, it.evidence, it.methods,
                                   it.applies_levels, sorted(t.code for t in it.applies_types.all()), it.weights,
                                   it.is_veto) for it in c.items.all()]) for c in cats]

    assert contents(new) == contents(default_set)
    assert not Category.objects.filter(standard_set=new, pk__in=default_set.categories.values("pk")).exists()


def test_copy_to_another_year_starts_at_version_one_and_renames(company, published):
    new = services.copy_to_new_version(company.staff, published, year=2027)
    assert (new.year, new.version, new.name) == (2027, 1, "2027年度党组织量化考评标准")


def test_copy_to_a_subordinate_committee(company, published):
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    new = services.copy_to_new_version(company.staff, published, owner=county)
    assert new.owner == county and new.version == 1 and new.items.count() == published.items.count()


def test_publishing_a_new_version_archives_the_previous_published_one(company, small_set):
    services.publish_set(company.staff, small_set)
    v2 = services.copy_to_new_version(company.staff, small_set)
    services.publish_set(company.staff, v2)
    assert StandardSet.objects.get(pk=small_set.pk).status == SetStatus.ARCHIVED
    assert StandardSet.objects.get(pk=v2.pk).status == SetStatus.PUBLISHED
    assert StandardSet.objects.filter(owner=company.committee, year=2026, status="published").count() == 1
    events = list(AuditEvent.objects.filter(action__in=["standard.published", "standard.archived"])
                  .order_by("id").values_list("action", "object_id"))
    assert events[-2:] == [("standard.archived", str(small_set.pk)), ("standard.published", str(v2.pk))]


def test_the_database_allows_one_published_set_per_owner_and_year(company, small_set):
    services.publish_set(company.staff, small_set)
    other = services.create_set(company.staff, owner=company.committee, year=2026, name="另一版")
    with pytest.raises(IntegrityError), transaction.atomic():
        StandardSet.objects.filter(pk=other.pk).update(status="published")


def test_only_a_draft_with_items_can_be_published(company):
    empty = services.create_set(company.staff, owner=company.committee, year=2026, name="空标准")
    with pytest.raises(DomainError, match="还没有考评细则"):
        services.publish_set(company.staff, empty)
    services.archive_set(company.staff, empty)
    with pytest.raises(DomainError, match="只有草稿"):
        services.publish_set(company.staff, empty)


def test_versions_are_numbered_per_owner_and_year(company):
    a = services.create_set(company.staff, owner=company.committee, year=2026, name="a")
    b = services.create_set(company.staff, owner=company.committee, year=2026, name="b")
    c = services.create_set(company.staff, owner=company.committee, year=2027, name="c")
    assert (a.version, b.version, c.version) == (1, 2, 1)


def test_set_for_finds_the_nearest_committees_published_set(company, published):
    assert services.set_for(company.branch_a, 2026) == published
    assert services.set_for(company.branch_a, 2025) is None
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    station = make_org("供电所党支部", parent=county)
    assert services.set_for(station, 2026) == published
    own = services.copy_to_new_version(company.staff, published, owner=county)
    services.publish_set(company.staff, own)
    assert services.set_for(station, 2026) == own


# ---- field rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"max_points": "0"}, "max_points", "分值应为大于0"),
    ({"max_points": "2.55"}, "max_points", "最多一位小数"),
    ({"max_points": "abc"}, "max_points", "分值应为"),
    ({"methods": []}, "methods", "请至少选择一种考评方式"),
    ({"methods": ["phone"]}, "methods", "未知的考评方式"),
    ({"applies_levels": ["team"]}, "applies_levels", "未知的层级"),
    ({"code": "ZZ-02"}, "code", "已被使用"),
    ({"code": "组织 01"}, "code", "只能由字母"),
    ({"text": "  "}, "text", "请填写考评内容"),
])
def test_item_rules(company, small_set, changes, field, message):
    item = small_set.items.get(code="ZZ-01")
    with pytest.raises(DomainError, match=message) as exc:
        services.update_item(company.staff, item, **changes)
    assert exc.value.field == field


def test_all_three_levels_are_stored_as_no_restriction(company, small_set):
    item = small_set.items.get(code="ZZ-01")
    services.update_item(company.staff, item, applies_levels=["branch", "general", "committee"])
    assert Item.objects.get(pk=item.pk).applies_levels == []


def test_an_item_needs_a_category_of_the_same_set(company, small_set):
    other = services.create_set(company.staff, owner=company.committee, year=2026, name="另一版")
    foreign = services.add_category(company.staff, other, code="ZZ", name="组织建设")
    with pytest.raises(DomainError, match="请选择本标准中的考评类别"):
        services.add_item(company.staff, small_set, category=foreign, code="X-1", text="x", max_points=1, rule="r",
                          methods=["report"])


def test_categories_need_unique_codes_and_names_and_are_deleted_only_when_empty(company, small_set):
    with pytest.raises(DomainError, match="类别编码“ZZ”在本标准中已被使用"):
        services.add_category(company.staff, small_set, code="ZZ", name="新类别")
    with pytest.raises(DomainError, match="已有名为“作用发挥”的类别"):
        services.add_category(company.staff, small_set, code="XX", name="作用发挥")
    zz = small_set.categories.get(code="ZZ")
    with pytest.raises(DomainError, match="下还有考评细则"):
        services.delete_category(company.staff, zz)
    jc = services.add_category(company.staff, small_set, code="JC", name="基础工作")
    assert jc.order == 3
    services.delete_category(company.staff, jc)
    assert not Category.objects.filter(pk=jc.pk).exists()


def test_owner_must_be_a_committee(company):
    with pytest.raises(DomainError, match="考评标准由党委制定"):
        services.create_set(company.staff, owner=company.general, year=2026, name="总支标准")
    with pytest.raises(DomainError, match="年度应为"):
        services.create_set(company.staff, owner=company.committee, year=1990, name="x")


def test_reorder_and_move(company, small_set):
    zz = small_set.categories.get(code="ZZ")
    first, second = zz.items.order_by("order")
    services.move_item(company.staff, second, "up")
    assert list(zz.items.order_by("order").values_list("code", flat=True)) == [second.code, first.code]
    with pytest.raises(DomainError, match="全部考评细则"):
        services.reorder_items(company.staff, zz, [first.pk])
    assert AuditEvent.objects.filter(action="standard.items_reordered").exists()


def test_moving_an_item_to_another_category_puts_it_last(company, small_set):
    zy = small_set.categories.get(code="ZY")
    item = small_set.items.get(code="ZZ-01")
    services.update_item(company.staff, item, category=zy)
    assert list(zy.items.order_by("order").values_list("code", flat=True)) == ["ZY-01", "ZZ-01"]


# ---- access -------------------------------------------------------------------------------------------


def test_every_role_sees_the_committees_sets_and_an_outsider_none(company, small_set):
    for persona in ("admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a"):
        user = getattr(company, persona)
        assert list(StandardSet.objects.visible_to(user)) == [small_set], persona
    assert not StandardSet.objects.visible_to(company.outsider).exists()


def test_a_sub_committees_set_is_not_visible_to_branches_elsewhere(company):
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    station = make_org("供电所党支部", parent=county)
    county_set = services.create_set(company.staff, owner=county, year=2026, name="县公司标准")
    from dangjian.orgs.models import Role

    station_secretary = make_user("station", Role.SECRETARY, station)
    county_staff = make_user("county_staff", Role.STAFF, county)
    assert county_set in StandardSet.objects.visible_to(station_secretary)
    assert county_set in StandardSet.objects.visible_to(company.staff)  # the owner lies in the city's subtree
    assert county_set not in StandardSet.objects.visible_to(company.secretary_a)  # a sibling subtree
    city_set = services.create_set(company.staff, owner=company.committee, year=2026, name="市公司标准")
    assert city_set in StandardSet.objects.visible_to(county_staff)
    with pytest.raises(AccessDenied):  # county staff read the city's set but may not change it
        services.update_set(county_staff, city_set, name="x")
    services.copy_to_new_version(county_staff, city_set, owner=county)  # they may start from it


def test_visibility_is_one_query(company, small_set):
    user = company.secretary_a
    user._dj_grants = None
    with CaptureQueriesContext(connection) as ctx:
        list(StandardSet.objects.visible_to(user))
    assert len(ctx.captured_queries) == 2  # the grants (cached afterwards) and the sets


def test_only_managers_write(company, small_set):
    for persona in ("assessor", "secretary_a", "member_user_a", "outsider"):
        with pytest.raises(AccessDenied):
            services.update_set(getattr(company, persona), small_set, name="x")
        with pytest.raises(AccessDenied):
            services.publish_set(getattr(company, persona), small_set)


# ---- audit --------------------------------------------------------------------------------------------


def test_every_change_is_audited_with_the_owners_path(company, small_set):
    item = small_set.items.get(code="ZZ-01")
    services.update_item(company.staff, item, max_points="5")
    services.delete_item(company.staff, small_set.items.get(code="ZZ-02"))
    services.publish_set(company.staff, small_set)
    services.copy_to_new_version(company.staff, small_set)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["standard.created", "standard.category_added", "standard.category_added",
                       "standard.item_added", "standard.item_added", "standard.item_added", "standard.item_updated",
                       "standard.item_deleted", "standard.published", "standard.copied"]
    updated = AuditEvent.objects.get(action="standard.item_updated")
    assert updated.data["before"] == {"max_points": "4.0"} and updated.data["after"] == {"max_points": "5.0"}
    assert updated.username == "staff"
    assert set(AuditEvent.objects.values_list("org_path", flat=True)) == {company.committee.path}


def test_loading_defaults_and_freezing_are_audited(company, default_set):
    services.mark_frozen(default_set)
    assert AuditEvent.objects.filter(action="standard.defaults_loaded", object_id=str(default_set.pk)).exists()
    frozen = AuditEvent.objects.get(action="standard.frozen")
    assert frozen.user_id is None and frozen.org_path == company.committee.path
