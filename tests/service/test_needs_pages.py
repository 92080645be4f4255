"""Pages of the needs part: the list (masked contact, filters, pages, Excel export, query count that does not grow),
entry, the detail (full contact only on request of a manager, audited; history), triage from the pages, the areas,
and the public form's channel pages (QR code, link, poster, renew); outsiders get 404."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from dangjian.core.models import AuditEvent
from dangjian.service import needs as services
from dangjian.service.models import Need, NeedChannel, NeedState, ServiceArea, Ticket


@pytest.fixture
def ledger(company):
    c = company
    c.area_a = services.create_area(c.staff, c.branch_a, name="城关网格", grid_manager="李卫东")
    c.need_a = services.create_need(c.staff, c.branch_a, area=c.area_a, source="95598", category="complaint",
                                    title="小区频繁停电", text="最近一周晚上停电三次。", requester="王芳",
                                    contact="13912345678", received_on=datetime.date(2026, 10, 8))
    c.need_b = services.create_need(c.staff, c.branch_b, source="12345", kind="government", title="园区用电保障",
                                    text="两家企业下月投产，需保障双电源。", received_on=datetime.date(2026, 9, 3))
    return c


def many(c, n, org=None):
    Need.objects.bulk_create([
        Need(org=org or c.branch_a, area=c.area_a, number=f"~many{Need.objects.count()}-{i}", title=f"诉求{i}",
             text="内容", requester="李四", contact="13800000000", received_on=timezone.localdate())
        for i in range(n)])


# ---- list -----------------------------------------------------------------------------------------------------


def test_the_list_masks_requester_and_contact(client, ledger):
    client.force_login(ledger.staff)
    html = client.get(reverse("service:need_list")).content.decode()
    assert "小区频繁停电" in html and "园区用电保障" in html
    assert "139****5678" in html and "王*" in html
    assert "13912345678" not in html and "王芳" not in html


def test_a_secretary_sees_only_the_branchs_needs(client, ledger):
    client.force_login(ledger.secretary_b)
    html = client.get(reverse("service:need_list")).content.decode()
    assert "园区用电保障" in html and "小区频繁停电" not in html


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("kind=government", "园区用电保障", "小区频繁停电"),
    ("category=complaint", "小区频繁停电", "园区用电保障"),
    ("source=12345", "园区用电保障", "小区频繁停电"),
    ("month=2026-10", "小区频繁停电", "园区用电保障"),
    ("q=双电源", "园区用电保障", "小区频繁停电"),
    ("state=received", "园区用电保障", "NOTHING-HIDDEN"),
    ("urgency=normal", "园区用电保障", "NOTHING-HIDDEN"),
])
def test_the_list_filters(client, ledger, query, shown, hidden):
    client.force_login(ledger.staff)
    html = client.get(reverse("service:need_list") + "?" + query).content.decode()
    assert shown in html and hidden not in html


def test_the_list_filters_by_org_subtree_and_area(client, ledger):
    c = ledger
    client.force_login(c.staff)
    html = client.get(reverse("service:need_list") + f"?org={c.general.pk}").content.decode()
    assert "小区频繁停电" in html and "园区用电保障" in html
    html = client.get(reverse("service:need_list") + f"?org={c.branch_b.pk}").content.decode()
    assert "小区频繁停电" not in html
    html = client.get(reverse("service:need_list") + f"?area={c.area_a.pk}").content.decode()
    assert "小区频繁停电" in html and "园区用电保障" not in html
    client.force_login(c.secretary_b)
    assert client.get(reverse("service:need_list") + f"?org={c.branch_a.pk}").status_code == 404


def test_a_bad_month_is_told_not_crashed(client, ledger):
    client.force_login(ledger.staff)
    resp = client.get(reverse("service:need_list") + "?month=abc")
    assert resp.status_code == 200 and "月份格式应为" in resp.content.decode()


def test_the_export_masks_and_is_audited(client, ledger):
    client.force_login(ledger.staff)
    resp = client.get(reverse("service:need_list") + "?format=xlsx")
    assert resp.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(resp.content)).get_sheet_by_index(0).to_python()
    flat = str(rows)
    assert len(rows) == 3 and "139****5678" in flat and "王*" in flat
    assert "13912345678" not in flat and "王芳" not in flat
    assert AuditEvent.objects.filter(action="export", data__what="需求台账").exists()


def test_the_list_query_count_does_not_grow(client, ledger, django_assert_max_num_queries):
    c = ledger
    services.accept_need(c.staff, c.need_a)
    client.force_login(c.staff)
    url = reverse("service:need_list")
    client.get(url)
    many(c, 3)
    with django_assert_max_num_queries(16) as small:
        client.get(url)
    many(c, 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        resp = client.get(url)
    assert resp.status_code == 200


def test_the_list_paginates(client, ledger):
    many(ledger, 25)
    client.force_login(ledger.staff)
    html = client.get(reverse("service:need_list")).content.decode()
    assert html.count('data-testid="need-row"') == 20 and "下一页" in html


# ---- entry and detail -----------------------------------------------------------------------------------------


def test_staff_enter_a_need_from_the_page(client, ledger):
    c = ledger
    client.force_login(c.secretary_a)
    resp = client.post(reverse("service:need_create"), {
        "org": c.branch_a.pk, "kind": "people", "category": "need", "source": "visit", "urgency": "normal",
        "area": c.area_a.pk, "title": "", "text": "村口路灯线路老化，晚上不亮。", "requester": "赵大爷",
        "contact": "0571-87654321", "address": "东风村3组", "received_on": "2026-11-02"})
    need = Need.objects.get(requester="赵大爷")
    assert resp.status_code == 302 and resp.url == reverse("service:need_detail", args=[need.pk])
    assert need.title == "村口路灯线路老化，晚上不亮" and need.channel == "staff"


def test_a_bad_entry_shows_the_sentence_beside_the_field(client, ledger):
    c = ledger
    client.force_login(c.staff)
    area_b = services.create_area(c.staff, c.branch_b, name="西城网格")
    resp = client.post(reverse("service:need_create"), {
        "org": c.branch_a.pk, "kind": "people", "category": "need", "source": "visit", "urgency": "normal",
        "area": area_b.pk, "text": "村口路灯线路老化。", "contact": "abc", "received_on": "2026-11-02"})
    html = resp.content.decode()
    assert resp.status_code == 200 and "联系方式请填写手机号" in html
    assert Need.objects.count() == 2


def test_a_secretary_cannot_enter_for_another_branch(client, ledger):
    c = ledger
    client.force_login(c.secretary_b)
    resp = client.post(reverse("service:need_create"), {
        "org": c.branch_a.pk, "kind": "people", "category": "need", "source": "visit", "urgency": "normal",
        "text": "村口路灯线路老化。", "received_on": "2026-11-02"})
    assert resp.status_code == 200 and "选择一个有效的选项" in resp.content.decode()
    assert Need.objects.count() == 2


def test_the_detail_shows_the_full_contact_only_on_request_and_audits_it(client, ledger):
    c = ledger
    client.force_login(c.secretary_a)
    url = reverse("service:need_detail", args=[c.need_a.pk])
    html = client.get(url).content.decode()
    assert "139****5678" in html and "13912345678" not in html and 'data-testid="reveal"' in html
    assert not AuditEvent.objects.filter(action="need.contact_viewed").exists()
    html = client.get(url + "?reveal=1").content.decode()
    assert "13912345678" in html and "王芳" in html
    event = AuditEvent.objects.get(action="need.contact_viewed")
    assert event.user == c.secretary_a and event.object_id == str(c.need_a.pk)


def test_the_detail_is_404_to_another_branch_and_outsiders(client, ledger):
    c = ledger
    for user in (c.secretary_b, c.outsider, c.member_user_a, c.assessor):
        client.force_login(user)
        assert client.get(reverse("service:need_detail", args=[c.need_a.pk]) + "?reveal=1").status_code == 404
    assert not AuditEvent.objects.filter(action="need.contact_viewed").exists()


def test_accepting_from_the_page_links_the_ticket_and_shows_the_history(client, ledger):
    c = ledger
    client.force_login(c.secretary_a)
    due = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    resp = client.post(reverse("service:need_accept", args=[c.need_a.pk]), {"title": "查明停电原因",
                                                                            "description": "", "due_date": due})
    assert resp.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.need == c.need_a and ticket.title == "查明停电原因" and str(ticket.due_date) == due
    html = client.get(reverse("service:need_detail", args=[c.need_a.pk])).content.decode()
    assert ticket.number in html and 'data-testid="need-ticket"' in html and 'data-testid="triage"' not in html
    assert "受理需求" in html and "登记需求" in html  # the history
    # Once more: refused, nothing new.
    resp = client.post(reverse("service:need_accept", args=[c.need_a.pk]), {})
    assert resp.status_code == 400 and "只有待受理的需求" in resp.content.decode(), resp.content.decode()[-3000:]
    assert Ticket.objects.count() == 1


def test_declining_from_the_page_requires_a_reason(client, ledger):
    c = ledger
    client.force_login(c.staff)
    url = reverse("service:need_decline", args=[c.need_a.pk])
    resp = client.post(url, {"reason": ""})
    assert resp.status_code == 400
    assert Need.objects.get(pk=c.need_a.pk).state == NeedState.RECEIVED
    assert client.post(url, {"reason": "属物业自管资产，已告知联系物业。"}).status_code == 302
    html = client.get(reverse("service:need_detail", args=[c.need_a.pk])).content.decode()
    assert "属物业自管资产" in html and 'data-testid="decline-reason"' in html


def test_another_branch_cannot_triage_from_the_pages(client, ledger):
    c = ledger
    client.force_login(c.secretary_b)
    assert client.post(reverse("service:need_accept", args=[c.need_a.pk]), {}).status_code == 404
    assert client.post(reverse("service:need_decline", args=[c.need_a.pk]), {"reason": "不管"}).status_code == 404
    assert Need.objects.get(pk=c.need_a.pk).state == NeedState.RECEIVED and not Ticket.objects.exists()


# ---- areas ----------------------------------------------------------------------------------------------------


def test_areas_are_listed_created_edited_and_disabled_from_the_pages(client, ledger):
    c = ledger
    client.force_login(c.secretary_a)
    resp = client.post(reverse("service:area_create"), {"org": c.branch_a.pk, "name": "东城网格",
                                                        "grid_manager": "王建华", "note": "8个台区"})
    assert resp.status_code == 302
    area = ServiceArea.objects.get(name="东城网格")
    resp = client.post(reverse("service:area_create"), {"org": c.branch_a.pk, "name": "东城网格"})
    assert "已有名为“东城网格”" in resp.content.decode()
    client.post(reverse("service:area_edit", args=[area.pk]), {"name": "东城一网格", "grid_manager": "", "note": ""})
    area.refresh_from_db()
    assert area.name == "东城一网格"
    client.post(reverse("service:area_toggle", args=[area.pk]))
    area.refresh_from_db()
    assert area.archived
    html = client.get(reverse("service:area_list")).content.decode()
    assert "东城一网格" in html and "已停用" in html
    html = client.get(reverse("service:area_list") + "?status=active").content.decode()
    assert "东城一网格" not in html and "城关网格" in html
    client.force_login(c.secretary_b)
    assert client.post(reverse("service:area_toggle", args=[area.pk])).status_code == 404
    assert client.get(reverse("service:area_edit", args=[area.pk])).status_code == 404


def test_the_area_export(client, ledger):
    client.force_login(ledger.staff)
    resp = client.get(reverse("service:area_list") + "?format=xlsx")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(resp.content)).get_sheet_by_index(0).to_python()
    assert rows[1][:3] == [ledger.branch_a.name, "城关网格", "李卫东"]


# ---- channels -------------------------------------------------------------------------------------------------


def test_a_manager_opens_a_channel_sees_the_qr_code_prints_the_poster_and_renews(client, ledger):
    c = ledger
    client.force_login(c.secretary_a)
    resp = client.post(reverse("service:need_channel_enable"), {"place": f"a{c.area_a.pk}"})
    channel = NeedChannel.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("service:need_channel_detail", args=[channel.pk])
    assert channel.area == c.area_a and channel.org == c.branch_a
    html = client.get(resp.url).content.decode()
    public = reverse("service:public_need", args=[channel.key])
    assert public in html and "<svg" in html and 'data-testid="channel-qr"' in html
    for size in ("", "?size=a5"):
        poster = client.get(reverse("service:need_channel_poster", args=[channel.pk]) + size).content.decode()
        assert public in poster and "<svg" in poster and "95598" in poster and "城关网格" in poster
        assert ("need-poster a5" in poster) == bool(size)
    client.post(reverse("service:need_channel_action", args=[channel.pk]), {"action": "renew"})
    channel.refresh_from_db()
    assert reverse("service:public_need", args=[channel.key]) != public
    assert client.get(public).status_code == 404
    client.post(reverse("service:need_channel_action", args=[channel.pk]), {"action": "disable"})
    assert client.get(reverse("service:need_channel_poster", args=[channel.pk])).status_code == 404
    html = client.get(reverse("service:need_channel_list")).content.decode()
    assert "已关闭" in html


def test_another_branch_cannot_open_or_touch_the_channel(client, ledger):
    c = ledger
    client.force_login(c.secretary_b)
    assert client.post(reverse("service:need_channel_enable"), {"place": f"o{c.branch_a.pk}"}).status_code == 404
    assert client.post(reverse("service:need_channel_enable"), {"place": f"a{c.area_a.pk}"}).status_code == 404
    channel = services.enable_channel(c.staff, c.branch_a)
    key = channel.key
    assert client.post(reverse("service:need_channel_action", args=[channel.pk]),
                       {"action": "renew"}).status_code == 404
    assert NeedChannel.objects.get().key == key


def test_the_channel_list_query_count_does_not_grow(client, ledger, django_assert_max_num_queries):
    c = ledger
    client.force_login(c.staff)
    services.enable_channel(c.staff, c.branch_a)
    url = reverse("service:need_channel_list")
    client.get(url)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    for org in (c.branch_b, c.branch_c, c.general):
        services.enable_channel(c.staff, org)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
