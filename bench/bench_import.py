"""Excel import of members (QUALITY.md P3: 100 k members ≤ 15 s end to end, memory ≤ 500 MB).

Run from the project root:
    DANGJIAN_ALLOW_DEV_KEY=1 .venv/bin/python bench/bench_import.py [--members 100000] [--database URL]

Builds an .xlsx of N member rows for the branches of a generated company, then times, in the same run:
  baseline  reading the file with python-calamine (the floor of any import)
  import    the whole import as the page runs it (read, check every row, write, audit)
and prints one line per figure with the ratio. Uses a temporary SQLite file unless --database is given
(a PostgreSQL URL: the tables are migrated into the test database and emptied afterwards).
"""

import argparse
import datetime
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--database")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-import-")
    os.environ["DATABASE_URL"] = args.database or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    os.environ.setdefault("DANGJIAN_ALLOW_DEV_KEY", "1")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from openpyxl import Workbook

    from dangjian.core.excel import read_rows
    from dangjian.core.validators import id_check_char
    from dangjian.orgs.demo_data import FEMALE_GIVEN, MALE_GIVEN, SURNAMES
    from dangjian.orgs.imports import KINDS, run_import
    from dangjian.orgs.models import Member, Organization

    call_command("migrate", verbosity=0)
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
    engine = "postgresql" if "postgres" in os.environ["DATABASE_URL"] else "sqlite"
    print(f"import_read_baseline[{engine}] {args.members} rows: {baseline:.2f} s")
    print(f"import_members[{engine}] {args.members} rows: {took:.2f} s  ratio {took / baseline:.1f}x  peak {peak:.0f} MB")
    if args.database:
        call_command("generate", clear=True, stdout=io.StringIO())
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
