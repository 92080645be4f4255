"""Member standard sets (党员评价标准): the default set, settings and item rules, states (draft, published,
archived, frozen), copies, ordering, the set an organization is evaluated under, visibility and audit."""

from decimal import Decimal

import pytest

from dangjian.core.access import AccessDenied, scope
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Level, Role
from dangjian.standards import member_defaults
from dangjian.standards import member_services as svc
from dangjian.standards.models import Dimension, MemberItem, MemberPart, MemberStandardSet, SetStatus
from tests.factories import make_org, make_user

FROZEN = "该党员评价标准已被已结束的评价月份使用，已冻结；请“复制为新版本”后修改。"
PUBLISHED = "已发布的党员评价标准不能直接修改，请复制为新版本。"
ARCHIVED = "已归档的党员评价标准不能修改，请复制为新版本。"
D = Decimal


@pytest.fixture
def draft(company):
    return svc.load_default_member_set(company.staff, company.committee, 2026)


@pytest.fixture
def small(company):
    """A draft with one item of each part."""
    ms = svc.create_member_set(company.staff, owner=company.committee, year=2026, name="2026年度测试党员标准")
    svc.add_member_item(company.staff, ms, code="B-1", part="base", dimension="politics", text="按时参加组织生活",
                        points="10", per_miss="2", source="meeting_absent")
    svc.add_member_item(company.staff, ms, code="J-1", part="bonus", dimension="dedication", text="志愿服务",
                        points="0.5", month_cap="3", year_cap="15", source="service_hours")
    svc.add_member_item(company.staff, ms, code="K-1", part="deduction", dimension="central", text="违章作业",
                        points="3")
    svc.add_member_item(company.staff, ms, code="F-1", part="veto", dimension="rules", text="受到党纪处分")
    return ms


def codes(ms):
    return list(MemberItem.objects.filter(standard_set=ms).order_by("order").values_list("code", flat=True))


def item_data(**kw):
    data = dict(code="X-1", part="bonus", dimension="central", text="抢修保电", points="2")
    data.update(kw)
    return data


def unchanged(ms, before_items):
    return codes(ms) == before_items


# ---- the default set ----------------------------------------------------------------------------------


def test_the_default_set_is_a_draft_with_the_80_plus_20_settings(company, draft):
    ms = MemberStandardSet.objects.get(pk=draft.pk)
    assert (ms.status, ms.version, ms.year) == (SetStatus.DRAFT, 1, 2026)
    assert ms.name == "2026年度党员量化评价标准" and "基础分80分" in ms.note
    assert (ms.bonus_cap, ms.deduction_cap, ms.floor, ms.pass_mark) == (D("20.0"), D("40.0"), D("0.0"), D("60.0"))
    assert (ms.weight_self, ms.weight_branch, ms.public_ranking, ms.veto_effect) == (D("0"), D("100"), False, "month")
    assert ms.dimension_caps == {"politics": "6.0", "rules": "4.0", "morals": "4.0", "dedication": "10.0",
                                 "central": "10.0"}


def test_the_default_set_has_items_in_every_part_and_dimension(draft):
    items = list(draft.items.all())
    assert len(items) == len(member_defaults.ITEMS) >= 30
    by_part = {p: [it for it in items if it.part == p] for p in MemberPart.values}
    assert {p: len(v) for p, v in by_part.items()} == {"base": 10, "bonus": 15, "deduction": 12, "veto": 5}
    assert sum(it.points for it in by_part["base"]) == D("80")
    assert {it.dimension for it in items} == set(Dimension.values)
    assert all(it.points == 0 for it in by_part["veto"]) and all(it.points > 0 for it in items if it.part != "veto")
    assert all(it.per_miss is None for it in items if it.part != "base")
    sources = {it.code: it.source for it in items if it.source}
    assert sources == {"JC-02": "meeting_absent", "JC-03": "study", "JC-04": "dues_missing",
                       "JL-01": "lecture_given", "JL-04": "service_hours"}
    assert [it.part for it in sorted(items, key=lambda i: i.order)] == sorted(
        (it.part for it in items), key=["base", "bonus", "deduction", "veto"].index)
    assert [it.order for it in sorted(items, key=lambda i: i.order)] == list(range(1, len(items) + 1))
    texts = " ".join(it.text for it in items)
    for words in ("党纪处分", "违法犯罪", "安全事故", "非法组织", "八项规定", "95598", "抢修保电", "党课"):
        assert words in texts, words


