"""Backup and restore of the whole database (QUALITY.md R5), behind one interface for both engines.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot while the site runs,
and copies a backup file back over the live database page by page.
PostgreSQL: ``pg_dump -Fc`` (custom format, compressed) and ``pg_restore --clean --if-exists
--single-transaction``, with the connection parameters of the Django settings. Both need the PostgreSQL client
programs (Debian: postgresql-client) of at least the server's major version.
"""

import os
import shutil
import sqlite3
import subprocess  # nosec B404
from pathlib import Path

from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A Chinese sentence saying what went wrong and what to do."""


def _target(directory: Path, suffix: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path = directory / f"dangjian-{stamp}{suffix}"
    n = 1
    while path.exists():
        path = directory / f"dangjian-{stamp}-{n}{suffix}"
        n += 1
    return path


def backup(directory: Path, using: str = "default") -> Path:
    """Write a timestamped backup file into ``directory`` and return its path."""
    conn = connections[using]
    if conn.vendor == "sqlite":
        path = _target(Path(directory), ".sqlite3")
        conn.ensure_connection()
        dest = sqlite3.connect(path)
        try:
            with dest:
                conn.connection.backup(dest)
        finally:
            dest.close()
        return path
    if conn.vendor == "postgresql":
        path = _target(Path(directory), ".pgdump")
        _run(_pg_program("pg_dump"), ["-Fc", "--no-owner", "-f", str(path)], conn, remove_on_error=path)
        return path
    raise BackupError(_("不支持的数据库类型：{vendor}。").format(vendor=conn.vendor))


def restore(path: Path, using: str = "default") -> None:
    """Replace the database's content with the backup at ``path`` (stop the application servers first)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("找不到备份文件：{path}。").format(path=path))
    with path.open("rb") as fh:
        head = fh.read(16)
    conn = connections[using]
    if conn.vendor == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(_("{path} 不是 SQLite 备份文件（当前数据库是 SQLite）。").format(path=path))
        conn.ensure_connection()
        if conn.in_atomic_block:
            raise BackupError(_("不能在事务中恢复数据库。"))
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(conn.connection)
        finally:
            source.close()
        return
    if conn.vendor == "postgresql":
        if not head.startswith(PGDUMP_MAGIC):
            raise BackupError(_("{path} 不是 pg_dump -Fc 备份文件（当前数据库是 PostgreSQL）。").format(path=path))
        program = _pg_program("pg_restore")
        conn.close()  # our own session must not hold anything the restore drops
        _run(program, ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(path)], conn,
             db_flag="-d")
        return
    raise BackupError(_("不支持的数据库类型：{vendor}。").format(vendor=conn.vendor))


def _pg_program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(_("未找到 {program}：请安装 PostgreSQL 客户端程序（Debian：apt-get install postgresql-client），"
                            "版本不低于数据库服务器。").format(program=name))
    return found


def _run(program: str, args: list[str], conn, *, db_flag: str = "-d", remove_on_error: Path | None = None):
    s = conn.settings_dict
    cmd = [program, *args]
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if s.get(key):
            cmd += [flag, str(s[key])]
    cmd += [db_flag, s["NAME"]]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    sslmode = (s.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    # The program is pg_dump/pg_restore found on PATH, the arguments a list (no shell), the values from settings.
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0:
        if remove_on_error is not None and remove_on_error.exists():
            remove_on_error.unlink()
        raise BackupError(_("{program} 失败（退出码 {code}）：{stderr}").format(
            program=Path(program).name, code=result.returncode, stderr=result.stderr.strip()[-2000:]))
