"""Every URL name × persona × expected status. A URL added without a row here makes the test fail.

Personas (tests/conftest.py): admin and staff on the committee, an assessor on the committee, the secretary of
branch A and of sibling branch B, an ordinary member of branch A, an outsider with no role, and the anonymous
public. Objects in the URLs belong to branch A, so secretary B and the outsider must get 404.
"""

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from dangjian.appraisal.models import MemberEvidence
from dangjian.assessments import services as eval_services
from dangjian.assessments.models import AssessorAssignment, Evidence, Objection
from dangjian.orgs.models import CommitteeSeat, RoleGrant
from dangjian.standards.member_services import load_default_member_set
from dangjian.standards.services import load_default_set
from tests.appraisal.test_activities_permissions import PAGES as ACTIVITY_PAGES
from tests.assessments import matrix_benchmark, matrix_oversight, matrix_results
from tests.core import matrix_notifications
from tests.service import (
    matrix_dashboards,
    matrix_needs,
    matrix_projects,
    matrix_surveys,
    matrix_teams,
    matrix_tickets,
)

PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]

# Namespaces tested elsewhere: Django's admin is for superusers only (Django's own check, see
# test_django_admin_is_for_superusers_only); the JSON API has its own matrix in tests/test_api_matrix.py.
EXCLUDED_NAMESPACES = {"admin", "api"}


def _all(status, **overrides):
    row = {p: status for p in PERSONAS}
    row["anonymous"] = 302
    row.update(overrides)
    return row


def _only(allowed, ok=200, other=404):
    row = {p: (ok if p in allowed else other) for p in PERSONAS}
    row["anonymous"] = 302
    return row


MANAGERS = {"admin", "staff"}
SEES_BRANCH_A = {"admin", "staff", "assessor", "secretary_a", "member_user_a"}
VIEWS_MEMBERS = {"admin", "staff", "assessor", "secretary_a", "secretary_b"}
MANAGES_MEMBERS_A = {"admin", "staff", "secretary_a"}
AP_A = {"admin", "staff", "secretary_a", "member_user_a"}
WALL_A = AP_A