def test_the_default_totals_show_80_base_and_at_most_100(draft):
    t = svc.member_set_totals(draft)
    assert t["item_count"] == 42 and t["base"]["points"] == D("80")
    assert t["bonus"]["month_max"] == D("20") and t["deduction"]["month_max"] == D("40")
    assert t["max_total"] == D("100") and t["veto"]["count"] == 5
    assert [p["part"] for p in t["parts"]] == ["base", "bonus", "deduction", "veto"]


def test_loading_the_default_with_publish_leaves_exactly_one_published_set(company):
    first = svc.load_default_member_set(company.staff, company.committee, 2026, publish=True)
    second = svc.load_default_member_set(company.staff, company.committee, 2026, publish=True)
    states = dict(MemberStandardSet.objects.values_list("pk", "status"))
    assert states == {first.pk: "archived", second.pk: "published"} and second.version == 2
    assert second.published_at is not None
    assert AuditEvent.objects.filter(action="member_standard.defaults_loaded").count() == 2
    assert AuditEvent.objects.filter(action="member_standard.archived", object_id=str(first.pk)).exists()


def test_the_default_loads_for_the_system_actor_without_a_user(company):
    ms = svc.load_default_member_set(svc.SYSTEM, company.committee, 2027, publish=True)
    event = AuditEvent.objects.get(action="member_standard.published")
    assert ms.status == SetStatus.PUBLISHED and event.user_id is None and event.org_path == company.committee.path


def test_the_default_is_refused_to_a_secretary_and_for_a_branch(company):
    with pytest.raises(AccessDenied):
        svc.load_default_member_set(company.secretary_a, company.committee, 2026)
    with pytest.raises(DomainError, match="党员评价标准由党委制定"):
        svc.load_default_member_set(company.staff, company.branch_a, 2026)
    with pytest.raises(DomainError, match="年度应为2000至2100"):
        svc.load_default_member_set(company.staff, company.committee, 1999)
    assert not MemberStandardSet.objects.exists()


# ---- creating and settings ----------------------------------------------------------------------------


def test_versions_count_per_owner_and_year(company):
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    a = svc.create_member_set(company.staff, owner=company.committee, year=2026, name="甲")
    b = svc.create_member_set(company.staff, owner=company.committee, year=2026, name="乙")
    c = svc.create_member_set(company.staff, owner=company.committee, year=2027, name="丙")
    d = svc.create_member_set(company.staff, owner=county, year=2026, name="丁")
    assert [x.version for x in (a, b, c, d)] == [1, 2, 1, 1]
    event = AuditEvent.objects.filter(action="member_standard.created").first()
    assert event.data["after"]["weight_branch"] == "100.0"


def test_create_checks_name_and_settings(company):
    with pytest.raises(DomainError, match="请填写标准名称"):
        svc.create_member_set(company.staff, owner=company.committee, year=2026, name="  ")
    with pytest.raises(DomainError, match="自评权重与支部评定权重之和应为100"):
        svc.create_member_set(company.staff, owner=company.committee, year=2026, name="甲",
                              settings={"weight_self": "30"})
    ms = svc.create_member_set(company.staff, owner=company.committee, year=2026, name="甲",
                               settings={"weight_self": "30", "weight_branch": "70", "bonus_cap": 15})
    assert (ms.weight_self, ms.weight_branch, ms.bonus_cap) == (D("30.0"), D("70.0"), D("15.0"))
    assert MemberStandardSet.objects.count() == 1


