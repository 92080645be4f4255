"""Audit events (hash-chained), retention anchors, second-factor devices and API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from dangjian.core.fields import EncryptedCharField


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditEvent(models.Model):
    """Append-only: every change, login, failed login, denial and export.

    The sentence shown to a person is made at display time from ``action`` (see core.audit.ACTION_LABELS).
    The database refuses UPDATE and DELETE on this table (triggers, migration 0003); only the retention purge
    may delete (core.audit_chain.deletes_allowed). Each event carries the hash of the one before it (by id) and
    its own hash over a canonical form of its fields, so `manage.py verify_audit` finds any altered, inserted or
    deleted event. Events are written only by core.audit.log_action, which computes the chain under a lock.
    """

    SCOPE_PATH = "org_path"

    # Set by log_action after it holds the audit lock, so time order and id order agree (the hash covers it).
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    username = models.CharField("用户", max_length=150, blank=True)
    ip = models.GenericIPAddressField("IP地址", null=True, blank=True)
    action = models.CharField("操作", max_length=60, db_index=True)
    object_type = models.CharField("对象类型", max_length=60, blank=True)
    object_id = models.CharField("对象编号", max_length=40, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    # Path of the organization the object belongs to: the audit log is scoped like everything else.
    org_path = models.CharField(max_length=255, blank=True, db_index=True)
    data = models.JSONField("变更内容", default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["user", "at"])]
        verbose_name = verbose_name_plural = "审计日志"

    @property
    def action_label(self):
        from dangjian.core.audit import label

        return label(self.action)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改。")
        if not self.hash:
            raise PermissionError("审计事件只能由 log_action 写入（它计算哈希链）。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除。")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"


class AuditAnchor(models.Model):
    """Where the audit chain starts after a retention purge (`manage.py purge_audit`): the id and hash of the
    last purged event, so the first remaining event's ``prev_hash`` can still be checked. Append-only too."""

    created_at = models.DateTimeField(default=timezone.now)
    before = models.DateTimeField()
    last_id = models.BigIntegerField(unique=True)
    last_hash = models.CharField(max_length=64)
    last_at = models.DateTimeField()
    count = models.PositiveIntegerField()
    username = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-last_id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计锚点只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计锚点只能追加，不能删除。")

    def __str__(self):
        return f"#{self.last_id} {self.last_hash[:12]}"


class TOTPDevice(models.Model):
    """A confirmed TOTP second factor (RFC 6238, 30 s, 6 digits). ``last_counter`` refuses a code used before.

    The secret is sealed at rest (core.crypto, AES-256-GCM under a key kept outside the database): a copy of the
    database or of a backup alone cannot make codes (docs/security.md S6)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, related_name="totp_device", on_delete=models.CASCADE)
    secret = EncryptedCharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_counter = models.BigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"TOTP {self.user}"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """Bearer tokens for the JSON API. Only a hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="api_tokens", on_delete=models.CASCADE)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def issue(cls, user):
        from datetime import timedelta

        from django.utils import timezone

        key = secrets.token_urlsafe(32)
        cls.objects.create(
            user=user, key_hash=_hash(key), expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS)
        )
        return key

    @classmethod
    def user_for(cls, key: str):
        from django.utils import timezone

        tok = cls.objects.select_related("user").filter(key_hash=_hash(key), expires_at__gt=timezone.now()).first()
        if tok is None or not tok.user.is_active:
            return None
        return tok.user

    def __str__(self):
        return f"{self.user} token #{self.pk}"


class Notification(models.Model):
    """站内消息: one message to one user — a reminder before a deadline or a notice of an event.

    Written only by ``core.notifications`` (set-based, and at most once per (user, key): a reminder job that runs
    twice adds nothing). ``url`` is a path inside the platform; the message page follows it only if it starts
    with a single "/". The text is made when the message is written, in the platform's language."""

    SCOPE_PATH = "org_path"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="notifications", on_delete=models.CASCADE)
    kind = models.CharField("类别", max_length=40)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", max_length=2000, blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    # The organization the message is about (for display and audit); messages are read by their user only.
    org_path = models.CharField(max_length=255, blank=True)
    # NULL (no key) is never a duplicate: a notice without a key is always written.
    key = models.CharField(max_length=120, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "站内消息"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user_key")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            # The bell's count and the "unread" filter read only this small index.
            models.Index(fields=["user", "-created_at"], condition=models.Q(read_at__isnull=True),
                         name="notification_user_unread"),
        ]

    def __str__(self):
        return f"{self.user} {self.title}"

    @property
    def is_read(self):
        return self.read_at is not None


class WorkerHeartbeat(models.Model):
    """One row per running ``manage.py worker`` process, refreshed every WORKER_HEARTBEAT_SECONDS.

    A task marked running by a worker whose row is older than WORKER_LEASE_SECONDS (killed, machine lost) is put
    back in the queue by the next live worker (dangjian.core.worker)."""

    worker_id = models.CharField("进程标识", max_length=64, primary_key=True)
    hostname = models.CharField("主机", max_length=255, blank=True)
    pid = models.PositiveIntegerField("进程号", default=0)
    started_at = models.DateTimeField("启动时间", default=timezone.now)
    last_seen = models.DateTimeField("最近心跳", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "后台任务进程"
        verbose_name_plural = "后台任务进程"

    def __str__(self):
        return f"{self.worker_id}@{self.hostname}"
