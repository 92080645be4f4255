"""manage.py finalize_month --period ID: the month close (月兑现) from the shell, as the system user (see ``help``)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from dangjian.assessments.close import finalize_period, verify_digest
from dangjian.assessments.models import Period, Result
from dangjian.core.errors import DomainError
from dangjian.standards.services import SYSTEM


class Command(BaseCommand):
    help = (
        "月兑现：以系统身份兑现一个组织考评月份（与页面上的“兑现”相同：全部考评已公示、公示期已过才可兑现），"
        "计算得分、排名、等级和兑现系数并锁定该月。一个事务内完成，中断后不留半截结果，可以直接重新运行；"
        "已兑现的月份会被拒绝，不会重复兑现。"
        " Finalize a month (all or nothing; a finalized month is refused)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", type=int, required=True, help="考评月份的编号（Period id）")

    def handle(self, *args, period, **options):
        obj = Period.objects.select_related("owner").filter(pk=period).first()
        if obj is None:
            raise CommandError(f"找不到编号为 {period} 的考评月份。")
        try:
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
