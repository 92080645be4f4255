"""Named personas on a small company, shared by all tests:

    committee (市公司党委)
    ├── general (运检党总支)
    │   ├── branch_a (变电运维党支部, production) — secretary_a, member_a
    │   └── branch_b (输电运检党支部, production) — secretary_b
    └── branch_c (机关第一党支部, management)

staff: 党建管理员 of the committee; assessor: 考评员 of the committee; admin: 系统管理员 on the committee;
outsider: a user with no grant at all.
"""

import pytest
from django.conf import settings

from dangjian.orgs.models import Level, Role
from tests.factories import PASSWORD, make_member, make_org, make_user


def pytest_configure(config):
    # Hashing a password costs ~0.3 s with the production hasher; tests create many accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # DEBUG is off in tests, so production would redirect to https; the test client and live server speak http.
    settings.SECURE_SSL_REDIRECT = False


class Company:
    pass


@pytest.fixture
def company(db):
    c = Company()
    c.committee = make_org("国网示范市供电公司党委", level=Level.COMMITTEE, type_code=None, code="C001")
    c.general = make_org("运维检修党总支", parent=c.committee, level=Level.GENERAL_BRANCH, type_code=None,
                         code="G001")
    c.branch_a = make_org("变电运维党支部", parent=c.general, code="B001")
    c.branch_b = make_org("输电运检党支部", parent=c.general, code="B002")
    c.branch_c = make_org("机关第一党支部", parent=c.committee, type_code="management", code="B003")
    c.member_a = make_member(c.branch_a, "张三")
    c.secretary_member_a = make_member(c.branch_a, "李建国")
    c.member_b = make_member(c.branch_b, "王芳", gender="F")
    c.member_c = make_member(c.branch_c, "赵敏", gender="F")
    c.admin = make_user("admin", Role.ADMIN, c.committee)
    c.staff = make_user("staff", Role.STAFF, c.committee, first_name="党建部")
    c.assessor = make_user("assessor", Role.ASSESSOR, c.committee)
    c.secretary_a = make_user("secretary_a", Role.SECRETARY, c.branch_a, member=c.secretary_member_a)
    c.secretary_b = make_user("secretary_b", Role.SECRETARY, c.branch_b)
    c.member_user_a = make_user("member_a", Role.MEMBER, c.branch_a, member=c.member_a)
    c.outsider = make_user("outsider")
    c.member_a.refresh_from_db()
    c.secretary_member_a.refresh_from_db()
    return c


PERSONAS = ["admin", "staff", "assessor", "secretary_a", "secretary_b", "member_user_a", "outsider", "anonymous"]


@pytest.fixture
def login(client):
    def _login(user):
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        return client

    return _login


@pytest.fixture
def password():
    return PASSWORD


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def built_demo(django_db_setup, django_db_blocker):
    """`manage.py demo` run once for a whole test module, because it takes seconds: inside a transaction rolled back
    after the module's last test. Each test's own transaction is a savepoint inside it, so the tests still do not
    see each other's writes. Tests using it also take ``db`` and the fast hasher (``demo_hasher``). Yields the
    command's output."""
    import io

    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=FAST_HASHERS, DEBUG=True):
                out = io.StringIO()
                call_command("demo", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo_hasher(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(scope="module")
def flushable_audit(django_db_setup, django_db_blocker):
    """For a module of transactional tests (``pytest.mark.usefixtures("flushable_audit")``): the flush after each
    may empty the audit tables (tests/audit_db.py). At the end the rows the migrations seeded are put back."""
    from django.db import connection

    from tests.audit_db import allow_audit_deletes

    with django_db_blocker.unblock():
        allow_audit_deletes(connection, True)
    yield
    with django_db_blocker.unblock():
        allow_audit_deletes(connection, False)
        seeded = getattr(connection, "_test_serialized_contents", None)
        if seeded:
            connection.creation.deserialize_db_from_string(seeded)


# An organization month of the committee (2026-10 against the published default standard): used by the
# assessments tests and the fault tests alike; a directory with its own ``standard``/``period`` overrides these.
@pytest.fixture
def standard(company):
    from dangjian.standards.services import load_default_set

    return load_default_set(company.staff, company.committee, 2026, publish=True)


@pytest.fixture
def period(company, standard):
    import datetime

    from dangjian.assessments import services

    return services.open_period(
        company.staff, company.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
        self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
