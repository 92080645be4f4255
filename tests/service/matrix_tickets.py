"""Rows of the tickets part for tests/test_permission_matrix.py (PAGES) and tests/test_api_matrix.py (API), in
their formats; the two matrices import them and run them (this file does not run them again).

The tickets in the URLs belong to branch A: admin, staff (committee) and secretary A see them; secretary B, the
assessor, member A and the outsider get 404. ticket.view / ticket.handle: admin, staff, secretaries (each on
their own subtree); ticket.manage (cancel, reopen, reassign): admin and staff."""

import datetime

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]
MANAGERS = {"admin", "staff"}
TICKETS = MANAGERS | {"secretary_a", "secretary_b"}
TICKETS_A = MANAGERS | {"secretary_a"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _only(allowed, ok=200, other=404, **overrides):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    row.update(overrides)
    return row


def _api(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 401
    return row


def _ticket(c):
    """A staff-origin ticket of branch A in Plan, built the first time a row asks for it."""
    if not hasattr(c, "ticket_a"):
        from dangjian.service.common import open_ticket

        c.ticket_a = open_ticket(c.staff, c.branch_a, origin="staff", title="台区低电压治理",
                                 description="城关供电所3号台区晚高峰电压偏低，居民反映空调无法启动。")
    return c.ticket_a


def _doing(c):
    """A ticket of branch A in Do with one action and one PDF (c.action_a, c.evidence_a)."""
    if not hasattr(c, "action_a"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from dangjian.service import tickets
        from dangjian.service.common import open_ticket

        t = open_ticket(c.staff, c.branch_a, origin="staff", title="表计箱锈蚀", description="幸福小区表计箱锈蚀。")
        t = tickets.save_fields(c.staff, t, {"analysis": "年久失修", "measures": "更换表计箱",
                                             "due_date": datetime.date.today() + datetime.timedelta(days=7)},
                                version=t.version)
        c.doing_a = tickets.move(c.staff, t, "do", version=t.version)
        c.action_a = tickets.add_action(c.staff, t, date=datetime.date.today(), text="已更换 3 个表计箱。",
                                        files=[SimpleUploadedFile("更换记录.pdf", PDF)])
        c.evidence_a = c.action_a.evidence.get()
    return c


PAGES: dict = {
    "service:ticket_list": ("get", None, _only(TICKETS)),
    "service:ticket_create": ("get", None, _only(TICKETS)),
    "service:ticket_detail": ("get", lambda c: {"pk": _ticket(c).pk}, _only(TICKETS_A)),
    # POSTs without data: the ticket is fetched first (404 outside), then the empty form is refused.
    "service:ticket_move": ("post", lambda c: {"pk": _ticket(c).pk}, _only(TICKETS_A, ok=302)),
    "service:ticket_plan": ("post", lambda c: {"pk": _ticket(c).pk}, _only(TICKETS_A)),
    "service:ticket_check": ("post", lambda c: {"pk": _ticket(c).pk}, _only(TICKETS_A)),
    "service:ticket_act": ("post", lambda c: {"pk": _ticket(c).pk}, _only(TICKETS_A)),
    "service:ticket_reassign": ("post", lambda c: {"pk": _ticket(c).pk}, _only(MANAGERS)),
    "service:ticket_action_add": ("post", lambda c: {"pk": _doing(c).doing_a.pk}, _only(TICKETS_A)),
    "service:ticket_evidence_add": ("post", lambda c: {"pk": _doing(c).action_a.pk}, _only(TICKETS_A, ok=302)),
    "service:ticket_evidence_download": ("get", lambda c: {"pk": _doing(c).evidence_a.pk}, _only(TICKETS_A)),
    "service:ticket_evidence_withdraw": ("post", lambda c: {"pk": _doing(c).evidence_a.pk},
                                         _only(TICKETS_A, ok=302)),
}

T = "/api/v1/tickets"
API: dict = {
    ("get", T): (None, None, _api(TICKETS)),
    ("post", T): (None, lambda w: {"org_id": w.branch_a.pk, "title": "路灯不亮", "description": "幸福小区路灯不亮。"},
                  _api(TICKETS_A, 201)),
    ("get", f"{T}/{{ticket_id}}"): (lambda w: {"ticket_id": _ticket(w).pk}, None, _api(TICKETS_A)),
    ("patch", f"{T}/{{ticket_id}}"): (lambda w: {"ticket_id": _ticket(w).pk},
                                      lambda w: {"analysis": "负荷增长超出变压器容量", "version": 1}, _api(TICKETS_A)),
    ("get", f"{T}/{{ticket_id}}/transitions"): (lambda w: {"ticket_id": _ticket(w).pk}, None, _api(TICKETS_A)),
    # cancelling is ticket.manage: secretary A sees the ticket but may not cancel it (404, nothing changes)
    ("post", f"{T}/{{ticket_id}}/transitions"): (lambda w: {"ticket_id": _ticket(w).pk},
                                                 lambda w: {"to_state": "cancelled", "version": 1, "reason": "重复工单"},
                                                 _api(MANAGERS)),
    ("get", f"{T}/{{ticket_id}}/actions"): (lambda w: {"ticket_id": _doing(w).doing_a.pk}, None, _api(TICKETS_A)),
    ("post", f"{T}/{{ticket_id}}/actions"): (lambda w: {"ticket_id": _doing(w).doing_a.pk},
                                             lambda w: {"date": datetime.date.today().isoformat(), "text": "复查"},
                                             _api(TICKETS_A, 201)),
    # JSON instead of multipart: no file, so 400 for those who may upload
    ("post", "/api/v1/ticket-actions/{action_id}/evidence"): (lambda w: {"action_id": _doing(w).action_a.pk}, None,
                                                              _api(TICKETS_A, 400)),
    ("get", "/api/v1/ticket-evidence/{evidence_id}/download"): (lambda w: {"evidence_id": _doing(w).evidence_a.pk},
                                                                None, _api(TICKETS_A)),
    ("delete", "/api/v1/ticket-evidence/{evidence_id}"): (lambda w: {"evidence_id": _doing(w).evidence_a.pk}, None,
                                                          _api(TICKETS_A)),
}
