"""Excel import of members (QUALITY.md P3: 100 k members ≤ 15 s end to end, memory ≤ 500 MB).

Run from the project root:
    DANGJIAN_ALLOW_DEV_KEY=1 .venv/bin/python bench/bench_import.py [--members 100000] [--database URL]

Builds an .xlsx of N member rows for the branches of a generated company, then times, in the same run:
  baseline  reading the file with python-calamine (the floor of any import)
  import    the whole import as the page runs it (read, check every row, write, audit)
and records two figures through bench/results.py (bench/results/latest.json), one line each:
import.<engine>.<N>_members (seconds against the calamine read) and import.<engine>.<N>_members.peak_memory
(the process's peak resident set, which includes building the workbook). The database: see bench/database.py
(a temporary SQLite file, or a fresh copy <name>_import of the PostgreSQL scratch database named by --database).
"""

import argparse
import datetime
import io
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.database import members_label, use_database  # noqa: E402
from bench.results import record  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="Excel 导入党员性能测试（与 calamine 读取基线对比）")
    ap.add_argument("--members", type=int, default=100_000, help="导入的党员人数（默认 100000）")
    ap.add_argument("--database", default=None, help="PostgreSQL 临时库地址；默认使用临时 SQLite 文件")
    args = ap.parse_args()
    cleanup = use_database(args.database, "import")
    try:
        run(args)
    finally:
        cleanup()


def run(args):
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from openpyxl import Workbook

    from dangjian.core.excel import read_rows
    from dangjian.core.validators import id_check_char
    from dangjian.orgs.demo_data import FEMALE_GIVEN, MALE_GIVEN, SURNAMES
    from dangjian.orgs.imports import KINDS, run_import
    from dangjian.orgs.models import Member, Organization

    call_command("generate", orgs=max(60, args.members // 400), members=0, stdout=io.StringIO())
    branches = list(Organization.objects.filter(level="branch", code__startswith="GEN-").values_list("code", flat=True))
    user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench", password=None)

    rnd = random.Random(7)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("党员")
    ws.append([c.header for c in KINDS["members"].columns])
    for n in range(args.members):
        birth = datetime.date(1965 + rnd.randrange(36), rnd.randrange(1, 13), rnd.randrange(1, 29))
        first17 = f"5{n % 100000:05d}{birth:%Y%m%d}{n // 100000 % 1000:03d}"
        gender = "男" if int(first17[16]) % 2 else "女"
        ws.append([rnd.choice(SURNAMES) + rnd.choice(MALE_GIVEN + FEMALE_GIVEN), gender, birth, first17 + id_check_char(first17),
                   f"139{n:08d}", rnd.choice(branches), birth.replace(year=birth.year + 25),
                   birth.replace(year=birth.year + 26), "正式党员", "配电线路工", "", "立足岗位作表率。"])
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()

    class Upload(io.BytesIO):
        name = "bench.xlsx"
        size = len(data)

    t0 = time.perf_counter()
    read_rows(Upload(data))
    baseline = time.perf_counter() - t0
    before = Member.objects.count()
    t0 = time.perf_counter()
    result = run_import(user, KINDS["members"], Upload(data))
    took = time.perf_counter() - t0
    assert "problems" not in result, result["problems"][:5]
    assert Member.objects.count() - before == args.members
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = connection.vendor
    scale = f"import.{engine}.{members_label(args.members)}_members"
    record(scale, took, "s", baseline=baseline, target="≤ 15 s at 100 k", engine=engine,
           note=f"run_import of {args.members} rows as the page runs it (read, check, write, audit); "
                f"baseline: python-calamine reading the same file")
    record(f"{scale}.peak_memory", round(peak), "MB", target="≤ 500 MB at 100 k", engine=engine,
           note="peak resident set of the whole process (ru_maxrss), building the workbook included")


if __name__ == "__main__":
    main()
