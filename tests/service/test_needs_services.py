"""Needs services: checks with Chinese sentences that change nothing, numbering, areas, triage states (accept
opens the ticket, decline needs a reason, both only from 待受理), masking, and who may do what."""

import datetime

import pytest
from django.utils import timezone

from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from dangjian.service import needs as services
from dangjian.service.models import (
    Need,
    NeedChannel,
    NeedState,
    ServiceArea,
    Ticket,
    TicketTransition,
    TState,
)


def make(c, **kw):
    user, org = kw.pop("user", c.staff), kw.pop("org", c.branch_a)
    data = {"source": "95598", "title": "表箱锈蚀", "text": "幸福里小区3号楼表箱锈蚀，门关不上。", "requester": "王芳",
            "contact": "13912345678"}
    data.update(kw)
    return services.create_need(user, org, **data)


# ---- masking --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "masked"), [("张三丰", "张**"), ("张三", "张*"), ("王", "王*"), ("", ""),
                                              ("Li Lei", "L*****")])
def test_names_are_masked_to_the_first_character(name, masked):
    assert services.mask_name(name) == masked


def test_contacts_are_masked_the_core_way():
    assert services.mask_contact("13912345678") == "139****5678"
    assert services.mask_contact("zhang@example.com") == "z***@example.com"


# ---- creating needs -------------------------------------------------------------------------------------------


def test_a_need_gets_its_number_and_an_audit_event_without_the_contact(company):
    need = make(company, received_on=datetime.date(2025, 12, 30))
    assert need.number == f"XQ2025-{need.pk:06d}"
    need.refresh_from_db()
    assert need.number == f"XQ2025-{need.pk:06d}" and need.state == NeedState.RECEIVED
    assert need.channel == "staff" and need.created_by == company.staff
    event = AuditEvent.objects.get(action="need.created")
    assert event.org_path == company.branch_a.path and event.data["number"] == need.number
    assert "13912345678" not in str(event.data) and "王芳" not in str(event.data)
    assert event.data["with_contact"] is True


def test_numbers_are_unique_and_follow_the_ids(company):
    a, b = make(company), make(company, title="第二条")
    assert a.number != b.number and int(b.number[-6:]) == b.pk


def test_the_title_comes_from_the_first_sentence_when_left_empty(company):
    need = make(company, title="", text="村口路灯不亮。孩子晚上放学路上很黑。")
    assert need.title == "村口路灯不亮"


@pytest.mark.parametrize(("field", "value", "sentence"), [
    ("text", "", "请至少填写2个字"),
    ("text", "很" * 2001, "内容不能超过2000个字"),
    ("text", "有\x00字", "无效字符"),
    ("title", "很" * 61, "标题不能超过60个字"),
    ("requester", "张\x01三", "无效字符"),
    ("contact", "12345", "联系方式请填写手机号"),
    ("category", "spam", "请选择有效的类别"),
    ("kind", "x", "请选择有效的类型"),
    ("source", "110", "请选择有效的来源"),
    ("urgency", "now", "请选择有效的紧急程度"),
    ("received_on", "2026-13-01", "受理日期格式"),
    ("received_on", "2999-01-01", "不能晚于今天"),
    ("address", "路" * 121, "地址不能超过120个字"),
])
def test_bad_input_is_refused_in_chinese_and_changes_nothing(company, field, value, sentence):
    with pytest.raises(DomainError, match=sentence) as exc:
        make(company, **{field: value})
    assert exc.value.field == field
    assert not Need.objects.exists() and not AuditEvent.objects.filter(action="need.created").exists()


def test_an_area_of_another_organization_or_disabled_is_refused(company):
    c = company
    area_b = services.create_area(c.staff, c.branch_b, name="东城网格")
    with pytest.raises(DomainError, match="不属于该单位"):
        make(c, area=area_b)
    area_a = services.create_area(c.staff, c.branch_a, name="城关网格")
    area_a = services.set_area_archived(c.staff, area_a, True)
    with pytest.raises(DomainError, match="已停用"):
        make(c, area=area_a)
    assert not Need.objects.exists()


