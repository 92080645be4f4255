"""站内消息 (in-app messages) and their e-mail copies: the one way any part of the platform tells a user something.

``notify(users, kind, title, …)`` writes one message per user; ``deliver(rows)`` writes prepared rows that differ
per user (a reminder listing each secretary's own organizations). Both are set-based — one INSERT per 1,000 rows
and one SELECT to learn which rows are new — and idempotent through ``key``: a (user, key) pair is stored once, so
a job that runs twice, even at the same time, adds nothing and mails nothing the second time. E-mail goes only
for rows this call created, to users with an address, after the surrounding transaction commits; a mail that
fails is logged and never takes the messages back.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dangjian.core.models import Notification

log = logging.getLogger(__name__)

BATCH = 1000

# kind -> the name shown in lists and filters (translated when displayed).
KINDS = {
    "eval.submit_due": gettext_noop("报送提醒"),
    "eval.self_due": gettext_noop("自评提醒"),
    "eval.assess_due": gettext_noop("考评提醒"),
    "eval.digest": gettext_noop("考评进度"),
    "eval.published": gettext_noop("结果公示"),
    "eval.objection": gettext_noop("异议"),
    "eval.objection_answered": gettext_noop("异议答复"),
    "eval.finalized": gettext_noop("月兑现完成"),
    "eval.finalize_failed": gettext_noop("月兑现未完成"),
    "appraisal.self_due": gettext_noop("党员自评提醒"),
    "appraisal.determine_due": gettext_noop("党员评定提醒"),
    "ticket.due": gettext_noop("工单到期"),
}


def kind_label(kind: str) -> str:
    return _(KINDS[kind]) if kind in KINDS else kind


def is_safe_url(url: str) -> bool:
    """Only a path inside the platform ("/…", not "//host" or "/\\host") is ever followed or linked."""
    return bool(url) and url.startswith("/") and not url.startswith("//") and not url.startswith("/\\") \
        and not any(c in url for c in "\r\n\t")


def make(user, kind: str, title: str, body: str = "", url: str = "", org_path: str = "",
         key: str | None = None) -> Notification:
    """An unsaved message, its fields cut to their sizes; a url that does not stay inside the platform is dropped."""
    return Notification(user_id=getattr(user, "pk", user), kind=kind[:40], title=title[:200],
                        body=(body or "")[:2000], url=url[:300] if url and is_safe_url(url) else "",
                        org_path=org_path or "", key=key[:120] if key else None)


def deliver(rows: list[Notification], *, email: bool = True) -> list[Notification]:
    """Store ``rows`` (unsaved messages) and return those that are new, with their users; mail them.

    All rows of one call carry the same ``created_at`` (made here): after ``INSERT … ON CONFLICT DO NOTHING`` the
    rows with that exact time are the ones this call wrote, so only they are mailed."""
    if not rows:
        return []
    now = timezone.now()
    for row in rows:
        row.created_at = now
    Notification.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    user_ids = sorted({row.user_id for row in rows})
    created = []
    for i in range(0, len(user_ids), BATCH):
        created += list(Notification.objects.filter(created_at=now, user_id__in=user_ids[i:i + BATCH])
                        .select_related("user").order_by("id"))
    if email:
        outgoing = [n for n in created if n.user.is_active and n.user.email]
        if outgoing:
            transaction.on_commit(lambda: send_mail(outgoing))
    return created


def notify(users: Iterable, kind: str, title: str, body: str = "", url: str = "", org_path: str = "",
           key: str | None = None, email: bool = True) -> list[Notification]:
    """The same message to each of ``users`` (users or user ids); returns the messages actually created."""
    seen, rows = set(), []
    for user in users:
        uid = getattr(user, "pk", user)
        if uid is None or uid in seen:
            continue
        seen.add(uid)
        rows.append(make(uid, kind, title, body, url, org_path, key))
    return deliver(rows, email=email)


def _mail_body(n: Notification) -> str:
    base = (getattr(settings, "PUBLIC_BASE_URL", "") or "").rstrip("/")
    name = n.user.get_full_name() or n.user.get_username()
    lines = [_("{name}，您好：").format(name=name), "", n.title]
    if n.body:
        lines += ["", n.body]
    if n.url:
        lines += ["", base + n.url]
    lines += ["", _("此邮件由党建量化考评与对标管理平台自动发送；登录平台可在“站内消息”中查看全部消息。")]
    return "\n".join(lines)


def send_mail(messages: list[Notification]) -> tuple[int, int]:
    """Mail each message to its user over one connection; returns (sent, failed). A failure is logged only."""
    sent = failed = 0
    from_email = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    try:
        conn = mail.get_connection()
        conn.open()
    except Exception:
        log.exception("cannot open the mail connection; %d notification e-mails not sent", len(messages))
        return 0, len(messages)
    try:
        for n in messages:
            subject = _("【党建考评平台】{title}").format(title=n.title)
            try:
                mail.EmailMessage(subject[:200], _mail_body(n), from_email, [n.user.email], connection=conn).send()
                sent += 1
            except Exception:  # one bad address or a dropped connection: the others still go
                log.exception("notification e-mail to %s failed", n.user.email)
                failed += 1
    finally:
        try:
            conn.close()
        except Exception:
            log.exception("closing the mail connection failed")
    return sent, failed


def unread(user) -> QuerySet:
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True)


def unread_count(user) -> int:
    """One indexed COUNT (the partial index of unread messages)."""
    if not user or not user.is_authenticated:
        return 0
    return unread(user).count()


def member_and_unread(user) -> int | None:
    """For the top bar: read the user's member record (cached on the user, as ``user.member`` would) together
    with the unread count in one query, and return the count. None when the member record was already read (the
    caller then counts on its own)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Func, OuterRef, Subquery

    if not user or not user.is_authenticated:
        return None
    related = getattr(getattr(get_user_model(), "member", None), "related", None)  # request.user is a lazy proxy
    if related is None or related.is_cached(user):
        return None
    count = (Notification.objects.filter(user_id=OuterRef("pk"), read_at__isnull=True).order_by()
             .annotate(n=Func("id", function="COUNT")).values("n"))
    row = (get_user_model().objects.filter(pk=user.pk).select_related("member")
           .annotate(dj_unread=Subquery(count)).only("pk", "member").first())
    if row is None:
        return None
    member = getattr(row, "member", None)
    related.set_cached_value(user, member)
    return row.dj_unread or 0


def mark_read(user, ids: Iterable[int] | str = "all") -> int:
    """Mark the user's messages read: the given ids (others' ids are ignored), or ``"all"``. Returns how many."""
    qs = unread(user)
    if ids != "all":
        try:
            ids = [int(i) for i in ids]
        except (TypeError, ValueError):
            return 0
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


__all__ = ["KINDS", "kind_label", "notify", "deliver", "make", "unread_count", "member_and_unread", "mark_read",
           "is_safe_url", "send_mail"]