# url name -> (method, kwargs builder, expected status per persona)
MATRIX = {
    "home": ("get", None, _all(200, outsider=200)),
    # The load balancer's probe: "ok" to everyone, signed in or not (core/health.py).
    "healthz": ("get", None, _all(200, anonymous=200)),
    "login": ("get", None, _all(302, anonymous=200)),
    "logout": ("get", None, _all(405, anonymous=405)),
    "password_change": ("get", None, _all(200)),
    "set_language": ("post", None, _all(302, anonymous=302)),
    "audit_list": ("get", None, _only(MANAGERS)),
    # Second factor and the security administrator's pages (tests/core/test_duties.py covers the 安全管理员 and
    # 审计管理员 personas over every row of this matrix).
    "login_verify": ("get", None, _all(302)),
    "totp_setup": ("get", None, _all(200)),
    "security_home": ("get", None, _only(set())),
    "security_unlock": ("post", lambda c: {"pk": 1}, _only(set())),
    "security_totp_reset": ("post", lambda c: {"pk": c.member_user_a.pk}, _only(set())),
    "security_personal_grant": ("post", None, _only(set())),
    "security_personal_revoke": ("post", lambda c: {"pk": c.member_user_a.pk}, _only(set())),
    "orgs:tree": ("get", None, _all(200, outsider=404)),
    "orgs:tree_children": ("get", lambda c: {"pk": c.general.pk}, _only({"admin", "staff", "assessor"})),
    "orgs:org_list": ("get", None, _all(200, outsider=404)),
    "orgs:org_create": ("get", None, _only(MANAGERS)),
    "orgs:org_detail": ("get", lambda c: {"pk": c.branch_a.pk}, _only(SEES_BRANCH_A)),
    "orgs:org_edit": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_move": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_merge": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_archive": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:org_restore": ("post", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS, ok=302)),
    "orgs:seat_add": ("get", lambda c: {"pk": c.branch_a.pk}, _only(MANAGERS)),
    "orgs:seat_end": ("post", lambda c: {"pk": c.seat_a.pk}, _only(MANAGERS, ok=302)),
    "orgs:member_list": ("get", None, _only(VIEWS_MEMBERS)),
    "orgs:member_search": ("get", None, _only(VIEWS_MEMBERS)),
    "orgs:member_create": ("get", None, _only({"admin", "staff", "secretary_a", "secretary_b"})),
    "orgs:member_detail": ("get", lambda c: {"pk": c.member_a.pk},
                           _only({"admin", "staff", "assessor", "secretary_a", "member_user_a"})),
    "orgs:member_edit": ("get", lambda c: {"pk": c.member_a.pk}, _only(MANAGES_MEMBERS_A)),
    "orgs:member_transfer": ("get", lambda c: {"pk": c.member_a.pk}, _only(MANAGES_MEMBERS_A)),
    "orgs:member_pledge": ("get", lambda c: {"pk": c.member_a.pk}, _only(MANAGES_MEMBERS_A | {"member_user_a"})),
    "orgs:member_photo": ("get", lambda c: {"pk": c.member_a.pk},
                          _only({"admin", "staff", "assessor", "secretary_a", "member_user_a"})),
    "orgs:account_list": ("get", None, _only({"admin"})),
    "orgs:account_create": ("get", None, _only({"admin"})),
    "orgs:account_detail": ("get", lambda c: {"pk": c.member_user_a.pk}, _only({"admin"})),
    "orgs:account_status": ("post", lambda c: {"pk": c.member_user_a.pk}, _only({"admin"}, ok=302)),
    "orgs:account_password": ("get", lambda c: {"pk": c.member_user_a.pk}, _only({"admin"})),
    "orgs:grant_revoke": ("post", lambda c: {"pk": c.grant_b.pk}, _only({"admin"}, ok=302)),
    "orgs:type_list": ("get", None, _all(200, outsider=404)),
    "orgs:type_create": ("get", None, _only(MANAGERS)),
    "orgs:type_edit": ("get", lambda c: {"pk": c.branch_a.type_id}, _only(MANAGERS)),
    "orgs:import_home": ("get", None, _only(MANAGERS)),
    "orgs:import_template": ("get", lambda c: {"kind": "members"}, _only(MANAGERS)),
    "orgs:import_upload": ("get", lambda c: {"kind": "members"}, _only(MANAGERS)),
    # Standard sets: every role reads the committee's rules (secretary B too: the committee is above branch B);
    # only the committee's staff write them.
    "standards:set_list": ("get", None, _all(200, outsider=404)),
    "standards:set_create": ("get", None, _only(MANAGERS)),
    "standards:load_default": ("get", None, _only(MANAGERS)),
    "standards:import_new": ("get", None, _only(MANAGERS)),
    "standards:import_template": ("get", None, _only(MANAGERS)),
    "standards:set_detail": ("get", lambda c: {"pk": c.std.pk}, _all(200, outsider=404)),
    "standards:set_edit": ("get", lambda c: {"pk": c.std.pk}, _only(MANAGERS)),
    "standards:set_publish": ("post", lambda c: {"pk": c.std.pk}, _only(MANAGERS, ok=302)),
    "standards:set_archive": ("post", lambda c: {"pk": c.std.pk}, _only(MANAGERS, ok=302)),
    "standards:set_copy": ("get", lambda c: {"pk": c.std.pk}, _only(MANAGERS)),
    "standards:set_export": ("get", lambda c: {"pk": c.std.pk}, _all(200, outsider=404)),
    "standards:import_into": ("get", lambda c: {"pk": c.std.pk}, _only(MANAGERS)),
    "standards:preview": ("get", lambda c: {"pk": c.std.pk}, _all(200, outsider=404)),
    "standards:category_create": ("get", lambda c: {"pk": c.std.pk}, _only(MANAGERS)),
    "standards:category_edit": ("get", lambda c: {"pk": c.std_category.pk}, _only(MANAGERS)),
    "standards:category_delete": ("post", lambda c: {"pk": c.std_category.pk}, _only(MANAGERS, ok=302)),
    "standards:item_create": ("get", lambda c: {"pk": c.std.pk}, _only(MANAGERS)),
    "standards:item_edit": ("get", lambda c: {"pk": c.std_item.pk}, _only(MANAGERS)),
    "standards:item_delete": ("post", lambda c: {"pk": c.std_item.pk}, _only(MANAGERS, ok=302)),
    "standards:item_move": ("post", lambda c: {"pk": c.std_item.pk}, _only(MANAGERS, ok=302)),
    # The monthly evaluation (objects of branch A's month, built by _month on first use): everyone in scope sees
    # the committee's month (secretary B with only branch B's row); branch A's month is seen in its scope; the
    # secretary writes, assessors score, the committee's staff manage. POSTs without data end in a message (302)
    # or the page again with the error (200) for those allowed.
    "assessments:period_list": ("get", None, _all(200, outsider=404)),
    "assessments:period_create": ("get", None, _only(MANAGERS)),
    "assessments:period_detail": ("get", lambda c: {"pk": _month(c).period.pk}, _all(200, outsider=404)),
    "assessments:period_publish": ("post", lambda c: {"pk": _month(c).period.pk}, _only(MANAGERS, ok=302)),
    "assessments:period_finalize": ("post", lambda c: {"pk": _month(c).period.pk}, _only(MANAGERS, ok=302)),
    "assessments:period_assessors": ("get", lambda c: {"pk": _month(c).period.pk}, _only(MANAGERS)),
    "assessments:assignment_remove": ("post", lambda c: {"pk": _month(c).assignment_a.pk}, _only(MANAGERS, ok=302)),
    "assessments:evaluation_detail": ("get", lambda c: {"pk": _month(c).eval_a.pk}, _only(SEES_BRANCH_A)),
    "assessments:evaluation_summary": ("post", lambda c: {"pk": _month(c).eval_a.pk},
                                       _only(MANAGES_MEMBERS_A, ok=302)),
    "assessments:evaluation_move": ("post", lambda c: {"pk": _month(c).eval_a.pk}, _only(SEES_BRANCH_A, ok=302)),
    "assessments:evidence_upload": ("post", lambda c: {"pk": _month(c).eval_a.pk}, _only(MANAGES_MEMBERS_A, ok=302)),
    "assessments:item_self": ("post", lambda c: {"pk": _month(c).eval_item_a.pk}, _only(MANAGES_MEMBERS_A)),
    "assessments:item_assess": ("post", lambda c: {"pk": _month(c).eval_item_a.pk}, _only(MANAGERS | {"assessor"})),
    "assessments:evidence_download": ("get", lambda c: {"pk": _month(c).evidence_a.pk}, _only(SEES_BRANCH_A)),
    "assessments:evidence_withdraw": ("post", lambda c: {"pk": _month(c).evidence_a.pk},
                                      _only(MANAGES_MEMBERS_A, ok=302)),
    # Member standard sets (党员评价标准): the committee's default set, a draft.
    "standards:member_set_list": ("get", None, _all(200, outsider=404)),
    "standards:member_set_create": ("get", None, _only(MANAGERS)),
    "standards:member_set_load_default": ("get", None, _only(MANAGERS)),
    "standards:member_set_import": ("get", None, _only(MANAGERS)),
    "standards:member_set_template": ("get", None, _only(MANAGERS)),
    "standards:member_set_detail": ("get", lambda c: {"pk": _member_std(c).member_std.pk}, _all(200, outsider=404)),
    "standards:member_set_export": ("get", lambda c: {"pk": _member_std(c).member_std.pk}, _all(200, outsider=404)),
    "standards:member_set_edit": ("get", lambda c: {"pk": _member_std(c).member_std.pk}, _only(MANAGERS)),
    "standards:member_set_copy": ("get", lambda c: {"pk": _member_std(c).member_std.pk}, _only(MANAGERS)),
    "standards:member_set_import_into": ("get", lambda c: {"pk": _member_std(c).member_std.pk}, _only(MANAGERS)),
    "standards:member_item_create": ("get", lambda c: {"pk": _member_std(c).member_std.pk}, _only(MANAGERS)),
    "standards:member_set_publish": ("post", lambda c: {"pk": _member_std(c).member_std.pk}, _only(MANAGERS, ok=302)),
    "standards:member_set_archive": ("post", lambda c: {"pk": _member_std(c).member_std.pk}, _only(MANAGERS, ok=302)),
    "standards:member_item_edit": ("get", lambda c: {"pk": _member_std(c).member_item.pk}, _only(MANAGERS)),
    "standards:member_item_delete": ("post", lambda c: {"pk": _member_std(c).member_item.pk}, _only(MANAGERS, ok=302)),
    "standards:member_item_move": ("post", lambda c: {"pk": _member_std(c).member_item.pk}, _only(MANAGERS, ok=302)),
    # Handbook PDFs and year end (民主评议): branch A's 2025 review with member A's appraisal.
    "appraisal:handbook_index": ("get", None, _only({"admin", "staff", "secretary_a", "secretary_b", "member_user_a"})),
    "appraisal:handbook_member": ("get", lambda c: {"member_id": c.member_a.pk}, _only(AP_A)),
    "appraisal:handbook_branch": ("get", lambda c: {"org_id": c.branch_a.pk}, _only(MANAGES_MEMBERS_A)),
    "appraisal:yearend_list": ("get", None, _only({"admin", "staff", "secretary_a", "secretary_b"})),
    "appraisal:yearend_branch": ("get", lambda c: {"org_id": c.branch_a.pk, "year": 2025}, _only(MANAGES_MEMBERS_A)),
    "appraisal:yearend_compute": ("post", lambda c: {"org_id": c.branch_a.pk, "year": 2025},
                                  _only(MANAGES_MEMBERS_A, ok=302)),
    "appraisal:yearend_rule": ("get", lambda c: {"pk": _year_review(c).review_a.pk}, _only(MANAGES_MEMBERS_A)),
    "appraisal:yearend_lock": ("post", lambda c: {"pk": _year_review(c).review_a.pk}, _only(MANAGES_MEMBERS_A, ok=302)),
    # The wall (上墙): branch A's October with member A, its public link open and a message (built by _wall).
    # Single-branch users are sent from the index to their branch's wall (302).
    "appraisal:wall_index": ("get", None, _only(MANAGERS) | {"secretary_a": 302, "secretary_b": 302,
                                                             "member_user_a": 302}),
    "appraisal:wall_detail": ("get", lambda c: {"org_id": _wall(c).branch_a.pk}, _only(WALL_A)),
    "appraisal:wall_screen": ("get", lambda c: {"org_id": _wall(c).branch_a.pk}, _only(WALL_A)),
    "appraisal:wall_poster": ("get", lambda c: {"org_id": _wall(c).branch_a.pk}, _only(WALL_A)),
    "appraisal:wall_photo": ("get", lambda c: {"org_id": _wall(c).branch_a.pk, "member_id": c.member_a.pk},
                             _only(WALL_A)),
    "appraisal:wall_manage": ("get", lambda c: {"org_id": _wall(c).branch_a.pk}, _only(MANAGES_MEMBERS_A)),
    "appraisal:wall_link": ("post", lambda c: {"org_id": _wall(c).branch_a.pk}, _only(MANAGES_MEMBERS_A, ok=302)),
    "appraisal:wall_qr": ("get", lambda c: {"org_id": _wall(c).branch_a.pk}, _only(MANAGES_MEMBERS_A)),
    "appraisal:wall_feedback_list": ("get", None, _only(MANAGERS | {"secretary_a", "secretary_b"})),
    "appraisal:wall_feedback_detail": ("get", lambda c: {"pk": _wall(c).feedback_a.pk}, _only(MANAGES_MEMBERS_A)),
    "appraisal:wall_feedback_read": ("post", lambda c: {"pk": _wall(c).feedback_a.pk},
                                     _only(MANAGES_MEMBERS_A, ok=302)),
    # Public (no login) by the wall's key.
    "appraisal:wall_public": ("get", lambda c: {"key": _wall(c).wall_key}, _all(200, anonymous=200)),
    "appraisal:wall_public_screen": ("get", lambda c: {"key": _wall(c).wall_key}, _all(200, anonymous=200)),
    "appraisal:wall_public_photo": ("get", lambda c: {"key": _wall(c).wall_key, "member_id": c.member_a.pk},
                                    _all(200, anonymous=200)),
    "appraisal:wall_public_feedback": ("get", lambda c: {"key": _wall(c).wall_key}, _all(200, anonymous=200)),
    "appraisal:wall_public_thanks": ("get", lambda c: {"key": _wall(c).wall_key}, _all(200, anonymous=200)),
    # Pillar 2: the monthly member evaluation (appraisal). Branch A's October; AP_A: who may act on member A's
    # month (the member through own_q, the branch's secretary, the committee's staff, admin).
    "appraisal:period_list": ("get", None, _only({"admin", "staff", "secretary_a", "secretary_b"})),
    "appraisal:period_create": ("get", None, _only(MANAGERS)),
    "appraisal:period_detail": ("get", lambda c: {"pk": _mm(c).ap_period.pk}, _all(200, outsider=404, assessor=404)),
    "appraisal:period_publish_ready": ("post", lambda c: {"pk": _mm(c).ap_period.pk}, _only(MANAGERS, ok=302)),
    "appraisal:period_close": ("post", lambda c: {"pk": _mm(c).ap_period.pk}, _only(MANAGERS, ok=302)),
    "appraisal:branch_month": ("get", lambda c: {"pk": _mm(c).ap_period.pk, "org_pk": c.branch_a.pk},
                               _only(MANAGES_MEMBERS_A)),
    "appraisal:branch_publish": ("post", lambda c: {"pk": _mm(c).ap_period.pk, "org_pk": c.branch_a.pk},
                                 _only(MANAGES_MEMBERS_A, ok=302)),
    "appraisal:my_month": ("get", None, _all(302)),
    "appraisal:my_history": ("get", None, _all(200)),
    "appraisal:evaluation_detail": ("get", lambda c: {"pk": _mm(c).ap_eval_a.pk}, _only(AP_A)),
    "appraisal:evaluation_save": ("post", lambda c: {"pk": _mm(c).ap_eval_a.pk}, _only(AP_A, ok=302)),
    "appraisal:evaluation_move": ("post", lambda c: {"pk": _mm(c).ap_eval_a.pk}, _only(AP_A, ok=302)),
    "appraisal:evaluation_exempt": ("post", lambda c: {"pk": _mm(c).ap_eval_a.pk}, _only(MANAGES_MEMBERS_A, ok=302)),
    "appraisal:evidence_upload": ("post", lambda c: {"pk": _mm(c).ap_eval_a.pk}, _only(AP_A, ok=302)),
    "appraisal:evidence_download": ("get", lambda c: {"pk": _mm(c).ap_evidence_a.pk}, _only(AP_A)),
    "appraisal:evidence_withdraw": ("post", lambda c: {"pk": _mm(c).ap_evidence_a.pk}, _only(AP_A, ok=302)),
}