def test_settings_are_saved_and_audited_with_before_and_after(company, small):
    svc.update_member_set(company.staff, small, bonus_cap="20", deduction_cap=D("30"), floor="0", pass_mark="60",
                          dimension_caps={"central": "8", "politics": D("5.5"), "morals": ""},
                          veto_effect="bar_top", weight_self="20", weight_branch="80", public_ranking=True,
                          name="新名称")
    ms = MemberStandardSet.objects.get(pk=small.pk)
    assert ms.dimension_caps == {"politics": "5.5", "central": "8.0"}  # in the dimensions' order, empty dropped
    assert (ms.bonus_cap, ms.deduction_cap, ms.floor, ms.pass_mark) == (D("20"), D("30"), D("0"), D("60"))
    assert (ms.veto_effect, ms.weight_self, ms.public_ranking, ms.name) == ("bar_top", D("20"), True, "新名称")
    event = AuditEvent.objects.get(action="member_standard.updated")
    assert event.data["before"]["bonus_cap"] is None and event.data["after"]["bonus_cap"] == "20.0"
    assert event.data["after"]["dimension_caps"] == {"politics": "5.5", "central": "8.0"}
    svc.update_member_set(company.staff, ms, bonus_cap=None, floor=None)  # clearing: no cap, no floor
    ms.refresh_from_db()
    assert ms.bonus_cap is None and ms.floor is None


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"weight_self": "10"}, "weight_self", "自评权重与支部评定权重之和应为100（现为10.0＋100.0）"),
    ({"weight_self": "50", "weight_branch": "60"}, "weight_branch", "之和应为100"),
    ({"weight_self": "-10", "weight_branch": "110"}, "weight_self", "自评权重应为0至100之间的数"),
    ({"weight_branch": "100.25"}, "weight_branch", "支部评定权重应为0至100之间的数"),
    ({"bonus_cap": "0"}, "bonus_cap", "奖励分上限应为大于0、不超过999.9的数"),
    ({"bonus_cap": "abc"}, "bonus_cap", "奖励分上限应为大于0"),
    ({"deduction_cap": "1000"}, "deduction_cap", "减项分上限应为大于0、不超过999.9的数"),
    ({"deduction_cap": "2.55"}, "deduction_cap", "最多一位小数"),
    ({"pass_mark": "-5"}, "pass_mark", "合格分数线应为大于0"),
    ({"floor": "1000"}, "floor", "月度最低分应为-999.9至999.9之间的数"),
    ({"floor": "60", "pass_mark": "60"}, "floor", "月度最低分（60.0）应低于合格分数线（60.0）"),
    ({"dimension_caps": {"sports": "5"}}, "dimension_caps", "未知的维度：sports；维度只能是讲政治有信念"),
    ({"dimension_caps": {"rules": "0"}}, "dimension_caps", "“讲规矩有纪律”的奖励分上限应为大于0"),
    ({"dimension_caps": ["rules"]}, "dimension_caps", "各维度奖励分上限的格式不正确"),
    ({"veto_effect": "forever"}, "veto_effect", "否决项的效果应为"),
    ({"year": 2027}, None, "年度和制定单位创建后不能修改"),
    ({"name": "x" * 101}, "name", "标准名称不能超过100个字"),
])
def test_bad_settings_give_a_chinese_error_and_change_nothing(company, small, changes, field, message):
    before = MemberStandardSet.objects.filter(pk=small.pk).values().get()
    with pytest.raises(DomainError, match=message) as exc:
        svc.update_member_set(company.staff, small, **changes)
    assert exc.value.field == field
    assert MemberStandardSet.objects.filter(pk=small.pk).values().get() == before
    assert not AuditEvent.objects.filter(action="member_standard.updated").exists()


def test_only_the_committees_staff_write(company, small):
    for user in (company.secretary_a, company.assessor, company.member_user_a, company.outsider):
        with pytest.raises(AccessDenied):
            svc.update_member_set(user, small, name="改名")
        with pytest.raises(AccessDenied):
            svc.add_member_item(user, small, **item_data())
        with pytest.raises(AccessDenied):
            svc.publish_member_set(user, small)
        with pytest.raises(AccessDenied):
            svc.create_member_set(user, owner=company.committee, year=2026, name="甲")
    assert MemberStandardSet.objects.get(pk=small.pk).name == "2026年度测试党员标准" and len(codes(small)) == 4


# ---- items --------------------------------------------------------------------------------------------


