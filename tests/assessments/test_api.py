"""The JSON API of the monthly evaluation: the same flows and the same scoping as the pages, 409 on a concurrent
change, uploads checked by content. Personas: tests/conftest.py; the month: tests/assessments/conftest.py."""

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dangjian.assessments.models import EvalItem, Evidence, Objection, Period, ScoreEntry, State
from dangjian.core.models import ApiToken
from tests.assessments.test_pages import pdf_bytes, png_bytes, stored_files

BASE = "/api/v1"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


class Api:
    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"}

    def get(self, path, **params):
        return self.client.get(BASE + path, params, headers=self.headers)

    def send(self, method, path, body=None):
        return getattr(self.client, method)(BASE + path, data=json.dumps(body or {}), content_type="application/json",
                                            headers=self.headers)

    def post(self, path, body=None):
        return self.send("post", path, body)

    def put(self, path, body=None):
        return self.send("put", path, body)

    def upload(self, path, **data):
        return self.client.post(BASE + path, data, headers=self.headers)


@pytest.fixture
def api(client, company):
    return lambda persona: Api(client, getattr(company, persona))


def ok(resp, status=200):
    assert resp.status_code == status, resp.content.decode()[:500]
    return resp.json()


def test_periods_list_and_detail_are_scoped(api, company, period, eval_a):
    staff = ok(api("staff").get("/periods"))
    assert staff["count"] == 1 and staff["items"][0]["month"] == "2026-10"
    assert ok(api("secretary_b").get("/periods"))["count"] == 1
    assert ok(api("outsider").get("/periods"))["count"] == 0
    detail = ok(api("staff").get(f"/periods/{period.pk}"))
    assert detail["total"] == 4 and detail["counts"]["not_started"] == 4 and detail["can_manage"] is True
    mine = ok(api("secretary_a").get(f"/periods/{period.pk}"))
    assert mine["total"] == 1 and mine["can_manage"] is False
    assert api("outsider").get(f"/periods/{period.pk}").status_code == 404


def test_staff_open_a_period_and_others_cannot(api, company, standard):
    body = {"owner_id": company.committee.pk, "month": "2026-11", "submit_due": "2026-11-25",
            "self_due": "2026-11-28", "assess_due": "2026-12-05"}
    assert api("secretary_a").post("/periods", body).status_code == 404
    created = ok(api("staff").post("/periods", body), 201)
    assert created["month"] == "2026-11" and created["total"] == 4 and created["standard_set"]["id"] == standard.pk
    again = api("staff").post("/periods", body)
    assert again.status_code == 400 and "不能重复开启" in again.json()["detail"] and again.json()["field"] == "month"
    bad = api("staff").post("/periods", {**body, "month": "2026-12", "assess_due": "2026-11-01"})
    assert bad.status_code == 400 and "截止日期应依次为" in bad.json()["detail"]


def test_org_evaluations_are_filtered_and_scoped(api, company, period, eval_a):
    assert ok(api("staff").get("/org-evaluations", period=period.pk))["count"] == 4
    mine = ok(api("secretary_a").get("/org-evaluations"))
    assert [e["org"]["name"] for e in mine["items"]] == ["变电运维党支部"]
    assert ok(api("staff").get("/org-evaluations", org=company.general.pk))["count"] == 3
    assert ok(api("staff").get("/org-evaluations", level="general"))["count"] == 1
    assert ok(api("staff").get("/org-evaluations", state="submitted"))["count"] == 0
    assert ok(api("outsider").get("/org-evaluations"))["count"] == 0
    assert api("secretary_b").get(f"/org-evaluations/{eval_a.pk}").status_code == 404
    detail = ok(api("member_user_a").get(f"/org-evaluations/{eval_a.pk}"))
    assert detail["items"] and detail["transitions"] == [] and detail["state"] == "not_started"
    assert {"code", "category", "rule", "max_points", "version"} <= set(detail["items"][0])


