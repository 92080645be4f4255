"""Benchmark of `manage.py generate` (P5) against a plain executemany of the same member rows.

Run from the project root:

    DJANGO_SETTINGS_MODULE=dangjian.settings DANGJIAN_ALLOW_DEV_KEY=1 \
        .venv/bin/python bench/bench_generate.py [--members 10000] [--orgs N] [--database URL]

Without --database a temporary SQLite file is used. With a PostgreSQL URL the benchmark migrates into a
scratch schema (bench_generate_<pid>) of that database and drops it at the end, so the database is left as it
was. Prints one line per figure; the ratio is wall time against the baseline measured in the same run.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    p = argparse.ArgumentParser(description="generate 命令的性能测试（与裸表 executemany 基线对比）")
    p.add_argument("--members", type=int, default=10_000, help="党员人数（默认 10000）")
    p.add_argument("--orgs", type=int, default=None, help="党组织个数（默认 党员数/20）")
    p.add_argument("--database", default=None,
                   help="数据库地址，例如 postgres://postgres@127.0.0.1:5432/test；默认使用临时 SQLite 文件")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def prepare_database(url: str | None):
    """Point DATABASE_URL at a scratch database; returns a clean-up function."""
    if url is None:
        tmp = tempfile.mkdtemp(prefix="bench_generate_")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        return lambda: shutil.rmtree(tmp, ignore_errors=True)
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--database 只支持 PostgreSQL 地址（不填则使用临时 SQLite 文件）。")
    import psycopg

    schema = f"bench_generate_{os.getpid()}"
    plain = url.split("?", 1)[0]
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    os.environ["DATABASE_URL"] = plain + "?options=" + quote(f"-c search_path={schema}")

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return drop


def _pad(text: str, width: int) -> str:
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def line(label: str, seconds: float, rows: int, baseline: float | None):
    ratio = f"{seconds / baseline:6.2f}×" if baseline else "  1.00×"
    print(f"{_pad(label, 60)} {seconds:8.2f} 秒  {rows / max(seconds, 1e-9):>11,.0f} 行/秒  {ratio}", flush=True)


def main():
    args = parse_args()
    members = args.members
    orgs = args.orgs or max(5, members // 20)
    cleanup = prepare_database(args.database)
    try:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone

        from dangjian.orgs import bulk
        from dangjian.orgs.management.commands.generate import (
            MEMBER_FIELDS,
            Generator,
            clear_generated,
            generate,
        )
        from dangjian.orgs.models import Member, Organization

        call_command("migrate", verbosity=0)
        vendor = connection.vendor
        print(f"数据库 {vendor}，党组织 {orgs:,} 个，党员 {members:,} 名，CPU {os.cpu_count()} 核")

        # Baseline: the same member rows, built beforehand, into a table without indexes or constraints.
        created = connection.ops.adapt_datetimefield_value(timezone.now())
        gen = Generator(orgs, members, args.seed, created_at=created)
        gen.org_rows(0, {"production": 1, "management": 2, "business": 3})
        t = time.perf_counter()
        rows = list(gen.member_rows(id_base=0))
        t_build = time.perf_counter() - t
        cols = bulk.columns_of(Member, MEMBER_FIELDS)
        table = Member._meta.db_table
        with connection.cursor() as cur:
            if vendor == "postgresql":
                cur.execute(f'CREATE TABLE bench_bare_member (LIKE "{table}")')
            else:
                cur.execute(f'CREATE TABLE bench_bare_member AS SELECT * FROM "{table}" WHERE 0')
        placeholders = ", ".join(["?" if vendor == "sqlite" else "%s"] * len(cols))
        insert = f"INSERT INTO bench_bare_member ({', '.join(cols)}) VALUES ({placeholders})"

        def baseline_executemany(rows):
            with transaction.atomic():
                cur = connection.connection.cursor()
                t0 = time.perf_counter()
                cur.executemany(insert, rows)
                elapsed = time.perf_counter() - t0
                cur.close()
            with connection.cursor() as c:
                c.execute("DELETE FROM bench_bare_member")
            return elapsed

        t_base = baseline_executemany(rows)
        line("基线：executemany 写入无索引裸表（行已备好）", t_base, members, None)
        line("仅在 Python 中构造同样的党员行", t_build, members, t_base)
        if vendor == "postgresql":
            with transaction.atomic():
                t = time.perf_counter()
                bulk.insert_rows("bench_bare_member", cols, rows)
                t_copy = time.perf_counter() - t
            line("COPY 写入无索引裸表（行已备好）", t_copy, members, t_base)
        del rows

        stats = generate(orgs, members, args.seed)
        line("generate：党员", stats["seconds"], stats["members"], t_base)
        line(f"generate：全部 {stats['rows']:,} 行（组织+党员+支委，含索引）", stats["seconds"], stats["rows"], t_base)
        assert Organization.objects.filter(code__startswith="GEN-").count() == orgs
        assert Member.objects.filter(org__code__startswith="GEN-").count() == members

        t = time.perf_counter()
        counts = clear_generated()
        line("generate --clear", time.perf_counter() - t, sum(counts.values()), t_base)

        stats_p = generate(orgs, members, args.seed, pledges=True)
        line(f"generate --pledges：全部 {stats_p['rows']:,} 行", stats_p["seconds"], stats_p["rows"], t_base)
        clear_generated()
        with connection.cursor() as cur:
            cur.execute("DROP TABLE bench_bare_member")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
