"""The member close (QUALITY.md P1: within 1.5× of the single-statement floor, on SQLite and on PostgreSQL).

Run from the project root:
    DANGJIAN_ALLOW_DEV_KEY=1 .venv/bin/python bench/bench_member_close.py [--orgs 1000] [--months 2]
        [--database postgres://postgres@127.0.0.1:5432/benchmember]

Builds a generated company of N organizations (~20 members each) under one committee (manage.py generate), a
member standard set of 20 items (base, bonus with dimension caps, deductions, a veto), and K months opened
through the real service (open_period: set-based, pre-filled). Counts and states are then set with one UPDATE
per table: a few bonus claims and deductions, a veto now and then, every member determined. For each month, in
the same run:

  floor   one INSERT…SELECT of the result rows — line points summed per member, RANK() and COUNT() per branch —
          into a bare table without indexes: the least any close can do (median of three runs);
  close   close.publish_ready as the staff's button runs it: results with parts, dimension and part caps, floor,
          veto, qualified and rank; branch figures; transitions; states; frozen set; audit; one transaction.

Prints one line per month, then the figure member_close.<engine>.<N>_members (median close against median
floor, median ratio) through bench/results.py into bench/results/latest.json. The database: see
bench/database.py (a temporary SQLite file, or a fresh copy <name>_member_close of the PostgreSQL scratch
database named by --database).
"""

import argparse
import datetime
import io
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.database import members_label, use_database  # noqa: E402
from bench.results import record  # noqa: E402

FLOOR_TABLE = "bench_member_floor"


def parse_args():
    p = argparse.ArgumentParser(description="党员月度评价公示（结算）性能测试（与单条 SQL 下限对比）")
    p.add_argument("--orgs", type=int, default=1000, help="党组织个数（默认 1000，约 2 万名党员）")
    p.add_argument("--months", type=int, default=2, help="测量的月份数（默认 2）")
    p.add_argument("--database", default=None, help="PostgreSQL 临时库地址；默认使用临时 SQLite 文件")
    p.add_argument("--breakdown", action="store_true", help="分步计时（结果、支部汇总、状态、冻结、审计）")
    return p.parse_args()


def time_steps(close_module, steps: dict) -> None:
    """Wrap each statement of the close with a timer adding into ``steps`` (name -> seconds)."""
    import functools

    def wrap(owner, name, label):
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                steps[label] = steps.get(label, 0.0) + time.perf_counter() - t

        setattr(owner, name, timed)

    for name in ("insert_results", "digests", "insert_aggregates", "mark_published", "freeze_set"):
        wrap(close_module.MemberClose, name, name)
    wrap(close_module, "log_action", "audit")
    wrap(close_module, "_lock_period", "lock")


ITEMS = (
    [(f"B{n:02d}", "base", ["politics", "rules", "morals", "dedication"][n % 4], Decimal("10")) for n in range(8)]
    + [(f"J{n:02d}", "bonus", ["politics", "central", "dedication"][n % 3], Decimal("2")) for n in range(6)]
    + [(f"K{n:02d}", "deduction", "rules", Decimal("3")) for n in range(5)]
    + [("V00", "veto", "rules", Decimal("0"))]
)


