"""The demo tickets: fresh tickets run through the PDCA by the services (history exists), some closed with the
requester's satisfaction, some in Do, a few overdue, three found by the 供电所 themselves; a second run changes
nothing."""

import datetime
import random

from django.utils import timezone

from dangjian.service.common import open_ticket
from dangjian.service.demo_tickets import STAFF_TICKETS, ensure_demo_tickets
from dangjian.service.models import Need, NeedCategory, Origin, Ticket, TicketTransition, TState
from dangjian.service.tickets import overdue_q
from tests.factories import make_org
from tests.service.tickets_helpers import make_need

TODAY = timezone.localdate()


def _needs(c, n=24):
    stations = [make_org("城关供电所党支部", parent=c.general, code="S001"),
                make_org("城北供电所党支部", parent=c.general, code="S002")]
    for i in range(n):
        org = stations[i % 2]
        need = make_need(org, category=NeedCategory.COMPLAINT if i % 4 == 0 else NeedCategory.NEED)
        Need.objects.filter(pk=need.pk).update(received_on=TODAY - datetime.timedelta(days=5 + i * 5))
        need.refresh_from_db()
        open_ticket(c.staff, org, origin=Origin.NEED, title=need.title, description=need.text, need=need)
    return stations


def test_demo_runs_tickets_through_the_pdca(company):
    _needs(company)
    counts = ensure_demo_tickets(company.committee, company.staff, random.Random(7), TODAY)
    assert sum(counts.values()) == 27
    assert counts.get("closed", 0) >= 5 and counts.get("do", 0) >= 3
    closed = Ticket.objects.filter(state=TState.CLOSED, origin=Origin.NEED)
    assert closed.exists() and all(t.satisfaction and t.callback_on and t.closed_at for t in closed)
    assert all(t.similar_cases for t in closed if t.need.category == NeedCategory.COMPLAINT)
    assert 1 <= Ticket.objects.filter(overdue_q(TODAY)).count() <= 3
    staff = Ticket.objects.filter(origin=Origin.STAFF)
    assert sorted(staff.values_list("title", flat=True)) == sorted(t for t, _ in STAFF_TICKETS)
    for t in Ticket.objects.exclude(state=TState.PLAN):
        assert t.transitions.count() >= 2 and t.transitions.last().to_state == t.state
        assert all(timezone.localdate(r.at) <= TODAY for r in t.transitions.all())
    assert Ticket.objects.filter(state=TState.CANCELLED).count() <= 1


def test_demo_is_deterministic_and_idempotent(company):
    _needs(company, 12)
    ensure_demo_tickets(company.committee, company.staff, random.Random(7), TODAY)
    first = list(Ticket.objects.order_by("pk").values_list("state", "due_date", "satisfaction"))
    rows = TicketTransition.objects.count()
    ensure_demo_tickets(company.committee, company.staff, random.Random(7), TODAY)
    assert list(Ticket.objects.order_by("pk").values_list("state", "due_date", "satisfaction")) == first
    assert TicketTransition.objects.count() == rows
