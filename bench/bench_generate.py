"""Benchmark of `manage.py generate` (P5) against a plain executemany of the same member rows.

Run from the project root:

    DJANGO_SETTINGS_MODULE=dangjian.settings DANGJIAN_ALLOW_DEV_KEY=1 \
        .venv/bin/python bench/bench_generate.py [--members 10000] [--orgs N] [--no-extras] [--database URL]

Records generator.<engine>.<N>_members (generate's wall time against the baseline measured in the same run:
executemany of the same member rows, built beforehand, into a bare table) through bench/results.py into
bench/results/latest.json, and prints the other steps (building the rows alone, COPY on PostgreSQL,
generate --clear, generate --pledges; not with --no-extras) as lines with their ratio to the same baseline. The database: see
bench/database.py (a temporary SQLite file, or a fresh copy <name>_generate of the PostgreSQL scratch database
named by --database).
"""

import argparse
import os
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import members_label, use_database  # noqa: E402
from bench.results import record  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description="generate 命令的性能测试（与裸表 executemany 基线对比）")
    p.add_argument("--members", type=int, default=10_000, help="党员人数（默认 10000）")
    p.add_argument("--orgs", type=int, default=None, help="党组织个数（默认 党员数/20）")
    p.add_argument("--database", default=None,
                   help="PostgreSQL 临时库地址；默认使用临时 SQLite 文件")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-extras", action="store_true",
                   help="只测 generate 本身，不测 generate --clear 和 --pledges（大规模时省时间）")
    return p.parse_args()


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
    cleanup = use_database(args.database, "generate")
    try:
        import django

        django.setup()
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
        record(f"generator.{vendor}.{members_label(members)}_members", stats["seconds"], "s", baseline=t_base,
               target="≤ 10 min at 1 M", engine=vendor,
               note=f"manage.py generate: {orgs:,} organizations, {members:,} members, {stats['rows']:,} rows with "
                    f"indexes ({stats['rows'] / max(stats['seconds'], 1e-9):,.0f} rows/s); baseline: executemany of "
                    f"the same member rows, built beforehand, into a bare table")
        line(f"generate：全部 {stats['rows']:,} 行（组织+党员+支委，含索引）", stats["seconds"], stats["rows"], t_base)
        assert Organization.objects.filter(code__startswith="GEN-").count() == orgs
        assert Member.objects.filter(org__code__startswith="GEN-").count() == members

        if not args.no_extras:
            t = time.perf_counter()
            counts = clear_generated()
            line("generate --clear", time.perf_counter() - t, sum(counts.values()), t_base)
            stats_p = generate(orgs, members, args.seed, pledges=True)
            line(f"generate --pledges：全部 {stats_p['rows']:,} 行", stats_p["seconds"], stats_p["rows"], t_base)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
