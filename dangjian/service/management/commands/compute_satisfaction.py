"""``manage.py compute_satisfaction [--month YYYY-MM]``: recompute the monthly satisfaction indices and open the
tickets of low ones. Run nightly from cron; without --month it does this month and the previous one (late
corrections of last month land too). Idempotent: a second run opens no new ticket."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from dangjian.core.audit import log_action
from dangjian.core.dates import month_start
from dangjian.core.errors import DomainError
from dangjian.service import surveys


class Command(BaseCommand):
    help = "重新计算满意度指数（按组织、月份、类型），低于预警线的自动生成整改工单"

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM；不填时计算本月和上月")

    def handle(self, *args, month=None, **options):
        if month:
            try:
                first = month_start(month)
                if len(month.strip()) != 7:
                    raise DomainError("")
            except (DomainError, ValueError) as exc:
                raise CommandError("月份格式应为 YYYY-MM，例如 2026-10。") from exc
            months = [first]
        else:
            this = month_start(timezone.localdate())
            months = [month_start(this.replace(day=1) - datetime.timedelta(days=1)), this]
        for m in months:
            written, opened = surveys.refresh(m)
            with transaction.atomic():
                log_action(None, "survey.indices_computed", month=f"{m:%Y-%m}", indices=written,
                           tickets=opened)
            self.stdout.write(f"{m:%Y-%m}: {written} 条满意度指数，新生成 {opened} 张整改工单")