def test_the_whole_cycle_through_the_api(api, company, period, eval_a):
    sec, assessor, staff = api("secretary_a"), api("assessor"), api("staff")
    ev = ok(sec.get(f"/org-evaluations/{eval_a.pk}"))
    assert [t["to_state"] for t in ev["transitions"]] == ["submitted"]
    ev = ok(sec.put(f"/org-evaluations/{eval_a.pk}/summary", {"summary": "本月召开支委会1次。",
                                                              "expected_version": ev["version"]}))
    assert ev["summary"] == "本月召开支委会1次。"
    ok(sec.post(f"/org-evaluations/{eval_a.pk}/transitions", {"to_state": "submitted"}))
    refused = sec.post(f"/org-evaluations/{eval_a.pk}/transitions", {"to_state": "self_assessed"})
    assert refused.status_code == 400 and "尚未自评" in refused.json()["detail"]
    for n, item in enumerate(ev["items"]):
        score = Decimal(item["max_points"]) - (1 if n == 0 else 0)
        resp = sec.put(f"/org-evaluations/{eval_a.pk}/items/{item['id']}/self",
                       {"score": str(score), "reason": "缺一次记录" if n == 0 else "",
                        "expected_version": item["version"]})
        assert ok(resp)["self_score"] == str(score)
    ok(sec.post(f"/org-evaluations/{eval_a.pk}/transitions", {"to_state": "self_assessed"}))
    # The assessor scores; the organization does not see assessor scores before publication.
    ev = ok(assessor.get(f"/org-evaluations/{eval_a.pk}"))
    for n, item in enumerate(ev["items"]):
        score = Decimal(item["max_points"]) - (Decimal("0.5") if n == 1 else 0)
        ok(assessor.put(f"/org-evaluations/{eval_a.pk}/items/{item['id']}/assessor",
                        {"score": str(score), "reason": "记录缺页" if n == 1 else "",
                         "expected_version": item["version"]}))
    assert [t["to_state"] for t in ok(assessor.get(f"/org-evaluations/{eval_a.pk}/transitions"))["available"]] == [
        "assessed"]
    ok(assessor.post(f"/org-evaluations/{eval_a.pk}/transitions", {"to_state": "assessed"}))
    hidden = ok(sec.get(f"/org-evaluations/{eval_a.pk}"))
    assert hidden["assessor_total"] is None and all(i["assessor_score"] is None for i in hidden["items"])
    # Staff publish the month; the secretary objects; the staff answer.
    assert ok(staff.post(f"/periods/{period.pk}/publish"))["published"] == 1
    shown = ok(sec.get(f"/org-evaluations/{eval_a.pk}"))
    assert Decimal(shown["assessor_total"]) == Decimal(shown["max_total"]) - Decimal("0.5")
    objection = ok(sec.post(f"/org-evaluations/{eval_a.pk}/objections",
                            {"text": "第二项记录已补齐。", "eval_item_id": shown["items"][1]["id"]}), 201)
    assert objection["eval_item_id"] == shown["items"][1]["id"] and objection["upheld"] is None
    assert api("secretary_a").post(f"/objections/{objection['id']}/answer",
                                   {"answer": "x", "upheld": False}).status_code == 404
    answered = ok(staff.post(f"/objections/{objection['id']}/answer", {"answer": "维持原评分。", "upheld": False}))
    assert answered["upheld"] is False and answered["answered_by"] == "党建部"
    history = ok(sec.get(f"/org-evaluations/{eval_a.pk}/transitions"))["history"]
    assert [h["to_state"] for h in history] == ["submitted", "self_assessed", "assessed", "published", "objected",
                                                "published"]


def test_objection_and_answer_through_the_transitions_endpoint(api, company, period, eval_a):
    from tests.assessments.test_pages import assess, self_assess, submit

    submit(company, eval_a)
    self_assess(company, eval_a)
    assess(company, eval_a)
    ok(api("staff").post(f"/org-evaluations/{eval_a.pk}/transitions", {"to_state": "published"}))
    ok(api("secretary_a").post(f"/org-evaluations/{eval_a.pk}/transitions",
                               {"to_state": "objected", "note": "总分计算有误。"}))
    assert Objection.objects.get().text == "总分计算有误。"
    missing = api("staff").post(f"/org-evaluations/{eval_a.pk}/transitions", {"to_state": "published", "note": "x"})
    assert missing.status_code == 400 and missing.json()["field"] == "upheld"
    ev = ok(api("staff").post(f"/org-evaluations/{eval_a.pk}/transitions",
                              {"to_state": "published", "note": "已复核。", "upheld": True}))
    assert ev["state"] == "published" and ev["objections"][0]["upheld"] is True


