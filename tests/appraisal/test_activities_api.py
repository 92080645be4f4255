"""The activities API (/api/v1/activities/…): lists with filters and pagination, create, update, delete — with the
pages' permissions (another branch and outsiders 404), Chinese 400s that change nothing, constant query counts.
Personas: tests/conftest.py."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.appraisal import activities as act
from dangjian.appraisal.models import Attendance, DuesPayment, Meeting, ServiceRecord, StudyRecord
from dangjian.core.models import ApiToken
from tests.factories import make_member

D = datetime.date
BASE = "/api/v1/activities"


@pytest.fixture
def api(client):
    def call(user, method, path, body=None, **params):
        headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"} if user is not None else {}
        if method == "get":
            resp = client.get(BASE + path, params, headers=headers)
        else:
            resp = getattr(client, method)(BASE + path, data=json.dumps(body) if body is not None else None,
                                           content_type="application/json", headers=headers)
        return resp.status_code, (resp.json() if resp.content else None)

    return call


@pytest.fixture
def records(company):
    c = company
    c.meeting_a = act.record_meeting(c.secretary_a, c.branch_a, kind="lecture", title="党课", date=D(2026, 10, 16),
                                     lecturer=c.secretary_member_a, attendance={c.member_a.pk: ("leave", "出差")})
    c.meeting_b = act.record_meeting(c.secretary_b, c.branch_b, kind="general", title="党员大会",
                                     date=D(2026, 10, 9))
    c.study_a = act.add_study_record(c.member_user_a, c.member_a, date=D(2026, 10, 9), title="党章学习")
    c.study_s = act.add_study_record(c.secretary_a, c.secretary_member_a, date=D(2026, 10, 9), title="条例学习")
    c.dues_a = act.record_dues(c.secretary_a, c.member_a, month="2026-10", amount="25", paid_on=D(2026, 10, 20))
    c.service_a = act.add_service_record(c.secretary_a, c.member_a, date=D(2026, 10, 3), activity="宣传", hours=2)
    return c


# ---- meetings ------------------------------------------------------------------------------------------


def test_meetings_list_in_scope_with_counts_and_filters(api, records):
    c = records
    status, data = api(c.secretary_a, "get", "/meetings")
    assert status == 200 and data["count"] == 1
    item = data["items"][0]
    assert (item["title"], item["present"], item["leave"], item["lecturer"]["name"]) == ("党课", 1, 1, "李建国")
    assert api(c.staff, "get", "/meetings")[1]["count"] == 2
    assert api(c.staff, "get", "/meetings", kind="general")[1]["count"] == 1
    assert api(c.staff, "get", "/meetings", month="2026-09")[1]["count"] == 0
    assert api(c.staff, "get", "/meetings", limit=1)[1]["count"] == 2
    assert api(c.member_user_a, "get", "/meetings")[1]["count"] == 0
    assert api(c.outsider, "get", "/meetings")[1]["count"] == 0
    assert api(None, "get", "/meetings")[0] == 401


def test_a_meeting_detail_is_404_outside_the_branch(api, records):
    c = records
    status, data = api(c.secretary_a, "get", f"/meetings/{c.meeting_a.pk}")
    assert status == 200 and {a["member"]["name"]: a["status"] for a in data["attendance"]} == {
        "张三": "leave", "李建国": "present"}
    for user in (c.secretary_b, c.outsider, c.member_user_a):
        assert api(user, "get", f"/meetings/{c.meeting_a.pk}")[0] == 404


def test_a_meeting_is_created_updated_and_deleted(api, company):
    c = company
    status, data = api(c.secretary_a, "post", "/meetings", {
        "org_id": c.branch_a.pk, "kind": "theme_day", "title": "主题党日", "date": "2026-10-22",
        "attendance": [{"member_id": c.member_a.pk, "status": "absent", "note": "未请假"}]})
    assert status == 201 and (data["present"], data["absent"]) == (1, 1)
    pk = data["id"]
    status, data = api(c.secretary_a, "patch", f"/meetings/{pk}", {
        "title": "主题党日（进社区）", "attendance": [{"member_id": c.member_a.pk, "status": "", "note": ""}]})
    assert status == 200 and data["title"] == "主题党日（进社区）" and len(data["attendance"]) == 1
    assert api(c.secretary_b, "delete", f"/meetings/{pk}")[0] == 404
    assert api(c.secretary_a, "delete", f"/meetings/{pk}")[0] == 204
    assert not Meeting.objects.filter(pk=pk).exists()


def test_bad_meetings_are_400_in_chinese_and_save_nothing(api, company):
    c = company
    base = {"org_id": c.branch_a.pk, "kind": "general", "title": "党员大会", "date": "2026-10-09"}
    status, data = api(c.secretary_a, "post", "/meetings", base | {"date": "2099-01-01"})
    assert status == 400 and "不能晚于今天" in data["detail"] and data["field"] == "date"
    status, data = api(c.secretary_a, "post", "/meetings", base | {
        "attendance": [{"member_id": c.member_b.pk, "status": "present", "note": ""}]})
    assert status == 400 and "不是本支部的在册党员" in data["detail"] and data["field"] == "attendance"
    status, data = api(c.secretary_a, "post", "/meetings", base | {"lecturer_id": c.member_b.pk})
    assert status == 404  # a member outside the secretary's branches does not exist for them
    assert api(c.secretary_b, "post", "/meetings", base)[0] == 404
    assert api(c.member_user_a, "post", "/meetings", base)[0] == 404
    assert not Meeting.objects.exists() and not Attendance.objects.exists()


# ---- study -------------------------------------------------------------------------------------------------


def test_a_member_lists_and_adds_their_own_study_but_not_anothers(api, records):
    c = records
    status, data = api(c.member_user_a, "get", "/study-records")
    assert status == 200 and [r["id"] for r in data["items"]] == [c.study_a.pk]
    status, data = api(c.member_user_a, "post", "/study-records", {"date": "2026-10-12", "title": "网上学习",
                                                                   "form": "online", "hours": "1.5"})
    assert status == 201 and data["member"]["id"] == c.member_a.pk and data["hours"] == "1.5"
    status, _ = api(c.member_user_a, "post", "/study-records", {"member_id": c.secretary_member_a.pk,
                                                                "date": "2026-10-12", "title": "代录"})
    assert status == 404
    assert api(c.member_user_a, "patch", f"/study-records/{c.study_s.pk}", {"title": "改"})[0] == 404
    assert api(c.member_user_a, "delete", f"/study-records/{c.study_s.pk}")[0] == 404
    status, data = api(c.member_user_a, "patch", f"/study-records/{c.study_a.pk}", {"hours": "2"})
    assert status == 200 and data["hours"] == "2.0"
    assert api(c.member_user_a, "delete", f"/study-records/{c.study_a.pk}")[0] == 204
    assert StudyRecord.objects.filter(member=c.member_a).count() == 1


def test_the_branch_adds_study_for_its_members_and_bad_hours_are_refused(api, records):
    c = records
    status, data = api(c.secretary_a, "post", "/study-records", {"member_id": c.member_a.pk, "date": "2026-10-12",
                                                                 "title": "集中学习", "form": "group", "hours": "3"})
    assert status == 201
    status, data = api(c.secretary_a, "post", "/study-records", {"member_id": c.member_a.pk, "date": "2026-10-12",
                                                                 "title": "集中学习", "hours": "0.25"})
    assert status == 400 and "一位小数" in data["detail"]
    assert api(c.secretary_b, "post", "/study-records", {"member_id": c.member_a.pk, "date": "2026-10-12",
                                                         "title": "代录"})[0] == 404
    assert api(c.staff, "get", "/study-records", org=c.branch_a.pk, month="2026-10")[1]["count"] == 3


def test_an_account_without_a_member_must_name_the_member(api, company):
    status, data = api(company.staff, "post", "/study-records", {"date": "2026-10-12", "title": "学习"})
    assert status == 400 and "没有关联党员" in data["detail"]


# ---- dues and service ---------------------------------------------------------------------------------------


def test_dues_are_recorded_once_a_month_and_on_time_follows_the_date(api, records):
    c = records
    status, data = api(c.secretary_a, "post", "/dues", {"member_id": c.secretary_member_a.pk, "month": "2026-10",
                                                        "amount": "30.5", "paid_on": "2026-11-02"})
    assert status == 201 and data["on_time"] is False and data["amount"] == "30.50"
    status, data = api(c.secretary_a, "post", "/dues", {"member_id": c.member_a.pk, "month": "2026-10",
                                                        "amount": "30", "paid_on": "2026-10-02"})
    assert status == 400 and "党费已登记" in data["detail"]
    status, data = api(c.secretary_a, "patch", f"/dues/{c.dues_a.pk}", {"paid_on": "2026-11-01"})
    assert status == 200 and data["on_time"] is False
    assert api(c.secretary_a, "get", "/dues", on_time="false")[1]["count"] == 2
    assert api(c.member_user_a, "get", "/dues")[1]["count"] == 1
    assert api(c.member_user_a, "post", "/dues", {"member_id": c.member_a.pk, "month": "2026-09", "amount": "30",
                                                  "paid_on": "2026-09-02"})[0] == 404
    assert api(c.secretary_b, "delete", f"/dues/{c.dues_a.pk}")[0] == 404
    assert api(c.staff, "delete", f"/dues/{c.dues_a.pk}")[0] == 204
    assert DuesPayment.objects.count() == 1


def test_service_records_through_the_api(api, records):
    c = records
    status, data = api(c.secretary_a, "post", "/service-records", {
        "member_id": c.member_a.pk, "date": "2026-10-05", "activity": "抢修保电", "hours": "6", "people_served": 0})
    assert status == 201 and data["hours"] == "6.0"
    status, data = api(c.secretary_a, "post", "/service-records", {
        "member_id": c.member_a.pk, "date": "2026-10-05", "activity": "抢修保电", "hours": "19"})
    assert status == 400 and "超过一天24小时" in data["detail"]
    status, data = api(c.secretary_a, "patch", f"/service-records/{c.service_a.pk}", {"hours": "2.5"})
    assert status == 200 and data["hours"] == "2.5"
    assert api(c.member_user_a, "get", "/service-records")[1]["count"] == 2
    assert api(c.member_user_a, "patch", f"/service-records/{c.service_a.pk}", {"hours": "3"})[0] == 404
    assert api(c.secretary_b, "get", "/service-records")[1]["count"] == 0
    assert api(c.secretary_a, "delete", f"/service-records/{c.service_a.pk}")[0] == 204
    assert ServiceRecord.objects.count() == 1


def test_api_lists_need_the_same_queries_whatever_the_size(client, records):
    c = records
    headers = {"Authorization": f"Bearer {ApiToken.issue(c.staff)}"}

    def count():
        out = []
        for path in ("/meetings", "/study-records", "/dues", "/service-records"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(BASE + path, headers=headers).status_code == 200
            out.append(len(ctx))
        return out

    small = count()
    for i in range(8):
        m = make_member(c.branch_a, f"党员{i}")
        act.add_study_record(c.secretary_a, m, date=D(2026, 10, 5), title="学习")
        act.record_dues(c.secretary_a, m, month="2026-10", amount=Decimal("20"), paid_on=D(2026, 10, 5))
        act.add_service_record(c.secretary_a, m, date=D(2026, 10, 5), activity="服务", hours=1)
        act.record_meeting(c.secretary_a, c.branch_a, kind="group", title=f"党小组会{i}", date=D(2026, 10, 7))
    assert count() == small
