"""What the parts of the service pillar share: public keys, numbers, and opening a ticket.

``open_ticket`` is the one way a ticket comes to be — from an accepted need (service.needs), a low satisfaction
index (service.surveys) or staff (service.tickets) — so every ticket starts in Plan with its number, its origin
and an audit event, and its opening is a row of its history.
"""

import datetime
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError, actor
from dangjian.orgs.models import Organization
from dangjian.service.models import (
    Need,
    Origin,
    SatisfactionIndex,
    ServiceArea,
    Ticket,
    TicketTransition,
    TState,
)

TITLE_MAX = 60


def new_key() -> str:
    """The random part of a public link (needs form, survey link, invitation): 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


def number_for(prefix: str, pk: int, on: datetime.date | None = None) -> str:
    """"XQ" + year + "-" + six digits of the id: XQ2026-000123. Unique because the id is."""
    year = (on or timezone.localdate()).year
    return f"{prefix}{year}-{pk:06d}"


def assign_number(obj, prefix: str, on: datetime.date | None = None) -> None:
    """Give a just-created Need or Ticket its number (the row is created with a random placeholder)."""
    obj.number = number_for(prefix, obj.pk, on)
    type(obj).objects.filter(pk=obj.pk).update(number=obj.number)


def placeholder_number() -> str:
    return "~" + secrets.token_hex(9)


def check_area(org: Organization, area: ServiceArea | None) -> None:
    if area is not None and area.org_id != org.pk:
        raise DomainError(_("所选服务区域不属于该单位，请重新选择。"), "area")


@transaction.atomic
def open_ticket(user, org: Organization, *, origin: str, title: str, description: str,
                need: Need | None = None, index: SatisfactionIndex | None = None, area: ServiceArea | None = None,
                owner=None, due_date: datetime.date | None = None, request=None) -> Ticket:
    """A new ticket in Plan. ``user`` may be None (a ticket the platform opens by itself, e.g. a low index).
    The caller checks the user's permission (each origin has its own: need.manage, survey.manage, ticket.handle)."""
    title = (title or "").strip()[:TITLE_MAX]
    description = (description or "").strip()
    if not title:
        raise DomainError(_("请填写工单标题。"), "title")
    if not description:
        raise DomainError(_("请填写问题描述。"), "description")
    if origin not in Origin.values:
        raise DomainError(_("工单来源无效。"), "origin")
    check_area(org, area)
    ticket = Ticket.objects.create(
        org=org, area=area, number=placeholder_number(), origin=origin, need=need, index=index, title=title,
        description=description, owner=owner, due_date=due_date, created_by=actor(user),
    )
    assign_number(ticket, "GD")
    TicketTransition.objects.create(ticket=ticket, from_state=TState.PLAN, to_state=TState.PLAN,
                                    actor=actor(user), reason=_("立项"))
    log_action(actor(user), "ticket.opened", ticket, org_path=org.path, request=request, number=ticket.number,
               origin=origin, need=need.pk if need else None, index=index.pk if index else None)
    return ticket
