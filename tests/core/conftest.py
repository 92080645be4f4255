import pytest

from tests.audit_db import allow_audit_deletes


@pytest.fixture(scope="module")
def flushable_audit(django_db_setup, django_db_blocker):
    """For a module of transactional tests: the flush after each may empty the audit tables (tests/audit_db.py).
    At the end the rows the migrations seeded are put back, as the browser suite does."""
    from django.db import connection

    with django_db_blocker.unblock():
        allow_audit_deletes(connection, True)
    yield
    with django_db_blocker.unblock():
        allow_audit_deletes(connection, False)
        seeded = getattr(connection, "_test_serialized_contents", None)
        if seeded:
            connection.creation.deserialize_db_from_string(seeded)