def main():
    args = parse_args()
    cleanup = use_database(args.database, "member_close")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction

    from dangjian.appraisal import close, services
    from dangjian.appraisal.models import MemberEvaluation, MemberLine, MemberResult
    from dangjian.orgs.models import Organization
    from dangjian.standards.models import MemberItem, MemberStandardSet, SetStatus

    try:
        engine = connection.vendor
        qn = connection.ops.quote_name
        t0 = time.perf_counter()
        call_command("generate", orgs=args.orgs, members=args.orgs * 20, stdout=io.StringIO())
        root = Organization.objects.get(code="GEN-ROOT")
        user = User.objects.create_superuser(f"bench-member-{os.getpid()}", password=None)
        ms = MemberStandardSet.objects.create(
            owner=root, year=2026, name="基准测试党员标准", status=SetStatus.PUBLISHED, bonus_cap=Decimal("20"),
            deduction_cap=Decimal("15"), floor=Decimal("0"), pass_mark=Decimal("60"),
            dimension_caps={"central": "6"})
        MemberItem.objects.bulk_create([
            MemberItem(standard_set=ms, code=code, part=part, dimension=dim, text=f"细则{code}", points=pts,
                       month_cap=Decimal("6") if part == "bonus" else None, order=n)
            for n, (code, part, dim, pts) in enumerate(ITEMS)])
        periods, opened = [], 0.0
        for k in range(1, args.months + 1):
            t1 = time.perf_counter()
            periods.append(services.open_period(user, root, f"2026-{k:02d}", self_due=datetime.date(2026, k, 25),
                                                determine_due=datetime.date(2026, k, 28), standard_set=ms))
            opened = time.perf_counter() - t1
        ids = [p.pk for p in periods]
        marks = ", ".join(["%s"] * len(ids))
        line_t, eval_t = qn(MemberLine._meta.db_table), qn(MemberEvaluation._meta.db_table)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"UPDATE {line_t} SET count = CASE WHEN part = 'base' THEN (CASE WHEN id %% 17 = 0 THEN 1 ELSE 0 END) "
                f"WHEN part = 'bonus' THEN id %% 3 "
                f"WHEN part = 'deduction' THEN (CASE WHEN id %% 11 = 0 THEN 1 ELSE 0 END) "
                f"ELSE (CASE WHEN id %% 499 = 0 THEN 1 ELSE 0 END) END "
                f"WHERE evaluation_id IN (SELECT id FROM {eval_t} WHERE period_id IN ({marks}))", ids)
            cur.execute(
                f"UPDATE {line_t} SET points = CASE WHEN part = 'base' THEN 10 - count * 10 "
                f"WHEN part = 'bonus' THEN count * 2 WHEN part = 'deduction' THEN -3 * count ELSE 0 END, "
                f"self_points = CASE WHEN part = 'base' THEN 10 ELSE 0 END "
                f"WHERE evaluation_id IN (SELECT id FROM {eval_t} WHERE period_id IN ({marks}))", ids)
            cur.execute(f"UPDATE {eval_t} SET state = 'determined' WHERE period_id IN ({marks})", ids)
            cur.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
            cur.execute(f"CREATE TABLE {FLOOR_TABLE} (evaluation_id bigint, member_id bigint, org_id bigint, "
                        f"total numeric(6, 1), rank integer, branch_size integer)")
        if engine == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        n_members = MemberEvaluation.objects.filter(period=periods[0]).count()
        n_lines = MemberLine.objects.filter(evaluation__period=periods[0]).count()
        print(f"member-close[{engine}] data: {n_members} members × {len(ITEMS)} items = {n_lines} lines per month, "
              f"{args.months} months; built in {time.perf_counter() - t0:.1f} s; open_period {opened:.2f} s")
        floor_sql = (
            f"INSERT INTO {FLOOR_TABLE} (evaluation_id, member_id, org_id, total, rank, branch_size) "
            f"WITH t AS (SELECT l.evaluation_id, CAST(SUM(CAST(ROUND(COALESCE(l.points, 0) * 10) AS INTEGER)) "
            f"AS BIGINT) AS total FROM {line_t} l JOIN {eval_t} e ON e.id = l.evaluation_id "
            f"WHERE e.period_id = %s GROUP BY l.evaluation_id) "
            f"SELECT e.id, e.member_id, e.org_id, t.total / 10.0, RANK() OVER (PARTITION BY e.org_id "
            f"ORDER BY t.total DESC), COUNT(*) OVER (PARTITION BY e.org_id) FROM t JOIN {eval_t} e "
            f"ON e.id = t.evaluation_id")
        ratios, floors_all, closes, steps = [], [], [], {}
        if args.breakdown:
            time_steps(close, steps)
        for period in periods:
            steps.clear()
            floors = []
            for _ in range(3):
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute(f"DELETE FROM {FLOOR_TABLE}")
                    t1 = time.perf_counter()
                    cur.execute(floor_sql, [period.pk])
                    floors.append(time.perf_counter() - t1)
            floor = statistics.median(floors)
            t1 = time.perf_counter()
            rows = close.publish_ready(user, period)
            took = time.perf_counter() - t1
            assert rows == n_members == MemberResult.objects.filter(period=period).count(), (rows, n_members)
            ratios.append(took / floor)
            floors_all.append(floor)
            closes.append(took)
            print(f"member-close[{engine}] {period.label}: floor {floor * 1000:.0f} ms, publish_ready "
                  f"{took * 1000:.0f} ms, ratio {took / floor:.2f}x")
            if steps:
                print("    " + ", ".join(f"{k} {v * 1000:.0f} ms ({v / floor:.2f}x floor)" for k, v in steps.items())
                      + f", other {(took - sum(steps.values())) * 1000:.0f} ms")
        record(f"member_close.{engine}.{members_label(args.orgs * 20)}_members", statistics.median(closes), "s",
               baseline=statistics.median(floors_all), ratio=statistics.median(ratios), target="≤ 1.5×",
               engine=engine,
               note=f"publish_ready, {n_members} members × {len(ITEMS)} items = {n_lines} lines, median of "
                    f"{len(periods)} months; baseline: the single INSERT…SELECT floor (median of 3); ratio: median "
                    f"of the months' ratios; open_period {opened:.2f} s")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
