"""The daily ticket reminder (service.tickets.remind_due) also writes 站内消息: to the owner, else the organization's
ticket handlers — with or without an e-mail address — once per ticket and day; the e-mails are unchanged."""

import datetime

import pytest
from django.core import mail

from dangjian.core.models import Notification
from dangjian.service import tickets as services
from dangjian.service.models import Ticket, TState
from tests.service.tickets_helpers import staff_ticket, to_state

TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _overdue(c, org=None, days=3):
    t = to_state(c.staff, staff_ticket(c, org), TState.DO)
    Ticket.objects.filter(pk=t.pk).update(due_date=TODAY - datetime.timedelta(days=days))
    t.refresh_from_db()
    return t


def test_ticket_reminders_reach_the_app_once_a_day_even_without_email(company):
    late = _overdue(company)                                   # branch A, no owner -> secretary A (no e-mail)
    owned = _overdue(company, company.branch_b, days=1)
    Ticket.objects.filter(pk=owned.pk).update(owner=company.staff)
    counts = services.remind_due(TODAY)
    assert counts["unreachable"] == 2 and not mail.outbox      # nobody has an e-mail address: as before
    (a,) = Notification.objects.filter(user=company.secretary_a)
    assert a.kind == "ticket.due" and late.number in a.title and "已逾期3天" in a.title
    assert a.url == f"/service/tickets/{late.pk}/" and a.org_path == company.branch_a.path
    (s,) = Notification.objects.filter(user=company.staff)
    assert owned.number in s.title
    assert not Notification.objects.filter(user=company.secretary_b).exists()  # the owner is reminded, not B
    services.remind_due(TODAY)                                 # unreachable tickets are tried again: no new message
    assert Notification.objects.count() == 2
    services.remind_due(TODAY + datetime.timedelta(days=1))
    assert Notification.objects.count() == 4