def test_items_are_grouped_by_part_and_a_new_item_goes_to_the_end_of_its_part(company, small):
    assert codes(small) == ["B-1", "J-1", "K-1", "F-1"]
    svc.add_member_item(company.staff, small, code="B-2", part="base", dimension="rules", text="交纳党费",
                        points="8", source="dues_missing")
    svc.add_member_item(company.staff, small, code="J-2", part="bonus", dimension="politics", text="讲党课",
                        points="3", month_cap="3", year_cap="9", source="lecture_given", evidence_required=True)
    assert codes(small) == ["B-1", "B-2", "J-1", "J-2", "K-1", "F-1"]
    assert list(MemberItem.objects.filter(standard_set=small).order_by("order").values_list("order", flat=True)) \
        == [1, 2, 3, 4, 5, 6]
    event = AuditEvent.objects.filter(action="member_standard.item_added").order_by("id").last()
    assert event.data["after"]["code"] == "J-2" and event.data["after"]["evidence_required"] is True


def test_a_veto_item_carries_zero_points(company, small):
    veto = MemberItem.objects.get(code="F-1")
    assert veto.points == 0 and veto.part == "veto"
    item = svc.add_member_item(company.staff, small, code="F-2", part="veto", dimension="central", text="安全事故",
                               points="0")
    assert item.points == 0
    with pytest.raises(DomainError, match="一票否决项不计分，分值应为0"):
        svc.add_member_item(company.staff, small, code="F-3", part="veto", dimension="rules", text="违法",
                            points="5")
    # Turning a bonus item into a veto item drops its points; back to bonus needs points again.
    bonus = MemberItem.objects.get(code="K-1")
    svc.update_member_item(company.staff, bonus, part="veto")
    bonus.refresh_from_db()
    assert (bonus.part, bonus.points) == ("veto", 0) and codes(small)[-2:] == ["F-2", "K-1"]
    with pytest.raises(DomainError, match="分值应为大于0"):
        svc.update_member_item(company.staff, bonus, part="deduction")


@pytest.mark.parametrize(("data", "field", "message"), [
    (item_data(code="B-1"), "code", "编码“B-1”在本标准中已被使用"),
    (item_data(code="有 空格"), "code", "编码只能由字母、数字"),
    (item_data(code=""), "code", "请填写编码"),
    (item_data(part="extra"), "part", "请选择部分：基础分、奖励分、减项分、一票否决"),
    (item_data(dimension="sports"), "dimension", "请选择维度：讲政治有信念"),
    (item_data(text=""), "text", "请填写评价内容"),
    (item_data(text="长" * 301), "text", "评价内容不能超过300个字"),
    (item_data(rule="长" * 501), "rule", "计分说明不能超过500个字"),
    (item_data(points="0"), "points", "分值应为大于0"),
    (item_data(points=None), "points", "分值应为大于0"),
    (item_data(points="-1"), "points", "分值应为大于0"),
    (item_data(points="1.25"), "points", "最多一位小数"),
    (item_data(points="1000"), "points", "不超过999.9"),
    (item_data(per_miss="1"), "per_miss", "只有基础分项目可以设置“每缺一次扣分”"),
    (item_data(part="base", points="5", per_miss="6"), "per_miss", "每缺一次扣分（6.0）不能大于本项分值（5.0）"),
    (item_data(part="base", points="5", per_miss="0"), "per_miss", "每缺一次扣分应为大于0"),
    (item_data(month_cap="0"), "month_cap", "每月上限应为大于0"),
    (item_data(year_cap="-2"), "year_cap", "全年上限应为大于0"),
    (item_data(month_cap="1"), "month_cap", "每月上限（1.0）不能小于每次的分值（2.0）"),
    (item_data(year_cap="1"), "year_cap", "全年上限（1.0）不能小于每次的分值（2.0）"),
    (item_data(month_cap="6", year_cap="4"), "year_cap", "全年上限（4.0）不能小于每月上限（6.0）"),
    (item_data(year_cap="10000"), "year_cap", "不超过9999.9"),
    (item_data(part="base", month_cap="5"), "month_cap", "只有奖励分和减项分项目按次计分"),
    (item_data(part="veto", points=None, year_cap="5"), "year_cap", "只有奖励分和减项分项目按次计分"),
    (item_data(source="weather"), "source", "数据来源应为"),
    (item_data(source="meeting_absent"), "source", "数据来源“无故缺席组织生活次数”不能用于奖励分项目"),
    (item_data(part="deduction", source="service_hours"), "source", "不能用于减项分项目"),
    (item_data(part="veto", points=None, source="dues_missing"), "source", "不能用于一票否决项目"),
    (item_data(order=3), None, "不能设置这些字段：order"),
])
def test_bad_items_give_a_chinese_error_and_change_nothing(company, small, data, field, message):
    before = codes(small)
    with pytest.raises(DomainError, match=message) as exc:
        svc.add_member_item(company.staff, small, **data)
    assert exc.value.field == field
    assert unchanged(small, before)
    assert AuditEvent.objects.filter(action="member_standard.item_added").count() == 4


