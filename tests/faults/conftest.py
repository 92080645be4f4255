import datetime

import pytest

from tests.audit_db import allow_audit_deletes


@pytest.fixture(scope="module")
def flushable_audit(django_db_setup, django_db_blocker):
    """These are transactional tests (a child process must see the committed rows): the flush after each may
    empty the audit tables (tests/audit_db.py); at the end the rows the migrations seeded are put back."""
    from django.db import connection

    with django_db_blocker.unblock():
        allow_audit_deletes(connection, True)
    yield
    with django_db_blocker.unblock():
        allow_audit_deletes(connection, False)
        seeded = getattr(connection, "_test_serialized_contents", None)
        if seeded:
            connection.creation.deserialize_db_from_string(seeded)


@pytest.fixture
def standard(company):
    from dangjian.standards.services import load_default_set

    return load_default_set(company.staff, company.committee, 2026, publish=True)


@pytest.fixture
def period(company, standard):
    from dangjian.assessments import services

    return services.open_period(
        company.staff, company.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
        self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5))
