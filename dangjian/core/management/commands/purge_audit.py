"""`manage.py purge_audit --before DATE [--yes]`: delete audit events older than DATE, never any younger than
the retention period (AUDIT_RETENTION_DAYS, at least 180 days). Without --yes it only counts. The chain stays
verifiable: an anchor keeps the last purged event's id and hash (core.audit_chain.purge_before)."""

import datetime
import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.core.audit_chain import ChainBroken, purge_before


def _date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(_("日期格式应为 YYYY-MM-DD，例如 2025-01-01。")) from exc


class Command(BaseCommand):
    help = "清理早于指定日期的审计日志（至少保留180天），哈希链仍可核验。"

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="清理此日期（YYYY-MM-DD，不含当日）之前的事件")
        parser.add_argument("--yes", action="store_true", help="确认清理；不加时只统计")

    def handle(self, *args, before, yes, **options):
        day = _date(before)
        days = settings.AUDIT_RETENTION_DAYS
        latest = timezone.localdate() - datetime.timedelta(days=days)
        if day > latest:
            raise CommandError(_("审计日志至少保留 {days} 天：--before 不能晚于 {latest}。").format(
                days=days, latest=latest.isoformat()))
        cut = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "?"
        try:
            result = purge_before(cut, username=f"manage.py purge_audit ({user})", dry_run=not yes)
        except ChainBroken as exc:
            raise CommandError(_("审计日志哈希链在编号 {id} 处不完整，拒绝清理（清理会掩盖问题）；请先运行 verify_audit 查明原因。").format(
                id=exc.report.bad_id), returncode=2) from exc
        if not yes:
            self.stdout.write(_("{date} 之前共有 {count} 条审计事件可清理；确认后加 --yes 重新运行。").format(
                date=day.isoformat(), count=result.count))
        elif result.count:
            self.stdout.write(_("已清理 {count} 条审计事件（{date} 之前），锚点哈希 {hash}。").format(
                count=result.count, date=day.isoformat(), hash=result.anchor.last_hash))
        else:
            self.stdout.write(_("{date} 之前没有审计事件。").format(date=day.isoformat()))