def test_only_managers_of_the_organization_enter_needs(company):
    c = company
    for user in (c.secretary_b, c.member_user_a, c.assessor, c.outsider):
        with pytest.raises(AccessDenied):
            make(c, user=user)
    assert make(c, user=c.secretary_a).org == c.branch_a
    assert Need.objects.count() == 1


def test_an_archived_organization_takes_no_need(company):
    type(company.branch_a).objects.filter(pk=company.branch_a.pk).update(archived=True)
    company.branch_a.refresh_from_db()
    with pytest.raises(DomainError, match="已撤销"):
        make(company)


# ---- areas ----------------------------------------------------------------------------------------------------


def test_areas_are_unique_per_organization_and_audited(company):
    c = company
    area = services.create_area(c.secretary_a, c.branch_a, name="城关网格", grid_manager="李卫东", note="12个台区")
    services.create_area(c.staff, c.branch_b, name="城关网格")  # another organization may reuse the name
    with pytest.raises(DomainError, match="已有名为“城关网格”"):
        services.create_area(c.staff, c.branch_a, name="城关网格")
    with pytest.raises(DomainError, match="请填写区域名称"):
        services.create_area(c.staff, c.branch_a, name="  ")
    with pytest.raises(AccessDenied):
        services.create_area(c.secretary_b, c.branch_a, name="东城网格")
    assert ServiceArea.objects.count() == 2
    services.update_area(c.staff, area, name="城关一网格", grid_manager="王建华")
    area.refresh_from_db()
    assert (area.name, area.grid_manager, area.note) == ("城关一网格", "王建华", "")
    assert AuditEvent.objects.filter(action="service_area.updated").get().data["before"]["name"] == "城关网格"


def test_disabling_an_area_closes_its_public_form(company):
    c = company
    area = services.create_area(c.staff, c.branch_a, name="城关网格")
    channel = services.enable_channel(c.staff, c.branch_a, area)
    services.set_area_archived(c.staff, area, True)
    channel.refresh_from_db()
    assert not channel.enabled
    with pytest.raises(DomainError, match="已经停用"):
        services.set_area_archived(c.staff, area, True)
    services.set_area_archived(c.staff, area, False)
    assert not ServiceArea.objects.get(pk=area.pk).archived


# ---- triage ---------------------------------------------------------------------------------------------------


def test_accepting_opens_the_ticket_in_plan_and_marks_the_need_accepted(company):
    c = company
    area = services.create_area(c.staff, c.branch_a, name="城关网格")
    need = make(c, area=area, urgency="urgent")
    ticket = services.accept_need(c.secretary_a, need)
    need.refresh_from_db()
    assert need.state == NeedState.ACCEPTED and need.ticket == ticket
    assert (ticket.state, ticket.origin, ticket.org, ticket.area) == (TState.PLAN, "need", c.branch_a, area)
    assert ticket.title == need.title and ticket.description == need.text
    assert ticket.due_date == timezone.localdate() + datetime.timedelta(days=5)
    assert ticket.number.startswith("GD")
    assert TicketTransition.objects.filter(ticket=ticket).count() == 1
    event = AuditEvent.objects.get(action="need.accepted")
    assert event.data["ticket"] == ticket.number and event.user == c.secretary_a


def test_accepting_takes_the_given_title_description_and_due_date(company):
    c = company
    need = make(c)
    due = timezone.localdate() + datetime.timedelta(days=30)
    ticket = services.accept_need(c.staff, need, title="更换表箱", description="更换3号楼表箱", due_date=due)
    assert (ticket.title, ticket.description, ticket.due_date) == ("更换表箱", "更换3号楼表箱", due)


def test_a_due_date_in_the_past_is_refused_and_nothing_changes(company):
    c = company
    need = make(c)
    with pytest.raises(DomainError, match="不能早于今天"):
        services.accept_need(c.staff, need, due_date=timezone.localdate() - datetime.timedelta(days=1))
    need.refresh_from_db()
    assert need.state == NeedState.RECEIVED and not Ticket.objects.exists()


