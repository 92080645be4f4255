"""Every activity page and API operation × persona × expected status, in the format of tests/test_permission_matrix.py
and tests/test_api_matrix.py (whose rows for these routes are copied from here). Objects belong to branch A, so
secretary B and the outsider get 404; a member reaches their own study records and is sent from the activity home
to their own page. Personas: tests/conftest.py."""

import datetime
import json

import pytest
from django.urls import reverse

from dangjian.appraisal import activities as act
from dangjian.core.models import ApiToken

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}
# activity.view / activity.manage: admin, staff, secretaries (each in their own branch).
ACTIVITY = MANAGERS | {"secretary_a", "secretary_b"}
ACTIVITY_A = MANAGERS | {"secretary_a"}


def _only(allowed, ok=200, other=404, **overrides):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    row.update(overrides)
    return row


def _activities(c):
    """Branch A's records of October 2025: a meeting, member A's own study record, dues and a service record;
    built the first time a row asks for them."""
    if not hasattr(c, "meeting_a"):
        day = datetime.date(2025, 10, 9)
        c.meeting_a = act.record_meeting(c.secretary_a, c.branch_a, kind="general", title="支部党员大会", date=day)
        c.study_a = act.add_study_record(c.member_user_a, c.member_a, date=day, title="党章学习")
        c.dues_a = act.record_dues(c.secretary_a, c.member_a, month="2025-10", amount="20", paid_on=day)
        c.service_a = act.add_service_record(c.secretary_a, c.member_a, date=day, activity="用电宣传", hours=2)
    return c


# ---- rows for tests/test_permission_matrix.py -----------------------------------------------------------

PAGES = {
    "appraisal:activity_home": ("get", None, _only(ACTIVITY, member_user_a=302)),
    "appraisal:meeting_list": ("get", None, _only(ACTIVITY)),
    "appraisal:meeting_create": ("get", None, _only(ACTIVITY)),
    "appraisal:meeting_detail": ("get", lambda c: {"pk": _activities(c).meeting_a.pk}, _only(ACTIVITY_A)),
    "appraisal:meeting_edit": ("get", lambda c: {"pk": _activities(c).meeting_a.pk}, _only(ACTIVITY_A)),
    "appraisal:meeting_delete": ("post", lambda c: {"pk": _activities(c).meeting_a.pk}, _only(ACTIVITY_A, ok=302)),
    "appraisal:study_list": ("get", None, _only(ACTIVITY)),
    "appraisal:study_create": ("get", None, _only(ACTIVITY, member_user_a=302)),
    "appraisal:study_mine": ("get", None, _only({"secretary_a", "member_user_a"})),
    "appraisal:study_edit": ("get", lambda c: {"pk": _activities(c).study_a.pk}, _only(ACTIVITY_A | {"member_user_a"})),
    "appraisal:study_delete": ("post", lambda c: {"pk": _activities(c).study_a.pk},
                               _only(ACTIVITY_A | {"member_user_a"}, ok=302)),
    "appraisal:dues_list": ("get", None, _only(ACTIVITY)),
    "appraisal:dues_branch": ("get", None, _only(ACTIVITY)),
    "appraisal:dues_edit": ("get", lambda c: {"pk": _activities(c).dues_a.pk}, _only(ACTIVITY_A)),
    "appraisal:dues_delete": ("post", lambda c: {"pk": _activities(c).dues_a.pk}, _only(ACTIVITY_A, ok=302)),
    "appraisal:service_list": ("get", None, _only(ACTIVITY)),
    "appraisal:service_create": ("get", None, _only(ACTIVITY)),
    "appraisal:service_edit": ("get", lambda c: {"pk": _activities(c).service_a.pk}, _only(ACTIVITY_A)),
    "appraisal:service_delete": ("post", lambda c: {"pk": _activities(c).service_a.pk}, _only(ACTIVITY_A, ok=302)),
    "appraisal:activity_import": ("get", None, _only(ACTIVITY)),
    "appraisal:activity_import_template": ("get", lambda c: {"kind": "study"}, _only(ACTIVITY)),
    "appraisal:activity_import_upload": ("get", lambda c: {"kind": "study"}, _only(ACTIVITY)),
}


def test_every_activity_url_name_has_a_row():
    from tests.test_permission_matrix import _url_names

    mine = {n for n in _url_names() if n.startswith("appraisal:") and n.split(":")[-1].startswith(
        ("activity_", "meeting_", "study_", "dues_", "service_"))}
    assert mine == set(PAGES)


