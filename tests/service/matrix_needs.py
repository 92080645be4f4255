"""Rows of the needs part for tests/test_permission_matrix.py (PAGES) and tests/test_api_matrix.py (API), in
their formats; the two matrices import them and run them (this file does not run them again).

The objects belong to branch A: an area, a need waiting to be taken and the branch's open public form. need.view
and need.manage are held by the administrator, the committee's staff and the secretaries (each in their own
branch), so secretary B and everyone else get 404 on branch A's objects; the public form opens for anyone."""

from django.core import signing

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
NEEDS = {"admin", "staff", "secretary_a", "secretary_b"}  # need.view / need.manage somewhere
NEEDS_A = {"admin", "staff", "secretary_a"}  # on branch A


def _only(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    return row


def _public(status=200):
    return {p: status for p in PERSONAS}


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def _api_all(status):
    return {p: status for p in PERSONAS} | {"anonymous": 401}


def _needs(c):
    """Branch A's 城关网格, a need from 95598 waiting in it, and branch A's public form; built once per test."""
    if not hasattr(c, "need_a"):
        from dangjian.service import needs

        c.area_a = needs.create_area(c.staff, c.branch_a, name="城关网格", grid_manager="李卫东")
        c.need_a = needs.create_need(c.staff, c.branch_a, area=c.area_a, source="95598", title="表箱锈蚀",
                                     text="幸福里小区3号楼表箱锈蚀，门关不上。", requester="王芳",
                                     contact="13912345678")
        c.channel_a = needs.enable_channel(c.staff, c.branch_a)
    return c


def _thanks(c):
    from dangjian.service.views_needs import THANKS_SALT

    return {"key": _needs(c).channel_a.key, "token": signing.dumps(c.need_a.number, salt=THANKS_SALT)}


PAGES: dict = {
    "service:need_list": ("get", None, _only(NEEDS)),
    "service:need_create": ("get", None, _only(NEEDS)),
    "service:need_detail": ("get", lambda c: {"pk": _needs(c).need_a.pk}, _only(NEEDS_A)),
    "service:need_accept": ("get", lambda c: {"pk": _needs(c).need_a.pk}, _only(NEEDS_A)),
    "service:need_decline": ("get", lambda c: {"pk": _needs(c).need_a.pk}, _only(NEEDS_A)),
    "service:need_import": ("get", None, _only(NEEDS)),
    "service:need_import_template": ("get", None, _only(NEEDS)),
    "service:need_channel_list": ("get", None, _only(NEEDS)),
    "service:need_channel_enable": ("post", None, _only(NEEDS, ok=302)),
    "service:need_channel_detail": ("get", lambda c: {"pk": _needs(c).channel_a.pk}, _only(NEEDS_A)),
    "service:need_channel_action": ("post", lambda c: {"pk": _needs(c).channel_a.pk}, _only(NEEDS_A, ok=302)),
    "service:need_channel_poster": ("get", lambda c: {"pk": _needs(c).channel_a.pk}, _only(NEEDS_A)),
    "service:area_list": ("get", None, _only(NEEDS)),
    "service:area_create": ("get", None, _only(NEEDS)),
    "service:area_edit": ("get", lambda c: {"pk": _needs(c).area_a.pk}, _only(NEEDS_A)),
    "service:area_toggle": ("post", lambda c: {"pk": _needs(c).area_a.pk}, _only(NEEDS_A, ok=302)),
    "service:public_need": ("get", lambda c: {"key": _needs(c).channel_a.key}, _public()),
    "service:public_need_thanks": ("get", _thanks, _public()),
}

N = "/api/v1/needs"
API: dict = {
    ("get", N): (None, None, _api_all(200)),
    ("post", N): (None, lambda c: {"org_id": c.branch_a.pk, "source": "12345", "title": "路灯不亮",
                                   "text": "村口路灯线路老化，晚上不亮。"}, _api(NEEDS_A, 201)),
    ("get", f"{N}/{{need_id}}"): (lambda c: {"need_id": _needs(c).need_a.pk}, None, _api(NEEDS_A)),
    ("post", f"{N}/{{need_id}}/accept"): (lambda c: {"need_id": _needs(c).need_a.pk}, lambda c: {},
                                          _api(NEEDS_A)),
    ("post", f"{N}/{{need_id}}/decline"): (lambda c: {"need_id": _needs(c).need_a.pk},
                                           lambda c: {"reason": "属物业自管资产，已告知联系物业。"}, _api(NEEDS_A)),
    ("get", "/api/v1/service-areas"): (None, None, _api_all(200)),
    ("post", "/api/v1/service-areas"): (None, lambda c: {"org_id": c.branch_a.pk, "name": "东城网格"},
                                        _api(NEEDS_A, 201)),
}
