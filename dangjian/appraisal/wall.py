"""上墙: a branch's published month on the wall, its public link and the public's feedback (群众监督).

- ``build_wall(org, month)`` reads a published month — the branch's ``BranchAggregate`` and its members'
  ``MemberResult`` rows with each member's photo, post (as it was that month) and pledge of that year — in two
  queries whatever the branch's size. The cards carry only what a wall shows; the pages, the big screen, the
  poster and the API all render from them.
- Before a month is shown its results are checked against the digest the close stored (QUALITY.md S6,
  ``appraisal.close.check_months``, one more query): a month whose results were changed afterwards raises
  ``DomainError`` and nothing of it is shown.
- Whether ranks are shown is the month's member standard set's ``public_ranking`` (off by default: then no rank
  and the cards are ordered by name; the score is still shown).
- The public link (``PublicWall``): the branch opens, renews (old QR codes stop working) or closes it.
- ``submit_feedback`` stores a message from the public form. The rate limits are counted in the database (the
  wall's row is locked while counting, and on PostgreSQL the client's advisory lock too), so they hold across any
  number of app servers: at most ``PER_CLIENT_HOUR`` messages per client an hour and ``PER_WALL_DAY`` per wall a
  day. A client is ``client_hash``: HMAC-SHA256 under SECRET_KEY of the address and the browser's user agent, so
  no address is stored with the message.
- The branch's secretary reads the messages (``wall.manage``), marks them read and records how each was handled.
"""

import datetime
import re
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.appraisal.close import check_months
from dangjian.appraisal.models import BranchAggregate, FeedbackKind, MemberResult, PublicWall, WallFeedback
from dangjian.core import public
from dangjian.core.access import require, scope
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.public import CONTACT_MAX, RateLimited, client_hash, mask_contact  # noqa: F401 (used by the views)
from dangjian.orgs.models import Member, Organization, Pledge

PER_CLIENT_HOUR = 3
PER_WALL_DAY = 200
TEXT_MIN, TEXT_MAX = 5, 500
REPLY_MAX = 1000

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


# ---- months ---------------------------------------------------------------------------------------------------


def parse_month(text: str | None) -> datetime.date | None:
    """``YYYY-MM`` → the month's first day; None for anything else."""
    m = _MONTH_RE.match((text or "").strip())
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return datetime.date(year, month, 1)


def month_label(month: datetime.date) -> str:
    return _("{year}年{month}月").format(year=month.year, month=month.month)


# ---- the wall's data --------------------------------------------------------------------------------------------


def initials(name: str) -> str:
    """What the card shows without a photo: the given name (the last two characters of a Chinese name of three
    or more), or the first letters of a Latin name."""
    name = (name or "").strip()
    if not name:
        return "?"
    if name.isascii():
        return "".join(part[0] for part in name.split()[:2]).upper()
    return name[-2:] if len(name) >= 3 else name


@dataclass
class Card:
    """One member on the wall: nothing but what a wall may show (no phone, ID number, birth date, reasons)."""

    member_id: int
    name: str
    post: str
    pledge: str
    total: Decimal
    qualified: bool
    rank: int | None
    photo: str  # the storage name, read by the photo views and the poster; never rendered
    initials: str

    @property
    def has_photo(self) -> bool:
        return bool(self.photo)


@dataclass
class Wall:
    org: Organization
    months: list[datetime.date]
    month: datetime.date | None = None
    public_ranking: bool = False
    count: int = 0
    average: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    unqualified: int = 0
    published_at: datetime.datetime | None = None
    digest: str = ""  # stored with the month's aggregate at publication (the key of its cached rendering)
    cards: list[Card] = field(default_factory=list)

    @property
    def month_value(self) -> str:
        return f"{self.month:%Y-%m}" if self.month else ""

    @property
    def label(self) -> str:
        return month_label(self.month) if self.month else ""

    def member_choices(self) -> list[tuple[int, str]]:
        return [(c.member_id, c.name) for c in self.cards]


