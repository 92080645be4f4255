"""`manage.py ensure_partitions [--months-ahead 2]`: the monthly job (cron) of the partitioned result tables on
PostgreSQL (dangjian.core.partitions): every period up to N months ahead that lacks its partition gets it, with
its rows moved out of the default partition; empty partitions of deleted periods are dropped. Idempotent; nothing
to do on SQLite."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from dangjian.core.partitions import ensure_partitions


class Command(BaseCommand):
    help = "为考评月份创建兑现结果分区（PostgreSQL），并把默认分区中的数据移入；可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--months-ahead", type=int, default=2,
                            help="包括今后几个月内已开启的月份（默认 2）")

    def handle(self, *args, months_ahead, **options):
        if not 0 <= months_ahead <= 24:
            raise CommandError(_("--months-ahead 应为 0 至 24 之间的整数。"))
        if connection.vendor != "postgresql":
            self.stdout.write(_("当前数据库不是 PostgreSQL，结果表不分区，无需处理。"))
            return
        report = ensure_partitions(months_ahead)
        for name in report.created:
            moved = report.moved.get(name, 0)
            self.stdout.write(_("已创建分区 {name}（从默认分区移入 {n} 行）").format(name=name, n=moved))
        for name in report.dropped:
            self.stdout.write(_("已删除空分区 {name}（其考评月份已删除）").format(name=name))
        self.stdout.write(_("新建分区 {created} 个，已有 {existing} 个，更晚月份 {later} 个留待开启时创建。").format(
            created=len(report.created), existing=report.existing, later=report.later))
        left = {table: n for table, n in report.default_rows.items() if n}
        for table, n in left.items():
            self.stdout.write(self.style.WARNING(
                _("{table} 的默认分区仍有 {n} 行（其月份在 {months} 个月之后，或月份已删除）。").format(
                    table=table, n=n, months=months_ahead)))
