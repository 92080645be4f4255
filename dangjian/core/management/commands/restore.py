"""`manage.py restore FILE --yes`: replace the database's content with a backup made by `manage.py backup`.

Stop the application servers and task workers first. Afterwards the audit chain is verified and the restore is
recorded as the next event."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangjian.core import backup
from dangjian.core.audit import log_action
from dangjian.core.audit_chain import verify_chain


class Command(BaseCommand):
    help = "用备份文件恢复整个数据库（会覆盖当前数据，须加 --yes 确认）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="manage.py backup 生成的备份文件")
        parser.add_argument("--yes", action="store_true", help="确认用备份覆盖当前数据库")

    def handle(self, *args, file, yes, **options):
        path = Path(file)
        if not yes:
            raise CommandError(_("恢复会用备份覆盖当前数据库，备份之后的全部修改都会丢失。请先停止应用服务，确认无误后加 --yes 重新运行。"))
        try:
            backup.restore(path)
        except (backup.BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        report = verify_chain()
        log_action(None, "system.restored", username="manage.py restore", file=path.name)
        self.stdout.write(_("已从 {path} 恢复数据库。").format(path=path))
        if report.ok:
            self.stdout.write(_("审计日志哈希链完整（{count} 条事件）。").format(count=report.count))
        else:
            self.stderr.write(_("注意：恢复后的审计日志哈希链在编号 {id} 处不完整，请运行 verify_audit 查看。").format(
                id=report.bad_id))