def test_declining_needs_a_reason(company):
    c = company
    need = make(c)
    for reason in ("", " 短 ", "理" * 301, "有\x00"):
        with pytest.raises(DomainError):
            services.decline_need(c.staff, need, reason)
    need.refresh_from_db()
    assert need.state == NeedState.RECEIVED and need.decline_reason == ""
    services.decline_need(c.staff, need, "属物业自管资产，已告知联系物业。")
    need.refresh_from_db()
    assert need.state == NeedState.DECLINED and need.decline_reason.startswith("属物业")
    assert AuditEvent.objects.filter(action="need.declined").exists()


@pytest.mark.parametrize("first", ["accept", "decline"])
def test_triage_happens_only_once_from_received(company, first):
    c = company
    need = make(c)
    if first == "accept":
        services.accept_need(c.staff, need)
    else:
        services.decline_need(c.staff, need, "重复诉求，已并入前一工单。")
    with pytest.raises(DomainError, match="只有待受理的需求"):
        services.accept_need(c.staff, need)
    with pytest.raises(DomainError, match="只有待受理的需求"):
        services.decline_need(c.staff, need, "重复诉求，已并入前一工单。")
    assert Ticket.objects.count() == (1 if first == "accept" else 0)


def test_another_branch_cannot_triage(company):
    c = company
    need = make(c)
    with pytest.raises(AccessDenied):
        services.accept_need(c.secretary_b, need)
    with pytest.raises(AccessDenied):
        services.decline_need(c.secretary_b, need, "不归我们管。")
    need.refresh_from_db()
    assert need.state == NeedState.RECEIVED and not Ticket.objects.exists()


# ---- channels -------------------------------------------------------------------------------------------------


def test_a_channel_is_enabled_disabled_reopened_with_the_same_key_and_renewed_with_a_new_one(company):
    c = company
    channel = services.enable_channel(c.secretary_a, c.branch_a)
    key = channel.key
    assert len(key) == 32 and channel.enabled
    with pytest.raises(DomainError, match="已经开放"):
        services.enable_channel(c.staff, c.branch_a)
    services.disable_channel(c.staff, channel)
    with pytest.raises(DomainError, match="没有开放"):
        services.disable_channel(c.staff, channel)
    assert services.reopen_channel(c.staff, channel).key == key
    renewed = services.renew_channel(c.staff, channel)
    assert renewed.key != key and NeedChannel.objects.count() == 1
    actions = list(AuditEvent.objects.filter(action__startswith="need_channel.").order_by("id").values_list("action", flat=True))
    assert actions == ["need_channel.enabled", "need_channel.disabled", "need_channel.enabled",
                       "need_channel.renewed"]
    with pytest.raises(AccessDenied):
        services.renew_channel(c.secretary_b, channel)


def test_an_area_channel_is_separate_from_the_organizations(company):
    c = company
    area = services.create_area(c.staff, c.branch_a, name="城关网格")
    org_channel = services.enable_channel(c.staff, c.branch_a)
    area_channel = services.enable_channel(c.staff, c.branch_a, area)
    assert org_channel.pk != area_channel.pk and area_channel.area == area
    area_b = services.create_area(c.staff, c.branch_b, name="东城网格")
    with pytest.raises(DomainError, match="不属于该单位"):
        services.enable_channel(c.staff, c.branch_a, area_b)


def test_the_database_keeps_one_public_form_per_organization(company):
    from django.db import IntegrityError, transaction

    from dangjian.service.models import NeedChannel

    NeedChannel.objects.create(org=company.branch_a, key="first-key-of-branch-a")
    with pytest.raises(IntegrityError), transaction.atomic():
        NeedChannel.objects.create(org=company.branch_a, key="second-key-of-branch-a")
    assert NeedChannel.objects.filter(org=company.branch_a).count() == 1