def test_a_concurrent_score_is_409_and_not_saved(api, company, eval_a):
    from tests.assessments.test_pages import self_assess, submit

    submit(company, eval_a)
    self_assess(company, eval_a)
    ei = eval_a.items.order_by("id").first()
    path = f"/org-evaluations/{eval_a.pk}/items/{ei.pk}/assessor"
    ok(api("assessor").put(path, {"score": str(ei.max_points - 1), "reason": "记录缺页",
                                  "expected_version": ei.version}))
    resp = api("staff").put(path, {"score": "0", "reason": "未召开", "expected_version": ei.version})
    assert resp.status_code == 409 and "您的修改未保存" in resp.json()["detail"]
    ei.refresh_from_db()
    assert ei.assessor_score == ei.max_points - 1 and ei.entries.filter(kind=ScoreEntry.Kind.ASSESSOR).count() == 1
    summary = api("secretary_a").put(f"/org-evaluations/{eval_a.pk}/summary", {"summary": "x", "expected_version": 0})
    assert summary.status_code == 400  # reported already: the summary is fixed


def test_a_concurrent_summary_is_409(api, company, eval_a):
    sec = api("secretary_a")
    ok(sec.put(f"/org-evaluations/{eval_a.pk}/summary", {"summary": "第一稿", "expected_version": eval_a.version}))
    resp = sec.put(f"/org-evaluations/{eval_a.pk}/summary", {"summary": "第二稿", "expected_version": eval_a.version})
    assert resp.status_code == 409 and "月小结已被他人修改" in resp.json()["detail"]
    assert Period.objects.get().evaluations.get(pk=eval_a.pk).summary == "第一稿"


def test_scores_are_scoped_and_validated(api, company, eval_a):
    ei = eval_a.items.first()
    path = f"/org-evaluations/{eval_a.pk}/items/{ei.pk}/self"
    assert api("secretary_b").put(path, {"score": "1", "reason": "x"}).status_code == 404
    assert api("assessor").put(path, {"score": "1", "reason": "x"}).status_code == 404
    other = EvalItem.objects.exclude(evaluation=eval_a).first()
    assert api("secretary_a").put(f"/org-evaluations/{eval_a.pk}/items/{other.pk}/self",
                                  {"score": "1", "reason": "x"}).status_code == 404
    resp = api("secretary_a").put(path, {"score": str(ei.max_points - 1)})
    assert resp.status_code == 400 and resp.json()["detail"] == "扣分须说明理由。"


def test_evidence_upload_list_download_and_withdraw(api, company, eval_a, media):
    sec = api("secretary_a")
    ei = eval_a.items.first()
    path = f"/org-evaluations/{eval_a.pk}/evidence"
    created = ok(sec.upload(path, file=SimpleUploadedFile("记录.pdf", pdf_bytes()), eval_item_id=ei.pk), 201)
    assert created["content_type"] == "application/pdf" and created["eval_item_id"] == ei.pk
    ok(sec.upload(path, file=SimpleUploadedFile("照片.png", png_bytes())), 201)
    listed = ok(api("member_user_a").get(path))
    assert listed["count"] == 2 and ok(sec.get(path, item=ei.pk))["count"] == 1
    download = sec.client.get(created["download_url"], headers=sec.headers)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == pdf_bytes()
    other = api("secretary_b")
    assert other.client.get(created["download_url"], headers=other.headers).status_code == 404
    assert other.get(path).status_code == 404
    refused = sec.upload(path, file=SimpleUploadedFile("病毒.pdf", b"MZ\x90\x00" + b"\x00" * 64))
    assert refused.status_code == 400 and "不符" in refused.json()["detail"] and refused.json()["field"] == "file"
    assert sec.upload(path).json()["detail"] == "请选择要上传的文件。"
    assert api("assessor").upload(path, file=SimpleUploadedFile("a.pdf", pdf_bytes())).status_code == 404
    assert len(stored_files(media)) == 2
    gone = ok(sec.send("delete", f"/evidence/{created['id']}"))
    assert gone["withdrawn_at"] is not None
    assert sec.client.get(created["download_url"], headers=sec.headers).status_code == 404
    assert Evidence.objects.filter(withdrawn_at__isnull=True).count() == 1


def test_moves_are_refused_to_those_without_the_role(api, company, eval_a):
    from tests.assessments.test_pages import submit

    submit(company, eval_a)
    assert api("member_user_a").post(f"/org-evaluations/{eval_a.pk}/transitions",
                                     {"to_state": "self_assessed"}).status_code == 404
    assert api("secretary_a").post(f"/org-evaluations/{eval_a.pk}/transitions",
                                   {"to_state": "not_started", "note": "x"}).status_code == 404
    resp = api("staff").post(f"/org-evaluations/{eval_a.pk}/transitions", {"to_state": "not_started"})
    assert resp.status_code == 400 and resp.json()["detail"] == "退回时请说明理由。"
    eval_a.refresh_from_db()
    assert eval_a.state == State.SUBMITTED
