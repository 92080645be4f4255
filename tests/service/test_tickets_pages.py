"""The ticket pages: the list (filters, overdue rows and count, my organization's overdue, export), the whole PDCA
run in the browser's forms, only the allowed buttons shown, refusals that change nothing, evidence by content
and access, and query counts that do not grow with the data."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.service.models import Ticket, TicketAction, TicketEvidence, TState
from tests.service.tickets_helpers import need_ticket, pdf, png, staff_ticket, to_state

TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _overdue(c, org=None, title="台区低电压治理"):
    t = to_state(c.staff, staff_ticket(c, org, title=title), TState.DO)
    Ticket.objects.filter(pk=t.pk).update(due_date=TODAY - datetime.timedelta(days=2))
    t.refresh_from_db()
    return t


# ---- list --------------------------------------------------------------------------------------------------------


def test_list_marks_overdue_rows_and_counts_them(client, company):
    late = _overdue(company)
    fine = staff_ticket(company, title="表计箱锈蚀")
    client.force_login(company.secretary_a)
    html = client.get(reverse("service:ticket_list")).content.decode()
    assert late.number in html and fine.number in html
    assert 'data-testid="overdue-count"' in html and "逾期 1 张" in html
    assert html.count('data-overdue="1"') == 1 and html.count('data-testid="overdue-badge"') == 1
    only = client.get(reverse("service:ticket_list"), {"overdue": "1"}).content.decode()
    assert late.number in only and fine.number not in only


def test_list_filters_and_scope(client, company):
    a = staff_ticket(company, title="台区低电压治理")
    b = staff_ticket(company, company.branch_b, title="输电通道隐患")
    c = need_ticket(company, company.branch_c)
    client.force_login(company.staff)
    url = reverse("service:ticket_list")

    def numbers(**params):
        html = client.get(url, params).content.decode()
        return {t.number for t in (a, b, c) if t.number in html}

    assert numbers() == {a.number, b.number, c.number}
    assert numbers(org=company.general.pk) == {a.number, b.number}
    assert numbers(origin="need") == {c.number}
    assert numbers(q="通道") == {b.number}
    assert numbers(state="do") == set()
    assert numbers(month="1999-01") == set()
    client.force_login(company.secretary_b)
    assert numbers() == {b.number}
    assert numbers(org=company.branch_a.pk) == set()


def test_my_orgs_overdue_quick_filter(client, company):
    mine = _overdue(company)
    other = _overdue(company, company.branch_b, title="输电通道隐患")
    client.force_login(company.admin)
    # the admin sees both in the list, but neither is "my organization's" (granted on the committee)
    html = client.get(reverse("service:ticket_list"), {"mine": "1"}).content.decode()
    assert mine.number not in html and other.number not in html
    client.force_login(company.secretary_a)
    html = client.get(reverse("service:ticket_list"), {"mine": "1"}).content.decode()
    assert mine.number in html and 'data-testid="mine-note"' in html


def test_export_is_scoped_and_audited(client, company):
    late = _overdue(company)
    staff_ticket(company, company.branch_b, title="输电通道隐患")
    client.force_login(company.secretary_a)
    resp = client.get(reverse("service:ticket_list"), {"format": "xlsx"})
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.values)
    assert rows[0][0] == "编号" and len(rows) == 2
    assert rows[1][0] == late.number and rows[1][7] == "是"
    from dangjian.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="export", username="secretary_a").exists()


def test_list_queries_do_not_grow(client, company, django_assert_max_num_queries):
    client.force_login(company.staff)
    for i in range(3):
        _overdue(company, title=f"工单{i}")
    with django_assert_max_num_queries(14) as small:
        client.get(reverse("service:ticket_list"))
    for i in range(15):
        need_ticket(company, company.branch_b if i % 2 else company.branch_a)
    with django_assert_max_num_queries(len(small.captured_queries)):
        resp = client.get(reverse("service:ticket_list"))
    assert resp.status_code == 200


# ---- the PDCA in the browser -------------------------------------------------------------------------------------


def _post(client, name, t, data, **extra):
    return client.post(reverse(name, args=[t.pk]), data, **extra)


def test_the_whole_pdca_through_the_pages(client, company):
    t = need_ticket(company)
    client.force_login(company.secretary_a)
    due = (TODAY + datetime.timedelta(days=5)).isoformat()
    r = _post(client, "service:ticket_plan", t, {"version": 1, "analysis": "路灯线路老化", "measures": "更换线路和灯具",
                                                   "due_date": due, "owner": company.secretary_a.pk})
    assert r.status_code == 302
    r = _post(client, "service:ticket_move", t, {"to_state": "do", "version": 2})
    assert r.status_code == 302
    r = _post(client, "service:ticket_action_add", t, {"date": TODAY.isoformat(), "text": "已更换 6 盏路灯。",
                                                         "files": [pdf(), png()]})
    assert r.status_code == 302
    _post(client, "service:ticket_move", t, {"to_state": "check", "version": 3})
    _post(client, "service:ticket_check", t, {"version": 4, "verification": "夜间巡查全部点亮",
                                               "satisfaction": "satisfied", "callback_on": TODAY.isoformat()})
    _post(client, "service:ticket_move", t, {"to_state": "act", "version": 5})
    _post(client, "service:ticket_act", t, {"version": 6, "standardization": "纳入月度巡视", "recurrence": "on"})
    r = _post(client, "service:ticket_move", t, {"to_state": "closed", "version": 7})
    t.refresh_from_db()
    assert t.state == TState.CLOSED and t.owner == company.secretary_a and t.recurrence
    assert t.evidence.count() == 2
    html = client.get(reverse("service:ticket_detail", args=[t.pk])).content.decode()
    assert html.count('data-testid="history-row"') == 5 and "已更换 6 盏路灯。" in html
    assert 'data-testid="move-' not in html  # closed: the secretary may not reopen


def test_only_allowed_buttons_are_shown(client, company):
    t = to_state(company.staff, staff_ticket(company), TState.CHECK)
    url = reverse("service:ticket_detail", args=[t.pk])
    client.force_login(company.secretary_a)
    html = client.get(url).content.decode()
    assert 'data-testid="move-act"' in html and 'data-testid="move-do"' in html
    assert 'data-testid="move-cancelled"' not in html and 'data-testid="reassign-form"' not in html
    assert 'data-testid="check-form"' in html and 'data-testid="plan-form"' not in html
    client.force_login(company.staff)
    html = client.get(url).content.decode()
    assert 'data-testid="move-cancelled"' in html and 'data-testid="reassign-form"' in html


def test_the_server_refuses_what_the_page_does_not_offer(client, company):
    t = to_state(company.staff, staff_ticket(company), TState.DO)
    client.force_login(company.secretary_a)
    r = _post(client, "service:ticket_move", t, {"to_state": "cancelled", "version": t.version, "reason": "x"})
    assert r.status_code == 404
    r = _post(client, "service:ticket_move", t, {"to_state": "closed", "version": t.version}, follow=True)
    assert "不能转为" in r.content.decode()
    r = _post(client, "service:ticket_move", t, {"to_state": "check", "version": t.version}, follow=True)
    assert "请至少登记一条措施落实情况" in r.content.decode()
    r = _post(client, "service:ticket_move", t, {"to_state": "check", "version": t.version - 1}, follow=True)
    assert "已被他人修改" in r.content.decode()
    r = _post(client, "service:ticket_reassign", t, {"version": t.version, "org": company.branch_b.pk})
    assert r.status_code == 404
    client.force_login(company.secretary_b)
    assert _post(client, "service:ticket_move", t, {"to_state": "check", "version": t.version}).status_code == 404
    t.refresh_from_db()
    assert t.state == TState.DO and t.org == company.branch_a and t.transitions.count() == 2


def test_a_bad_plan_shows_the_error_and_changes_nothing(client, company):
    t = staff_ticket(company)
    client.force_login(company.secretary_a)
    r = _post(client, "service:ticket_plan", t, {"version": 1, "analysis": "原因", "measures": "措施",
                                                   "due_date": "2001-01-01"})
    assert r.status_code == 200 and "不能早于工单立项日期" in r.content.decode()
    t.refresh_from_db()
    assert t.version == 1 and t.analysis == ""


def test_reassign_by_staff(client, company):
    t = staff_ticket(company)
    client.force_login(company.staff)
    r = _post(client, "service:ticket_reassign", t, {"version": 1, "org": company.branch_b.pk})
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.org == company.branch_b


def test_create_a_staff_ticket(client, company):
    client.force_login(company.secretary_a)
    r = client.get(reverse("service:ticket_create"))
    assert company.branch_b.name not in r.content.decode()
    r = client.post(reverse("service:ticket_create"), {"org": company.branch_a.pk, "title": "变电站周边树障",
                                                       "description": "110kV 城关变周边树木距导线过近。"})
    t = Ticket.objects.get()
    assert r.status_code == 302 and r.url == reverse("service:ticket_detail", args=[t.pk])
    assert t.origin == "staff" and t.created_by == company.secretary_a
    r = client.post(reverse("service:ticket_create"), {"org": company.branch_b.pk, "title": "x", "description": "y"})
    assert r.status_code == 200 and Ticket.objects.count() == 1


# ---- evidence ----------------------------------------------------------------------------------------------------


def test_evidence_download_withdraw_and_access(client, company):
    t = to_state(company.staff, staff_ticket(company), TState.DO)
    client.force_login(company.secretary_a)
    r = _post(client, "service:ticket_action_add", t, {"date": TODAY.isoformat(), "text": "更换变压器",
                                                         "files": [pdf()]})
    ev = TicketEvidence.objects.get()
    r = client.get(reverse("service:ticket_evidence_download", args=[ev.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF")
    assert r["Content-Disposition"].startswith("attachment") and r["X-Content-Type-Options"] == "nosniff"
    for outsider in (company.secretary_b, company.member_user_a, company.outsider):
        client.force_login(outsider)
        assert client.get(reverse("service:ticket_evidence_download", args=[ev.pk])).status_code == 404
        assert client.post(reverse("service:ticket_evidence_withdraw", args=[ev.pk])).status_code == 404
    client.force_login(company.secretary_a)
    extra = client.post(reverse("service:ticket_evidence_add", args=[ev.action_id]), {"file": png()})
    assert extra.status_code == 302 and TicketEvidence.objects.count() == 2
    client.post(reverse("service:ticket_evidence_withdraw", args=[ev.pk]))
    assert client.get(reverse("service:ticket_evidence_download", args=[ev.pk])).status_code == 404
    assert "整改记录.pdf" not in client.get(reverse("service:ticket_detail", args=[t.pk])).content.decode()


def test_a_disguised_file_is_refused_and_nothing_is_stored(client, company):
    t = to_state(company.staff, staff_ticket(company), TState.DO)
    client.force_login(company.secretary_a)
    r = _post(client, "service:ticket_action_add", t, {"date": TODAY.isoformat(), "text": "更换变压器",
                                                         "files": [pdf("病毒.pdf", b"MZ\x90\x00")]})
    assert r.status_code == 200 and "病毒.pdf" in r.content.decode()
    assert not TicketAction.objects.exists() and not TicketEvidence.objects.exists()


def test_detail_queries_do_not_grow(client, company, django_assert_max_num_queries):
    t = to_state(company.staff, need_ticket(company), TState.DO)
    client.force_login(company.staff)
    url = reverse("service:ticket_detail", args=[t.pk])
    from dangjian.service import tickets as services

    services.add_action(company.staff, t, date=TODAY, text="第一次", files=[pdf()])
    with django_assert_max_num_queries(25) as small:
        client.get(url)
    for i in range(6):
        services.add_action(company.staff, t, date=TODAY, text=f"第{i}次", files=[pdf(), png()])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_outsiders_get_404(client, company):
    t = staff_ticket(company)
    for user in (company.secretary_b, company.member_user_a, company.outsider, company.assessor):
        client.force_login(user)
        assert client.get(reverse("service:ticket_detail", args=[t.pk])).status_code == 404
