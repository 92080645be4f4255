"""An invitation code answers once even when the same code is posted at the same moment from several app servers,
and simultaneous index recomputations open one ticket: six writers with their own database connections race.
PostgreSQL only, where writers really run in parallel; SQLite runs one writer at a time by design."""

import threading

import pytest
from django.db import connection, connections

from dangjian.core.errors import DomainError
from dangjian.service import surveys as svc
from dangjian.service.models import SurveyResponse, Ticket
from tests.service.test_surveys_indices import MONTH, add_responses, make_open_survey

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]


def _race(n: int, work) -> tuple[int, list[Exception]]:
    start = threading.Barrier(n)
    refused, errors = [], []

    def writer(i):
        try:
            start.wait()
            work(i)
        except DomainError:
            refused.append(i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(refused), errors


@pytest.fixture
def pg():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time by design (BEGIN IMMEDIATE)")


def test_one_invitation_code_posted_at_once_answers_once(pg, company):
    c = company
    s = make_open_survey(c)
    s.one_per_invitation = True
    s.save(update_fields=["one_per_invitation"])
    link = s.links.get(org=c.branch_a)
    token = svc.create_invitations(c.staff, link, 1)[0].token
    q1, q2 = s.questions.filter(kind="scale").order_by("order")

    def answer(i):
        svc.submit_response(link.key, answers={q1.pk: ["0"], q2.pk: ["1"]}, token=token, client=f"{i:x}".rjust(64, "a"))

    refused, errors = _race(6, answer)
    assert not errors
    assert refused == 5 and SurveyResponse.objects.count() == 1


def test_simultaneous_recomputations_open_one_ticket(pg, company):
    c = company
    s = make_open_survey(c)
    add_responses(s, c.branch_a, [(2, 2)] * 3)
    svc.compute_indices(MONTH)
    refused, errors = _race(4, lambda i: svc.open_low_tickets(MONTH))
    assert not errors and refused == 0
    assert Ticket.objects.count() == 1