def test_updating_an_item_checks_the_combination_and_is_audited(company, small):
    base = MemberItem.objects.get(code="B-1")
    with pytest.raises(DomainError, match="每缺一次扣分（2.0）不能大于本项分值（1.0）"):
        svc.update_member_item(company.staff, base, points="1")
    with pytest.raises(DomainError, match="编码“J-1”在本标准中已被使用"):
        svc.update_member_item(company.staff, base, code="J-1")
    base.refresh_from_db()
    assert (base.points, base.code) == (D("10.0"), "B-1")
    svc.update_member_item(company.staff, base, points="12", per_miss=None, rule="缺一次扣完")
    base.refresh_from_db()
    assert (base.points, base.per_miss, base.rule) == (D("12.0"), None, "缺一次扣完")
    event = AuditEvent.objects.get(action="member_standard.item_updated")
    assert event.data["before"] == {"points": "10.0", "per_miss": "2.0", "rule": ""}
    assert event.data["item"] == "B-1"
    svc.update_member_item(company.staff, base, code="B-1")  # same code: allowed, no change, no event
    assert AuditEvent.objects.filter(action="member_standard.item_updated").count() == 1


def test_changing_the_part_moves_the_item_to_the_end_of_that_part(company, small):
    svc.add_member_item(company.staff, small, code="B-2", part="base", dimension="rules", text="党费", points="8")
    svc.update_member_item(company.staff, MemberItem.objects.get(code="B-1"), part="bonus", per_miss=None,
                           points="2", source="")
    assert codes(small) == ["B-2", "J-1", "B-1", "K-1", "F-1"]


def test_delete_and_reorder_within_a_part(company, small):
    for n in (2, 3):
        svc.add_member_item(company.staff, small, code=f"J-{n}", part="bonus", dimension="morals",
                            text=f"好人好事{n}", points="1")
    ids = dict(MemberItem.objects.filter(standard_set=small).values_list("code", "pk"))
    svc.reorder_member_items(company.staff, small, "bonus", [ids["J-3"], ids["J-1"], ids["J-2"]])
    assert codes(small) == ["B-1", "J-3", "J-1", "J-2", "K-1", "F-1"]
    event = AuditEvent.objects.get(action="member_standard.items_reordered")
    assert event.data["after"] == {"order": ["J-3", "J-1", "J-2"]} and event.data["part"] == "bonus"
    with pytest.raises(DomainError, match="排序须包含该部分的全部评价细则"):
        svc.reorder_member_items(company.staff, small, "bonus", [ids["J-3"], ids["J-1"]])
    with pytest.raises(DomainError, match="排序须包含该部分的全部评价细则"):
        svc.reorder_member_items(company.staff, small, "bonus", [ids["J-3"], ids["J-1"], ids["B-1"]])
    svc.move_member_item(company.staff, MemberItem.objects.get(code="J-2"), "up")
    assert codes(small) == ["B-1", "J-3", "J-2", "J-1", "K-1", "F-1"]
    svc.move_member_item(company.staff, MemberItem.objects.get(code="B-1"), "up")  # first of its part: no move
    svc.delete_member_item(company.staff, MemberItem.objects.get(code="J-3"))
    assert codes(small) == ["B-1", "J-2", "J-1", "K-1", "F-1"]
    assert list(MemberItem.objects.filter(standard_set=small).order_by("order").values_list("order", flat=True)) \
        == [1, 2, 3, 4, 5]
    assert AuditEvent.objects.get(action="member_standard.item_deleted").data["before"]["code"] == "J-3"


