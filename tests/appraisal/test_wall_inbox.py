"""The secretary's feedback inbox (wall.manage): scoped to the branches one manages (another branch's message is
404), the contact masked in lists and exports and whole on the detail, unread count, mark read, record the handling,
filters, pagination, Excel export, constant queries."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.appraisal import wall as services
from dangjian.appraisal.models import WallFeedback
from dangjian.core.access import AccessDenied
from dangjian.core.errors import DomainError
from dangjian.core.models import AuditEvent
from tests.appraisal.test_wall import publish_month


def fb(org, text="希望加强小区线路巡视。", kind="suggestion", member=None, contact="", n=0):
    return WallFeedback.objects.create(org=org, kind=kind, text=text, member=member, contact=contact,
                                       client_hash=f"{n:064x}")


@pytest.fixture
def inbox(company):
    c = company
    publish_month(c, c.branch_a, [c.member_a])
    c.fb_a = fb(c.branch_a, "张三抢修及时，值得表扬。", "praise", c.member_a, "13912345678", 1)
    c.fb_a2 = fb(c.branch_a, "=HYPERLINK(\"x\")投诉施工噪音扰民", "complaint", contact="li.si@example.com", n=2)
    c.fb_b = fb(c.branch_b, "输电线路下树木需要修剪。", n=3)
    return c


def detail(c, f):
    return reverse("appraisal:wall_feedback_detail", args=[f.pk])


# ---- scoping ---------------------------------------------------------------------------------------------------------


def test_secretary_sees_own_branch_messages_with_masked_contact_and_unread_count(client, inbox):
    c = inbox
    client.force_login(c.secretary_a)
    html = client.get(reverse("appraisal:wall_feedback_list")).content.decode()
    assert "张三抢修及时" in html and "投诉施工噪音扰民" in html and "输电线路下树木" not in html
    assert "139****5678" in html and "13912345678" not in html
    assert "l***@example.com" in html and "li.si@example.com" not in html
    assert "2 条未读" in html


def test_staff_sees_every_branch_below_the_committee(client, inbox):
    client.force_login(inbox.staff)
    html = client.get(reverse("appraisal:wall_feedback_list")).content.decode()
    assert "张三抢修及时" in html and "输电线路下树木" in html and "3 条未读" in html


def test_secretary_b_cannot_see_branch_a_messages(client, inbox):
    c = inbox
    client.force_login(c.secretary_b)
    assert client.get(detail(c, c.fb_a)).status_code == 404
    assert client.post(detail(c, c.fb_a), {"reply": "已核实处理"}).status_code == 404
    assert client.post(reverse("appraisal:wall_feedback_read", args=[c.fb_a.pk])).status_code == 404
    assert client.get(reverse("appraisal:wall_feedback_list"), {"org": c.branch_a.pk}).status_code == 404
    html = client.get(reverse("appraisal:wall_feedback_list")).content.decode()
    assert "输电线路下树木" in html and "张三抢修及时" not in html
    c.fb_a.refresh_from_db()
    assert c.fb_a.read_at is None and c.fb_a.reply == ""
    with pytest.raises(AccessDenied):
        services.mark_feedback_read(c.secretary_b, c.fb_a)


@pytest.mark.parametrize("persona", ["member_user_a", "assessor", "outsider"])
def test_members_assessors_and_outsiders_have_no_inbox(client, inbox, persona):
    client.force_login(getattr(inbox, persona))
    assert client.get(reverse("appraisal:wall_feedback_list")).status_code == 404
    assert client.get(detail(inbox, inbox.fb_a)).status_code == 404


def test_the_wall_page_shows_the_unread_count_to_those_who_manage_it(client, inbox):
    c = inbox
    url = reverse("appraisal:wall_detail", args=[c.branch_a.pk])
    client.force_login(c.secretary_a)
    assert 'data-testid="unread-badge">2<' in client.get(url).content.decode()
    client.force_login(c.member_user_a)
    html = client.get(url).content.decode()
    assert "unread-badge" not in html and reverse("appraisal:wall_manage", args=[c.branch_a.pk]) not in html


# ---- reading and handling ----------------------------------------------------------------------------------------------


def test_detail_shows_the_whole_contact(client, inbox):
    client.force_login(inbox.secretary_a)
    html = client.get(detail(inbox, inbox.fb_a)).content.decode()
    assert "13912345678" in html and "张三抢修及时" in html


def test_mark_read_once_and_audited(client, inbox):
    c = inbox
    client.force_login(c.secretary_a)
    resp = client.post(reverse("appraisal:wall_feedback_read", args=[c.fb_a.pk]), {"next": detail(c, c.fb_a)})
    assert resp.status_code == 302 and resp.url == detail(c, c.fb_a)
    c.fb_a.refresh_from_db()
    first = c.fb_a.read_at
    assert first is not None
    client.post(reverse("appraisal:wall_feedback_read", args=[c.fb_a.pk]))
    c.fb_a.refresh_from_db()
    assert c.fb_a.read_at == first
    assert AuditEvent.objects.filter(action="wall.feedback_read").count() == 1
    html = client.get(reverse("appraisal:wall_feedback_list")).content.decode()
    assert "1 条未读" in html


def test_mark_read_does_not_redirect_off_site(client, inbox):
    client.force_login(inbox.secretary_a)
    resp = client.post(reverse("appraisal:wall_feedback_read", args=[inbox.fb_a.pk]), {"next": "https://evil.cn/"})
    assert resp.url == reverse("appraisal:wall_feedback_list")


def test_recording_the_handling_marks_it_read_and_handled(client, inbox):
    c = inbox
    client.force_login(c.secretary_a)
    resp = client.post(detail(c, c.fb_a2), {"reply": "已联系施工单位，调整作业时间为白天。"})
    assert resp.status_code == 302
    c.fb_a2.refresh_from_db()
    assert c.fb_a2.reply == "已联系施工单位，调整作业时间为白天。" and c.fb_a2.handled_by == c.secretary_a
    assert c.fb_a2.handled_at is not None and c.fb_a2.read_at is not None
    client.post(detail(c, c.fb_a2), {"reply": "已回访，群众满意。"})
    event = AuditEvent.objects.filter(action="wall.feedback_handled").order_by("id").last()
    assert event.data["before"]["reply"] == "已联系施工单位，调整作业时间为白天。"
    assert event.data["after"]["reply"] == "已回访，群众满意。"


@pytest.mark.parametrize("reply", ["", "好", "很" * 1001])
def test_a_bad_reply_says_why_and_changes_nothing(client, inbox, reply):
    c = inbox
    client.force_login(c.secretary_a)
    resp = client.post(detail(c, c.fb_a), {"reply": reply})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert any(s in html for s in ("请填写处理情况", "这个字段是必填项", "处理情况不能超过"))
    c.fb_a.refresh_from_db()
    assert c.fb_a.reply == "" and c.fb_a.handled_at is None and c.fb_a.read_at is None
    with pytest.raises(DomainError):
        services.handle_feedback(c.secretary_a, c.fb_a, reply)


# ---- filters, export, pagination, queries --------------------------------------------------------------------------------


def test_filters_by_branch_kind_status_and_words(client, inbox):
    c = inbox
    services.handle_feedback(c.staff, c.fb_a, "已转告本人，继续保持。")
    client.force_login(c.staff)
    url = reverse("appraisal:wall_feedback_list")

    def texts(**params):
        return {f.text for f in client.get(url, params).context["page"]}

    assert texts(org=c.branch_b.pk) == {c.fb_b.text}
    assert texts(kind="complaint") == {c.fb_a2.text}
    assert texts(status="handled") == {c.fb_a.text}
    assert texts(status="unread") == {c.fb_a2.text, c.fb_b.text}
    assert texts(status="open") == {c.fb_a2.text, c.fb_b.text}
    assert texts(q="张三") == {c.fb_a.text}
    assert texts(q="输电") == {c.fb_b.text}
    resp = client.get(url, {"date_from": "bad"})
    assert "日期格式应为" in resp.content.decode() and len(resp.context["page"]) == 3


def test_export_masks_the_contact_and_defuses_formulas(client, inbox):
    client.force_login(inbox.secretary_a)
    resp = client.get(reverse("appraisal:wall_feedback_list"), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(resp.content)).active.values)
    assert rows[0][:6] == ("留言时间", "党组织", "类型", "涉及党员", "留言内容", "联系方式")
    body = {r[4]: r for r in rows[1:]}
    formula = '=HYPERLINK("x")投诉施工噪音扰民'
    assert formula in body  # stored as text, not as a formula (core.excel)
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    assert body["张三抢修及时，值得表扬。"][5] == "139****5678"
    assert len(rows) == 3
    assert AuditEvent.objects.filter(action="export").exists()


def test_the_inbox_paginates_and_uses_the_same_number_of_queries_for_5_and_60_messages(client, company):
    c = company
    publish_month(c, c.branch_a, [c.member_a])
    for i in range(5):
        fb(c.branch_a, f"支部A第{i}条留言", member=c.member_a, n=i)
    for i in range(60):
        fb(c.branch_b, f"支部B第{i}条留言", n=100 + i)
    services.handle_feedback(c.staff, WallFeedback.objects.filter(org=c.branch_b).first(), "已处理完毕")
    counts = []
    for user in (c.secretary_a, c.secretary_b):
        client.force_login(user)
        client.get(reverse("appraisal:wall_feedback_list"))
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(reverse("appraisal:wall_feedback_list"))
        counts.append(len(ctx.captured_queries))
    assert resp.context["page"].paginator.num_pages == 3
    assert counts[0] == counts[1] <= 15


def test_mask_contact():
    assert services.mask_contact("13912345678") == "139****5678"
    assert services.mask_contact("0571-87654321") == "057****4321"
    assert services.mask_contact("zhang@example.com") == "z***@example.com"
    assert services.mask_contact("") == ""
