"""The branch's handbooks in one PDF (QUALITY.md P4: a 30-member branch's 《党员量化评价手册》 for a year ≤ 10 s).

Run from the project root:
    DANGJIAN_ALLOW_DEV_KEY=1 .venv/bin/python bench/bench_handbook.py [--members 30] [--items 20] [--runs 3]
        [--database postgres://postgres@127.0.0.1:5432/benchhandbook]

Builds, set-based (bulk_create), one branch of N members under a committee, a member standard set of M items
(base, bonus, deduction and veto items), twelve published months (evaluation, one line per item with counts,
points and a reason now and then, a result with rank), a pledge and two study records a month per member.
Then, in the same run:

  baseline  a plain ReportLab platypus table of 2,000 rows × 6 columns in the same embedded Chinese font
            (QUALITY.md: "2,000-row table 0.46 s" on the reference machine);
  handbook  handbook.branch_handbooks as the page runs it: five queries, the PDF, the audit entry.

Records handbook.<engine>.<N>_members (median of ``--runs``, against the baseline's median; the note gives the
page count, file size and query count) through bench/results.py into bench/results/latest.json. The database:
see bench/database.py (a temporary SQLite file, or a fresh copy <name>_handbook of the PostgreSQL scratch
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

from bench.database import use_database  # noqa: E402
from bench.results import record  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description="党员量化评价手册 PDF 性能测试（与 2000 行 ReportLab 表格对比）")
    p.add_argument("--members", type=int, default=30, help="支部党员人数（默认 30）")
    p.add_argument("--items", type=int, default=20, help="每月评价细则数（默认 20）")
    p.add_argument("--runs", type=int, default=3, help="每项测量次数，取中位数（默认 3）")
    p.add_argument("--year", type=int, default=2025, help="年度（默认 2025）")
    p.add_argument("--database", default=None, help="PostgreSQL 临时库地址；默认使用临时 SQLite 文件")
    return p.parse_args()


PARTS = ["base"] * 5 + ["bonus"] * 8 + ["deduction"] * 5 + ["veto"] * 2
DIMS = ["politics", "rules", "morals", "dedication", "central"]
TEXTS = ["按时参加“三会一课”和主题党日活动", "按月足额交纳党费", "认真学习党的理论和业务知识",
         "履行岗位职责，完成支部分配的任务", "遵守党的纪律和公司规章制度", "讲授党课或微党课",
         "参加抢修保电、迎峰度夏等急难险重任务", "参加共产党员服务队志愿服务（每小时）", "收到群众表扬信或锦旗",
         "技术创新、合理化建议被采纳", "获得上级表彰", "党员示范岗、责任区目标全部完成",
         "带头开展安全生产隐患排查", "无故缺席组织生活", "违反安全规定受到考核", "95598工单可归责投诉",
         "未履行党员承诺", "拒不执行支部决定", "受到党纪处分", "发生负主要责任的安全事故"]


def baseline_pdf(font: str, rows: int = 2000) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    data = [["序号", "姓名", "党支部", "得分", "排名", "等次"]]
    data += [[str(i), f"党员{i:04d}", f"第{i % 40 + 1}党支部", f"{80 + i % 20}.5", str(i), "合格"]
             for i in range(1, rows + 1)]
    buf = io.BytesIO()
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 9),
                               ("GRID", (0, 0), (-1, -1), 0.4, "grey")]))
    SimpleDocTemplate(buf, pagesize=A4).build([table])
    return buf.getvalue()


def build(args):
    """The branch, its members and their year, with bulk_create: a constant number of statements per table."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from dangjian.appraisal.models import (
        AppraisalPeriod,
        AState,
        MemberEvaluation,
        MemberLine,
        MemberResult,
        PeriodStatus,
        StudyRecord,
    )
    from dangjian.orgs.models import Level, Member, Organization, Pledge, path_segment
    from dangjian.standards.models import MemberItem, MemberStandardSet, SetStatus

    stamp = f"{os.getpid()}{int(time.time()) % 100000}"
    committee = Organization.objects.create(name="基准测试党委", code=f"BH-C{stamp}", level=Level.COMMITTEE,
                                            path=f"tmpc{stamp}")
    committee.path = path_segment(committee.pk)
    Organization.objects.filter(pk=committee.pk).update(path=committee.path)
    branch = Organization.objects.create(name="基准测试变电运维党支部", code=f"BH-B{stamp}", level=Level.BRANCH,
                                         parent=committee, depth=1, path=f"tmpb{stamp}")
    branch.path = committee.path + path_segment(branch.pk)
    Organization.objects.filter(pk=branch.pk).update(path=branch.path)
    members = []
    for i in range(args.members):
        m = Member(org=branch, name=f"党员{i:02d}", gender="M", birth_date=datetime.date(1980 + i % 20, 5, 1),
                   id_number=f"11010119{80 + i % 20}0501{i:03d}X"[:18], joined_on=datetime.date(2005 + i % 15, 7, 1),
                   post="变电运维值班员", name_pinyin=f"dangyuan{i:02d}", name_initials="dy")
        members.append(m)
    Member.objects.bulk_create(members)
    members = list(Member.objects.filter(org=branch).order_by("id"))
    ms = MemberStandardSet.objects.create(owner=committee, year=args.year, name="基准测试党员评价标准",
                                          status=SetStatus.PUBLISHED, published_at=timezone.now())
    items = MemberItem.objects.bulk_create([
        MemberItem(standard_set=ms, code=f"I{n:02d}", part=PARTS[n % len(PARTS)], dimension=DIMS[n % len(DIMS)],
                   text=TEXTS[n % len(TEXTS)], points=Decimal("0") if PARTS[n % len(PARTS)] == "veto" else
                   Decimal(str(2 + n % 4)), order=n) for n in range(args.items)])
    periods = AppraisalPeriod.objects.bulk_create([
        AppraisalPeriod(owner=committee, month=datetime.date(args.year, k, 1), standard_set=ms,
                        status=PeriodStatus.CLOSED, self_due=datetime.date(args.year, k, 25),
                        determine_due=datetime.date(args.year, k, 28)) for k in range(1, 13)])
    evs = MemberEvaluation.objects.bulk_create([
        MemberEvaluation(period=p, member=m, org=branch, org_path=branch.path, org_name=branch.name,
                         member_name=m.name, post=m.post, state=AState.DETERMINED, total=Decimal("86.0"))
        for p in periods for m in members], batch_size=1000)
    lines = []
    for e_i, ev in enumerate(evs):
        for n, it in enumerate(items):
            count = (e_i + n) % 3 if it.part in ("bonus", "deduction") else 0
            sign = -1 if it.part == "deduction" else 1
            points = it.points if it.part == "base" else sign * it.points * count
            lines.append(MemberLine(
                evaluation=ev, item=it, part=it.part, dimension=it.dimension, self_count=count, self_points=points,
                count=count, points=points,
                reason="经支委会审定，按评价标准计分；佐证材料齐全，情况属实。" if count and n % 2 else ""))
    MemberLine.objects.bulk_create(lines, batch_size=5000)
    MemberEvaluation.objects.filter(pk__in=[e.pk for e in evs]).update(state=AState.PUBLISHED)
    now = timezone.now()
    results = []
    for e_i, ev in enumerate(evs):
        total = Decimal("80") + Decimal(e_i % 17)
        results.append(MemberResult(
            period_id=ev.period_id, evaluation=ev, member_id=ev.member_id, org=branch, org_path=branch.path,
            org_name=branch.name, member_name=ev.member_name, month=periods[e_i // len(members)].month,
            base=Decimal("80"), bonus=total - 80, deduction=Decimal("0"), self_total=total, branch_total=total,
            total=total, vetoed=False, qualified=True, rank=e_i % len(members) + 1, branch_size=len(members),
            published_at=now))
    MemberResult.objects.bulk_create(results, batch_size=2000)
    from dangjian.appraisal import close  # the branch months' figures and digests, as the close writes them

    for p in periods:
        close.engine(p).insert_aggregates(None, now, close.engine(p).digests(branch.pk), branch.pk)
    Pledge.objects.bulk_create([Pledge(member=m, year=args.year, text="立足变电运维岗位，带头执行“两票三制”，"
                                        "全年所辖变电站零误操作、零非计划停运，带领班组完成迎峰度夏保供电任务。")
                                for m in members])
    StudyRecord.objects.bulk_create([
        StudyRecord(member=m, date=datetime.date(args.year, k, 5 + 10 * j), title=f"{k}月专题学习：党的创新理论与安全生产",
                    form="group" if j else "self", hours=Decimal("2")) for m in members for k in range(1, 13)
        for j in range(2)], batch_size=2000)
    user = User.objects.create_superuser(f"bench-handbook-{stamp}", password=None)
    return user, branch, len(lines)


def main():
    args = parse_args()
    cleanup = use_database(args.database, "handbook")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dangjian.appraisal import handbook
    from dangjian.core.pdf import cjk_font

    try:
        engine = connection.vendor
        t0 = time.perf_counter()
        user, branch, n_lines = build(args)
        print(f"handbook[{engine}] data: 1 branch × {args.members} members × 12 months × {args.items} items = "
              f"{n_lines} lines; built in {time.perf_counter() - t0:.1f} s")
        font = cjk_font()
        baseline_pdf(font)  # warm: the font's first subset and ReportLab's imports
        handbook.branch_handbooks(user, branch, args.year)
        bases, books = [], []
        for _ in range(args.runs):
            t1 = time.perf_counter()
            baseline_pdf(font)
            bases.append(time.perf_counter() - t1)
            t1 = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                content = handbook.branch_handbooks(user, branch, args.year)
            books.append(time.perf_counter() - t1)
        base, book = statistics.median(bases), statistics.median(books)
        pages = content.count(b"/Type /Page") - content.count(b"/Type /Pages")
        record(f"handbook.{engine}.{args.members}_members", book, "s", baseline=base, target="≤ 10 s",
               engine=engine,
               note=f"branch_handbooks for {args.year}: {pages} pages, {len(content) / 1024 / 1024:.1f} MB, "
                    f"{len(ctx.captured_queries)} queries, median of {args.runs}; baseline: ReportLab 2,000-row "
                    f"table in the same font")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
