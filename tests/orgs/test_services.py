import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from dangjian.core.access import AccessDenied, allowed_paths, scope
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.orgs import services
from dangjian.orgs.models import Level, Member, Organization, OrgChange
from tests.factories import make_member, make_org, org_type, valid_id

D = datetime.date


def test_a_new_branch_gets_a_path_under_its_parent(company):
    org = services.create_org(company.staff, parent=company.general, name="配电运检党支部", code="B010",
                              level=Level.BRANCH, type=org_type())
    assert org.path == company.general.path + f"{org.pk:07d}."
    assert org.depth == 2
    assert AuditEvent.objects.filter(action="org.created", object_id=str(org.pk)).count() == 1


def test_a_branch_cannot_have_children_and_needs_a_type(company):
    with pytest.raises(DomainError, match="党支部下不能设立"):
        services.create_org(company.staff, parent=company.branch_a, name="x", code="X1", level=Level.BRANCH,
                            type=org_type())
    with pytest.raises(DomainError, match="必须选择类型"):
        services.create_org(company.staff, parent=company.general, name="x", code="X2", level=Level.BRANCH)


def test_a_duplicate_code_is_refused(company):
    with pytest.raises(DomainError, match="已被使用"):
        services.create_org(company.staff, parent=company.general, name="x", code="B001", level=Level.BRANCH,
                            type=org_type())


def test_secretary_cannot_create_organizations(company):
    with pytest.raises(AccessDenied):
        services.create_org(company.secretary_a, parent=company.branch_a, name="x", code="X3",
                            level=Level.BRANCH, type=org_type())


def test_moving_an_org_moves_its_subtree_and_keeps_history(company):
    c = company
    new_general = make_org("县供电公司党委", parent=c.committee, level=Level.COMMITTEE, type_code=None)
    old_path = c.branch_a.path
    services.move_org(c.staff, c.general, new_general, effective_on=D(2026, 3, 1), reason="机构调整")
    c.branch_a.refresh_from_db()
    c.general.refresh_from_db()
    assert c.general.parent_id == new_general.pk
    assert c.branch_a.path.startswith(c.general.path) and c.general.path.startswith(new_general.path)
    assert c.branch_a.depth == 3
    # Past months see the organization as it was then.
    before = services.org_state_at(c.general, D(2026, 2, 15))
    assert before["parent"] == c.committee.pk
    assert services.org_state_at(c.general, D(2026, 3, 15))["parent"] == new_general.pk
    assert old_path != c.branch_a.path
    assert OrgChange.objects.filter(org=c.general, kind="move").count() == 1


def test_an_org_cannot_move_under_its_own_subtree(company):
    with pytest.raises(DomainError, match="自己或它的下级"):
        services.move_org(company.staff, company.general, company.branch_a)


def test_merging_moves_members_and_archives_the_source(company):
    c = company
    target = services.merge_org(c.staff, c.branch_b, c.branch_a, effective_on=D(2026, 5, 1), reason="合并")
    c.branch_b.refresh_from_db()
    c.member_b.refresh_from_db()
    assert target == c.branch_a
    assert c.branch_b.archived and c.branch_b.merged_into_id == c.branch_a.pk
    assert c.member_b.org_id == c.branch_a.pk
    assert services.member_org_at(c.member_b, D(2026, 4, 30)) == c.branch_b.pk
    assert services.member_org_at(c.member_b, D(2026, 5, 2)) == c.branch_a.pk


def test_archiving_refuses_an_org_with_members(company):
    with pytest.raises(DomainError, match="在册党员"):
        services.archive_org(company.staff, company.branch_a)


def test_archived_org_disappears_from_active_lists_but_can_be_restored(company):
    c = company
    empty = make_org("待撤销党支部", parent=c.general)
    services.archive_org(c.staff, empty, reason="撤并")
    assert not Organization.objects.active().filter(pk=empty.pk).exists()
    services.restore_org(c.staff, empty)
    assert Organization.objects.active().filter(pk=empty.pk).exists()


def test_member_facts_are_cross_checked(company):
    born = D(1990, 1, 1)
    base = dict(name="钱多", gender="M", birth_date=born, id_number=valid_id(born), phone="13900000000",
                joined_on=D(2015, 1, 1), confirmed_on=D(2016, 1, 1), status="full")
    with pytest.raises(DomainError, match="出生日期与身份证号"):
        services.create_member(company.staff, company.branch_a, **(base | {"birth_date": D(1990, 1, 2)}))
    with pytest.raises(DomainError, match="年满18周岁"):
        services.create_member(company.staff, company.branch_a, **(base | {"joined_on": D(2007, 1, 1),
                                                                           "confirmed_on": D(2008, 1, 1)}))
    with pytest.raises(DomainError, match="转正日期应晚于"):
        services.create_member(company.staff, company.branch_a, **(base | {"confirmed_on": D(2014, 1, 1)}))
    with pytest.raises(DomainError, match="预备党员不应有转正日期"):
        services.create_member(company.staff, company.branch_a, **(base | {"status": "probationary"}))
    m = services.create_member(company.staff, company.branch_a, **base)
    assert m.name_pinyin == "qianduo" and m.name_initials == "qd"
    with pytest.raises(DomainError, match="已登记"):
        services.create_member(company.staff, company.branch_a, **(base | {"name": "钱少"}))


