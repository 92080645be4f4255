"""Scratch databases and child processes for the kill -9 tests (QUALITY.md R1) and the restore drill (R5).

A test builds its data in the test database with the usual fixtures (a transactional test: the rows are committed),
then ``snapshot()`` copies that database into a base: on SQLite a file written with the online backup API, on
PostgreSQL a database ``f1_base`` made with CREATE DATABASE … TEMPLATE. Each kill point gets a fresh copy of the
base (``Snapshot.fresh()``: shutil.copy, or CREATE DATABASE f1_<name> TEMPLATE f1_base) and runs the real operation
in a child process (tests/faults/child.py) that SIGKILLs itself at the chosen point."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from dangjian.core.audit_chain import GUARD_TABLE

ROOT = Path(settings.BASE_DIR)
PREFIX = "f1_"  # every scratch database of these tests


def _pg_admin():
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(host=s.get("HOST") or None, port=s.get("PORT") or None, user=s.get("USER") or None,
                           password=s.get("PASSWORD") or None, dbname="postgres", autocommit=True)


def _pg_url(name: str) -> str:
    s = connection.settings_dict
    auth = s.get("USER") or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{name}"


def pg_recreate(name: str, template: str | None = None) -> None:
    assert name.startswith(PREFIX), name
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def pg_drop(*names: str) -> None:
    with _pg_admin() as admin:
        for name in names:
            assert name.startswith(PREFIX), name
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Snapshot:
    """A copy of the test database as it was when taken; ``fresh()`` hands out new copies of it."""

    vendor: str
    base: str  # SQLite: the file; PostgreSQL: the database name
    workdir: Path
    made: list = field(default_factory=list)

    def fresh(self, name: str) -> str:
        """A new copy of the base, its DATABASE_URL returned."""
        if self.vendor == "sqlite":
            target = self.workdir / name / "db.sqlite3"
            if target.parent.exists():
                shutil.rmtree(target.parent)
            target.parent.mkdir(parents=True)
            shutil.copy(self.base, target)
            return f"sqlite:///{target}"
        db = f"{PREFIX}{name}"
        pg_recreate(db, self.base)
        if db not in self.made:
            self.made.append(db)
        return _pg_url(db)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            pg_drop(*self.made, self.base)


def snapshot(workdir: Path, name: str = "base") -> Snapshot:
    """Copy the test database's committed content into a base for ``fresh()`` copies."""
    if connection.vendor == "sqlite":
        path = workdir / f"{name}.sqlite3"
        connection.ensure_connection()
        dest = sqlite3.connect(path)
        try:
            with dest:
                connection.connection.backup(dest)
            with dest:  # the copy keeps the audit triggers of production (tests/audit_db.py lifts them here)
                dest.execute(f"DELETE FROM {GUARD_TABLE} WHERE reason = 'tests'")
        finally:
            dest.close()
        return Snapshot("sqlite", str(path), workdir)
    if connection.vendor == "postgresql":
        source = connection.settings_dict["NAME"]
        connection.close()  # CREATE DATABASE … TEMPLATE needs the source without sessions
        db = f"{PREFIX}{name}"
        pg_recreate(db, source)
        return Snapshot("postgresql", db, workdir)
    raise NotImplementedError(connection.vendor)


def empty_database(workdir: Path, name: str) -> str:
    """A new, empty database (nothing migrated): the target of a restore onto a fresh server."""
    if connection.vendor == "sqlite":
        target = workdir / name / "db.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{target}"
    pg_recreate(f"{PREFIX}{name}")
    return _pg_url(f"{PREFIX}{name}")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -9

    @property
    def report(self):
        return json.loads(self.stdout.strip().splitlines()[-1])

    def marker(self, name: str) -> list[str]:
        return re.findall(rf"^F1-{name} (.*)$", self.stderr, re.M)

    @property
    def events(self) -> list[str]:
        """``F1_COUNT``: the database events in order (SQL statements and COMMITs)."""
        return [line.split(" ", 1)[1] if " " in line else "" for line in self.marker("EVENT")]


def child_env(db_url: str, workdir: Path, **hooks) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1_")}
    data = workdir / "data"
    tmp = workdir / "tmp"
    data.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(DJANGO_SETTINGS_MODULE="dangjian.settings", DATABASE_URL=db_url, DANGJIAN_ALLOW_DEV_KEY="1",
               DATA_DIR=str(data), TMPDIR=str(tmp), SECURE_SSL_REDIRECT="0", PYTHONDONTWRITEBYTECODE="1")
    env.update({f"F1_{k.upper()}": str(v) for k, v in hooks.items() if v is not None})
    return env


def run_child(db_url: str, workdir: Path, *args, timeout: float = 60, **hooks) -> Run:
    """``python -m tests.faults.child *args`` against ``db_url``; hooks: kill_after, kill_at_row,
    kill_after_page, count (see child.py)."""
    proc = subprocess.run([sys.executable, "-m", "tests.faults.child", *map(str, args)], cwd=ROOT,
                          env=child_env(db_url, workdir, **hooks), capture_output=True, text=True, timeout=timeout,
                          check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def start_child(db_url: str, workdir: Path, *args, stdin=None, **hooks) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.faults.child", *map(str, args)], cwd=ROOT,
                            env=child_env(db_url, workdir, **hooks), stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class Zygote:
    """``python -m tests.faults.child zygote`` on one DATABASE_URL: each ``run`` is a job in a process forked from
    it (child.py), the same operation as ``run_child`` without paying Django's start-up again."""

    def __init__(self, db_url: str, workdir: Path):
        self.workdir = workdir
        self.proc = start_child(db_url, workdir, "zygote", stdin=subprocess.PIPE)

    def submit(self, *args, **hooks) -> None:
        """Start a job; ``result()`` waits for it."""
        out, err = self.workdir / "job.out", self.workdir / "job.err"
        env = {f"F1_{k.upper()}": str(v) for k, v in hooks.items() if v is not None}
        self.proc.stdin.write(json.dumps({"args": [str(a) for a in args], "env": env, "out": str(out),
                                          "err": str(err)}) + "\n")
        self.proc.stdin.flush()

    def stderr(self) -> str:
        return (self.workdir / "job.err").read_text()

    def run(self, *args, timeout: float = 60, **hooks) -> Run:
        self.submit(*args, **hooks)
        return self.result(timeout)

    def result(self, timeout: float = 60) -> Run:
        out, err = self.workdir / "job.out", self.workdir / "job.err"
        watchdog = threading.Timer(timeout, self.proc.kill)
        watchdog.start()
        try:
            line = self.proc.stdout.readline()
        finally:
            watchdog.cancel()
        if not line:
            raise RuntimeError(f"zygote ended: {self.proc.stderr.read()[-3000:]}")
        return Run(json.loads(line)["returncode"], out.read_text(), err.read_text())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