def _member_std(c):
    """The committee's default member standard set (a draft) and its last item, built on first use."""
    if not hasattr(c, "member_std"):
        c.member_std = load_default_member_set(c.staff, c.committee, 2026)
        c.member_item = c.member_std.items.order_by("order").last()
    return c


def _year_review(c):
    """Branch A's 2025 民主评议 with member A's appraisal, built on first use."""
    if not hasattr(c, "review_a"):
        from decimal import Decimal

        from dangjian.appraisal.models import YearAppraisal, YearReview

        c.review_a = YearReview.objects.create(org=c.branch_a, year=2025)
        c.appraisal_a = YearAppraisal.objects.create(
            review=c.review_a, member=c.member_a, member_name=c.member_a.name, months=12,
            annual_total=Decimal("1020.0"), average=Decimal("85.0"), rank=1, suggested_grade="qualified")
    return c


def _wall(c):
    """Branch A's September 2026 published with member A on it, its public link open, one message from the public."""
    if not hasattr(c, "wall_key"):
        from dangjian.appraisal import wall as wall_services
        from dangjian.appraisal.models import WallFeedback
        from tests.appraisal.test_wall import publish_month

        publish_month(c, c.branch_a, [c.member_a], datetime.date(2026, 9, 1))
        c.wall_key = wall_services.enable_public_wall(c.staff, c.branch_a).key
        c.feedback_a = WallFeedback.objects.create(org=c.branch_a, kind="praise", text="抢修及时，点赞。",
                                                   client_hash="0" * 64)
    return c


