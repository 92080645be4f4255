"""``manage.py compute_satisfaction [--month YYYY-MM]``: recompute the monthly satisfaction indices and open the
tickets of low ones. Run nightly from cron; without --month it does this month and the previous one (late
corrections of last month land too). Idempotent: a second run opens no new ticket."""

from django.core.management.base import BaseCommand, CommandError

from dangjian.core.errors import DomainError
from dangjian.core.tasks import in_background
from dangjian.service.tasks import compute_satisfaction, compute_satisfaction_task, satisfaction_months


class Command(BaseCommand):
    help = "重新计算满意度指数（按组织、月份、类型），低于预警线的自动生成整改工单"

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM；不填时计算本月和上月")
        parser.add_argument("--enqueue", action="store_true",
                            help="提交为后台任务（compute_satisfaction_task），TASKS_BACKEND=database 时由 manage.py worker 执行")

    def handle(self, *args, month=None, enqueue=False, **options):
        if month:
            try:
                months = satisfaction_months(month)
                if len(month.strip()) != 7:
                    raise DomainError("")
            except (DomainError, ValueError) as exc:
                raise CommandError("月份格式应为 YYYY-MM，例如 2026-10。") from exc
        else:
            months = satisfaction_months()
        if enqueue and in_background(compute_satisfaction_task):
            result = compute_satisfaction_task.enqueue(month=month.strip() if month else None)
            self.stdout.write(f"已提交满意度指数计算任务 {result.id}，由后台任务进程执行。")
            return
        for label, written, opened in compute_satisfaction(months):
            self.stdout.write(f"{label}: {written} 条满意度指数，新生成 {opened} 张整改工单")