def build_wall(org: Organization, month_text: str | None = None) -> Wall:
    """The wall of ``org`` for the published month ``month_text`` (``YYYY-MM``), or the latest published month.

    Three queries: the branch's published months with the chosen month's figures, the month's results checked
    against the digest stored with them (``check_months``: DomainError when they no longer match), then its members' cards. A month
    that is malformed or not published raises Http404; a branch without any published month gets an empty wall."""
    aggregates = list(
        BranchAggregate.objects.filter(org=org)
        .order_by("-month", "-id")
        .values("month", "period_id", "count", "avg", "min", "max", "unqualified", "published_at", "digest",
                "period__standard_set__public_ranking")
    )
    by_month: dict[datetime.date, dict] = {}
    for row in aggregates:
        by_month.setdefault(row["month"], row)
    wall = Wall(org=org, months=list(by_month))
    if month_text:
        month = parse_month(month_text)
        if month is None or month not in by_month:
            raise Http404(_("该月份没有公示的评价结果。"))
    elif wall.months:
        month = wall.months[0]
    else:
        return wall
    agg = by_month[month]
    check_months({(agg["period_id"], org.pk): month})
    wall.month = month
    wall.public_ranking = bool(agg["period__standard_set__public_ranking"])
    wall.count, wall.unqualified, wall.published_at = agg["count"], agg["unqualified"], agg["published_at"]
    wall.digest = agg["digest"] or ""
    wall.average = Decimal(agg["avg"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    wall.minimum, wall.maximum = agg["min"], agg["max"]
    pledge = Pledge.objects.filter(member_id=OuterRef("member_id"), year=month.year).values("text")[:1]
    order = ["rank", "member__name_pinyin", "id"] if wall.public_ranking else ["member__name_pinyin", "member_name",
                                                                                 "id"]
    rows = (
        MemberResult.objects.filter(org=org, month=month, period_id=agg["period_id"])
        .annotate(pledge_text=Subquery(pledge), month_post=F("evaluation__post"), current_post=F("member__post"),
                  photo=F("member__photo"))
        .order_by(*order)
        .values("member_id", "member_name", "total", "qualified", "rank", "pledge_text", "month_post",
                "current_post", "photo")
    )
    wall.cards = [
        Card(member_id=r["member_id"], name=r["member_name"], post=r["month_post"] or r["current_post"] or "",
             pledge=r["pledge_text"] or "", total=r["total"], qualified=r["qualified"],
             rank=r["rank"] if wall.public_ranking else None, photo=r["photo"] or "",
             initials=initials(r["member_name"]))
        for r in rows
    ]
    return wall


def member_photo_name(org_id: int, member_id: int) -> str:
    """The stored photo of a member who appears on a published month of the wall of ``org_id``; Http404 for
    anyone else (a member of another branch, someone never published here) or when there is no photo."""
    name = (
        Member.objects.filter(pk=member_id, results__org_id=org_id)
        .values_list("photo", flat=True)
        .first()
    )
    if not name:
        raise Http404(_("没有照片。"))
    return name


# ---- the public link ---------------------------------------------------------------------------------------------


def new_key() -> str:
    return secrets.token_urlsafe(24)  # 32 URL-safe characters, 192 bits


def public_wall_for(key: str) -> PublicWall:
    """An enabled public wall by its key, else Http404 (a wrong, renewed or disabled key looks the same)."""
    if not key or len(key) > 64:
        raise Http404(_("页面不存在。"))
    wall = PublicWall.objects.select_related("org").filter(key=key, enabled=True, org__archived=False).first()
    if wall is None:
        raise Http404(_("页面不存在。"))
    return wall


def _lock_org(org: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=org.pk)


@transaction.atomic
def enable_public_wall(user, org: Organization) -> PublicWall:
    """Open the branch's public wall (a new key the first time; the same key when it was closed before)."""
    require(user, "wall.manage", org.path)
    org = _lock_org(org)
    if org.archived:
        raise DomainError(_("该组织已撤销，不能开放上墙公众链接。"))
    wall = PublicWall.objects.select_for_update().filter(org=org).first()
    if wall is None:
        wall = PublicWall.objects.create(org=org, key=new_key(), enabled=True)
    elif wall.enabled:
        raise DomainError(_("公众链接已经开放。"))
    else:
        wall.enabled = True
        wall.save(update_fields=["enabled"])
    log_action(user, "wall.public_enabled", wall, org_path=org.path, after={"enabled": True})
    return wall


@transaction.atomic
def disable_public_wall(user, org: Organization) -> PublicWall:
    require(user, "wall.manage", org.path)
    _lock_org(org)
    wall = PublicWall.objects.select_for_update().filter(org=org).first()
    if wall is None or not wall.enabled:
        raise DomainError(_("公众链接没有开放，无需关闭。"))
    wall.enabled = False
    wall.save(update_fields=["enabled"])
    log_action(user, "wall.public_disabled", wall, org_path=org.path, before={"enabled": True},
               after={"enabled": False})
    return wall


@transaction.atomic
def renew_public_wall(user, org: Organization) -> PublicWall:
    """A new key: the old link and every QR code printed with it stop working at once."""
    require(user, "wall.manage", org.path)
    _lock_org(org)
    wall = PublicWall.objects.select_for_update().filter(org=org).first()
    if wall is None:
        raise DomainError(_("还没有开放公众链接，请先开放。"))
    wall.key = new_key()
    wall.save(update_fields=["key"])
    log_action(user, "wall.public_renewed", wall, org_path=org.path, enabled=wall.enabled)
    return wall


# ---- feedback from the public ---------------------------------------------------------------------------------


def clean_text(value: str | None) -> str:
    return public.clean_text(value, min_len=TEXT_MIN, max_len=TEXT_MAX)


def clean_contact(value: str | None) -> str:
    return public.clean_contact(value)


def submit_feedback(key: str, *, kind: str, text: str, contact: str = "", member_id: int | None = None,
                    client: str, request=None) -> WallFeedback:
    """Store a message from the public form of the enabled wall ``key``. The input is checked again here (the
    form shows the same sentences beside its fields); the rate limits are counted with the wall's row locked."""
    if kind not in FeedbackKind.values:
        raise DomainError(_("请选择留言类型。"), "kind")
    text = clean_text(text)
    contact = clean_contact(contact)
    public.check_client(client)
    with transaction.atomic():
        wall = (PublicWall.objects.select_for_update().select_related("org")
                .filter(key=key, enabled=True, org__archived=False).first())
        if wall is None:
            raise Http404(_("页面不存在。"))
        if member_id is not None and not MemberResult.objects.filter(org_id=wall.org_id,
                                                                     member_id=member_id).exists():
            raise DomainError(_("所选党员不在本支部的上墙名单中。"), "member")
        public.client_lock(client)
        now = timezone.now()
        if WallFeedback.objects.filter(client_hash=client,
                                       created_at__gte=now - datetime.timedelta(hours=1)).count() >= PER_CLIENT_HOUR:
            raise RateLimited(_("您在一小时内已提交{n}条留言，请稍后再试。").format(n=PER_CLIENT_HOUR))
        if WallFeedback.objects.filter(org_id=wall.org_id,
                                       created_at__gte=now - datetime.timedelta(days=1)).count() >= PER_WALL_DAY:
            raise RateLimited(_("本支部今日收到的留言已达上限，请明天再试。"))
        feedback = WallFeedback.objects.create(org_id=wall.org_id, member_id=member_id, kind=kind, text=text,
                                               contact=contact, client_hash=client)
        # The audit keeps what happened, not the message or the contact (they stay in the inbox).
        log_action(None, "wall.feedback_received", feedback, org_path=wall.org.path, request=request,
                   kind=kind, member=member_id, length=len(text), with_contact=bool(contact))
    return feedback


# ---- the secretary's inbox ------------------------------------------------------------------------------------


def inbox(user):
    """The feedback the user may read: the walls of the organizations they manage."""
    return scope(user, "wall.manage", WallFeedback.objects.all())


def unread_count(user, org: Organization | None = None) -> int:
    qs = inbox(user).filter(read_at__isnull=True)
    if org is not None:
        qs = qs.filter(org=org)
    return qs.count()


def _locked(user, feedback: WallFeedback) -> WallFeedback:
    require(user, "wall.manage", feedback.org.path)
    return WallFeedback.objects.select_for_update().select_related("org").get(pk=feedback.pk)


@transaction.atomic
def mark_feedback_read(user, feedback: WallFeedback) -> WallFeedback:
    """Idempotent: a message already read keeps its first reading time."""
    feedback = _locked(user, feedback)
    if feedback.read_at is None:
        feedback.read_at = timezone.now()
        feedback.save(update_fields=["read_at"])
        log_action(user, "wall.feedback_read", feedback, org_path=feedback.org.path)
    return feedback


@transaction.atomic
def handle_feedback(user, feedback: WallFeedback, reply: str) -> WallFeedback:
    """Record how the message was handled (处理情况); it is read from now on. A later reply replaces the text and
    the audit keeps both."""
    reply = (reply or "").strip()
    if len(reply) < 2:
        raise DomainError(_("请填写处理情况（至少2个字）。"), "reply")
    if len(reply) > REPLY_MAX:
        raise DomainError(_("处理情况不能超过{n}个字。").format(n=REPLY_MAX), "reply")
    feedback = _locked(user, feedback)
    before = {"reply": feedback.reply, "handled_at": feedback.handled_at}
    now = timezone.now()
    feedback.reply = reply
    feedback.handled_by = user if getattr(user, "is_authenticated", False) else None
    feedback.handled_at = now
    if feedback.read_at is None:
        feedback.read_at = now
    feedback.save(update_fields=["reply", "handled_by", "handled_at", "read_at"])
    log_action(user, "wall.feedback_handled", feedback, org_path=feedback.org.path, before=before,
               after={"reply": reply, "handled_at": now})
    return feedback