def test_transfer_keeps_history_and_needs_both_scopes(company):
    c = company
    with pytest.raises(AccessDenied):
        services.transfer_member(c.secretary_a, c.member_a, c.branch_b)
    services.transfer_member(c.staff, c.member_a, c.branch_b, effective_on=D(2026, 6, 1), reason="工作调动")
    c.member_a.refresh_from_db()
    assert c.member_a.org_id == c.branch_b.pk
    assert c.member_a.transfers.get().from_org_id == c.branch_a.pk
    # Both the old and the new organization see the transfer in their audit trail.
    events = AuditEvent.objects.filter(action="member.transferred", object_id=str(c.member_a.pk))
    assert {e.org_path for e in events} == {c.branch_a.path, c.branch_b.path}


def test_a_member_saves_their_own_pledge(company):
    c = company
    services.save_pledge(c.member_user_a, c.member_a, 2026, "确保所辖设备零缺陷运行。")
    services.save_pledge(c.member_user_a, c.member_a, 2026, "确保所辖设备全年零非计划停运。")
    assert c.member_a.pledges.get(year=2026).text == "确保所辖设备全年零非计划停运。"
    with pytest.raises(AccessDenied):
        services.save_pledge(c.member_user_a, c.member_b, 2026, "x")


def test_the_audit_event_rolls_back_with_the_change(company):
    count = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.update_org(company.staff, company.branch_a, name="改名党支部")
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == count
    company.branch_a.refresh_from_db()
    assert company.branch_a.name == "变电运维党支部"


def test_the_database_refuses_to_change_or_delete_audit_events(company):
    services.update_org(company.staff, company.branch_a, name="改名党支部")
    event = AuditEvent.objects.latest("id")
    assert event.data["before"] == {"name": "变电运维党支部"} and event.data["after"] == {"name": "改名党支部"}
    for sql in ("UPDATE core_auditevent SET action = 'x' WHERE id = %s", "DELETE FROM core_auditevent WHERE id = %s"):
        with pytest.raises(Exception) as exc, transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql, [event.pk])
        assert "append-only" in str(exc.value)
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_scope_follows_the_subtree(company):
    c = company
    assert allowed_paths(c.staff, "org.view") == [c.committee.path]
    visible = set(scope(c.secretary_a, "member.view", Member.objects.all()).values_list("name", flat=True))
    assert visible == {"张三", "李建国"}
    assert list(scope(c.member_user_a, "member.view", Member.objects.all())) == [c.member_a]
    assert not scope(c.outsider, "org.view", Organization.objects.all()).exists()


def test_only_one_current_secretary(company):
    c = company
    services.assign_seat(c.staff, c.branch_a, c.secretary_member_a, "secretary", D(2024, 1, 1))
    services.assign_seat(c.staff, c.branch_a, c.member_a, "secretary", D(2026, 1, 1))
    seats = c.branch_a.seats.filter(duty="secretary").order_by("since")
    assert [s.until for s in seats] == [D(2026, 1, 1), None]
    with pytest.raises(IntegrityError), transaction.atomic():
        c.branch_a.seats.create(member=c.secretary_member_a, duty="secretary", since=D(2026, 2, 1))


def test_search_by_name_pinyin_and_initials(company):
    for q in ("张三", "zhangsan", "zs", "zhang", "ZS"):
        assert list(Member.objects.search(q).values_list("name", flat=True)) == ["张三"], q
    make_member(company.branch_a, "张珊")
    assert set(Member.objects.search("zs").values_list("name", flat=True)) == {"张三", "张珊"}


def test_staff_of_the_top_committee_add_an_org_type(client, company):
    from dangjian.orgs.models import OrgType

    client.force_login(company.staff)
    resp = client.post("/orgs/types/new/", {"code": "mixed", "name": "联合类", "order": 4, "active": "on"})
    assert resp.status_code == 302
    assert OrgType.objects.get(code="mixed").name == "联合类"
    resp = client.post("/orgs/types/new/", {"code": "bad code!", "name": "坏", "order": 5})
    assert "编码只能包含" in resp.content.decode()
    # A secretary may read the types but not change them.
    client.force_login(company.secretary_a)
    assert client.get("/orgs/types/").status_code == 200
    assert client.post("/orgs/types/new/", {"code": "x2", "name": "x2", "order": 1}).status_code == 404
