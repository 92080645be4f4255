"""Background work of the organization evaluations (Django's tasks API; the worker is dangjian.core.worker).

Tasks take ids and strings only (their arguments are stored as JSON) and are idempotent: the worker delivers at
least once, so a task may run twice, even at the same time, and must have one effect.

- ``finalize_period_task``: the month close (月兑现) of a period, as the user who asked for it. The close locks
  the period row and refuses a finalized month; the task turns that refusal into a quiet "already done". The user
  is told by an in-app message (one per period, or one per failed submission) when it finishes or fails.
- ``remind_deadlines_task``: the daily deadline reminders; deduplicated per (user, message key) in the database.

``submit_finalize`` is what the page and the API call: with the immediate backend (tests, ``make run``) the close
runs in the request exactly as before; with TASKS_BACKEND=database the close is enqueued, unless an unfinished
finalize of the same month is already in the queue.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import TaskContext, TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from dangjian.assessments import close
from dangjian.assessments.models import Period, PeriodStatus, Result
from dangjian.assessments.reminders import send_reminders
from dangjian.core.access import AccessDenied, require
from dangjian.core.errors import DomainError
from dangjian.core.notifications import notify
from dangjian.core.tasks import in_background
from dangjian.standards.services import SYSTEM

UNFINISHED = (TaskResultStatus.READY, TaskResultStatus.RUNNING)


class FinalizePending(close.FinalizeRefused):
    """A finalize of the same month is already waiting or running in the background: 409."""


def _user(user_id: int | None):
    if user_id is None:
        return SYSTEM
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise DomainError(_("提交兑现的用户已不存在或已停用，兑现未执行。"))
    return user


def finalize(period_id: int, user_id: int | None = None) -> dict:
    """The close of one period, as a repeatable job: ``{"status": "finalized" | "already", ...}``.

    A month finalized before (by an earlier delivery of the same task, a concurrent one waiting on the period's
    lock, or anyone else) is "already"; every other refusal of the close is raised as it is."""
    user = _user(user_id)
    period = Period.objects.select_related("owner", "standard_set").filter(pk=period_id).first()
    if period is None:
        raise DomainError(_("找不到编号为 {id} 的考评月份，兑现未执行。").format(id=period_id))
    status = "finalized"
    try:
        close.finalize_period(user, period)
    except close.FinalizeRefused:
        if not Period.objects.filter(pk=period_id, status=PeriodStatus.FINALIZED).exists():
            raise
        status = "already"
        period.refresh_from_db(fields=["status", "finalized_at", "digest"])
    return {"status": status, "period_id": period.pk, "month": period.label,
            "organizations": Result.objects.filter(period_id=period.pk).count(), "digest": period.digest}


def _notify_finished(user_id: int, period_id: int, outcome: dict) -> None:
    period = Period.objects.select_related("owner").get(pk=period_id)
    with translation.override(settings.LANGUAGE_CODE):
        notify([user_id], "eval.finalized", _("{month}已兑现并锁定").format(month=period.label),
               _("{owner}{month}的月兑现已在后台完成：{n}个组织，结果校验值 {digest}…。").format(
                   owner=period.owner.name, month=period.label, n=outcome["organizations"],
                   digest=outcome["digest"][:16]),
               url=reverse("assessments:period_detail", args=[period_id]), org_path=period.owner.path,
               key=f"period.finalized:{period_id}")


def _notify_failed(user_id: int, period_id: int, task_id: str, message: str) -> None:
    period = Period.objects.select_related("owner").filter(pk=period_id).first()
    with translation.override(settings.LANGUAGE_CODE):
        month = period.label if period else str(period_id)
        notify([user_id], "eval.finalize_failed", _("{month}兑现未完成").format(month=month),
               _("后台兑现未执行，该月没有任何改动：{reason}").format(reason=message),
               url=reverse("assessments:period_detail", args=[period_id]) if period else "",
               org_path=period.owner.path if period else "", key=f"period.finalize_failed:{task_id}")


@task(takes_context=True)
def finalize_period_task(context: TaskContext, period_id: int, user_id: int | None = None) -> dict:
    """月兑现 in the background; ``user_id`` None: as the system (``manage.py finalize_month --enqueue``)."""
    try:
        outcome = finalize(period_id, user_id)
    except DomainError as exc:
        if user_id is not None:
            _notify_failed(user_id, period_id, context.task_result.id, str(exc.message))
        raise
    except AccessDenied:
        if user_id is not None:
            _notify_failed(user_id, period_id, context.task_result.id, _("您已没有兑现该月份的权限。"))
        raise
    except Exception:
        if user_id is not None:
            _notify_failed(user_id, period_id, context.task_result.id,
                           _("兑现时发生系统错误，请稍后重试或联系系统管理员。"))
        raise
    if user_id is not None:
        _notify_finished(user_id, period_id, outcome)
    return outcome


@task()
def remind_deadlines_task(day: str | None = None) -> dict:
    """The day's deadline reminders (``manage.py remind_deadlines``); ``day`` YYYY-MM-DD, today by default.
    Idempotent: each (user, message key) is stored once, so a second delivery sends nothing."""
    return send_reminders(datetime.date.fromisoformat(day) if day else None)


# ---- submitting the close from a page or the API ------------------------------------------------------------


def pending_finalize(period_id: int) -> DBTaskResult | None:
    """The oldest unfinished finalize task of the month in the queue, if any."""
    return (DBTaskResult.objects.filter(task_path=finalize_period_task.module_path, status__in=UNFINISHED,
                                        args_kwargs__kwargs__period_id=period_id)
            .order_by("enqueued_at").first())


@dataclass
class Submitted:
    period: Period
    task_id: str | None = None  # None: finalized in the request itself

    @property
    def queued(self) -> bool:
        return self.task_id is not None


def submit_finalize(user, period: Period) -> Submitted:
    """Finalize ``period`` for ``user``: now (immediate backend: the close's own errors, as always) or in the
    background (database backend). Queued only when the user may finalize the month, the month is not finalized
    and no finalize of it is waiting or running; the period row is locked while deciding, so two clicks at once
    queue one task."""
    if not in_background(finalize_period_task):
        return Submitted(close.finalize_period(user, period))
    with transaction.atomic():
        locked = Period.objects.select_for_update(of=("self",)).select_related("owner").get(pk=period.pk)
        require(user, "eval.manage", locked.owner.path)
        if locked.status == PeriodStatus.FINALIZED:
            raise close.FinalizeRefused(
                _("{month}的考评已于{when}兑现，不能重复兑现；如需更正，请使用“调整”并说明理由。").format(
                    month=locked.label, when=timezone.localtime(locked.finalized_at).strftime("%Y-%m-%d %H:%M")
                    if locked.finalized_at else ""))
        pending = pending_finalize(locked.pk)
        if pending is not None:
            raise FinalizePending(
                _("{month}的兑现已于{when}提交，正在后台进行，请勿重复提交；完成或失败时会通过站内消息通知。").format(
                    month=locked.label, when=timezone.localtime(pending.enqueued_at).strftime("%Y-%m-%d %H:%M")))
        result = finalize_period_task.enqueue(period_id=locked.pk, user_id=user.pk)
    return Submitted(locked, str(result.id))


__all__ = ["finalize_period_task", "remind_deadlines_task", "finalize", "submit_finalize", "pending_finalize",
           "Submitted", "FinalizePending"]
