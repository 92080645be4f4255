"""The team pages and API: create a team, find and add members by pinyin, record an activity with per-person
hours in the browser form, filters, export, photo access, list query counts, API writes and their errors."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.appraisal.models import ServiceRecord
from dangjian.core.models import ApiToken
from dangjian.service import teams
from dangjian.service.models import ServiceActivity, ServiceTeam, TeamMember
from tests.factories import make_member
from tests.service.matrix_teams import jpeg_upload
from tests.service.test_teams import publish_month

D = Decimal


@pytest.fixture
def team(company):
    t = teams.create_team(company.secretary_a, company.branch_a, name="光明先锋共产党员服务队")
    teams.add_members(company.secretary_a, t, [company.member_a, company.secretary_member_a])
    return t


def _bearer(user):
    return {"Authorization": f"Bearer {ApiToken.issue(user)}"}


def test_create_team_page(client, company):
    client.force_login(company.secretary_a)
    resp = client.post(reverse("service:team_create"), {"org": company.branch_a.pk, "name": "城关供电所服务队",
                                                        "kind": "party"})
    team = ServiceTeam.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("service:team_detail", args=[team.pk])
    # another branch's organization is not a choice for secretary A
    resp = client.post(reverse("service:team_create"), {"org": company.branch_b.pk, "name": "队", "kind": "party"})
    assert resp.status_code == 200 and ServiceTeam.objects.count() == 1


def test_member_search_and_add(client, company, team):
    extra = make_member(company.branch_a, "周强")
    client.force_login(company.secretary_a)
    resp = client.get(reverse("service:team_detail", args=[team.pk]), {"mq": "zq"})
    assert "周强" in resp.content.decode()
    resp = client.post(reverse("service:team_member_add", args=[team.pk]), {"member": [extra.pk, company.member_b.pk]})
    assert resp.status_code == 302
    # a member of another branch in the same post: nothing added
    assert not TeamMember.objects.filter(team=team, member=extra).exists()
    client.post(reverse("service:team_member_add", args=[team.pk]), {"member": [extra.pk]})
    assert TeamMember.objects.filter(team=team, member=extra).exists()


def test_activity_form_with_default_and_individual_hours(client, company, team):
    client.force_login(company.secretary_a)
    url = reverse("service:service_activity_create", args=[team.pk])
    page = client.get(url).content.decode()
    assert f'name="h_{company.member_a.pk}"' in page
    resp = client.post(url, {"date": "2025-10-09", "title": "走访孤寡老人", "place": "城关镇敬老院",
                             "people_served": "12", "default_hours": "2",
                             "p": [company.member_a.pk, company.secretary_member_a.pk],
                             f"h_{company.secretary_member_a.pk}": "3.5"})
    a = ServiceActivity.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("service:service_activity_detail", args=[a.pk])
    hours = dict(ServiceRecord.objects.values_list("member__name", "hours"))
    assert hours == {"张三": D("2.0"), "李建国": D("3.5")}
    # the detail page shows both, with the total
    html = client.get(resp.url).content.decode()
    assert "5.5" in html and "走访孤寡老人" in html


def test_activity_form_offers_to_add_others(client, company, team):
    make_member(company.branch_a, "周强")
    client.force_login(company.secretary_a)
    url = reverse("service:service_activity_create", args=[team.pk])
    data = {"date": "2025-10-09", "title": "抢修保电", "place": "10kV城关线", "people_served": "0",
            "default_hours": "4", "others": "周强"}
    resp = client.post(url, data)
    assert resp.status_code == 200 and "同时加入服务队" in resp.content.decode()
    assert not ServiceActivity.objects.exists() and not ServiceRecord.objects.exists()
    resp = client.post(url, {**data, "add_missing": "on"})
    assert resp.status_code == 302
    assert ServiceRecord.objects.get().member.name == "周强"
    # a name that is nobody in the subtree
    resp = client.post(url, {**data, "others": "王芳", "add_missing": "on", "title": "再次抢修"})
    assert resp.status_code == 200 and ServiceActivity.objects.count() == 1


def test_activity_list_filters_and_export(client, company, team):
    teams.create_activity(company.secretary_a, team, date=datetime.date(2025, 10, 9), title="用电安全宣传",
                          place="城关社区", people_served=30, participants=[(company.member_a, "2")])
    teams.create_activity(company.secretary_a, team, date=datetime.date(2025, 9, 9), title="义务检查线路",
                          place="城西村", people_served=8, participants=[(company.member_a, "1")])
    client.force_login(company.member_user_a)  # a member of the branch reads
    url = reverse("service:service_activity_list")
    html = client.get(url, {"month": "2025-10"}).content.decode()
    assert "用电安全宣传" in html and "义务检查线路" not in html
    html = client.get(url, {"q": "线路"}).content.decode()
    assert "义务检查线路" in html and "用电安全宣传" not in html
    resp = client.get(url, {"format": "xlsx"})
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.values)
    assert len(rows) == 3 and rows[1][3] == "用电安全宣传" and rows[1][6] == 2
    # secretary B sees none of branch A's
    client.force_login(company.secretary_b)
    assert "用电安全宣传" not in client.get(url).content.decode()


def test_list_queries_do_not_grow(client, company, team, django_assert_max_num_queries):
    for i in range(15):
        teams.create_activity(company.secretary_a, team, date=datetime.date(2025, 10, 1) + datetime.timedelta(days=i),
                              title=f"活动{i}", place="城关", participants=[(company.member_a, "1")])
        teams.create_team(company.secretary_a, company.branch_a, name=f"服务队{i}")
    client.force_login(company.staff)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("service:service_activity_list")).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("service:team_list")).status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(reverse("service:team_detail", args=[team.pk])).status_code == 200


def test_photo_served_only_in_scope(client, company, team):
    a = teams.create_activity(company.secretary_a, team, date=datetime.date(2025, 10, 9), title="宣传",
                              place="社区", participants=[(company.member_a, "1")])
    client.force_login(company.secretary_a)
    resp = client.post(reverse("service:service_activity_photo_add", args=[a.pk]), {"file": jpeg_upload()})
    assert resp.status_code == 302
    photo = a.photos.get()
    client.force_login(company.member_user_a)
    resp = client.get(reverse("service:service_activity_photo", args=[photo.pk]))
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert b"".join(resp.streaming_content)[:2] == b"\xff\xd8"
    client.force_login(company.secretary_b)
    assert client.get(reverse("service:service_activity_photo", args=[photo.pk])).status_code == 404


def test_delete_refused_in_published_month_shows_the_sentence(client, company, team):
    a = teams.create_activity(company.secretary_a, team, date=datetime.date(2026, 10, 9), title="宣传",
                              place="社区", participants=[(company.member_a, "1")])
    publish_month(company)
    client.force_login(company.secretary_a)
    resp = client.post(reverse("service:service_activity_delete", args=[a.pk]), follow=True)
    assert "已公示" in resp.content.decode()
    assert ServiceActivity.objects.filter(pk=a.pk).exists() and ServiceRecord.objects.count() == 1


# ---- API ----------------------------------------------------------------------------------------------------------


def test_api_create_activity_and_patch_participants(client, company, team):
    h = _bearer(company.secretary_a)
    body = {"team_id": team.pk, "date": "2025-10-09", "title": "走访孤寡老人", "place": "城关镇", "people_served": 9,
            "default_hours": "2", "participants": [{"member_id": company.member_a.pk},
                                                   {"member_id": company.secretary_member_a.pk, "hours": "1.5"}]}
    resp = client.post("/api/v1/service-activities", json.dumps(body), content_type="application/json", headers=h)
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert D(str(data["hours"])) == D("3.5")
    assert sorted(p["people_served"] for p in data["participants"]) == [4, 5]
    assert all(p["record_id"] for p in data["participants"])
    resp = client.patch(f"/api/v1/service-activities/{data['id']}",
                        json.dumps({"participants": [{"member_id": company.member_a.pk, "hours": "3"}]}),
                        content_type="application/json", headers=h)
    assert resp.status_code == 200
    assert list(ServiceRecord.objects.values_list("member__name", "hours", "people_served")) == [("张三", D("3.0"), 9)]


def test_api_errors_change_nothing(client, company, team):
    h = _bearer(company.secretary_a)
    base = {"team_id": team.pk, "date": "2025-10-09", "title": "宣传", "place": "社区", "default_hours": "2",
            "participants": [{"member_id": company.member_a.pk}]}
    for bad, field in (({"date": "2099-01-01"}, "date"), ({"default_hours": "30"}, "default_hours"),
                       ({"participants": [{"member_id": company.member_b.pk}]}, "participants"),
                       ({"title": ""}, "title")):
        resp = client.post("/api/v1/service-activities", json.dumps({**base, **bad}),
                           content_type="application/json", headers=h)
        assert resp.status_code == 400, (bad, resp.content)
        assert resp.json()["field"] == field
    assert not ServiceActivity.objects.exists() and not ServiceRecord.objects.exists()
    # another branch's team is 404, not 403
    other = teams.create_team(company.secretary_b, company.branch_b, name="输电服务队")
    resp = client.post("/api/v1/service-activities", json.dumps({**base, "team_id": other.pk}),
                       content_type="application/json", headers=h)
    assert resp.status_code == 404


def test_api_team_members(client, company, team):
    resp = client.get(f"/api/v1/service-teams/{team.pk}/members", headers=_bearer(company.member_user_a))
    assert {m["name"] for m in resp.json()} == {"张三", "李建国"}
    resp = client.get("/api/v1/service-teams", headers=_bearer(company.member_user_a))
    assert resp.json()["count"] == 1 and resp.json()["items"][0]["members"] == 2
    resp = client.get("/api/v1/service-teams", headers=_bearer(company.secretary_b))
    assert resp.json()["count"] == 0
