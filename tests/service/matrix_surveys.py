"""Rows of the surveys part for tests/test_permission_matrix.py (PAGES) and tests/test_api_matrix.py (API), in
their formats; the two matrices import them and run them (this file does not run them again).

The objects: the committee's open customer survey with a link for branch A and one response, and a draft survey
of the committee. ``survey.view``: admin, staff and secretaries; a secretary sees a committee survey only when it
has a link for their branch (secretary A here, not secretary B). ``survey.manage``: admin and staff. The public
page and its thank-you page are open to everyone, also without login."""

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}
VIEWERS = MANAGERS | {"secretary_a", "secretary_b"}
SEES_A = MANAGERS | {"secretary_a"}


def _page(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    return row


def _public():
    return {p: 200 for p in PERSONAS}


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def _api_all(status):
    return {p: status for p in PERSONAS} | {"anonymous": 401}


def _surveys(c):
    """Built the first time a row asks for them."""
    if not hasattr(c, "survey_open"):
        from dangjian.service import surveys as svc
        from dangjian.service.models import QKind, SurveyResponse

        s = svc.create_from_template(c.staff, c.committee, "customer")
        svc.add_links(c.staff, s, orgs=[c.branch_a])
        svc.open_survey(c.staff, s)
        c.survey_open = s
        c.survey_link = s.links.get()
        SurveyResponse.objects.create(survey=s, link=c.survey_link, org=c.branch_a, month="2026-10-01", score=80)
        d = svc.create_survey(c.staff, c.committee, title="草稿问卷")
        c.draft_q1 = svc.add_question(c.staff, d, kind=QKind.SCALE, text="服务态度", topic="服务态度")
        c.draft_q2 = svc.add_question(c.staff, d, kind=QKind.TEXT, text="意见建议", required=False)
        c.survey_draft = d
    return c


def _open(c):
    return {"pk": _surveys(c).survey_open.pk}


def _draft(c):
    return {"pk": _surveys(c).survey_draft.pk}


PAGES = {
    "service:survey_list": ("get", None, _page(VIEWERS)),
    "service:survey_create": ("get", None, _page(MANAGERS)),
    "service:survey_from_template": ("get", None, _page(MANAGERS)),
    "service:survey_indices": ("get", None, _page(VIEWERS)),
    "service:survey_detail": ("get", _open, _page(SEES_A)),
    "service:survey_edit": ("get", _open, _page(MANAGERS)),
    "service:survey_delete": ("post", _draft, _page(MANAGERS, ok=302)),
    "service:survey_state": ("post", _open, _page(MANAGERS, ok=302)),
    "service:survey_question_add": ("get", _draft, _page(MANAGERS)),
    "service:survey_question_edit": ("get", lambda c: {"pk": _surveys(c).draft_q1.pk}, _page(MANAGERS)),
    "service:survey_question_delete": ("post", lambda c: {"pk": _surveys(c).draft_q1.pk},
                                       _page(MANAGERS, ok=302)),
    "service:survey_question_move": ("post", lambda c: {"pk": _surveys(c).draft_q1.pk}, _page(MANAGERS, ok=302)),
    "service:survey_links": ("get", _open, _page(SEES_A)),
    "service:survey_link_sheet": ("get", _open, _page(SEES_A)),
    "service:survey_link_toggle": ("post", lambda c: {"pk": _surveys(c).survey_link.pk}, _page(MANAGERS, ok=302)),
    "service:survey_invitations": ("get", lambda c: {"pk": _surveys(c).survey_link.pk}, _page(MANAGERS)),
    "service:survey_results": ("get", _open, _page(SEES_A)),
    "service:survey_recompute": ("post", _open, _page(MANAGERS, ok=302)),
    "service:survey_public": ("get", lambda c: {"key": _surveys(c).survey_link.key}, _public()),
    "service:survey_public_thanks": ("get", lambda c: {"key": _surveys(c).survey_link.key}, _public()),
}

S = "/api/v1/surveys"


def _sid(c):
    return {"survey_id": _surveys(c).survey_open.pk}


def _did(c):
    return {"survey_id": _surveys(c).survey_draft.pk}


def _dq(c):
    return {"survey_id": _surveys(c).survey_draft.pk, "question_id": _surveys(c).draft_q1.pk}


API = {
    ("get", S): (None, None, _api_all(200)),
    ("post", S): (None, lambda c: {"owner_id": c.committee.pk, "template": "customer"}, _api(MANAGERS, 201)),
    ("get", f"{S}/{{survey_id}}"): (_sid, None, _api(SEES_A)),
    ("patch", f"{S}/{{survey_id}}"): (_sid, lambda c: {"title": "2026年客户满意度调查"}, _api(MANAGERS)),
    ("post", f"{S}/{{survey_id}}/open"): (_did, None, _api(MANAGERS)),
    ("post", f"{S}/{{survey_id}}/close"): (_sid, None, _api(MANAGERS)),
    ("post", f"{S}/{{survey_id}}/recompute"): (_sid, None, _api(MANAGERS)),
    ("get", f"{S}/{{survey_id}}/questions"): (_sid, None, _api(SEES_A)),
    ("post", f"{S}/{{survey_id}}/questions"): (_did, lambda c: {"kind": "scale", "text": "供电质量",
                                                                 "topic": "供电质量"}, _api(MANAGERS, 201)),
    ("patch", f"{S}/{{survey_id}}/questions/{{question_id}}"): (_dq, lambda c: {"text": "服务态度和效率"},
                                                                 _api(MANAGERS)),
    ("delete", f"{S}/{{survey_id}}/questions/{{question_id}}"): (_dq, None, _api(MANAGERS, 204)),
    ("post", f"{S}/{{survey_id}}/question-order"): (
        _did, lambda c: {"ids": [_surveys(c).draft_q2.pk, _surveys(c).draft_q1.pk]}, _api(MANAGERS)),
    ("get", f"{S}/{{survey_id}}/links"): (_sid, None, _api(SEES_A)),
    ("post", f"{S}/{{survey_id}}/links"): (_sid, lambda c: {"org_ids": [c.branch_b.pk]}, _api(MANAGERS, 201)),
    ("get", "/api/v1/survey-responses"): (None, None, _api_all(200)),
    ("get", "/api/v1/satisfaction-indices"): (None, None, _api_all(200)),
}
