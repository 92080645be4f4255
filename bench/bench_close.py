"""The month close (QUALITY.md P1: within 1.5× of the single-statement floor, on SQLite and on PostgreSQL).

Run from the project root:
    DANGJIAN_ALLOW_DEV_KEY=1 .venv/bin/python bench/bench_close.py [--orgs 3000] [--items 40] [--months 3]
        [--database postgres://postgres@127.0.0.1:5432/benchclose]

Builds a generated company of N organizations (~20 members each, with secretaries) under one committee, a
standard set of M items that apply to every organization, and K months opened through the real service
(open_period, set-based). Scores and states are then set with one UPDATE per table: every item scored (a few
deductions, a veto now and then), every evaluation published. For each month, in the same run:

  floor   one INSERT…SELECT of the result rows — item totals, rate, RANK()/PERCENT_RANK()/COUNT() per peer group
          and overall, the grade — into a bare table without indexes: the least any close can do (median of
          three runs);
  close   close.finalize_period as the page runs it: results, peer group figures, transitions, states, frozen
          standard, digest, lock, audit, one transaction.

Prints one line per month (with, for the breakdown, the time of the evaluations' state UPDATE alone, rolled
back), then the figure org_close.<engine>.<N>orgs (median close against median floor, median ratio) through
bench/results.py into bench/results/latest.json. The database: see bench/database.py (a temporary SQLite file,
or a fresh copy <name>_org_close of the PostgreSQL scratch database named by --database).
"""

import argparse
import datetime
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.database import use_database  # noqa: E402
from bench.results import record  # noqa: E402

FLOOR_TABLE = "bench_close_floor"


class _Rollback(Exception):
    pass


def parse_args():
    p = argparse.ArgumentParser(description="月兑现性能测试（与单条 SQL 下限对比）")
    p.add_argument("--orgs", type=int, default=3000, help="党组织个数（默认 3000）")
    p.add_argument("--items", type=int, default=40, help="每个组织的考评细则数（默认 40）")
    p.add_argument("--months", type=int, default=3, help="测量的月份数（默认 3）")
    p.add_argument("--database", default=None, help="PostgreSQL 临时库地址；默认使用临时 SQLite 文件")
    return p.parse_args()


def floor_sql(qn, period_id: int, vendor: str = "sqlite") -> tuple[str, list]:
    """The single statement: the same aggregate and window functions as the close, nothing else. The items are
    summed the way each engine's close reads them (PostgreSQL: per evaluation through the index, LATERAL; SQLite:
    a join grouped by evaluation), so the floor is as fast as the close's own statement can be."""
    sums = (
        "SUM(CAST(ROUND(COALESCE(i.assessor_score, i.self_score, 0) * 10) AS INTEGER)) AS t, "
        "SUM(CAST(ROUND(i.max_points * 10) AS INTEGER)) AS m, MAX(CASE WHEN i.vetoed THEN 1 ELSE 0 END) AS v"
    )
    cols = "e.id AS evaluation_id, e.org_id, e.org_name, e.org_path, e.level, e.org_type_id"
    if vendor == "postgresql":
        base = (f"SELECT {cols}, a.t, a.m, a.v FROM {qn('assessments_evaluation')} e CROSS JOIN LATERAL "
                f"(SELECT {sums} FROM {qn('assessments_evalitem')} i WHERE i.evaluation_id = e.id) a "
                f"WHERE e.period_id = %s")
    else:
        base = (f"SELECT {cols}, {sums} FROM {qn('assessments_evaluation')} e "
                f"JOIN {qn('assessments_evalitem')} i ON i.evaluation_id = e.id "
                f"WHERE e.period_id = %s GROUP BY e.id, e.org_id, e.org_name, e.org_path, e.level, e.org_type_id")
    return (
        f"INSERT INTO {FLOOR_TABLE} (period_id, evaluation_id, org_id, org_name, org_path, level, org_type_id, total, "
        f"max_total, score_rate, vetoed, peer_rank, peer_size, overall_rank, overall_size, percentile, grade) "
        f"WITH base AS ({base}), "
        f"rated AS (SELECT b.*, (2000 * b.t + b.m) / (2 * b.m) AS r FROM base b), "
        f"ranked AS (SELECT x.*, RANK() OVER (PARTITION BY x.level, x.org_type_id ORDER BY x.r DESC) AS peer_rank, "
        f"PERCENT_RANK() OVER (PARTITION BY x.level, x.org_type_id ORDER BY x.r) AS pr, "
        f"COUNT(*) OVER (PARTITION BY x.level, x.org_type_id) AS peer_size, "
        f"RANK() OVER (ORDER BY x.r DESC) AS overall_rank, COUNT(*) OVER () AS overall_size FROM rated x) "
        f"SELECT %s, evaluation_id, org_id, org_name, org_path, level, org_type_id, t / 10.0, m / 10.0, r / 10.0, "
        f"v = 1, peer_rank, peer_size, overall_rank, overall_size, pr * 100, "
        f"CASE WHEN v = 1 THEN 'D' WHEN r >= 950 THEN 'A' WHEN r >= 850 THEN 'B' WHEN r >= 750 THEN 'C' ELSE 'D' END "
        f"FROM ranked",
        [period_id, period_id],
    )


