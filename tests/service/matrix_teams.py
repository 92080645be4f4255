"""Rows of the teams part for tests/test_permission_matrix.py (PAGES) and tests/test_api_matrix.py (API), in
their formats; the two matrices import them and run them (this file does not run them again).

Objects belong to branch A: its service team (member A in it), an activity of October 2025 with member A's hours,
and a photo. ``team.view``: admin, staff, secretaries and members in their subtree (member A sees branch A's team);
``team.manage``: admin, staff, secretaries. Secretary B, the assessor and the outsider get 404."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}
ALL_PERSONAS = set(PERSONAS)
VIEW = MANAGERS | {"secretary_a", "secretary_b", "member_user_a"}  # the lists: anyone holding team.view somewhere
MANAGE = MANAGERS | {"secretary_a", "secretary_b"}
VIEW_A = MANAGERS | {"secretary_a", "member_user_a"}
MANAGE_A = MANAGERS | {"secretary_a"}


def _only(allowed, ok=200, other=404, **overrides):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    row.update(overrides)
    return row


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def jpeg_upload(name="现场.jpg", size=(40, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def team_world(c):
    """Branch A's team with member A, an October 2025 activity with member A's hours and a photo; built the first
    time a row asks for it."""
    if not hasattr(c, "team_a"):
        from dangjian.service import teams

        c.team_a = teams.create_team(c.secretary_a, c.branch_a, name="光明先锋共产党员服务队")
        teams.add_members(c.secretary_a, c.team_a, [c.member_a])
        c.activity_a = teams.create_activity(c.secretary_a, c.team_a, date=datetime.date(2025, 10, 9),
                                             title="用电安全宣传", place="城关社区", people_served=30,
                                             participants=[(c.member_a, "2")])
        c.photo_a = teams.add_photo(c.secretary_a, c.activity_a, jpeg_upload())
    return c


def _team(c):
    return {"pk": team_world(c).team_a.pk}


def _activity(c):
    return {"pk": team_world(c).activity_a.pk}


PAGES = {
    "service:team_list": ("get", None, _only(VIEW)),
    "service:team_create": ("get", None, _only(MANAGE)),
    "service:team_detail": ("get", _team, _only(VIEW_A)),
    "service:team_edit": ("get", _team, _only(MANAGE_A)),
    "service:team_archive": ("post", _team, _only(MANAGE_A, ok=302)),
    "service:team_member_add": ("post", _team, _only(MANAGE_A, ok=302)),
    "service:team_member_remove": ("post", lambda c: {"pk": team_world(c).team_a.pk, "member_id": c.member_a.pk},
                                   _only(MANAGE_A, ok=302)),
    "service:service_activity_list": ("get", None, _only(VIEW)),
    "service:service_activity_create": ("get", _team, _only(MANAGE_A)),
    "service:service_activity_detail": ("get", _activity, _only(VIEW_A)),
    "service:service_activity_edit": ("get", _activity, _only(MANAGE_A)),
    "service:service_activity_delete": ("post", _activity, _only(MANAGE_A, ok=302)),
    "service:service_activity_photo_add": ("post", _activity, _only(MANAGE_A, ok=302)),
    "service:service_activity_photo": ("get", lambda c: {"pk": team_world(c).photo_a.pk}, _only(VIEW_A)),
    "service:service_activity_photo_delete": ("post", lambda c: {"pk": team_world(c).photo_a.pk},
                                              _only(MANAGE_A, ok=302)),
}

T = "/api/v1/service-teams"
S = "/api/v1/service-activities"
API = {
    ("get", T): (None, None, _api(ALL_PERSONAS)),  # a list: empty for those without the role, as elsewhere
    ("post", T): (None, lambda w: {"org_id": w.branch_a.pk, "name": "公益服务队", "kind": "welfare"},
                  _api(MANAGE_A, 201)),
    ("get", f"{T}/{{team_id}}"): (lambda w: {"team_id": team_world(w).team_a.pk}, None, _api(VIEW_A)),
    ("get", f"{T}/{{team_id}}/members"): (lambda w: {"team_id": team_world(w).team_a.pk}, None, _api(VIEW_A)),
    ("post", f"{T}/{{team_id}}/members"): (lambda w: {"team_id": team_world(w).team_a.pk},
                                           lambda w: {"member_ids": [w.secretary_member_a.pk]}, _api(MANAGE_A)),
    ("delete", f"{T}/{{team_id}}/members/{{member_id}}"): (
        lambda w: {"team_id": team_world(w).team_a.pk, "member_id": w.member_a.pk}, None, _api(MANAGE_A, 204)),
    ("get", S): (None, None, _api(ALL_PERSONAS)),  # a list: empty for those without the role, as elsewhere
    ("post", S): (None, lambda w: {"team_id": team_world(w).team_a.pk, "date": "2025-10-12", "title": "走访孤寡老人",
                                   "place": "城关镇", "people_served": 5, "default_hours": "1.5",
                                   "participants": [{"member_id": w.member_a.pk}]}, _api(MANAGE_A, 201)),
    ("get", f"{S}/{{activity_id}}"): (lambda w: {"activity_id": team_world(w).activity_a.pk}, None, _api(VIEW_A)),
    ("patch", f"{S}/{{activity_id}}"): (lambda w: {"activity_id": team_world(w).activity_a.pk},
                                        lambda w: {"people_served": 40}, _api(MANAGE_A)),
    ("delete", f"{S}/{{activity_id}}"): (lambda w: {"activity_id": team_world(w).activity_a.pk}, None,
                                         _api(MANAGE_A, 204)),
}
