"""The JSON API of the monthly member evaluation: the same scoping as the pages (a member sees only their own month,
a secretary their branch's, an outsider 404), the whole cycle self → submit → determine → publish → results,
409 on a concurrent change and Chinese 400s on bad input with nothing saved. Personas: tests/conftest.py; the
member set and the month: tests/appraisal/conftest.py."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.appraisal import services
from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    MemberEvaluation,
    MemberLine,
    MemberResult,
    PeriodStatus,
)
from dangjian.core.models import ApiToken
from tests.appraisal.conftest import line, open_month

BASE = "/api/v1"
D = Decimal


class Api:
    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"} if user is not None else {}

    def get(self, path, **params):
        return self.client.get(BASE + path, params, headers=self.headers)

    def send(self, method, path, body=None):
        return getattr(self.client, method)(BASE + path, data=json.dumps(body or {}), content_type="application/json",
                                            headers=self.headers)

    def post(self, path, body=None):
        return self.send("post", path, body)

    def put(self, path, body=None):
        return self.send("put", path, body)


@pytest.fixture
def api(client, company):
    return lambda persona: Api(client, getattr(company, persona) if persona != "anonymous" else None)


def ok(resp, status=200):
    assert resp.status_code == status, resp.content.decode()[:500]
    return resp.json()


def refused(resp, status, text, field="-"):
    assert resp.status_code == status, resp.content.decode()[:500]
    body = resp.json()
    assert text in body["detail"], body
    if field != "-":
        assert body["field"] == field, body
    return body


def items_by_code(api_user, evaluation_id):
    return {it["code"]: it for it in ok(api_user.get(f"/member-evaluations/{evaluation_id}/items"))}


# ---- periods -------------------------------------------------------------------------------------------


def test_periods_are_listed_to_those_they_cover_and_paginate(api, company, appraisal_period):
    open_month(company, "2026-11")
    staff = ok(api("staff").get("/appraisal-periods"))
    assert staff["count"] == 2 and [p["month"] for p in staff["items"]] == ["2026-11", "2026-10"]
    first = ok(api("staff").get("/appraisal-periods", limit=1))
    second = ok(api("staff").get("/appraisal-periods", limit=1, offset=1))
    assert first["count"] == 2 and [p["month"] for p in first["items"] + second["items"]] == ["2026-11", "2026-10"]
    for persona in ("secretary_a", "secretary_b", "member_user_a"):
        assert ok(api(persona).get("/appraisal-periods"))["count"] == 2, persona
    for persona in ("assessor", "outsider"):
        assert ok(api(persona).get("/appraisal-periods"))["count"] == 0, persona
    assert api("anonymous").get("/appraisal-periods").status_code == 401
    october = ok(api("staff").get("/appraisal-periods", month="2026-10"))
    assert [p["id"] for p in october["items"]] == [appraisal_period.pk]
    assert october["items"][0]["owner"]["id"] == company.committee.pk
    assert october["items"][0]["standard_set"]["year"] == 2026
    assert ok(api("staff").get("/appraisal-periods", status="closed"))["count"] == 0
    assert ok(api("staff").get("/appraisal-periods", owner_id=company.branch_a.pk))["count"] == 0
    refused(api("staff").get("/appraisal-periods", month="2026-13"), 400, "月份格式应为", "month")


def test_staff_open_a_month_and_others_cannot(api, company, member_set):
    body = {"owner_id": company.committee.pk, "month": "2026-10", "self_due": "2026-10-25",
            "determine_due": "2026-10-28"}
    for persona in ("secretary_a", "secretary_b", "member_user_a", "assessor", "outsider"):
        assert api(persona).post("/appraisal-periods", body).status_code == 404, persona
    assert api("anonymous").post("/appraisal-periods", body).status_code == 401
    assert not AppraisalPeriod.objects.exists()
    created = ok(api("staff").post("/appraisal-periods", body), 201)
    assert created["month"] == "2026-10" and created["status"] == "open" and created["can_manage"] is True
    assert created["total"] == 4 and created["counts"]["not_started"] == 4
    assert [b["org"]["name"] for b in created["branches"]] == ["变电运维党支部", "输电运检党支部", "机关第一党支部"]
    assert MemberEvaluation.objects.count() == 4


def test_opening_a_month_with_bad_input_says_what_is_wrong_in_chinese_and_creates_nothing(api, company, member_set):
    staff = api("staff")
    body = {"owner_id": company.committee.pk, "month": "2026-10", "self_due": "2026-10-25",
            "determine_due": "2026-10-28"}
    refused(staff.post("/appraisal-periods", {**body, "determine_due": "2026-10-20"}), 400, "截止日期应依次为",
            "self_due")
    refused(staff.post("/appraisal-periods", {**body, "month": "2026-13"}), 400, "月份格式应为", "month")
    refused(staff.post("/appraisal-periods", {**body, "month": "2027-01", "self_due": "2027-01-25",
                                              "determine_due": "2027-01-28"}), 400, "没有可用的2027年党员评价标准", None)
    assert not AppraisalPeriod.objects.exists() and not MemberEvaluation.objects.exists()
    ok(staff.post("/appraisal-periods", body), 201)
    refused(staff.post("/appraisal-periods", body), 400, "不能重复开启", "month")
    refused(staff.post("/appraisal-periods", {**body, "owner_id": company.general.pk}), 400, "覆盖", "owner_id")
    assert AppraisalPeriod.objects.count() == 1 and MemberEvaluation.objects.count() == 4


def test_period_detail_shows_each_branchs_progress_within_the_users_scope(api, company, appraisal_period):
    url = f"/appraisal-periods/{appraisal_period.pk}"
    staff = ok(api("staff").get(url))
    assert staff["total"] == 4 and staff["exempt"] == 0 and len(staff["branches"]) == 3
    branch_a = staff["branches"][0]
    assert branch_a["org"]["id"] == company.branch_a.pk and branch_a["total"] == 2
    assert branch_a["counts"]["not_started"] == 2 and not branch_a["ready"] and not branch_a["published"]
    mine = ok(api("secretary_a").get(url))
    assert [b["org"]["id"] for b in mine["branches"]] == [company.branch_a.pk] and mine["total"] == 2
    assert mine["can_manage"] is False
    assert [b["org"]["id"] for b in ok(api("secretary_b").get(url))["branches"]] == [company.branch_b.pk]
    own = ok(api("member_user_a").get(url))
    assert own["total"] == 1 and own["can_manage"] is False
    for persona in ("assessor", "outsider"):
        assert api(persona).get(url).status_code == 404, persona
    assert api("staff").get("/appraisal-periods/999999").status_code == 404


# ---- member evaluations: scoping -----------------------------------------------------------------------


def test_a_member_sees_only_their_own_month_and_a_secretary_their_branchs(api, company, appraisal_period):
    names = {p: [e["member"]["name"] for e in ok(api(p).get("/member-evaluations"))["items"]]
             for p in ("staff", "admin", "secretary_a", "secretary_b", "member_user_a", "assessor", "outsider")}
    assert sorted(names["staff"]) == sorted(["张三", "李建国", "王芳", "赵敏"]) == sorted(names["admin"])
    assert sorted(names["secretary_a"]) == ["张三", "李建国"]
    assert names["secretary_b"] == ["王芳"]
    assert names["member_user_a"] == ["张三"]
    assert names["assessor"] == [] and names["outsider"] == []
    assert api("anonymous").get("/member-evaluations").status_code == 401


def test_member_evaluations_filter_and_paginate(api, company, appraisal_period):
    staff = api("staff")
    assert ok(staff.get("/member-evaluations", period_id=appraisal_period.pk))["count"] == 4
    assert ok(staff.get("/member-evaluations", period_id=999999))["count"] == 0
    assert ok(staff.get("/member-evaluations", org_id=company.general.pk))["count"] == 3
    assert ok(staff.get("/member-evaluations", org_id=company.branch_c.pk))["items"][0]["member"]["name"] == "赵敏"
    assert ok(staff.get("/member-evaluations", member_id=company.member_b.pk))["items"][0]["org"]["name"] == \
        "输电运检党支部"
    assert ok(staff.get("/member-evaluations", state="determined"))["count"] == 0
    assert ok(staff.get("/member-evaluations", state="not_started"))["count"] == 4
    # A filter outside the user's scope yields nothing, not someone else's members.
    assert ok(api("secretary_b").get("/member-evaluations", org_id=company.branch_a.pk))["count"] == 0
    assert ok(api("member_user_a").get("/member-evaluations", member_id=company.member_b.pk))["count"] == 0
    page1 = ok(staff.get("/member-evaluations", limit=3))
    page2 = ok(staff.get("/member-evaluations", limit=3, offset=3))
    assert page1["count"] == page2["count"] == 4 and (len(page1["items"]), len(page2["items"])) == (3, 1)
    assert not {e["id"] for e in page1["items"]} & {e["id"] for e in page2["items"]}
    assert staff.get("/member-evaluations", limit=0).status_code == 422


def test_another_members_or_another_branchs_month_is_not_found(api, company, appraisal_period, eval_a):
    ev_b = appraisal_period.evaluations.get(member=company.member_b)
    j1_b = line(ev_b, "J1")
    j1_a = line(eval_a, "J1")
    cases = [
        ("member_user_a", ev_b, j1_b), ("secretary_b", eval_a, j1_a), ("secretary_a", ev_b, j1_b),
        ("assessor", eval_a, j1_a), ("outsider", eval_a, j1_a),
    ]
    for persona, ev, ln in cases:
        a = api(persona)
        for resp in (a.get(f"/member-evaluations/{ev.pk}"), a.get(f"/member-evaluations/{ev.pk}/items"),
                     a.get(f"/member-evaluations/{ev.pk}/transitions"),
                     a.put(f"/member-evaluations/{ev.pk}/items/{ln.pk}/self", {"count": 1, "claim": "x"}),
                     a.put(f"/member-evaluations/{ev.pk}/items/{ln.pk}/determination", {"count": 1, "reason": "x"}),
                     a.post(f"/member-evaluations/{ev.pk}/transitions", {"to_state": "self_evaluated"}),
                     a.post(f"/member-evaluations/{ev.pk}/exempt", {"exempt": True, "reason": "长期外出"})):
            assert resp.status_code == 404, (persona, resp.request["PATH_INFO"], resp.content[:200])
            assert resp.json()["detail"] == "未找到该对象，或您无权访问。"
    # A line of another evaluation under one's own evaluation's address is not found either.
    assert api("member_user_a").put(f"/member-evaluations/{eval_a.pk}/items/{j1_b.pk}/self",
                                    {"count": 1, "claim": "x"}).status_code == 404
    assert MemberLine.objects.filter(self_count__gt=0, part="bonus").count() == 0
    assert not MemberEvaluation.objects.filter(exempt=True).exists()


def test_a_member_cannot_determine_exempt_or_publish_their_own_month(api, company, appraisal_period, eval_a):
    me = api("member_user_a")
    j1 = line(eval_a, "J1")
    assert me.put(f"/member-evaluations/{eval_a.pk}/items/{j1.pk}/determination",
                  {"count": 0, "reason": "x"}).status_code == 404
    assert me.post(f"/member-evaluations/{eval_a.pk}/exempt", {"exempt": True, "reason": "x"}).status_code == 404
    assert me.post(f"/member-evaluations/{eval_a.pk}/transitions", {"to_state": "determined"}).status_code == 404
    assert me.post(f"/appraisal-periods/{appraisal_period.pk}/branches/{company.branch_a.pk}/publish"
                   ).status_code == 404
    eval_a.refresh_from_db()
    assert eval_a.state == AState.NOT_STARTED and line(eval_a, "J1").count is None


# ---- member evaluations: reading and writing -----------------------------------------------------------


def test_the_items_show_the_standard_and_both_reports(api, company, eval_a):
    items = ok(api("member_user_a").get(f"/member-evaluations/{eval_a.pk}/items"))
    assert [it["code"] for it in items] == ["B1", "B2", "B3", "J1", "J2", "J3", "K1", "V1"]
    b1, b3, j2 = items[0], items[2], items[4]
    assert (b1["part"], b1["part_label"], b1["dimension"], b1["dimension_label"]) == (
        "base", "基础分", "politics", "讲政治有信念")
    assert b1["text"] == "按时参加组织生活" and D(b1["item_points"]) == D("40")
    assert b1["prefill_count"] == 0 and b3["prefill_count"] is None and D(b1["self_points"]) == D("40")
    assert j2["evidence_required"] is True and j2["count"] is None and j2["points"] is None
    assert {"self_count", "claim", "reason", "version", "updated_by", "updated_at"} <= set(b1)


def test_a_member_self_evaluates_and_a_stale_version_is_refused_with_nothing_saved(api, company, eval_a):
    me, sec = api("member_user_a"), api("secretary_a")
    j1 = items_by_code(me, eval_a.pk)["J1"]
    saved = ok(me.put(f"/member-evaluations/{eval_a.pk}/items/{j1['id']}/self",
                      {"count": 2, "claim": "讲微党课两次", "version": j1["version"]}))
    assert saved["self_count"] == 2 and D(saved["self_points"]) == D("4") and saved["claim"] == "讲微党课两次"
    assert saved["version"] == j1["version"] + 1 and saved["updated_by"]
    detail = ok(me.get(f"/member-evaluations/{eval_a.pk}"))
    assert D(detail["self_total"]) == D("64") and D(detail["totals"]["self_total"]) == D("64")
    assert detail["totals"]["total"] is None and detail["can_self_edit"] is True and detail["can_determine"] is False
    version = detail["version"]
    # The secretary, working from the page loaded before the member saved, is told and changes nothing.
    stale = refused(sec.put(f"/member-evaluations/{eval_a.pk}/items/{j1['id']}/self",
                            {"count": 1, "claim": "一次", "version": j1["version"]}), 409, "已被")
    assert "请刷新后再保存" in stale["detail"]
    stale = refused(sec.put(f"/member-evaluations/{eval_a.pk}/items/{j1['id']}/determination",
                            {"count": 1, "reason": "记录只有一次", "version": j1["version"]}), 409, "已被")
    ln = MemberLine.objects.get(pk=j1["id"])
    assert (ln.self_count, ln.claim, ln.count, ln.version) == (2, "讲微党课两次", None, saved["version"])
    eval_a.refresh_from_db()
    assert eval_a.version == version


def test_bad_input_gives_a_chinese_400_and_saves_nothing(api, company, eval_a):
    me, sec = api("member_user_a"), api("secretary_a")
    items = items_by_code(me, eval_a.pk)
    url = f"/member-evaluations/{eval_a.pk}"
    before = {ln.pk: (ln.self_count, ln.claim, ln.count, ln.reason, ln.version) for ln in eval_a.lines.all()}
    refused(me.put(f"{url}/items/{items['J1']['id']}/self", {"count": 100, "claim": "x"}), 400, "次数应为 0 至 99",
            "count")
    refused(me.put(f"{url}/items/{items['J1']['id']}/self", {"count": -1, "claim": "x"}), 400, "次数应为", "count")
    refused(me.put(f"{url}/items/{items['V1']['id']}/self", {"count": 2}), 400, "一票否决项", "count")
    refused(me.put(f"{url}/items/{items['J1']['id']}/self", {"count": 1, "claim": "长" * 501}), 400,
            "说明不能超过500字", "claim")
    refused(sec.put(f"{url}/items/{items['J1']['id']}/determination", {"count": 1}), 400, "请写明理由", "reason")
    refused(sec.put(f"{url}/items/{items['J1']['id']}/determination", {"count": 1, "reason": "理" * 501}), 400,
            "理由不能超过500字", "reason")
    refused(sec.post(f"{url}/exempt", {"exempt": True, "reason": " "}), 400, "请写明免于评价的原因", "reason")
    refused(sec.post(f"{url}/transitions", {"to_state": "published"}), 400, "不能执行该操作")
    refused(me.post(f"{url}/transitions", {"to_state": "not_started"}), 400, "不能执行该操作")
    assert me.post(f"{url}/transitions", {"to_state": "finished"}).status_code == 422
    assert me.put(f"{url}/items/{items['J1']['id']}/self", {"count": "两次"}).status_code == 422
    # A bonus reported without a remark cannot be submitted.
    ok(me.put(f"{url}/items/{items['K1']['id']}/self", {"count": 1}))
    refused(me.post(f"{url}/transitions", {"to_state": "self_evaluated"}), 400, "请写明事由")
    eval_a.refresh_from_db()
    assert eval_a.state == AState.NOT_STARTED and not eval_a.exempt and not eval_a.transitions.exists()
    after = {ln.pk: (ln.self_count, ln.claim, ln.count, ln.reason, ln.version) for ln in eval_a.lines.all()}
    del before[items["K1"]["id"]], after[items["K1"]["id"]]
    assert after == before


def test_transitions_list_what_the_user_may_do_and_the_history(api, company, eval_a):
    me, sec = api("member_user_a"), api("secretary_a")
    url = f"/member-evaluations/{eval_a.pk}/transitions"
    assert ok(me.get(url)) == {"available": [{"to_state": "self_evaluated", "label": "提交自评"}], "history": []}
    assert [t["to_state"] for t in ok(sec.get(url))["available"]] == ["self_evaluated", "determined"]
    ok(me.post(url, {"to_state": "self_evaluated", "note": "请支部审核"}))
    moved = ok(me.get(url))
    assert moved["available"] == [{"to_state": "not_started", "label": "撤回自评"}]
    assert [(h["from_state"], h["to_state"], h["note"]) for h in moved["history"]] == [
        ("not_started", "self_evaluated", "请支部审核")]
    assert moved["history"][0]["by"]
    refused(me.put(f"/member-evaluations/{eval_a.pk}/items/{line(eval_a, 'J1').pk}/self", {"count": 1}), 400,
            "自评已提交")
    ok(me.post(url, {"to_state": "not_started"}))
    assert [t["to_state"] for t in ok(me.get(url))["history"]] == ["self_evaluated", "not_started"]


def test_the_branch_exempts_a_member_with_a_reason(api, company, appraisal_period):
    ev = appraisal_period.evaluations.get(member=company.secretary_member_a)
    sec = api("secretary_a")
    detail = ok(sec.post(f"/member-evaluations/{ev.pk}/exempt", {"exempt": True, "reason": "长期外出务工的流动党员"}))
    assert detail["exempt"] is True and detail["exempt_reason"] == "长期外出务工的流动党员"
    assert detail["transitions"] == [] and detail["can_self_edit"] is False
    progress = ok(sec.get(f"/appraisal-periods/{appraisal_period.pk}"))["branches"][0]
    assert progress["exempt"] == 1 and progress["counts"]["not_started"] == 1
    back = ok(sec.post(f"/member-evaluations/{ev.pk}/exempt", {"exempt": False}))
    assert back["exempt"] is False and back["exempt_reason"] == ""


# ---- the whole cycle -----------------------------------------------------------------------------------


def test_the_whole_cycle_through_the_api(api, company, appraisal_period, eval_a):
    me, sec, staff = api("member_user_a"), api("secretary_a"), api("staff")
    ev_url = f"/member-evaluations/{eval_a.pk}"
    period_url = f"/appraisal-periods/{appraisal_period.pk}"
    # 党员自评: a 党课 claimed, submitted.
    j1 = items_by_code(me, eval_a.pk)["J1"]
    ok(me.put(f"{ev_url}/items/{j1['id']}/self", {"count": 1, "claim": "10月讲授微党课一次", "version": j1["version"]}))
    detail = ok(me.post(f"{ev_url}/transitions", {"to_state": "self_evaluated"}))
    assert detail["state"] == "self_evaluated" and D(detail["self_total"]) == D("62")
    # 支部评定: the 党课 confirmed, a deduction found, then the month determined with a remark.
    items = items_by_code(sec, eval_a.pk)
    ok(sec.put(f"{ev_url}/items/{items['J1']['id']}/determination", {"count": 1, "version": items["J1"]["version"]}))
    k1 = ok(sec.put(f"{ev_url}/items/{items['K1']['id']}/determination",
                    {"count": 1, "reason": "10月8日作业未系安全带", "version": items["K1"]["version"]}))
    assert D(k1["points"]) == D("-3") and k1["reason"] == "10月8日作业未系安全带"
    detail = ok(sec.post(f"{ev_url}/transitions", {"to_state": "determined", "note": "同意，注意安全"}))
    assert detail["state"] == "determined" and detail["branch_note"] == "同意，注意安全"
    totals = detail["totals"]
    assert [D(totals[k]) for k in ("base", "bonus", "deduction", "branch_total", "total")] == [
        D("60"), D("2"), D("3"), D("59"), D("59")]
    assert totals["qualified"] is False and totals["vetoed"] is False
    # The secretary's own month, determined directly as it stands.
    ev_s = appraisal_period.evaluations.get(member=company.secretary_member_a)
    ok(sec.post(f"/member-evaluations/{ev_s.pk}/transitions", {"to_state": "determined"}))
    assert ok(sec.get(period_url))["branches"][0]["ready"] is True
    # 公示: the branch publishes; its month is locked.
    assert sec.post(f"{period_url}/branches/{company.branch_b.pk}/publish").status_code == 404
    aggregate = ok(sec.post(f"{period_url}/branches/{company.branch_a.pk}/publish"))
    assert (aggregate["count"], D(aggregate["avg"]), D(aggregate["min"]), D(aggregate["max"]),
            aggregate["unqualified"]) == (2, D("59.5"), D("59"), D("60"), 1)
    refused(sec.post(f"{period_url}/branches/{company.branch_a.pk}/publish"), 400, "已公示")
    refused(me.put(f"{ev_url}/items/{j1['id']}/self", {"count": 2, "claim": "x"}), 400, "已公示并锁定")
    refused(sec.put(f"{ev_url}/items/{items['J1']['id']}/determination", {"count": 0, "reason": "x"}), 400,
            "已公示并锁定")
    published = ok(me.get(ev_url))
    assert published["state"] == "published" and published["transitions"] == []
    assert D(published["totals"]["total"]) == D("59")
    # Results: the member sees their own, with the rank in the branch.
    mine = ok(me.get("/member-results"))
    assert mine["count"] == 1
    r = mine["items"][0]
    assert (r["member"]["name"], r["month"], D(r["total"]), D(r["deduction"]), r["rank"], r["branch_size"],
            r["qualified"]) == ("张三", "2026-10", D("59"), D("3"), 2, 2, False)
    assert ok(sec.get("/member-results"))["count"] == 2
    # The month closes once every branch is determined: the staff publish the rest with the close.
    refused(staff.post(f"{period_url}/close"), 400, "尚未评定")
    for name in ("王芳", "赵敏"):
        ev = appraisal_period.evaluations.get(member_name=name)
        ok(staff.post(f"/member-evaluations/{ev.pk}/transitions", {"to_state": "determined"}))
    closed = ok(staff.post(f"{period_url}/close"))
    assert closed["status"] == "closed" and closed["closed_at"] and closed["counts"]["published"] == 4
    assert all(b["published"] for b in closed["branches"])
    assert ok(staff.get("/member-results", period_id=appraisal_period.pk))["count"] == 4
    assert AppraisalPeriod.objects.get(pk=appraisal_period.pk).status == PeriodStatus.CLOSED
    refused(staff.post(f"{period_url}/close"), 400, "已结束")


def test_staff_publish_every_ready_branch_at_once(api, company, appraisal_period):
    staff = api("staff")
    url = f"/appraisal-periods/{appraisal_period.pk}/publish-ready"
    for persona in ("secretary_a", "secretary_b", "member_user_a", "assessor", "outsider"):
        assert api(persona).post(url).status_code == 404, persona
        assert api(persona).post(f"/appraisal-periods/{appraisal_period.pk}/close").status_code == 404, persona
    assert ok(staff.post(url)) == {"published": 0}
    ev_b = appraisal_period.evaluations.get(member=company.member_b)
    ok(api("secretary_b").post(f"/member-evaluations/{ev_b.pk}/transitions", {"to_state": "determined"}))
    assert ok(staff.post(url)) == {"published": 1}
    assert list(BranchAggregate.objects.values_list("org_id", flat=True)) == [company.branch_b.pk]
    progress = {b["org"]["id"]: b for b in ok(staff.get(f"/appraisal-periods/{appraisal_period.pk}"))["branches"]}
    assert progress[company.branch_b.pk]["published"] and not progress[company.branch_a.pk]["published"]


def test_a_branch_is_published_only_by_its_own_secretary_and_when_everyone_is_determined(api, company,
                                                                                          appraisal_period):
    url = f"/appraisal-periods/{appraisal_period.pk}/branches/{company.branch_a.pk}/publish"
    refused(api("secretary_a").post(url), 400, "以下党员尚未评定，不能公示")
    for persona in ("secretary_b", "member_user_a", "assessor", "outsider"):
        assert api(persona).post(url).status_code == 404, persona
    assert api("anonymous").post(url).status_code == 401
    # An organization outside the month's subtree is not found under it.
    other = services.open_period(company.staff, company.branch_a, "2026-11", self_due=datetime.date(2026, 11, 25),
                                 determine_due=datetime.date(2026, 11, 28))
    for org_id in (company.branch_b.pk, 999999):
        assert api("staff").post(f"/appraisal-periods/{other.pk}/branches/{org_id}/publish").status_code == 404
    assert not MemberResult.objects.exists() and not BranchAggregate.objects.exists()


# ---- results -------------------------------------------------------------------------------------------


def test_results_are_scoped_and_filtered(api, company, published_month):
    counts = {p: ok(api(p).get("/member-results"))["count"]
              for p in ("staff", "secretary_a", "secretary_b", "member_user_a", "assessor", "outsider")}
    assert counts == {"staff": 2, "secretary_a": 2, "secretary_b": 0, "member_user_a": 1, "assessor": 0,
                      "outsider": 0}
    staff = api("staff")
    assert ok(staff.get("/member-results", month="2026-10"))["count"] == 2
    assert ok(staff.get("/member-results", month="2026-09"))["count"] == 0
    assert ok(staff.get("/member-results", org_id=company.branch_b.pk))["count"] == 0
    assert ok(staff.get("/member-results", org_id=company.general.pk))["count"] == 2
    only = ok(staff.get("/member-results", member_id=company.member_a.pk, period_id=published_month.pk))
    assert [(r["member"]["name"], D(r["total"]), r["rank"]) for r in only["items"]] == [("张三", D("62"), 1)]
    page = ok(staff.get("/member-results", limit=1, offset=1))
    assert page["count"] == 2 and [r["rank"] for r in page["items"]] == [2]
    refused(staff.get("/member-results", month="十月"), 400, "月份格式应为", "month")
    assert api("anonymous").get("/member-results").status_code == 401


# ---- cost ----------------------------------------------------------------------------------------------


def _queries(client_api, path, **params):
    with CaptureQueriesContext(connection) as ctx:
        ok(client_api.get(path, **params))
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", ["/member-evaluations", "/member-results", "/appraisal-periods"])
def test_lists_cost_the_same_number_of_queries_whatever_the_page_size(api, company, published_month, path):
    open_month(company, "2026-11")
    staff = api("staff")
    assert _queries(staff, path, limit=1) == _queries(staff, path, limit=50)


def test_detail_and_items_cost_a_constant_number_of_queries(api, company, published_month,
                                                              django_assert_max_num_queries):
    staff = api("staff")
    ev = published_month.evaluations.get(member=company.member_a)
    with django_assert_max_num_queries(12):
        ok(staff.get(f"/member-evaluations/{ev.pk}"))
    with django_assert_max_num_queries(8):
        ok(staff.get(f"/member-evaluations/{ev.pk}/items"))
    with django_assert_max_num_queries(12):
        ok(staff.get(f"/appraisal-periods/{published_month.pk}"))


def test_dates_are_plain_iso_dates(api, company, appraisal_period):
    period = ok(api("staff").get(f"/appraisal-periods/{appraisal_period.pk}"))
    assert datetime.date.fromisoformat(period["self_due"]) == appraisal_period.self_due
    assert period["standard_set"]["name"] == "2026年党员量化评价标准"


def test_the_openapi_document_keeps_these_schemas_apart_from_other_routers_same_named_ones():
    """Ninja names a component after its class: a schema named like another router's would silently replace it
    in the document."""
    from ninja import Schema

    from dangjian.api import api as ninja_api
    from dangjian.appraisal import api_evaluations

    components = ninja_api.get_openapi_schema(path_prefix="/api/v1/")["components"]["schemas"]
    mine = [obj for obj in vars(api_evaluations).values()
            if isinstance(obj, type) and issubclass(obj, Schema) and obj.__module__ == api_evaluations.__name__
            and not obj.__name__.endswith("Filter")]
    assert len(mine) > 15
    for schema in mine:
        assert set(components[schema.__name__]["properties"]) == set(schema.model_fields), schema.__name__
    assert "level" in components["EvaluationOut"]["properties"]  # the organization evaluation's, untouched
