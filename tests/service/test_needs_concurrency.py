"""The public form's rate limits hold when posts arrive at the same moment on several app servers: writers with
their own database connections post at once, and the limits are never passed. PostgreSQL only, where writers
really run in parallel; SQLite runs one writer at a time by design (BEGIN IMMEDIATE)."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from dangjian.service import needs as services
from dangjian.service.models import Need

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]


def _race(keys: list[str], clients: list[str]) -> tuple[int, list[Exception]]:
    start = threading.Barrier(len(clients))
    limited, errors = [], []

    def writer(key, client):
        try:
            start.wait()
            services.submit_public_need(key, category="need", text="同一时刻提交的用电诉求内容。", client=client)
        except services.RateLimited:
            limited.append(client)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(k, c)) for k, c in zip(keys, clients, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(limited), errors


@pytest.fixture
def pg(company):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time by design (BEGIN IMMEDIATE)")
    return company


def test_simultaneous_posts_from_one_client_to_two_forms_store_exactly_three(pg):
    c = pg
    key_a = services.enable_channel(c.staff, c.branch_a).key
    key_b = services.enable_channel(c.staff, c.branch_b).key
    limited, errors = _race([key_a, key_b] * 4, ["c" * 64] * 8)
    assert not errors
    assert limited == 5 and Need.objects.filter(client_hash="c" * 64).count() == services.PER_CLIENT_HOUR


def test_simultaneous_posts_never_pass_the_channels_daily_limit(pg):
    c = pg
    key = services.enable_channel(c.staff, c.branch_a).key
    Need.objects.bulk_create([
        Need(org=c.branch_a, number=f"~{i}", title="诉求", text="诉求内容很长很长", received_on=timezone.localdate(),
             channel="public", client_hash=f"{i:064x}") for i in range(services.PER_CHANNEL_DAY - 2)])
    limited, errors = _race([key] * 6, [f"{i:x}".rjust(64, "e") for i in range(6)])
    assert not errors
    assert limited == 4 and Need.objects.filter(org=c.branch_a).count() == services.PER_CHANNEL_DAY
