"""Rows for the dashboard and loop tests, made directly with the ORM (the other parts' services are written in
parallel): needs, tickets with given open/close times, satisfaction indices and service activities."""

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from dangjian.service.models import (
    Need,
    SatisfactionIndex,
    ServiceActivity,
    ServiceArea,
    ServiceParticipation,
    ServiceTeam,
    Ticket,
    TState,
)

_seq = itertools.count(1)


def at(y, m, d, hour=10):
    """A local (Asia/Shanghai) time as an aware datetime."""
    return timezone.make_aware(datetime.datetime(y, m, d, hour))


def area(org, name="城关网格"):
    return ServiceArea.objects.get_or_create(org=org, name=name)[0]


def need(org, on, *, category="complaint", kind="people", area=None, title="低电压"):
    n = next(_seq)
    return Need.objects.create(org=org, area=area, number=f"XQT-{n:06d}", kind=kind, category=category,
                               title=title, text="客户反映晚高峰电压低", received_on=on)


def ticket(org, created, *, closed=None, due=None, state=None, index=None, area=None, recurrence=False):
    n = next(_seq)
    if state is None:
        state = TState.CLOSED if closed else TState.DO
    t = Ticket.objects.create(org=org, area=area, number=f"GDT-{n:06d}", title="整改低电压", description="台区改造",
                              state=state, due_date=due, index=index, origin="survey" if index else "staff",
                              closed_at=closed, recurrence=recurrence)
    Ticket.objects.filter(pk=t.pk).update(created_at=created)
    t.refresh_from_db()
    return t


def index(org, month, mean, responses=20, *, kind="customer", share=None):
    return SatisfactionIndex.objects.create(
        org=org, month=month, kind=kind, responses=responses, mean_score=Decimal(str(mean)) if mean is not None else None,
        share_satisfied=Decimal(str(share)) if share is not None else None, threshold=Decimal("80"))


def activity(org, on, members_hours, served=10, team_name="光明先锋共产党员服务队"):
    team = ServiceTeam.objects.get_or_create(org=org, name=team_name)[0]
    a = ServiceActivity.objects.create(team=team, date=on, title="进社区用电检查", place="城关社区", people_served=served)
    for member, hours in members_hours:
        ServiceParticipation.objects.create(activity=a, member=member, hours=Decimal(str(hours)))
    return a
