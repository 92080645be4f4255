"""The feedback rate limits hold when posts arrive at the same moment on several app servers: eight writers with
their own database connections (as eight app servers would have) post for the same client at once, and exactly
three messages are stored. PostgreSQL only, where writers really run in parallel; SQLite runs one writer at a time
by design (BEGIN IMMEDIATE)."""

import threading

import pytest
from django.db import connection, connections

from dangjian.appraisal import wall as services
from dangjian.appraisal.models import WallFeedback
from tests.appraisal.test_wall import publish_month

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]


def _race(key: str, clients: list[str]) -> tuple[int, list[Exception]]:
    start = threading.Barrier(len(clients))
    limited, errors = [], []

    def writer(client):
        try:
            start.wait()
            services.submit_feedback(key, kind="suggestion", text="同一时刻提交的留言。", client=client)
        except services.RateLimited:
            limited.append(client)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(limited), errors


def test_simultaneous_posts_from_one_client_store_exactly_three(company):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time by design (BEGIN IMMEDIATE)")
    c = company
    publish_month(c, c.branch_a, [c.member_a])
    key = services.enable_public_wall(c.secretary_a, c.branch_a).key
    limited, errors = _race(key, ["c" * 64] * 8)
    assert not errors
    assert limited == 5 and WallFeedback.objects.filter(client_hash="c" * 64).count() == 3


def test_simultaneous_posts_never_pass_the_walls_daily_limit(company):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time by design (BEGIN IMMEDIATE)")
    c = company
    publish_month(c, c.branch_a, [c.member_a])
    key = services.enable_public_wall(c.secretary_a, c.branch_a).key
    WallFeedback.objects.bulk_create([WallFeedback(org=c.branch_a, kind="praise", text="很好很好很好",
                                                   client_hash=f"{i:064x}") for i in range(services.PER_WALL_DAY - 2)])
    limited, errors = _race(key, [f"{i:x}".rjust(64, "e") for i in range(6)])
    assert not errors
    assert limited == 4 and WallFeedback.objects.filter(org=c.branch_a).count() == services.PER_WALL_DAY
