"""`manage.py backup [--dir DIR]`: a timestamped backup of the whole database (core.backup)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dangjian.core import backup
from dangjian.core.audit import log_action


class Command(BaseCommand):
    help = "备份整个数据库（SQLite：在线备份；PostgreSQL：pg_dump -Fc）到带时间戳的文件。"

    def add_arguments(self, parser):
        parser.add_argument("--dir", dest="directory", default=str(settings.BACKUP_DIR), help="备份目录（默认 var/backups）")

    def handle(self, *args, directory, **options):
        directory = Path(directory)
        # The backup holds the record of its own making.
        log_action(None, "system.backup", username="manage.py backup", directory=str(directory.resolve()))
        try:
            path = backup.backup(directory)
        except (backup.BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        size = path.stat().st_size / (1024 * 1024)
        self.stdout.write(_("已备份到 {path}（{size:.1f} MB）。").format(path=path, size=size))
        self.stdout.write(path.as_posix())