# ---- states -------------------------------------------------------------------------------------------


def test_publish_archives_the_previous_published_set_of_the_owner_and_year(company, small):
    other = svc.load_default_member_set(company.staff, company.committee, 2026, publish=True)
    svc.publish_member_set(company.staff, small)
    assert MemberStandardSet.objects.get(pk=other.pk).status == SetStatus.ARCHIVED
    small.refresh_from_db()
    assert small.status == SetStatus.PUBLISHED and small.published_at is not None
    event = AuditEvent.objects.filter(action="member_standard.published").order_by("id").last()
    assert event.data["replaces"] == [other.pk]
    with pytest.raises(DomainError, match="只有草稿状态的党员评价标准可以发布"):
        svc.publish_member_set(company.staff, small)
    # Another year and another owner are untouched.
    kept = svc.load_default_member_set(company.staff, company.committee, 2027, publish=True)
    assert MemberStandardSet.objects.get(pk=kept.pk).status == SetStatus.PUBLISHED
    assert MemberStandardSet.objects.get(pk=small.pk).status == SetStatus.PUBLISHED


def test_publish_refuses_an_empty_set_and_an_unreachable_pass_mark(company):
    ms = svc.create_member_set(company.staff, owner=company.committee, year=2026, name="空标准")
    with pytest.raises(DomainError, match="标准中还没有评价细则，不能发布"):
        svc.publish_member_set(company.staff, ms)
    svc.add_member_item(company.staff, ms, code="F-1", part="veto", dimension="rules", text="党纪处分")
    with pytest.raises(DomainError, match="没有基础分或奖励分项目"):
        svc.publish_member_set(company.staff, ms)
    svc.add_member_item(company.staff, ms, code="B-1", part="base", dimension="rules", text="守纪", points="50")
    svc.update_member_set(company.staff, ms, pass_mark="60", bonus_cap="5")
    svc.add_member_item(company.staff, ms, code="J-1", part="bonus", dimension="rules", text="加分", points="2",
                        month_cap="2")
    with pytest.raises(DomainError, match="合格分数线（60.0分）高于可得的最高分（52.0分）"):
        svc.publish_member_set(company.staff, ms)
    assert MemberStandardSet.objects.get(pk=ms.pk).status == SetStatus.DRAFT
    svc.update_member_set(company.staff, ms, pass_mark="50")
    svc.publish_member_set(company.staff, ms)


@pytest.mark.parametrize("state", ["published", "archived", "frozen"])
def test_a_set_in_use_refuses_every_change_with_the_sentence_to_copy_it(company, small, state):
    if state == "published":
        svc.publish_member_set(company.staff, small)
        message = PUBLISHED
    elif state == "archived":
        svc.archive_member_set(company.staff, small)
        message = ARCHIVED
    else:
        svc.mark_member_set_frozen(small)
        message = FROZEN
    item = MemberItem.objects.get(code="J-1")
    before = list(MemberItem.objects.filter(standard_set=small).values())
    for call in (lambda: svc.update_member_set(company.staff, small, bonus_cap="10"),
                 lambda: svc.add_member_item(company.staff, small, **item_data()),
                 lambda: svc.update_member_item(company.staff, item, points="1"),
                 lambda: svc.delete_member_item(company.staff, item),
                 lambda: svc.reorder_member_items(company.staff, small, "bonus", [item.pk])):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.message == message
    assert list(MemberItem.objects.filter(standard_set=small).values()) == before


def test_archive_and_a_frozen_set_may_still_be_archived(company, small):
    svc.publish_member_set(company.staff, small)
    svc.mark_member_set_frozen(small)
    svc.archive_member_set(company.staff, small)
    small.refresh_from_db()
    assert small.status == SetStatus.ARCHIVED and small.is_frozen
    with pytest.raises(DomainError, match="该党员评价标准已归档"):
        svc.archive_member_set(company.staff, small)
    assert AuditEvent.objects.filter(action="member_standard.archived").count() == 1


