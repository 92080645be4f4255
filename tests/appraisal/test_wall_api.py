"""The wall's JSON API: GET /api/v1/walls/{org_id} (the wall page's access) and /api/v1/wall-feedback (the inbox's
access), with the same refusals as the pages: outside one's scope is 404; bad input is 400 with a Chinese sentence
and changes nothing."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.appraisal.models import WallFeedback
from dangjian.core.models import ApiToken
from dangjian.orgs.models import Pledge
from dangjian.standards.models import MemberStandardSet
from tests.appraisal.test_wall import give_photo, many_members, publish_month

D = Decimal


def api(client, user, method, path, body=None, **query):
    headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"} if user is not None else {}
    url = "/api/v1" + path
    if method == "get":
        return client.get(url, query, headers=headers)
    return client.post(url, json.dumps(body or {}), content_type="application/json", headers=headers)


@pytest.fixture
def world(company):
    c = company
    give_photo(c.member_a)
    Pledge.objects.create(member=c.member_a, year=2026, text="全年零违章。")
    publish_month(c, c.branch_a, [c.member_a, c.secretary_member_a],
                  totals={c.member_a: D("88.0"), c.secretary_member_a: D("92.5")})
    c.fb_a = WallFeedback.objects.create(org=c.branch_a, member=c.member_a, kind="praise", text="抢修及时，点赞。",
                                         contact="13912345678", client_hash="1" * 64)
    c.fb_b = WallFeedback.objects.create(org=c.branch_b, kind="complaint", text="施工噪音扰民。",
                                         client_hash="2" * 64)
    return c


@pytest.mark.parametrize("persona", ["admin", "staff", "secretary_a", "member_user_a"])
def test_wall_api_gives_the_published_month(client, world, persona):
    resp = api(client, getattr(world, persona), "get", f"/walls/{world.branch_a.pk}")
    assert resp.status_code == 200
    data = resp.json()
    assert data["month"] == "2026-10" and data["months"] == ["2026-10"] and data["public_ranking"] is False
    assert data["count"] == 2 and data["average"] == "90.3"
    assert [m["name"] for m in data["members"]] == ["李建国", "张三"]
    zhang = data["members"][1]
    assert zhang == {"member_id": world.member_a.pk, "name": "张三", "post": world.member_a.post,
                     "pledge": "全年零违章。", "total": "88.0", "qualified": True, "rank": None,
                     "photo_url": f"/appraisal/wall/{world.branch_a.pk}/photo/{world.member_a.pk}/"}
    assert data["members"][0]["photo_url"] is None
    assert world.member_a.phone not in resp.content.decode()


def test_wall_api_ranks_when_the_month_shows_ranks(client, world):
    MemberStandardSet.objects.update(public_ranking=True)
    data = api(client, world.staff, "get", f"/walls/{world.branch_a.pk}").json()
    assert [(m["name"], m["rank"]) for m in data["members"]] == [("李建国", 1), ("张三", 2)]


@pytest.mark.parametrize("persona", ["secretary_b", "assessor", "outsider"])
def test_wall_api_is_404_outside_the_scope(client, world, persona):
    assert api(client, getattr(world, persona), "get", f"/walls/{world.branch_a.pk}").status_code == 404


def test_wall_api_needs_a_token(client, world):
    assert api(client, None, "get", f"/walls/{world.branch_a.pk}").status_code == 401


def test_wall_api_month_bad_format_is_400_and_unpublished_is_404(client, world):
    resp = api(client, world.staff, "get", f"/walls/{world.branch_a.pk}", month="2026/10")
    assert resp.status_code == 400 and resp.json() == {"detail": "月份格式应为 YYYY-MM，例如 2026-10。",
                                                       "field": "month"}
    assert api(client, world.staff, "get", f"/walls/{world.branch_a.pk}", month="2026-09").status_code == 404
    assert api(client, world.staff, "get", f"/walls/{world.branch_a.pk}", month="2026-10").status_code == 200


def test_wall_api_of_a_branch_without_results_is_empty(client, world):
    data = api(client, world.secretary_b, "get", f"/walls/{world.branch_b.pk}").json()
    assert data["month"] is None and data["members"] == [] and data["count"] == 0


def test_wall_api_uses_the_same_number_of_queries_for_5_and_30_members(client, company):
    c = company
    publish_month(c, c.branch_a, many_members(c.branch_a, 5))
    publish_month(c, c.branch_b, many_members(c.branch_b, 30, start=5))
    counts = []
    for org in (c.branch_a, c.branch_b):
        token = ApiToken.issue(c.staff)
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(f"/api/v1/walls/{org.pk}", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 8


# ---- feedback --------------------------------------------------------------------------------------------------------


def test_feedback_list_is_scoped_and_masks_the_contact(client, world):
    data = api(client, world.secretary_a, "get", "/wall-feedback").json()
    assert data["count"] == 1
    item = data["items"][0]
    assert item["text"] == "抢修及时，点赞。" and item["contact"] == "139****5678" and item["member_name"] == "张三"
    assert api(client, world.staff, "get", "/wall-feedback").json()["count"] == 2
    assert api(client, world.staff, "get", "/wall-feedback", kind="complaint").json()["count"] == 1
    assert api(client, world.staff, "get", "/wall-feedback", org_id=world.branch_b.pk).json()["count"] == 1
    assert api(client, world.staff, "get", "/wall-feedback", status="unread").json()["count"] == 2
    assert api(client, world.secretary_b, "get", "/wall-feedback", org_id=world.branch_a.pk).status_code == 404


@pytest.mark.parametrize("persona", ["member_user_a", "assessor", "outsider"])
def test_feedback_api_is_for_those_who_manage_the_wall(client, world, persona):
    user = getattr(world, persona)
    assert api(client, user, "get", "/wall-feedback").json()["count"] == 0
    assert api(client, user, "get", f"/wall-feedback/{world.fb_a.pk}").status_code == 404
    assert api(client, user, "post", f"/wall-feedback/{world.fb_a.pk}/handle", {"reply": "已处理"}).status_code == 404


def test_feedback_detail_has_the_whole_contact_and_another_branch_is_404(client, world):
    assert api(client, world.secretary_a, "get", f"/wall-feedback/{world.fb_a.pk}").json()["contact"] == "13912345678"
    assert api(client, world.secretary_b, "get", f"/wall-feedback/{world.fb_a.pk}").status_code == 404
    assert api(client, world.secretary_b, "post", f"/wall-feedback/{world.fb_a.pk}/read").status_code == 404


def test_mark_read_and_handle_through_the_api(client, world):
    c = world
    resp = api(client, c.secretary_a, "post", f"/wall-feedback/{c.fb_a.pk}/read")
    assert resp.status_code == 200 and resp.json()["read_at"] is not None
    resp = api(client, c.secretary_a, "post", f"/wall-feedback/{c.fb_a.pk}/handle", {"reply": "已转告本人。"})
    data = resp.json()
    assert resp.status_code == 200 and data["reply"] == "已转告本人。" and data["handled_by"] == "secretary_a"
    c.fb_a.refresh_from_db()
    assert c.fb_a.handled_at is not None


def test_handle_with_a_bad_reply_is_400_and_changes_nothing(client, world):
    resp = api(client, world.secretary_a, "post", f"/wall-feedback/{world.fb_a.pk}/handle", {"reply": " 好 "})
    assert resp.status_code == 400 and resp.json()["field"] == "reply" and "处理情况" in resp.json()["detail"]
    world.fb_a.refresh_from_db()
    assert world.fb_a.reply == "" and world.fb_a.handled_at is None and world.fb_a.read_at is None
