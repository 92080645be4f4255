"""manage.py remind_deadlines: the daily reminders before the deadlines of the monthly evaluations (see ``help``)."""

from django.core.management.base import BaseCommand

from dangjian.assessments.reminders import send_reminders
from dangjian.assessments.tasks import remind_deadlines_task
from dangjian.core.management.options import day_option
from dangjian.core.tasks import in_background


class Command(BaseCommand):
    help = (
        "考评截止提醒：对每个进行中的组织考评月份，在报送、自评、考评各截止日期前 REMINDER_DAYS_BEFORE 天（默认2天）、"
        "当天和逾期次日，给尚未完成该环节的组织书记、被分配的考评员发站内消息和邮件，并给党委的党建管理员发一份进度汇总；"
        "党员评价月份同样提醒未自评的党员和未完成评定的支部书记。每人每个截止日期每个提醒日只发一次，"
        "同一天重复运行不会重复发送，可每天由 cron 运行，例如 `30 7 * * * manage.py remind_deadlines`。"
        " Daily reminders before evaluation deadlines (in-app and e-mail); idempotent per day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="以该日期（YYYY-MM-DD）为“今天”计算，默认为今天；用于补发或测试。")
        parser.add_argument("--enqueue", action="store_true",
                            help="提交为后台任务（remind_deadlines_task），TASKS_BACKEND=database 时由 manage.py worker 执行")

    def handle(self, *args, date=None, enqueue=False, **options):
        day = day_option(date)
        if enqueue and in_background(remind_deadlines_task):
            result = remind_deadlines_task.enqueue(day=day.isoformat() if day else None)
            self.stdout.write(f"已提交截止提醒任务 {result.id}，由后台任务进程执行。")
            return
        counts = send_reminders(day)
        self.stdout.write(
            "已检查进行中的组织考评月份 {periods} 个、党员评价月份 {member_periods} 个；"
            "新发站内消息 {messages} 条，邮件 {emails} 封。".format(**counts))
