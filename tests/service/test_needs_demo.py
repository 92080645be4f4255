"""The demo's needs: areas for the 供电所 branches, about forty needs over four months in every state, an open
public form; deterministic for a seed and idempotent."""

import datetime
import random

from django.urls import reverse
from django.utils import timezone

from dangjian.service.demo_needs import ensure_demo_needs
from dangjian.service.models import Need, NeedChannel, ServiceArea, Ticket
from tests.factories import make_org


def _stations(c):
    make_org("城关供电所党支部", parent=c.committee)
    make_org("东湖供电所党支部", parent=c.committee)


def test_the_demo_builds_areas_needs_tickets_and_a_public_form(client, company):
    c = company
    _stations(c)
    today = timezone.localdate()
    channel = ensure_demo_needs(c.committee, c.staff, random.Random(7), today)
    assert isinstance(channel, NeedChannel) and channel.enabled and channel.org.name == "城关供电所党支部"
    assert ServiceArea.objects.filter(org=channel.org, name="城关网格").exists()
    assert ServiceArea.objects.count() == 7
    assert Need.objects.count() == 40
    states = set(Need.objects.values_list("state", flat=True))
    assert states == {"received", "accepted", "declined"}
    assert Ticket.objects.count() == Need.objects.filter(state="accepted").count() > 5
    assert Need.objects.filter(channel="public").exists() and Need.objects.filter(kind="government").exists()
    oldest = Need.objects.order_by("received_on").first().received_on
    assert oldest >= today - datetime.timedelta(days=120)
    assert client.get(reverse("service:public_need", args=[channel.key])).status_code == 200
    # Again: nothing new, the same form.
    assert ensure_demo_needs(c.committee, c.staff, random.Random(7), today) == channel
    assert Need.objects.count() == 40


def test_the_demo_is_deterministic(company):
    c = company
    _stations(c)
    today = timezone.localdate() - datetime.timedelta(days=3)
    ensure_demo_needs(c.committee, c.staff, random.Random(3), today)
    first = list(Need.objects.order_by("id").values_list("title", "received_on", "state", "requester"))
    Ticket.objects.all().delete()
    Need.objects.all().delete()
    NeedChannel.objects.all().delete()
    ServiceArea.objects.all().delete()
    ensure_demo_needs(c.committee, c.staff, random.Random(3), today)
    assert list(Need.objects.order_by("id").values_list("title", "received_on", "state", "requester")) == first


def test_no_station_no_demo(company):
    assert ensure_demo_needs(company.committee, company.staff, random.Random(1)) is None
    assert not Need.objects.exists()