@pytest.mark.parametrize(("name", "persona"), [(n, p) for n in sorted(PAGES) for p in PERSONAS])
def test_activity_page_matrix(client, company, name, persona):
    method, kwargs, expected = PAGES[name]
    user = None if persona == "anonymous" else getattr(company, persona)
    if user is not None:
        client.force_login(user)
    resp = getattr(client, method)(reverse(name, kwargs=kwargs(company) if kwargs else None))
    assert resp.status_code == expected[persona], f"{name} as {persona}: {resp.status_code}"
    if persona == "anonymous":
        assert resp.url.startswith(reverse("login"))


# ---- rows for tests/test_api_matrix.py --------------------------------------------------------------------


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def _api_all(status):
    return {p: status for p in PERSONAS} | {"anonymous": 401}


A = "/api/v1/activities"
API = {
    ("get", f"{A}/meetings"): (None, None, _api_all(200)),
    ("post", f"{A}/meetings"): (None, lambda w: {"org_id": w.branch_a.pk, "kind": "general", "title": "党员大会",
                                                 "date": "2025-10-09"}, _api(ACTIVITY_A, 201)),
    ("get", f"{A}/meetings/{{meeting_id}}"): (lambda w: {"meeting_id": _activities(w).meeting_a.pk}, None,
                                              _api(ACTIVITY_A)),
    ("patch", f"{A}/meetings/{{meeting_id}}"): (lambda w: {"meeting_id": _activities(w).meeting_a.pk},
                                                lambda w: {"title": "支部党员大会（补记）"}, _api(ACTIVITY_A)),
    ("delete", f"{A}/meetings/{{meeting_id}}"): (lambda w: {"meeting_id": _activities(w).meeting_a.pk}, None,
                                                 _api(ACTIVITY_A, 204)),
    ("get", f"{A}/study-records"): (None, None, _api_all(200)),
    ("post", f"{A}/study-records"): (None, lambda w: {"member_id": w.member_a.pk, "date": "2025-10-09",
                                                      "title": "党章学习"}, _api(ACTIVITY_A | {"member_user_a"}, 201)),
    ("patch", f"{A}/study-records/{{record_id}}"): (lambda w: {"record_id": _activities(w).study_a.pk},
                                                    lambda w: {"hours": "2"}, _api(ACTIVITY_A | {"member_user_a"})),
    ("delete", f"{A}/study-records/{{record_id}}"): (lambda w: {"record_id": _activities(w).study_a.pk}, None,
                                                     _api(ACTIVITY_A | {"member_user_a"}, 204)),
    ("get", f"{A}/dues"): (None, None, _api_all(200)),
    ("post", f"{A}/dues"): (None, lambda w: {"member_id": w.secretary_member_a.pk, "month": "2025-10",
                                             "amount": "30", "paid_on": "2025-10-20"}, _api(ACTIVITY_A, 201)),
    ("patch", f"{A}/dues/{{payment_id}}"): (lambda w: {"payment_id": _activities(w).dues_a.pk},
                                            lambda w: {"amount": "35"}, _api(ACTIVITY_A)),
    ("delete", f"{A}/dues/{{payment_id}}"): (lambda w: {"payment_id": _activities(w).dues_a.pk}, None,
                                             _api(ACTIVITY_A, 204)),
    ("get", f"{A}/service-records"): (None, None, _api_all(200)),
    ("post", f"{A}/service-records"): (None, lambda w: {"member_id": w.member_a.pk, "date": "2025-10-09",
                                                        "activity": "用电宣传", "hours": "2"}, _api(ACTIVITY_A, 201)),
    ("patch", f"{A}/service-records/{{record_id}}"): (lambda w: {"record_id": _activities(w).service_a.pk},
                                                      lambda w: {"hours": "3"}, _api(ACTIVITY_A)),
    ("delete", f"{A}/service-records/{{record_id}}"): (lambda w: {"record_id": _activities(w).service_a.pk}, None,
                                                       _api(ACTIVITY_A, 204)),
}


def test_every_activity_api_operation_has_a_row():
    from tests.test_api_matrix import _operations

    assert {op for op in _operations() if op[1].startswith(A + "/")} == set(API)


@pytest.mark.parametrize(("op", "persona"), [(op, p) for op in sorted(API) for p in PERSONAS])
def test_activity_api_matrix(client, company, op, persona):
    method, path = op
    kwargs, body, expected = API[op]
    url = path.format(**(kwargs(company) if kwargs else {}))
    headers = {}
    if persona != "anonymous":
        headers["Authorization"] = f"Bearer {ApiToken.issue(getattr(company, persona))}"
    data = json.dumps(body(company)) if body else None
    resp = getattr(client, method)(url, data=data, content_type="application/json", headers=headers)
    assert resp.status_code == expected[persona], f"{method.upper()} {url} as {persona}: {resp.status_code} " \
                                                  f"{resp.content[:200]}"
