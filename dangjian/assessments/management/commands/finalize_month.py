"""manage.py finalize_month --period ID: the month close (月兑现) from the shell, as the system user (see ``help``)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from dangjian.assessments.close import finalize_period, verify_digest
from dangjian.assessments.models import Period, Result
from dangjian.assessments.tasks import finalize, finalize_period_task
from dangjian.core.errors import DomainError
from dangjian.core.tasks import in_background
from dangjian.standards.services import SYSTEM


class Command(BaseCommand):
    help = (
        "月兑现：以系统身份兑现一个组织考评月份（与页面上的“兑现”相同：全部考评已公示、公示期已过才可兑现），"
        "计算得分、排名、等级和兑现系数并锁定该月。一个事务内完成，中断后不留半截结果，可以直接重新运行；"
        "已兑现的月份会被拒绝，不会重复兑现。加 --enqueue 时只提交后台任务（TASKS_BACKEND=database 时由 manage.py worker "
        "执行；后台任务遇到已兑现的月份视为已完成）。"
        " Finalize a month (all or nothing; a finalized month is refused); --enqueue submits it as a task."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", type=int, required=True, help="考评月份的编号（Period id）")
        parser.add_argument("--enqueue", action="store_true",
                            help="提交为后台任务（finalize_period_task），由 manage.py worker 执行")

    def handle(self, *args, period, enqueue=False, **options):
        obj = Period.objects.select_related("owner").filter(pk=period).first()
        if obj is None:
            raise CommandError(f"找不到编号为 {period} 的考评月份。")
        if enqueue and in_background(finalize_period_task):
            result = finalize_period_task.enqueue(period_id=obj.pk, user_id=None)
            self.stdout.write(f"已提交 {obj.owner.name} {obj.label} 的兑现任务 {result.id}，由后台任务进程执行。")
            return
        try:
            if enqueue:  # no queue (TASKS_BACKEND is not database): the task's own body, here and now
                finalize(obj.pk)
                obj.refresh_from_db()
            else:
                finalize_period(SYSTEM, obj)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        grades = list(Result.objects.filter(period=obj).order_by("grade").values_list("grade")
                  .annotate(n=Count("id")).values_list("grade", "n"))
        detail = "、".join(f"{grade} {n} 个" for grade, n in grades)
        total = sum(n for _grade, n in grades)
        check = "校验通过" if verify_digest(obj) else "校验不符，请联系系统管理员"
        self.stdout.write(f"已兑现 {obj.owner.name} {obj.label}：{total} 个组织，等级 {detail}；"
                          f"结果校验值 {obj.digest[:16]}…（{check}）。")
