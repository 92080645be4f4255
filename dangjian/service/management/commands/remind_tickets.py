"""manage.py remind_tickets: the daily reminder of overdue and nearly due PDCA tickets (see ``help``)."""

from django.core.management.base import BaseCommand

from dangjian.core.management.options import day_option
from dangjian.core.tasks import in_background
from dangjian.service.tasks import remind_tickets_task
from dangjian.service.tickets import REMIND_DAYS, remind_due


class Command(BaseCommand):
    help = (
        f"整改工单到期提醒：给已逾期或 {REMIND_DAYS} 天内到期、尚未销号的工单发邮件提醒。"
        "收件人为工单责任人；未指定责任人（或其没有邮箱）时，为责任单位上有“处理工单”权限的用户"
        "（该单位没有时取最近的上级单位）。每人一封邮件列出其全部工单；每张工单每天最多提醒一次"
        "（记在 Ticket.reminded_at），同一天重复运行不会重复发信，可放心每天由 cron 或任务调度运行，"
        "例如 `0 8 * * * manage.py remind_tickets`。邮件经 Django 的 EMAIL_* 设置发出（EMAIL_BACKEND、EMAIL_HOST、"
        "EMAIL_PORT、EMAIL_HOST_USER、EMAIL_HOST_PASSWORD、EMAIL_USE_TLS、DEFAULT_FROM_EMAIL）；"
        "邮件中的链接以 PUBLIC_BASE_URL 为前缀。每次提醒记入审计日志（发送整改工单到期提醒）。"
        " Daily reminder of PDCA tickets overdue or due within two days; idempotent per day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="以该日期（YYYY-MM-DD）为“今天”计算，默认为今天；用于补发或测试。")
        parser.add_argument("--enqueue", action="store_true",
                            help="提交为后台任务（remind_tickets_task），TASKS_BACKEND=database 时由 manage.py worker 执行")

    def handle(self, *args, date=None, enqueue=False, **options):
        day = day_option(date)
        if enqueue and in_background(remind_tickets_task):
            result = remind_tickets_task.enqueue(day=day.isoformat() if day else None)
            self.stdout.write(f"已提交工单到期提醒任务 {result.id}，由后台任务进程执行。")
            return
        counts = remind_due(day)
        self.stdout.write(
            "已提醒工单 {tickets} 张（其中逾期 {overdue} 张），发送邮件 {emails} 封；"
            "无人可通知 {unreachable} 张，发送失败 {failed} 封。".format(**counts))
