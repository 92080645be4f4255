"""The JSON API of the month close: finalize (409 while the publicity window is open or when already finalized),
the results in each persona's scope with filters and pagination, one result with its adjustments, adjusting, and
the month's adjustments. The month: tests/assessments/test_close.py's ``month`` fixture."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from dangjian.assessments import close
from dangjian.assessments.close import finalize_period
from dangjian.assessments.models import Adjustment, Result
from tests.assessments.test_api import Api, ok
from tests.assessments.test_close import drive_to_published, end_publicity, month  # noqa: F401 (the fixture)

D = Decimal


@pytest.fixture
def api(client, company):
    return lambda persona: Api(client, getattr(company, persona))


@pytest.fixture
def finalized(company, month):  # noqa: F811 (pytest fixture by name)
    finalize_period(company.staff, month)
    month.refresh_from_db()
    return month


def test_finalize_through_the_api_waits_for_the_publicity_window(api, company, period):
    drive_to_published(company, period, window_over=False)
    until = timezone.localdate() + datetime.timedelta(days=3)
    resp = api("staff").post(f"/periods/{period.pk}/finalize")
    assert resp.status_code == 409 and f"公示期至{until:%Y-%m-%d}" in resp.json()["detail"]
    assert api("secretary_a").post(f"/periods/{period.pk}/finalize").status_code == 404
    end_publicity(period)
    body = ok(api("staff").post(f"/periods/{period.pk}/finalize"))
    assert body["status"] == "finalized" and body["organizations"] == 4 and len(body["digest"]) == 64
    again = api("staff").post(f"/periods/{period.pk}/finalize")
    assert again.status_code == 409 and "不能重复兑现" in again.json()["detail"]


def test_finalize_before_everything_is_published_is_a_400(api, company, period):
    resp = api("staff").post(f"/periods/{period.pk}/finalize")
    assert resp.status_code == 400 and "未处于“已公示”状态" in resp.json()["detail"]


def test_a_period_may_be_opened_without_a_publicity_window(api, company, standard):
    body = ok(api("staff").post("/periods", {
        "owner_id": company.committee.pk, "month": "2026-12", "submit_due": "2026-12-25",
        "self_due": "2026-12-28", "assess_due": "2027-01-05", "objection_days": 0}), 201)
    assert body["objection_days"] == 0


def test_results_are_scoped_filtered_and_paginated(api, company, finalized):
    c = company
    staff = ok(api("staff").get(f"/periods/{finalized.pk}/results"))
    assert staff["count"] == 7
    names = [r["org_name"] for r in staff["items"]]
    assert names.index("运维检修党总支") < names.index("配电运检党支部") < names.index("带电作业党支部")
    a = next(r for r in staff["items"] if r["org_name"] == "变电运维党支部")
    assert (a["total"], a["peer_rank"], a["peer_size"], a["overall_rank"], a["grade"], a["coefficient"],
            a["secretary"], a["adjusted"]) == ("91.5", 2, 4, 4, "B", "1.00", "李建国", False)
    assert a["org_type"] == "production" and a["level"] == "branch"
    page = ok(api("staff").get(f"/periods/{finalized.pk}/results", limit=2, offset=2))
    assert page["count"] == 7 and [r["org_name"] for r in page["items"]] == names[2:4]
    assert ok(api("staff").get(f"/periods/{finalized.pk}/results", grade="B"))["count"] == 2
    assert ok(api("staff").get(f"/periods/{finalized.pk}/results", level="general"))["count"] == 1
    assert ok(api("staff").get(f"/periods/{finalized.pk}/results", type=c.branch_c.type_id))["count"] == 2
    assert ok(api("staff").get(f"/periods/{finalized.pk}/results", q="财务"))["count"] == 1
    overall = ok(api("staff").get(f"/periods/{finalized.pk}/results", sort="overall"))["items"]
    assert [r["overall_rank"] for r in overall] == [1, 2, 3, 4, 4, 6, 7]
    mine = ok(api("secretary_a").get(f"/periods/{finalized.pk}/results"))
    assert [r["org_name"] for r in mine["items"]] == ["变电运维党支部"]
    assert [r["org_name"] for r in ok(api("member_user_a").get(f"/periods/{finalized.pk}/results"))["items"]] == \
        ["变电运维党支部"]
    assert api("outsider").get(f"/periods/{finalized.pk}/results").status_code == 404


def test_results_that_no_longer_match_the_digest_are_a_409(api, company, finalized):
    engine = close.close(finalized)
    with transaction.atomic(), engine.adjusting():
        Result.objects.filter(period=finalized, org=company.branch_c).update(total=D("99.0"))
    resp = api("staff").get(f"/periods/{finalized.pk}/results")
    assert resp.status_code == 409 and "校验值不符" in resp.json()["detail"]
    result = Result.objects.get(period=finalized, org=company.branch_a)
    assert api("staff").get(f"/results/{result.pk}").status_code == 409


def test_results_of_a_month_not_finalized_are_a_409(api, company, period):
    resp = api("staff").get(f"/periods/{period.pk}/results")
    assert resp.status_code == 409 and "尚未兑现" in resp.json()["detail"]


def test_one_result_with_its_peer_group_and_adjustments(api, company, finalized):
    c = company
    result = Result.objects.get(period=finalized, org=c.branch_e)
    body = ok(api("staff").post(f"/results/{result.pk}/adjustments",
                                {"new_total": "93.0", "reason": "复核发现带电作业记录漏报。"}), 201)
    assert (body["adjustment"]["old_total"], body["adjustment"]["new_total"]) == ("80.0", "93.0")
    assert body["adjustment"]["by"] == "党建部" and body["result"]["peer_rank"] == 2
    assert body["result"]["grade"] == "B" and body["result"]["adjusted"] is True
    detail = ok(api("staff").get(f"/results/{result.pk}"))
    assert detail["total"] == "93.0" and detail["adjusted"] is True
    assert detail["peer_group"]["count"] == 4 and detail["peer_group"]["avg"] == "93.75"
    assert [a["reason"] for a in detail["adjustments"]] == ["复核发现带电作业记录漏报。"]
    listed = ok(api("staff").get(f"/periods/{finalized.pk}/adjustments"))
    assert listed["count"] == 1 and listed["items"][0]["org_name"] == "带电作业党支部"
    assert ok(api("secretary_b").get(f"/periods/{finalized.pk}/adjustments"))["count"] == 0
    # Scope: branch E's result is not branch A's secretary's.
    assert api("secretary_a").get(f"/results/{result.pk}").status_code == 404
    mine = Result.objects.get(period=finalized, org=c.branch_a)
    assert ok(api("secretary_a").get(f"/results/{mine.pk}"))["peer_rank"] == 3


@pytest.mark.parametrize(("body", "status", "text"), [
    ({"new_total": "90.0", "reason": " "}, 400, "调整理由"),
    ({"new_total": "80.0", "reason": "复核"}, 400, "相同"),
    ({"new_total": "100.5", "reason": "复核"}, 400, "之间"),
    ({"new_total": "90.0", "reason": "长" * 501}, 422, ""),
])
def test_a_wrong_adjustment_is_refused(api, company, finalized, body, status, text):
    result = Result.objects.get(period=finalized, org=company.branch_e)
    resp = api("staff").post(f"/results/{result.pk}/adjustments", body)
    assert resp.status_code == status
    if status == 400:
        assert text in resp.json()["detail"] and resp.json()["field"] in ("reason", "new_total")
    assert not Adjustment.objects.exists()
    for persona in ("secretary_a", "assessor", "outsider"):
        assert api(persona).post(f"/results/{result.pk}/adjustments",
                                 {"new_total": "90.0", "reason": "复核"}).status_code == 404