def main():
    args = parse_args()
    cleanup = use_database(args.database, "org_close")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from dangjian.assessments import services
    from dangjian.assessments.close import finalize_period, verify_digest
    from dangjian.assessments.models import EvalItem, Evaluation, Result
    from dangjian.orgs.models import Organization
    from dangjian.standards.models import Category, Item, SetStatus, StandardSet

    try:
        engine = connection.vendor
        qn = connection.ops.quote_name
        t0 = time.perf_counter()
        call_command("generate", orgs=args.orgs, members=args.orgs * 20, stdout=io.StringIO())
        root = Organization.objects.get(code="GEN-ROOT")
        user = User.objects.create_superuser(f"bench-close-{os.getpid()}", password=None)
        ss = StandardSet.objects.create(owner=root, year=2026, name="基准测试标准", status=SetStatus.PUBLISHED,
                                        published_at=timezone.now())
        cat = Category.objects.create(standard_set=ss, code="C1", name="组织建设", order=1)
        Item.objects.bulk_create([
            Item(standard_set=ss, category=cat, code=f"I{n:03d}", text=f"细则{n}", max_points=2 + n % 4,
                 rule="每缺一次扣0.5分", methods=["self", "onsite"], is_veto=(n == 0), order=n)
            for n in range(args.items)])
        periods = []
        for k in range(1, args.months + 1):
            day = lambda d, k=k: datetime.date(2026, k, d)  # noqa: E731
            t1 = time.perf_counter()
            periods.append(services.open_period(user, root, f"2026-{k:02d}", submit_due=day(25), self_due=day(26),
                                                assess_due=day(27), standard_set=ss))
            opened = time.perf_counter() - t1
        ids = [p.pk for p in periods]
        marks = ", ".join(["%s"] * len(ids))
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"UPDATE {qn(EvalItem._meta.db_table)} SET self_score = max_points, "
                f"assessor_score = max_points - (id * 7919 %% 4) * 0.5, vetoed = (id %% 997 = 0) "
                f"WHERE evaluation_id IN (SELECT id FROM {qn(Evaluation._meta.db_table)} WHERE period_id IN ({marks}))",
                ids)
            cur.execute(f"UPDATE {qn(Evaluation._meta.db_table)} SET state = 'published' WHERE period_id IN ({marks})",
                        ids)
            cur.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
            cur.execute(
                f"CREATE TABLE {FLOOR_TABLE} (period_id bigint, evaluation_id bigint, org_id bigint, "
                f"org_name varchar(100), org_path varchar(255), level varchar(10), org_type_id bigint, "
                f"total numeric(6, 1), max_total numeric(6, 1), score_rate numeric(5, 1), vetoed boolean, "
                f"peer_rank integer, peer_size integer, overall_rank integer, overall_size integer, "
                f"percentile numeric(5, 1), grade varchar(10))")
        if engine == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        n_orgs = Evaluation.objects.filter(period=periods[0]).count()
        n_items = EvalItem.objects.filter(evaluation__period=periods[0]).count()
        print(f"close[{engine}] data: {n_orgs} evaluations × {args.items} items = {n_items} item rows per month, "
              f"{args.months} months; built in {time.perf_counter() - t0:.1f} s; open_period {opened:.2f} s")

        ratios, floors_all, closes = [], [], []
        for period in periods:
            with connection.cursor() as cur:  # both timings start from the same warm cache
                cur.execute(f"SELECT COUNT(*), SUM(assessor_score) FROM {qn(EvalItem._meta.db_table)} i JOIN "
                            f"{qn(Evaluation._meta.db_table)} e ON e.id = i.evaluation_id WHERE e.period_id = %s",
                            [period.pk])
            sql, params = floor_sql(qn, period.pk, engine)
            floors = []
            for _ in range(3):  # the floor can be repeated (the close cannot): the median of three
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute(f"DELETE FROM {FLOOR_TABLE}")
                t1 = time.perf_counter()
                with transaction.atomic(), connection.cursor() as cur:
                    if engine == "postgresql":
                        cur.execute("SET LOCAL jit = off")  # as the close does (close.PostgresClose._no_jit)
                    cur.execute(sql, params)
                    floor_rows = cur.rowcount
                floors.append(time.perf_counter() - t1)
            floor = statistics.median(floors)
            # For the breakdown: the UPDATE of the month's evaluations to 已兑现 alone (rolled back) — a step the
            # close must take and the floor does not.
            t1 = time.perf_counter()
            try:
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute(f"UPDATE {qn(Evaluation._meta.db_table)} SET state = 'finalized', "
                                f"version = version + 1 WHERE period_id = %s", [period.pk])
                    state_update = time.perf_counter() - t1
                    raise _Rollback
            except _Rollback:
                pass
            t1 = time.perf_counter()
            finalize_period(user, period)
            took = time.perf_counter() - t1
            rows = Result.objects.filter(period=period).count()
            assert rows == floor_rows == n_orgs, (rows, floor_rows, n_orgs)
            assert verify_digest(period)
            ratios.append(took / floor)
            floors_all.append(floor)
            closes.append(took)
            print(f"close[{engine}] {period.label}: floor {floor * 1000:.0f} ms, finalize_period {took * 1000:.0f} ms, "
                  f"ratio {took / floor:.2f}x (the evaluations' state UPDATE alone: {state_update * 1000:.0f} ms)")
        enterprise = " (≤ 60 s at enterprise scale)" if engine == "postgresql" else ""
        record(f"org_close.{engine}.{args.orgs}orgs", statistics.median(closes), "s",
               baseline=statistics.median(floors_all), ratio=statistics.median(ratios), target=f"≤ 1.5×{enterprise}",
               engine=engine,
               note=f"finalize_period, {n_orgs} evaluations × {args.items} items, median of {len(periods)} months; "
                    f"baseline: the single INSERT…SELECT floor (median of 3); ratio: median of the months' ratios; "
                    f"open_period {opened:.2f} s")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
