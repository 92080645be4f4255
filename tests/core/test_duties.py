"""Separable 三员 duties (QUALITY.md S4): over every URL of the permission matrix, the 审计管理员 reads the audit
log (including the events tied to no organization: logins, failures, lockouts) and nothing else, and changes
nothing; the 安全管理员 manages lockouts and second factors and nothing else."""

import pytest
from django.urls import reverse

from dangjian.core.audit import log_action
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Role
from tests.factories import make_user
from tests.test_permission_matrix import MATRIX, world  # noqa: F401  (world is a fixture)

# What any logged-in user may open: their own pages.
OWN = {"home": 200, "password_change": 200, "totp_setup": 200, "login": 302, "login_verify": 302,
       "logout": 405, "set_language": 302,
       # a member's own months (empty for an account with no member record) and the public wall pages
       "appraisal:my_history": 200, "appraisal:my_month": 302, "appraisal:wall_public": 200,
       "appraisal:wall_public_feedback": 200, "appraisal:wall_public_photo": 200, "appraisal:wall_public_screen": 200,
       "appraisal:wall_public_thanks": 200,
       # the public forms of the service pillar (no login)
       "service:public_need": 200, "service:public_need_thanks": 200, "service:survey_public": 200,
       "service:survey_public_thanks": 200,
       # everyone's own in-app messages
       "notifications:list": 200, "notifications:read_all": 302,
       # the load balancer's health check answers everyone
       "healthz": 200}
DUTIES = {
    "auditor": (Role.AUDITOR, OWN | {"audit_list": 200}),
    # security_unlock: no lockout with that id (404); security_totp_reset: the account has no second factor
    # (a message and back to the page, 302); the personal-export grant without a username and the revoke of an
    # account without it: a message and back (302), nothing changed.
    "security_officer": (Role.SECURITY, OWN | {"security_home": 200, "security_unlock": 404,
                                               "security_totp_reset": 302, "security_personal_grant": 302,
                                               "security_personal_revoke": 302}),
}


@pytest.mark.parametrize("duty", sorted(DUTIES))
def test_each_duty_reaches_only_its_own_pages(client, world, duty):  # noqa: F811
    role, allowed = DUTIES[duty]
    user = make_user(duty, role, world.committee)
    client.force_login(user)
    wrong = []
    for name in sorted(MATRIX):  # one world for all rows: a duty that may change nothing changes nothing
        method, kwargs, _expected = MATRIX[name]
        resp = getattr(client, method)(reverse(name, kwargs=kwargs(world) if kwargs else None))
        if resp.status_code != allowed.get(name, 404):
            wrong.append(f"{name}: {resp.status_code}, expected {allowed.get(name, 404)}")
    assert not wrong, f"{duty}:\n" + "\n".join(wrong)
    changed = AuditEvent.objects.filter(user=user).exclude(action__in=["auth.login", "auth.logout"])
    assert not changed.exists(), list(changed.values_list("action", flat=True))


def test_the_auditor_reads_logins_and_the_staff_does_not(client, company, rf):
    log_action(None, "auth.login_failed", request=rf.get("/", REMOTE_ADDR="10.3.3.3"), username="nobody")
    auditor = make_user("auditor", Role.AUDITOR, company.committee)
    client.force_login(auditor)
    assert "10.3.3.3" in client.get(reverse("audit_list")).content.decode()
    client.force_login(company.staff)
    assert "10.3.3.3" not in client.get(reverse("audit_list")).content.decode()
    # An auditor granted on one branch sees that branch's events only.
    client.force_login(make_user("branch_auditor", Role.AUDITOR, company.branch_a))
    assert "10.3.3.3" not in client.get(reverse("audit_list")).content.decode()