def _mm(c):
    """Branch A's October of member evaluation, with one evidence file on item J2."""
    if not hasattr(c, "ap_eval_a"):
        from tests.appraisal.conftest import make_member_set, open_month

        make_member_set(c.committee)
        c.ap_period = open_month(c)
        c.ap_eval_a = c.ap_period.evaluations.get(member=c.member_a)
        c.ap_evidence_a = MemberEvidence(evaluation=c.ap_eval_a, line=c.ap_eval_a.lines.get(item__code="J2"),
                                         name="记录.pdf", content_type="application/pdf", size=9)
        c.ap_evidence_a.file.save("记录.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    return c


def _month(c):
    """Branch A's month of a 2025 period, with an evidence file, an objection and an assessor assignment; built
    the first time a row asks for it, so the other rows do not pay for it."""
    if not hasattr(c, "eval_a"):
        load_default_set(c.staff, c.committee, 2025, publish=True)
        c.period = eval_services.open_period(c.staff, c.committee, "2025-10", submit_due=datetime.date(2025, 10, 25),
                                             self_due=datetime.date(2025, 10, 28),
                                             assess_due=datetime.date(2025, 11, 5))
        c.eval_a = c.period.evaluations.get(org=c.branch_a)
        c.eval_item_a = c.eval_a.items.order_by("id").first()
        c.evidence_a = Evidence(evaluation=c.eval_a, eval_item=c.eval_item_a, name="记录.pdf",
                                content_type="application/pdf", size=9)
        c.evidence_a.file.save("记录.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
        c.objection_a = Objection.objects.create(evaluation=c.eval_a, text="第一项已按期召开。")
        c.assignment_a = AssessorAssignment.objects.create(evaluation=c.eval_a, assessor=c.assessor)
    return c


# Activity records (组织生活、学习、党费、服务): their rows live beside their tests.
MATRIX.update(ACTIVITY_PAGES)
# Pillar 3 (service): one file of rows per part, beside its tests.
for _part in (matrix_needs, matrix_tickets, matrix_surveys, matrix_teams, matrix_projects, matrix_dashboards,
              matrix_results, matrix_oversight, matrix_benchmark, matrix_notifications):
    MATRIX.update(_part.PAGES)


def _url_names(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace
            if ns in EXCLUDED_NAMESPACES:
                continue
            yield from _url_names(p, f"{prefix}{ns}:" if ns else prefix)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def test_every_url_name_has_a_row():
    names = set(_url_names())
    missing = sorted(names - set(MATRIX))
    assert not missing, f"URL names without a row in the permission matrix: {missing}"
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"rows for URL names that no longer exist: {stale}"


@pytest.fixture
def world(company):
    c = company
    c.seat_a = CommitteeSeat.objects.create(org=c.branch_a, member=c.secretary_member_a, duty="secretary",
                                            since="2024-01-01")
    c.grant_b = RoleGrant.objects.get(user=c.secretary_b)
    buf = io.BytesIO()
    Image.new("RGB", (30, 40), "red").save(buf, "JPEG")
    c.member_a.photo.save("a.jpg", ContentFile(buf.getvalue()))
    c.std = load_default_set(c.staff, c.committee, 2026)  # a draft owned by the committee
    c.std_category = c.std.categories.order_by("order").first()
    c.std_item = c.std_category.items.order_by("order").last()
    return c


CASES = [(name, persona) for name in sorted(MATRIX) for persona in PERSONAS]


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_permission_matrix(client, world, name, persona):
    method, kwargs, expected = MATRIX[name]
    user = None if persona == "anonymous" else getattr(world, persona)
    if user is not None:
        client.force_login(user)
    url = reverse(name, kwargs=kwargs(world) if kwargs else None)
    resp = getattr(client, method)(url)
    assert resp.status_code == expected[persona], f"{name} as {persona}: {resp.status_code}"
    if expected[persona] == 302 and persona == "anonymous" and name not in ("set_language",):
        assert resp.url.startswith(reverse("login"))


def test_django_admin_is_for_superusers_only(client, company):
    client.force_login(company.staff)
    resp = client.get("/django-admin/")
    assert resp.status_code == 302 and "/django-admin/login/" in resp.url
