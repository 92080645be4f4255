"""Where a benchmark's data goes: a fresh database for every run, copied from a migrated template.

Every bench script takes ``--database`` the same way and calls :func:`use_database` before ``django.setup()``:

* without ``--database``: a temporary SQLite file, copied from ``var/bench/template-<stamp>.sqlite3``;
* with a PostgreSQL URL naming a scratch database (``make bench`` uses ``BENCH_PG_URL``): that database is
  created when missing and migrated, and serves as the template of ``<name>_<label>``, which is dropped and
  re-created from it for each run and left there afterwards (to look at the plans; the next run replaces it).

Migrating takes ~20 s on either engine; copying a migrated template takes well under a second. The template is
stamped with a digest of the project's migration files and the installed package versions, so a changed
migration or a new Django rebuilds it. A file lock keeps two scripts started at once from building it twice.
"""

import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
STAMP_TABLE = "bench_template_stamp"


def stamp() -> str:
    """A digest of what decides the migrated schema: migration files, Python, installed package versions."""
    h = hashlib.sha256(sys.version.encode())
    for path in sorted(ROOT.glob("dangjian/*/migrations/*.py")):
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()):
        h.update(dist.encode())
    return h.hexdigest()[:16]


def _migrate(url: str) -> None:
    """``manage.py migrate`` into ``url`` in a child process (this process has not set Django up yet)."""
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="dangjian.settings")
    env.setdefault("DANGJIAN_ALLOW_DEV_KEY", "1")
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], env=env,
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"基准测试数据库迁移失败（{url}）：\n{done.stdout}{done.stderr}")


class _Locked:
    """An exclusive lock on a file under var/bench/ for the duration of a ``with`` block."""

    def __init__(self, name: str):
        CACHE.mkdir(parents=True, exist_ok=True)
        self.path = CACHE / f"{name}.lock"

    def __enter__(self):
        self.file = open(self.path, "w")
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.file.close()


def _sqlite(label: str):
    digest = stamp()
    template = CACHE / f"template-{digest}.sqlite3"
    with _Locked("sqlite-template"):
        if not template.exists():
            for old in CACHE.glob("template-*.sqlite3"):
                old.unlink()
            building = template.with_suffix(".building")
            building.unlink(missing_ok=True)
            _migrate(f"sqlite:///{building}")
            building.replace(template)
    tmp = tempfile.mkdtemp(prefix=f"bench-{label}-")
    shutil.copyfile(template, Path(tmp) / "bench.sqlite3")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"

    def cleanup():
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)

    return cleanup


def _postgres(url: str, label: str):
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"--database 须指定一个专用于基准测试的 PostgreSQL 数据库（当前为“{name or '空'}”）。")
    copy = f"{name}_{label}"[:63]
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    digest = stamp()
    try:
        conn = psycopg.connect(admin, autocommit=True)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"无法连接 PostgreSQL（{admin}）：{exc}\n请启动数据库，或在 make 中设置 BENCH_PG_URL= 跳过"
                         f" PostgreSQL。") from None
    with _Locked(f"pg-{name}"), conn:
        current = None
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            with psycopg.connect(url) as tconn:
                if tconn.execute("SELECT to_regclass(%s)", [STAMP_TABLE]).fetchone()[0]:
                    current = tconn.execute(f"SELECT stamp FROM {STAMP_TABLE}").fetchone()[0]
            if current != digest:
                conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        if current != digest:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            _migrate(url)
            with psycopg.connect(url, autocommit=True) as tconn:
                tconn.execute(f"CREATE TABLE {STAMP_TABLE} (stamp text)")
                tconn.execute(f"INSERT INTO {STAMP_TABLE} VALUES (%s)", [digest])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(copy), sql.Identifier(name)))
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{copy}"))

    def cleanup():
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()

    return cleanup


def use_database(url: str | None, label: str):
    """Point DATABASE_URL at a fresh, migrated database for this run; returns the clean-up function.

    ``url`` is ``--database`` (None: SQLite); ``label`` names the run's copy (letters, digits, underscores)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    os.environ.setdefault("DANGJIAN_ALLOW_DEV_KEY", "1")
    if url is None:
        return _sqlite(label)
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--database 只支持 PostgreSQL 地址（不填则使用临时 SQLite 文件）。")
    return _postgres(url, label)


def members_label(n: int) -> str:
    """A member count as a figure name's scale: 1000 → "1k", 60000 → "60k", 1000000 → "1M"."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)
