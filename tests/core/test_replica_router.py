"""The read replica router (dangjian.core.db_router): reads go to ``replica`` only inside ``frozen_reads()``, writes
and everything else stay on ``default``, migrations run on ``default`` only.

The page test uses a ``replica`` alias that is a test mirror of ``default`` (Django's TEST MIRROR: a second
connection to the same test database), so the months it reads must be committed: a transactional test, on
PostgreSQL only (SQLite sites have no replica; its flush would also meet the lock triggers of a finalized month).
"""

import copy
import datetime

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.assessments import services
from dangjian.assessments.close import finalize_period
from dangjian.assessments.models import Period, Result
from dangjian.core.db_router import REPLICA, ReplicaRouter, frozen_reads, in_frozen_reads
from dangjian.orgs.models import Organization
from dangjian.standards.services import load_default_set
from tests.assessments.test_close import drive_to_published


@pytest.fixture(scope="module")
def replica_alias(django_db_setup, django_db_blocker):
    """``replica`` as a mirror of the test database, for this module only."""
    with django_db_blocker.unblock():
        settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": DEFAULT_DB_ALIAS}
    connections.settings[REPLICA] = settings_dict
    yield REPLICA
    with django_db_blocker.unblock():
        connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def routed(settings, replica_alias):
    settings.DATABASE_ROUTERS = ["dangjian.core.db_router.ReplicaRouter"]
    return replica_alias


# ---- the rule ------------------------------------------------------------------------------------------------


def test_reads_stay_on_default_outside_frozen_reads_and_without_a_replica(replica_alias):
    router = ReplicaRouter()
    assert router.db_for_read(Result) == DEFAULT_DB_ALIAS
    assert not in_frozen_reads()
    with frozen_reads():
        assert in_frozen_reads()
        assert router.db_for_read(Result) == REPLICA
        assert router.db_for_write(Result) == DEFAULT_DB_ALIAS
    assert not in_frozen_reads()
    saved = connections.settings.pop(REPLICA)
    try:
        with frozen_reads():
            assert router.db_for_read(Result) == DEFAULT_DB_ALIAS  # no replica configured
    finally:
        connections.settings[REPLICA] = saved


def test_frozen_reads_ends_on_error_and_nests():
    with pytest.raises(RuntimeError), frozen_reads():
        with frozen_reads():
            pass
        assert in_frozen_reads()
        raise RuntimeError
    assert not in_frozen_reads()


@pytest.mark.django_db
def test_a_transaction_on_the_primary_reads_its_own_writes(replica_alias):
    router = ReplicaRouter()
    with frozen_reads(), transaction.atomic():
        assert router.db_for_read(Result) == DEFAULT_DB_ALIAS


def test_migrations_only_on_default_and_relations_allowed():
    router = ReplicaRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "assessments")
    assert not router.allow_migrate(REPLICA, "assessments")
    assert router.allow_relation(object(), object())


# ---- a frozen month's page on the replica -------------------------------------------------------------------


@pytest.fixture
def finalized(company):
    if connection.vendor != "postgresql":
        pytest.skip("read replicas are a PostgreSQL deployment; the mirror needs committed data")
    standard = load_default_set(company.staff, company.committee, 2026, publish=True)
    period = services.open_period(
        company.staff, company.committee, "2026-10", submit_due=datetime.date(2026, 10, 25),
        self_due=datetime.date(2026, 10, 28), assess_due=datetime.date(2026, 11, 5), standard_set=standard)
    drive_to_published(company, period)
    finalize_period(company.staff, period)
    return Period.objects.get(pk=period.pk)


def _selects_of(queries, table):
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT") and table in q["sql"]]


def _writes(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=[DEFAULT_DB_ALIAS, REPLICA])
@pytest.mark.usefixtures("flushable_audit")
def test_a_finalized_months_results_are_read_on_the_replica_and_writes_stay_on_default(
        routed, finalized, company, client, login):
    login(company.staff)
    url = reverse("assessments:period_results", args=[finalized.pk])
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, CaptureQueriesContext(connection) as on_default:
        page = client.get(url)
        export = client.get(url, {"format": "xlsx"})
    assert page.status_code == 200
    assert company.branch_a.name in page.content.decode()
    assert export.status_code == 200
    assert _selects_of(on_replica.captured_queries, '"assessments_result"')
    assert not _writes(on_replica.captured_queries)
    # The month's rows were read on the replica; the primary only checked the period, access and the digest, and
    # recorded the export in the audit log.
    listing = [sql for sql in _selects_of(on_default.captured_queries, '"assessments_result"') if "LIMIT" in sql]
    assert listing == []
    assert any("core_auditevent" in sql for sql in _writes(on_default.captured_queries))

    # An open month's page reads nothing on the replica.
    standard = finalized.standard_set
    open_month = services.open_period(
        company.staff, company.committee, "2026-11", submit_due=datetime.date(2026, 11, 25),
        self_due=datetime.date(2026, 11, 28), assess_due=datetime.date(2026, 12, 5), standard_set=standard)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get(reverse("assessments:period_results", args=[open_month.pk])).status_code == 200
    assert on_replica.captured_queries == []

    # A write inside frozen_reads() goes to the primary.
    with CaptureQueriesContext(connections[REPLICA]) as on_replica, frozen_reads():
        Organization.objects.filter(pk=company.branch_c.pk).update(name="机关第一党支部（更名）")
    assert on_replica.captured_queries == []
    assert Organization.objects.get(pk=company.branch_c.pk).name == "机关第一党支部（更名）"
