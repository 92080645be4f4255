"""The activity pages per persona: a branch's month, meetings with attendance, study records (and the member's own
page), dues for a whole branch, service hours; 404 for another branch and outsiders; exports; constant query
counts. Personas: tests/conftest.py."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.appraisal import activities as act
from dangjian.appraisal.models import Attendance, DuesPayment, Meeting, ServiceRecord, StudyRecord
from dangjian.core.models import AuditEvent
from tests.factories import make_member

D = datetime.date
OCT = "2026-10"


def url(name, *args):
    return reverse(f"appraisal:{name}", args=args)


def html(resp):
    return resp.content.decode()


def sheet(resp):
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture
def records(company):
    """October in branch A: a lecture given by the secretary (member A on leave), study, service and dues (member A
    on time, the secretary late); branch B has a meeting of its own."""
    c = company
    c.lecture = act.record_meeting(c.secretary_a, c.branch_a, kind="lecture", title="党课：党的二十届四中全会精神",
                                   date=D(2026, 10, 16), lecturer=c.secretary_member_a,
                                   attendance={c.member_a.pk: ("leave", "抢修值班")})
    c.meeting_b = act.record_meeting(c.secretary_b, c.branch_b, kind="general", title="支部党员大会",
                                     date=D(2026, 10, 9))
    c.study_a = act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 9), title="党章学习", hours="2")
    c.study_s = act.add_study_record(c.secretary_a, c.secretary_member_a, date=D(2026, 10, 9), title="条例学习")
    c.service_a = act.add_service_record(c.secretary_a, c.member_a, date=D(2026, 10, 3), activity="社区用电宣传",
                                         hours="3.5", people_served=40)
    c.dues_a = act.record_dues(c.secretary_a, c.member_a, month=OCT, amount="25", paid_on=D(2026, 10, 20))
    c.dues_s = act.record_dues(c.secretary_a, c.secretary_member_a, month=OCT, amount="30", paid_on=D(2026, 11, 3))
    return c


# ---- the branch's month -----------------------------------------------------------------------------------


def test_secretary_sees_the_month_of_the_branch(login, records):
    c = records
    make_member(c.branch_a, "周新")  # no dues: missing
    resp = login(c.secretary_a).get(url("activity_home"), {"month": OCT})
    assert resp.status_code == 200
    body = html(resp)
    assert "党课：党的二十届四中全会精神" in body and "支部党员大会" not in body
    assert body.count('data-testid="dues-on_time"') == 1
    assert body.count('data-testid="dues-late"') == 1
    assert body.count('data-testid="dues-missing"') == 1
    assert resp.context["totals"]["present"] == 1 and resp.context["totals"]["leave"] == 1
    row_a = next(r for r in resp.context["rows"] if r["member"] == c.member_a)
    assert (row_a["study"], row_a["study_hours"], row_a["service_hours"]) == (1, Decimal("2.0"), Decimal("3.5"))


def test_the_month_exports_to_excel(login, records):
    rows = sheet(login(records.secretary_a).get(url("activity_home"), {"month": OCT, "format": "xlsx"}))
    assert rows[0][:3] == ["姓名", "岗位", "出席"]
    assert {r[0] for r in rows[1:]} == {"张三", "李建国"}
    assert AuditEvent.objects.filter(action="export").exists()


def test_staff_chooses_a_branch(login, records):
    c = records
    resp = login(c.staff).get(url("activity_home"), {"org": c.branch_b.pk, "month": OCT})
    assert resp.status_code == 200 and "支部党员大会" in html(resp)
    assert {b.pk for b in resp.context["branches"]} == {c.branch_a.pk, c.branch_b.pk, c.branch_c.pk}


def test_another_branch_and_outsiders_get_404(login, records):
    c = records
    assert login(c.secretary_b).get(url("activity_home"), {"org": c.branch_a.pk}).status_code == 404
    assert login(c.outsider).get(url("activity_home")).status_code == 404
    assert login(c.assessor).get(url("activity_home")).status_code == 404
    for name, pk in (("meeting_detail", c.lecture.pk), ("meeting_edit", c.lecture.pk), ("dues_edit", c.dues_a.pk),
                     ("service_edit", c.service_a.pk), ("study_edit", c.study_a.pk)):
        for user in (c.secretary_b, c.outsider):
            assert login(user).get(url(name, pk)).status_code == 404, (name, user)


def test_a_member_is_sent_to_their_own_study_page(login, records):
    resp = login(records.member_user_a).get(url("activity_home"))
    assert resp.status_code == 302 and resp.url == url("study_mine")
    for name in ("meeting_list", "study_list", "dues_list", "service_list", "activity_import"):
        assert login(records.member_user_a).get(url(name)).status_code == 404, name


def queries(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, params or {}).status_code == 200
    return len(ctx)


def _grow(c, n):
    for i in range(n):
        m = make_member(c.branch_a, f"党员{i}")
        act.add_study_record(c.secretary_a, m, date=D(2026, 10, 5), title="学习")
        act.record_dues(c.secretary_a, m, month=OCT, amount=20, paid_on=D(2026, 10, 5))
        act.add_service_record(c.secretary_a, m, date=D(2026, 10, 5), activity="服务", hours=1)
        act.record_meeting(c.secretary_a, c.branch_a, kind="group", title=f"党小组会{i}", date=D(2026, 10, 7))


@pytest.mark.parametrize(("name", "params"), [
    ("activity_home", {"month": OCT}), ("meeting_list", {}), ("study_list", {}), ("dues_list", {}),
    ("service_list", {}), ("study_mine", {}), ("meeting_create", {}), ("dues_branch", {"month": OCT}),
])
def test_pages_need_the_same_queries_whatever_the_size(login, records, name, params):
    c = records
    client = login(c.member_user_a if name == "study_mine" else c.secretary_a)
    client.get(url(name), params)  # the session settles on the first request
    small = queries(client, url(name), params)
    _grow(c, 12)
    for i in range(6):
        act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 10 + i), title=f"自学{i}")
    assert queries(client, url(name), params) == small <= 15


# ---- meetings ---------------------------------------------------------------------------------------------


def _meeting_post(c, **extra):
    data = {"org": c.branch_a.pk, "kind": "theme_day", "title": "主题党日：进社区", "date": "2026-10-22",
            "place": "城东社区", "host": "李建国", "content": "开展安全用电宣传。",
            f"status_{c.member_a.pk}": "absent", f"note_{c.member_a.pk}": "未请假",
            f"status_{c.secretary_member_a.pk}": "present"}
    data.update(extra)
    return data


def test_secretary_records_a_meeting_with_attendance(login, company):
    c = company
    client = login(c.secretary_a)
    form = client.get(url("meeting_create"))  # one branch: no picking
    assert form.status_code == 200 and form.context["org"] == c.branch_a
    assert len(form.context["rows"]) == 2
    resp = client.post(url("meeting_create"), _meeting_post(c))
    m = Meeting.objects.get()
    assert resp.status_code == 302 and resp.url == url("meeting_detail", m.pk)
    assert dict(m.attendance.values_list("member_id", "status")) == {
        c.member_a.pk: "absent", c.secretary_member_a.pk: "present"}
    detail = client.get(url("meeting_detail", m.pk))
    assert "未请假" in html(detail) and 'data-testid="meeting-edit"' in html(detail)


def test_staff_picks_the_branch_first(login, company):
    c = company
    resp = login(c.staff).get(url("meeting_create"))
    assert resp.status_code == 200 and 'data-testid="branch-picker"' in html(resp)
    assert login(c.staff).get(url("meeting_create"), {"org": c.branch_b.pk}).context["org"] == c.branch_b


def test_bad_meeting_input_shows_a_chinese_error_and_saves_nothing(login, company):
    c = company
    client = login(c.secretary_a)
    resp = client.post(url("meeting_create"), _meeting_post(c, date="2099-01-01"))
    assert resp.status_code == 200 and "不能晚于今天" in html(resp)
    resp = client.post(url("meeting_create"), _meeting_post(c, **{f"status_{c.member_a.pk}": "late"}))
    assert resp.status_code == 200 and "应为出席、请假或缺席" in html(resp)
    assert not Meeting.objects.exists()


def test_secretary_cannot_record_for_another_branch(login, company):
    c = company
    assert login(c.secretary_b).get(url("meeting_create"), {"org": c.branch_a.pk}).status_code == 404
    resp = login(c.secretary_b).post(url("meeting_create") + f"?org={c.branch_a.pk}", _meeting_post(c))
    assert resp.status_code == 404 and not Meeting.objects.exists()


def test_editing_and_deleting_a_meeting(login, records):
    c = records
    client = login(c.secretary_a)
    page = client.get(url("meeting_edit", c.lecture.pk))
    assert page.status_code == 200
    assert {r["member"].pk: r["status"] for r in page.context["rows"]} == {
        c.member_a.pk: "leave", c.secretary_member_a.pk: "present"}
    data = {"kind": "lecture", "title": "党课（修订）", "date": "2026-10-16", "lecturer": c.secretary_member_a.pk,
            f"status_{c.member_a.pk}": "present", f"status_{c.secretary_member_a.pk}": "present"}
    assert client.post(url("meeting_edit", c.lecture.pk), data).status_code == 302
    c.lecture.refresh_from_db()
    assert c.lecture.title == "党课（修订）" and c.lecture.attendance.filter(status="present").count() == 2
    assert client.post(url("meeting_delete", c.lecture.pk)).status_code == 302
    assert not Meeting.objects.filter(pk=c.lecture.pk).exists()
    assert login(c.secretary_b).post(url("meeting_delete", c.meeting_b.pk)).status_code == 302


def test_meeting_list_filters_exports_and_hides_other_branches(login, records):
    c = records
    client = login(c.secretary_a)
    resp = client.get(url("meeting_list"), {"kind": "lecture", "month": OCT})
    assert [m.pk for m in resp.context["page"]] == [c.lecture.pk]
    assert resp.context["page"][0].n_leave == 1
    assert client.get(url("meeting_list"), {"kind": "general"}).context["page"].paginator.count == 0
    rows = sheet(client.get(url("meeting_list"), {"format": "xlsx"}))
    assert len(rows) == 2 and rows[1][3] == "党课：党的二十届四中全会精神"
    rows = sheet(client.get(url("meeting_list"), {"format": "xlsx", "rows": "attendance"}))
    assert {(r[4], r[5]) for r in rows[1:]} == {("张三", "请假"), ("李建国", "出席")}
    assert client.get(url("meeting_list"), {"org": c.branch_b.pk}).status_code == 404


# ---- study records ----------------------------------------------------------------------------------------


def test_a_member_adds_their_own_study_record_on_the_phone_page(login, records):
    c = records
    client = login(c.member_user_a)
    page = client.get(url("study_mine"))
    assert page.status_code == 200 and 'data-testid="quick-study"' in html(page)
    resp = client.post(url("study_mine"), {"title": "学习《条例》", "form": "online", "date": "2026-10-12",
                                           "hours": "1.5"})
    assert resp.status_code == 302
    r = StudyRecord.objects.get(title="学习《条例》")
    assert (r.member, r.form, r.hours, r.created_by) == (c.member_a, "online", Decimal("1.5"), c.member_user_a)
    page = client.get(url("study_mine"), {"year": 2026})
    assert "学习《条例》" in html(page) and "条例学习" not in html(page)  # the secretary's own record is not shown


def test_a_members_bad_input_is_refused_in_chinese(login, company):
    client = login(company.member_user_a)
    resp = client.post(url("study_mine"), {"title": "学习", "form": "self", "date": "2026-10-12", "hours": "30"})
    assert resp.status_code == 200 and "不能超过24小时" in html(resp)
    resp = client.post(url("study_mine"), {"title": "", "form": "self", "date": "2026-10-12", "hours": "1"})
    assert resp.status_code == 200
    assert not StudyRecord.objects.exists()


def test_a_member_edits_their_own_record_but_not_another(login, records):
    c = records
    client = login(c.member_user_a)
    assert client.get(url("study_edit", c.study_a.pk)).status_code == 200
    assert client.post(url("study_edit", c.study_a.pk), {"date": "2026-10-09", "title": "党章学习（二）",
                                                         "form": "self", "hours": "2"}).status_code == 302
    assert StudyRecord.objects.get(pk=c.study_a.pk).title == "党章学习（二）"
    assert client.get(url("study_edit", c.study_s.pk)).status_code == 404
    assert client.post(url("study_delete", c.study_s.pk)).status_code == 404
    assert client.post(url("study_delete", c.study_a.pk)).status_code == 302
    assert not StudyRecord.objects.filter(pk=c.study_a.pk).exists()
    assert StudyRecord.objects.filter(pk=c.study_s.pk).exists()


def test_users_without_a_member_record_have_no_study_page(login, company):
    assert login(company.outsider).get(url("study_mine")).status_code == 404
    assert login(company.staff).get(url("study_mine")).status_code == 404


def test_secretary_records_study_for_a_member_of_the_branch(login, records):
    c = records
    client = login(c.secretary_a)
    resp = client.post(url("study_create"), {"org": c.branch_a.pk, "member": c.member_a.pk, "date": "2026-10-15",
                                             "title": "集中学习", "form": "group", "hours": "3"})
    assert resp.status_code == 302
    assert StudyRecord.objects.filter(member=c.member_a, form="group").exists()
    # A member of another branch is not a choice.
    resp = client.post(url("study_create"), {"org": c.branch_a.pk, "member": c.member_b.pk, "date": "2026-10-15",
                                             "title": "集中学习", "form": "group", "hours": "3"})
    assert resp.status_code == 200 and not StudyRecord.objects.filter(member=c.member_b).exists()
    assert login(c.secretary_b).get(url("study_create"), {"org": c.branch_a.pk}).status_code == 404


def test_study_list_filters_and_exports(login, records):
    c = records
    client = login(c.staff)
    resp = client.get(url("study_list"), {"q": "张三"})
    assert [r.pk for r in resp.context["page"]] == [c.study_a.pk]
    rows = sheet(client.get(url("study_list"), {"org": c.branch_a.pk, "format": "xlsx"}))
    assert {r[3] for r in rows[1:]} == {"党章学习", "条例学习"}
    assert login(c.secretary_b).get(url("study_list")).context["page"].paginator.count == 0


# ---- dues -------------------------------------------------------------------------------------------------


def test_a_whole_branch_month_of_dues_in_one_form(login, company):
    c = company
    client = login(c.secretary_a)
    page = client.get(url("dues_branch"), {"month": OCT})
    assert page.status_code == 200 and len(page.context["rows"]) == 2
    resp = client.post(url("dues_branch") + f"?org={c.branch_a.pk}&month={OCT}", {
        f"amount_{c.member_a.pk}": "25.5", f"paid_on_{c.member_a.pk}": "2026-10-20",
        f"amount_{c.secretary_member_a.pk}": "", f"paid_on_{c.secretary_member_a.pk}": ""})
    assert resp.status_code == 302
    assert list(DuesPayment.objects.values_list("member_id", "amount", "on_time")) == [
        (c.member_a.pk, Decimal("25.50"), True)]


def test_a_bad_row_of_the_branch_dues_saves_nothing(login, company):
    c = company
    resp = login(c.secretary_a).post(url("dues_branch") + f"?org={c.branch_a.pk}&month={OCT}", {
        f"amount_{c.member_a.pk}": "25", f"paid_on_{c.member_a.pk}": "2026-10-20",
        f"amount_{c.secretary_member_a.pk}": "0", f"paid_on_{c.secretary_member_a.pk}": "2026-10-20"})
    assert resp.status_code == 200 and "党费金额应大于0" in html(resp)
    assert not DuesPayment.objects.exists()


def test_dues_list_edit_and_other_branches(login, records):
    c = records
    client = login(c.secretary_a)
    resp = client.get(url("dues_list"), {"status": "late"})
    assert [p.pk for p in resp.context["page"]] == [c.dues_s.pk]
    rows = sheet(client.get(url("dues_list"), {"format": "xlsx"}))
    assert {(r[1], r[5]) for r in rows[1:]} == {("张三", "按时交纳"), ("李建国", "逾期交纳")}
    assert client.post(url("dues_edit", c.dues_s.pk), {"amount": "30", "paid_on": "2026-10-31"}).status_code == 302
    c.dues_s.refresh_from_db()
    assert c.dues_s.on_time
    assert login(c.secretary_b).get(url("dues_branch"), {"org": c.branch_a.pk}).status_code == 404
    assert login(c.secretary_b).post(url("dues_delete", c.dues_a.pk)).status_code == 404
    assert DuesPayment.objects.filter(pk=c.dues_a.pk).exists()


# ---- service -----------------------------------------------------------------------------------------------


def test_service_hours_are_recorded_listed_and_exported(login, records):
    c = records
    client = login(c.secretary_a)
    resp = client.post(url("service_create"), {"org": c.branch_a.pk, "member": c.secretary_member_a.pk,
                                               "date": "2026-10-18", "activity": "迎峰度夏保供电", "hours": "6",
                                               "people_served": "0", "source": "共产党员服务队"})
    assert resp.status_code == 302
    resp = client.get(url("service_list"), {"month": OCT})
    assert resp.context["totals"]["h"] == Decimal("9.5")
    rows = sheet(client.get(url("service_list"), {"format": "xlsx"}))
    assert {r[3] for r in rows[1:]} == {"迎峰度夏保供电", "社区用电宣传"}
    bad = client.post(url("service_create"), {"org": c.branch_a.pk, "member": c.member_a.pk, "date": "2026-10-18",
                                              "activity": "巡视", "hours": "0"})
    assert bad.status_code == 200 and "应大于0" in html(bad)
    assert ServiceRecord.objects.count() == 2


def test_a_published_month_shows_locked_and_refuses_changes(login, records):
    from tests.appraisal.test_activities_services import publish

    c = records
    publish(c.member_a, D(2026, 10, 1))
    client = login(c.secretary_a)
    detail = client.get(url("meeting_detail", c.lecture.pk))
    assert "已锁定" in html(detail) and 'data-testid="meeting-edit"' not in html(detail)
    assert client.get(url("meeting_edit", c.lecture.pk)).status_code == 302
    resp = client.post(url("meeting_delete", c.lecture.pk))
    assert resp.status_code == 302 and Meeting.objects.filter(pk=c.lecture.pk).exists()
    assert Attendance.objects.filter(meeting=c.lecture).count() == 2