def test_freezing_is_idempotent_and_audited_once(company, small):
    first = svc.mark_member_set_frozen(small)
    stamp = first.frozen_at
    again = svc.mark_member_set_frozen(small)
    assert again.frozen_at == stamp and not again.is_editable
    event = AuditEvent.objects.get(action="member_standard.frozen")
    assert event.user_id is None and event.org_path == company.committee.path


# ---- copies -------------------------------------------------------------------------------------------


def test_copy_makes_the_next_version_with_the_same_settings_and_items(company, draft):
    svc.update_member_set(company.staff, draft, weight_self="10", weight_branch="90", public_ranking=True)
    svc.publish_member_set(company.staff, draft)
    svc.mark_member_set_frozen(draft)
    new = svc.copy_member_set(company.staff, draft)
    assert (new.version, new.status, new.based_on_id, new.frozen_at) == (2, SetStatus.DRAFT, draft.pk, None)
    for f in svc.SETTING_FIELDS:
        assert getattr(new, f) == getattr(MemberStandardSet.objects.get(pk=draft.pk), f), f
    fields = [f for f in svc.ITEM_FIELDS]
    assert list(new.items.order_by("order").values(*fields)) == list(draft.items.order_by("order").values(*fields))
    event = AuditEvent.objects.get(action="member_standard.copied")
    assert event.data["source"] == draft.pk and event.data["items"] == 42
    svc.update_member_set(company.staff, new, bonus_cap="15")  # the copy is an editable draft


def test_copy_to_another_year_or_committee(company, draft):
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    next_year = svc.copy_member_set(company.staff, draft, year=2027)
    assert (next_year.year, next_year.version, next_year.name) == (2027, 1, "2027年度党员量化评价标准")
    there = svc.copy_member_set(company.staff, draft, owner=county, name="县公司党员评价标准")
    assert (there.owner_id, there.version, there.name, there.items.count()) == (county.pk, 1, "县公司党员评价标准", 42)


def test_a_county_staff_member_may_copy_the_citys_set_into_the_county_but_not_write_the_city(company, draft):
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    county_staff = make_user("county_staff", Role.STAFF, county)
    copy = svc.copy_member_set(county_staff, draft, owner=county)
    assert copy.owner_id == county.pk
    with pytest.raises(AccessDenied):
        svc.copy_member_set(county_staff, draft)  # into the city's committee: not theirs
    with pytest.raises(AccessDenied):
        svc.copy_member_set(company.outsider, draft, owner=county)


# ---- reading ------------------------------------------------------------------------------------------


def test_member_set_for_takes_the_nearest_published_set_of_the_year(company, small, django_assert_num_queries):
    assert svc.member_set_for(company.branch_a, 2026) is None  # a draft does not count
    city = svc.load_default_member_set(company.staff, company.committee, 2026, publish=True)
    with django_assert_num_queries(1):
        found = svc.member_set_for(company.branch_a, 2026)
    assert found == city and found.owner == company.committee
    assert svc.member_set_for(company.committee, 2026) == city
    assert svc.member_set_for(company.branch_a, 2025) is None
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    county_branch = make_org("县公司运检党支部", parent=county)
    assert svc.member_set_for(county_branch, 2026) == city
    own = svc.load_default_member_set(company.staff, county, 2026, publish=True)
    assert svc.member_set_for(county_branch, 2026) == own
    assert svc.member_set_for(company.branch_b, 2026) == city


def test_every_role_reads_the_sets_of_its_committee_and_no_one_else(company, small):
    county = make_org("县公司党委", parent=company.committee, level=Level.COMMITTEE, type_code=None)
    county_set = svc.create_member_set(company.staff, owner=county, year=2026, name="县标准")
    qs = MemberStandardSet.objects.all()
    for persona in ("admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a"):
        visible = set(scope(getattr(company, persona), "standard.view", qs))
        assert small in visible and (county_set in visible) == (persona in ("admin", "staff", "assessor")), persona
    assert not scope(company.outsider, "standard.view", qs).exists()
    assert svc.can_view(company.secretary_b, small) and not svc.can_view(company.outsider, small)
    assert svc.can_manage_member_set(company.staff, small)
    assert not svc.can_manage_member_set(company.secretary_a, small)
