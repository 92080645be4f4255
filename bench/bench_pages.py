"""Pages under load (QUALITY.md P2): p50/p95/p99 of every main page of an open month with 20 concurrent clients
(target p95 ≤ 150 ms at province scale), and a frozen month's wall and rankings against the hello-world page
(/healthz/) in the same run, same server, same clients (target ≥ 50 % of hello-world's throughput).

Run from the project root:
    DANGJIAN_ALLOW_DEV_KEY=1 .venv/bin/python bench/bench_pages.py --scale quick|province
        [--database postgres://postgres@127.0.0.1:5432/dangjian_bench_pages | --database sqlite]
        [--seconds 20] [--clients 20] [--workers N]

Scales: ``quick`` is 1/100 of a province (30 organizations, 600 members; under two minutes), ``province`` is
3,000 organizations and 60,000 members (QUALITY.md's "province" column). The data set is built by
``manage.py generate`` (set-based) into a fresh copy of the scratch database (bench/database.py: the PostgreSQL
database of ``--database``, default ``$BENCH_PG_URL`` or postgres://…/dangjian_bench_pages, created when missing;
``--database sqlite`` for a temporary SQLite file), then through the real services:

- the default organization standards (52 items) and member standards (42 items) of 2026, published;
- October 2026 opened for every organization (open_period), scored set-based as bench/bench_close.py does,
  published and finalized (close.finalize_period): the frozen month with results, ranks, grades and digest;
- November 2026 opened (the open month), half of the evaluations self-scored;
- the members' October opened (appraisal open_period), every member determined set-based and published
  (close.publish_ready: results, branch figures and digests: every branch's wall); November opened;
- four signed-in users: 党建管理员 and 考评员 on the root committee, the secretary and a member of one branch;
  that branch's public wall link opened.

Then gunicorn serves it (``.venv/bin/gunicorn dangjian.wsgi``, sync workers, 2 × CPUs + 1 of them by default: the
pages are CPU-bound Python, so threads would only queue behind one interpreter lock, and gunicorn's own rule of
thumb keeps a worker ready while others wait for the database), DEBUG off, a random SECRET_KEY, plain HTTP on a
free local port. The load client is bench/load.py (threads, keep-alive where the server keeps it).

Phase 1, the open month — 20 clients for ``--seconds``, each signed in as one of the four users (8 党建管理员,
3 考评员, 5 书记, 4 党员), each going round its role's pages:

  党建管理员  home, 组织考评 month list, the open month's evaluation list and progress (period_detail), one
             evaluation, the open month's results page (not yet finalized), the oversight dashboard (考评看板),
             the member month list and the open member month (appraisal period_detail), one branch's member
             month (branch_month), the branch's wall, notifications, member list, organization tree and list,
             the annual view, the service dashboard
  考评员      home, 组织考评 month list, the open month's evaluation list, one evaluation
  书记        home, the branch's evaluation, its member month, its wall, notifications, its member list
  党员        home, my member evaluation of the month (where 我的评价 leads), notifications

  figures ``page.p95.<role>-<page>.<scale>`` (ms, target "≤ 150 ms"; p50 and p99 in the note) and
  ``pages.throughput.<scale>`` (req/s over all pages).

Phase 2, the frozen month — one after the other, 20 clients each, after a warm-up that is not counted (each worker
renders a frozen fragment once): /healthz/ (hello-world), the branch's wall (党建管理员), the public wall (no
login), October's results ranking (党建管理员). Figures ``hello.throughput.<scale>``,
``frozen_wall.throughput.<scale>``, ``frozen_public_wall.throughput.<scale>`` and
``frozen_rankings.throughput.<scale>`` (baseline: hello-world's, target "≥ 50 % of hello-world"), with p95s.
The digest checks that still run before every frozen page are timed in this process too
(``frozen_rankings.digest_check_ms.<scale>``, ``frozen_wall.digest_check_ms.<scale>``).

Every figure goes to bench/results/latest.json (bench/results.py). gunicorn is stopped at the end, also on error
or Ctrl+C.
"""

import argparse
import datetime
import io
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import use_database  # noqa: E402
from bench.load import login, run_load  # noqa: E402
from bench.results import record  # noqa: E402

SCALES = {"quick": (30, 600), "province": (3000, 60000)}
PASSWORD = "Bench#2026pages-load"
TARGET_P95 = "≤ 150 ms"
TARGET_FROZEN = "≥ 50 % of hello-world"
ROLE_CLIENTS = {"staff": 8, "assessor": 3, "secretary": 5, "member": 4}


def parse_args():
    p = argparse.ArgumentParser(description="页面负载测试：开放月份各页面 p50/p95/p99，兑现月份上墙与排名对比 hello-world")
    p.add_argument("--scale", choices=sorted(SCALES), default="quick", help="quick（30 个组织）或 province（3000 个组织）")
    p.add_argument("--database", default=None,
                   help="PostgreSQL 临时库地址（默认 $BENCH_PG_URL 或 postgres://postgres@127.0.0.1:5432/"
                        "dangjian_bench_pages），或 sqlite 使用临时 SQLite 文件")
    p.add_argument("--seconds", type=float, default=None, help="每轮负载的秒数（默认 quick 15、province 40）")
    p.add_argument("--clients", type=int, default=20, help="并发客户端数（默认 20）")
    p.add_argument("--workers", type=int, default=None, help="gunicorn 同步 worker 数（默认 2 × CPU 数 + 1）")
    p.add_argument("--reuse", action="store_true",
                   help="不重建数据：直接使用上次同一规模运行留下的 PostgreSQL 数据库副本（<库名>_pages_<规模>）")
    p.add_argument("--compare-uncached", action="store_true",
                   help="另起一个不缓存兑现月份页面的 gunicorn（FROZEN_CACHE_SECONDS=0），同样测量上墙和排名，对比缓存的效果")
    args = p.parse_args()
    if args.database is None:
        args.database = os.environ.get("BENCH_PG_URL") or "postgres://postgres@127.0.0.1:5432/dangjian_bench_pages"
    if args.database == "sqlite":
        args.database = None
    if args.seconds is None:
        args.seconds = 8.0 if args.scale == "quick" else 30.0
    if args.reuse and not args.database:
        p.error("--reuse 只适用于 PostgreSQL（SQLite 临时文件在运行结束时已删除）。")
    if args.seconds < 2 or args.clients < 1:
        p.error("--seconds 至少为 2，--clients 至少为 1。")
    return args


# ---- the data ----------------------------------------------------------------------------------------------------


def prepare(n_orgs: int, n_members: int) -> dict:
    """Build the data set through the services (see the module's docstring); returns what the pages need."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction

    from dangjian.appraisal import close as member_close
    from dangjian.appraisal import services as appraisal
    from dangjian.appraisal import wall
    from dangjian.appraisal.models import MemberEvaluation
    from dangjian.assessments import services as assessments
    from dangjian.assessments.close import finalize_period
    from dangjian.assessments.models import EvalItem, Evaluation
    from dangjian.orgs.models import Level, Member, Organization, Role, RoleGrant
    from dangjian.standards.member_services import load_default_member_set
    from dangjian.standards.services import load_default_set

    qn = connection.ops.quote_name
    timings = {}
    t0 = time.perf_counter()
    call_command("generate", orgs=n_orgs, members=n_members, stdout=io.StringIO())
    timings["generate"] = time.perf_counter() - t0
    root = Organization.objects.get(code="GEN-ROOT")
    branch = (Organization.objects.filter(path__startswith=root.path, level=Level.BRANCH, archived=False)
              .order_by("path").first())
    members = list(Member.objects.filter(org=branch).order_by("id").values_list("pk", flat=True)[:2])
    if len(members) < 2:
        raise SystemExit(f"生成的支部 {branch.name} 党员不足两人，无法建立书记和党员账号。")
    system = User.objects.create_superuser(f"bench-pages-{os.getpid()}", password=None)
    users = {}
    for role, org, member in (("staff", root, None), ("assessor", root, None), ("secretary", branch, members[0]),
                              ("member", branch, members[1])):
        user = User.objects.create_user(f"bench-{role}-{os.getpid()}", password=PASSWORD)
        RoleGrant.objects.create(user=user, role={"staff": Role.STAFF, "assessor": Role.ASSESSOR,
                                                  "secretary": Role.SECRETARY, "member": Role.MEMBER}[role], org=org)
        if member is not None:
            Member.objects.filter(pk=member).update(user=user)
        users[role] = user.username

    t1 = time.perf_counter()
    load_default_set(system, root, 2026, publish=True)
    load_default_member_set(system, root, 2026, publish=True)

    def day(m, d):
        return datetime.date(2026, m, d)

    frozen = assessments.open_period(system, root, "2026-10", submit_due=day(10, 25), self_due=day(10, 26),
                                     assess_due=day(10, 27), objection_days=0)
    current = assessments.open_period(system, root, "2026-11", submit_due=day(11, 25), self_due=day(11, 26),
                                      assess_due=day(11, 27))
    item_t, eval_t = qn(EvalItem._meta.db_table), qn(Evaluation._meta.db_table)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"UPDATE {item_t} SET self_score = max_points, assessor_score = max_points - "
                    f"(CASE WHEN max_points >= 2 THEN (id * 7919 %% 4) * 0.5 ELSE 0 END), vetoed = (id %% 997 = 0) "
                    f"WHERE evaluation_id IN (SELECT id FROM {eval_t} WHERE period_id = %s)", [frozen.pk])
        cur.execute(f"UPDATE {eval_t} SET state = 'published' WHERE period_id = %s", [frozen.pk])
        cur.execute(f"UPDATE {item_t} SET self_score = max_points WHERE evaluation_id IN "
                    f"(SELECT id FROM {eval_t} WHERE period_id = %s AND id %% 2 = 0)", [current.pk])
    finalize_period(system, frozen)
    timings["org months"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    m_frozen = appraisal.open_period(system, root, "2026-10", self_due=day(10, 25), determine_due=day(10, 28))
    m_eval_t = qn(MemberEvaluation._meta.db_table)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"UPDATE {m_eval_t} SET state = 'determined' WHERE period_id = %s", [m_frozen.pk])
    member_close.publish_ready(system, m_frozen)
    m_current = appraisal.open_period(system, root, "2026-11", self_due=day(11, 25), determine_due=day(11, 28))
    public_key = wall.enable_public_wall(system, branch).key
    timings["member months"] = time.perf_counter() - t1
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {
        "root": root, "branch": branch, "users": users, "frozen": frozen, "current": current,
        "m_current": m_current, "m_frozen": m_frozen, "public_key": public_key, "timings": timings,
        "evaluation": Evaluation.objects.get(period=current, org=branch).pk,
        "member_evaluation": MemberEvaluation.objects.get(period=m_current, member_id=members[1]).pk,
    }


def find_prepared() -> dict:
    """What ``prepare`` built, found again in a database left by an earlier run (``--reuse``)."""
    from django.contrib.auth.models import User

    from dangjian.appraisal.models import AppraisalPeriod, MemberEvaluation, PublicWall
    from dangjian.assessments.models import Evaluation, Period, PeriodStatus
    from dangjian.orgs.models import Level, Member, Organization

    root = Organization.objects.filter(code="GEN-ROOT").first()
    if root is None:
        raise SystemExit("--reuse：数据库中没有生成的数据，请不带 --reuse 运行一次。")
    branch = (Organization.objects.filter(path__startswith=root.path, level=Level.BRANCH, archived=False)
              .order_by("path").first())
    users = {role: User.objects.filter(username__startswith=f"bench-{role}-").latest("id").username
             for role in ROLE_CLIENTS}
    frozen = Period.objects.get(owner=root, status=PeriodStatus.FINALIZED)
    current = Period.objects.get(owner=root, status=PeriodStatus.OPEN)
    m_frozen = AppraisalPeriod.objects.get(owner=root, month=datetime.date(2026, 10, 1))
    m_current = AppraisalPeriod.objects.get(owner=root, month=datetime.date(2026, 11, 1))
    member = Member.objects.filter(user__username=users["member"]).values_list("pk", flat=True).get()
    return {
        "root": root, "branch": branch, "users": users, "frozen": frozen, "current": current,
        "m_current": m_current, "m_frozen": m_frozen, "public_key": PublicWall.objects.get(org=branch).key,
        "timings": {}, "evaluation": Evaluation.objects.get(period=current, org=branch).pk,
        "member_evaluation": MemberEvaluation.objects.get(period=m_current, member_id=member).pk,
    }


def pages_of(d: dict) -> dict[str, list[tuple[str, str]]]:
    """Each role's pages of the open month: [(name, path)]."""
    from django.urls import reverse

    b, cur, mcur = d["branch"].pk, d["current"].pk, d["m_current"].pk
    home = ("home", reverse("home"))
    notes = ("notifications", reverse("notifications:list"))
    evaluation = ("evaluation", reverse("assessments:evaluation_detail", args=[d["evaluation"]]))
    branch_month = ("branch-member-month", reverse("appraisal:branch_month", args=[mcur, b]))
    the_wall = ("wall", reverse("appraisal:wall_detail", args=[b]))
    return {
        "staff": [
            home, ("periods", reverse("assessments:period_list")),
            ("month", reverse("assessments:period_detail", args=[cur])), evaluation,
            ("results-open", reverse("assessments:period_results", args=[cur])),
            ("oversight", reverse("assessments:oversight") + f"?period={cur}"),
            ("member-periods", reverse("appraisal:period_list")),
            ("member-month", reverse("appraisal:period_detail", args=[mcur])), branch_month, the_wall, notes,
            ("members", reverse("orgs:member_list")), ("org-tree", reverse("orgs:tree")),
            ("org-list", reverse("orgs:org_list")), ("annual", reverse("assessments:annual")),
            ("service-dashboard", reverse("service:dashboard")),
        ],
        "assessor": [home, ("periods", reverse("assessments:period_list")),
                     ("month", reverse("assessments:period_detail", args=[cur])), evaluation],
        "secretary": [home, evaluation, branch_month, the_wall, notes,
                      ("members", reverse("orgs:member_list") + f"?org={b}")],
        "member": [home, ("member-evaluation", reverse("appraisal:evaluation_detail", args=[d["member_evaluation"]])),
                   notes],
    }


def time_digest_checks(d: dict) -> dict[str, float]:
    """The digest checks the frozen pages run before anything is shown, in ms (median of 7)."""
    from dangjian.appraisal.close import check_months
    from dangjian.appraisal.models import BranchAggregate
    from dangjian.assessments.close import check_digest
    from dangjian.assessments.models import Period

    period = Period.objects.get(pk=d["frozen"].pk)
    agg = BranchAggregate.objects.get(org=d["branch"], period=d["m_frozen"])

    def median_ms(fn):
        runs = []
        for _ in range(7):
            t = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - t) * 1000)
        return statistics.median(runs)

    return {"rankings": median_ms(lambda: check_digest(period, fresh=True)),
            "wall": median_ms(lambda: check_months({(agg.period_id, agg.org_id): agg.month}))}


# ---- the server --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, log_path: Path, **extra_env) -> subprocess.Popen:
    """gunicorn as production runs it (DEBUG off, a random secret key), on plain HTTP at 127.0.0.1:port."""
    env = dict(os.environ, DEBUG="0", ALLOWED_HOSTS="127.0.0.1,localhost", SECRET_KEY=secrets.token_urlsafe(50),
               SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", SECURE_HSTS_SECONDS="0", LOG_LEVEL="ERROR", **extra_env)
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "dangjian.wsgi", "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--worker-class", "sync", "--timeout", "120", "--backlog", "2048",
           "--error-logfile", str(log_path), "--log-level", "warning"]
    log = open(log_path, "ab")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    proc.base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn 启动失败（退出码 {proc.returncode}），见日志 {log_path}：\n"
                             + log_path.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise SystemExit(f"gunicorn 在 90 秒内没有就绪，见日志 {log_path}")


def stop_server(proc: subprocess.Popen | None) -> None:
    """Stop the gunicorn master this script started (it stops its workers); kill it if it does not go in 20 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# ---- the runs ------------------------------------------------------------------------------------------------------


def check_pages(base: str, cookie: str | None, pages: list[tuple[str, str]]) -> list[str]:
    """Every page must answer 200 for its role before it is measured (a 404 or a redirect would be fast and
    wrong): the problems, one line each."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(base)
    bad = []
    for name, path in pages:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            resp = conn.getresponse()
            resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            bad.append(f"页面 {name}（{path}）返回 HTTP {resp.status}（{resp.getheader('Location') or ''}），"
                       f"不是 200，不测量。")
    return bad


def mixed_run(base: str, cookies: dict, pages: dict, clients: int, seconds: float) -> dict:
    """All roles at once: ``clients`` clients split over the roles (ROLE_CLIENTS' proportions), in parallel."""
    total = sum(ROLE_CLIENTS.values())
    split = {role: max(1, round(clients * n / total)) for role, n in ROLE_CLIENTS.items() if pages.get(role)}
    out, threads = {}, []

    def run(role):
        out[role] = run_load(base, pages[role], clients=split[role], seconds=seconds, cookies=[cookies[role]],
                             timeout=120, ok_statuses={200})

    for role in split:
        threads.append(threading.Thread(target=run, args=(role,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main():
    args = parse_args()
    n_orgs, n_members = SCALES[args.scale]
    scale = args.scale
    t0 = time.perf_counter()
    if args.reuse:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(args.database)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/')}_pages_{scale}"[:64]))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
        os.environ.setdefault("DANGJIAN_ALLOW_DEV_KEY", "1")
        cleanup = lambda: None  # noqa: E731
    else:
        cleanup = use_database(args.database, f"pages_{scale}")
        print(f"pages: fresh database in {time.perf_counter() - t0:.1f} s", flush=True)
    import django

    django.setup()
    from django.db import connection

    engine = connection.vendor
    server = None
    log_path = Path(tempfile.gettempdir()) / f"bench-pages-gunicorn-{os.getpid()}.log"
    try:
        t0 = time.perf_counter()
        if args.reuse:
            d = find_prepared()
        else:
            d = prepare(n_orgs, n_members)
            built = time.perf_counter() - t0
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in d["timings"].items())
            print(f"pages[{engine}] {scale}: {n_orgs} organizations, {n_members} members built in {built:.1f} s "
                  f"({steps})", flush=True)
            record(f"pages.build_seconds.{scale}", built, "s", engine=engine,
                   note=f"generate + standards + two org months (one finalized) + two member months (one "
                        f"published); {steps}")
        checks = time_digest_checks(d)
        pages = pages_of(d)
        connection.close()

        workers = args.workers or 2 * (os.cpu_count() or 1) + 1
        t0 = time.perf_counter()
        server = start_server(free_port(), workers, log_path)
        base = server.base_url
        cookies = {role: login(base, username, PASSWORD, timeout=120) for role, username in d["users"].items()}
        for role, role_pages in pages.items():
            for problem in check_pages(base, cookies[role], role_pages):
                print(f"  {role}: {problem}", flush=True)
                name = problem.split("（", 1)[0].removeprefix("页面 ")
                role_pages[:] = [p for p in role_pages if p[0] != name]
        print(f"pages[{engine}] {scale}: gunicorn up, 4 users signed in, every page checked in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        machine = f"gunicorn {workers} sync workers, {args.clients} clients, {engine}"

        # Phase 1: the open month.
        run_load(base, [p for role in pages for p in pages[role][:1]], clients=4, seconds=2,
                 cookies=list(cookies.values()))  # warm-up: imports, template loading in each worker
        alone = {}
        pages = {role: role_pages for role, role_pages in pages.items() if role_pages}
        for role, role_pages in pages.items():  # one request at a time: what the page costs without a queue
            solo = run_load(base, role_pages, clients=1, requests_per_client=5 * len(role_pages),
                            cookies=[cookies[role]], timeout=120, ok_statuses={200})
            for name, values in solo.latencies.items():
                alone[(role, name)] = statistics.median(values) * 1000 if values else float("nan")
        results = mixed_run(base, cookies, pages, args.clients, args.seconds)
        requests = sum(r.requests for r in results.values())
        errors = sum(r.errors for r in results.values())
        worst = []
        for role, result in results.items():
            for name, (n, p50, p95, p99, _mean) in sorted(result.page_figures().items()):
                if not n:
                    continue
                worst.append((p95, f"{role}-{name}"))
                record(f"page.p95.{role}-{name}.{scale}", p95, "ms", target=TARGET_P95, engine=engine,
                       note=f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, n={n}; alone (one client, median of 5) "
                            f"{alone.get((role, name), float('nan')):.1f} ms; open month, {machine}, "
                            f"{args.seconds:.0f} s mixed run")
            for example in result.error_examples:
                print(f"  error ({role}): {example}", flush=True)
        record(f"pages.throughput.{scale}", requests / args.seconds, "req/s", engine=engine,
               note=f"all pages of the open month together, errors {errors}; {machine}")
        over = sorted((p for p in worst if p[0] > 150), reverse=True)
        print(f"pages[{engine}] {scale}: {len(worst)} pages, {requests} requests, errors {errors}; "
              f"p95 over 150 ms: {', '.join(f'{n} {v:.0f} ms' for v, n in over) or 'none'}", flush=True)

        # Phase 2: the frozen month against hello-world, one after the other.
        frozen = [
            ("hello", "/healthz/", "staff"),
            ("frozen_wall", f"/appraisal/wall/{d['branch'].pk}/", "staff"),
            ("frozen_public_wall", f"/appraisal/wall/p/{d['public_key']}/", None),
            ("frozen_rankings", f"/assessments/{d['frozen'].pk}/results/", "staff"),
        ]
        from django.urls import reverse

        assert frozen[1][1] == reverse("appraisal:wall_detail", args=[d["branch"].pk])
        assert frozen[2][1] == reverse("appraisal:wall_public", args=[d["public_key"]])
        assert frozen[3][1] == reverse("assessments:period_results", args=[d["frozen"].pk])
        hello = None
        for name, path, role in frozen:
            cookie = cookies[role] if role else None
            for problem in check_pages(base, cookie, [(name, path)]):
                raise SystemExit(problem)
            run_load(base, [(name, path)], clients=args.clients, seconds=2, cookies=[cookie] if cookie else None)
            result = run_load(base, [(name, path)], clients=args.clients, seconds=args.seconds,
                              cookies=[cookie] if cookie else None, timeout=120, ok_statuses={200})
            p50, p95, p99 = result.overall()
            note = (f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, errors {result.errors}; {path}; "
                    f"{machine}")
            if name == "hello":
                hello = result.throughput
                record(f"hello.throughput.{scale}", hello, "req/s", engine=engine, note=note)
            else:
                record(f"{name}.throughput.{scale}", result.throughput, "req/s", baseline=hello,
                       target=TARGET_FROZEN, engine=engine, note=note)
        if args.compare_uncached:
            stop_server(server)
            server = start_server(free_port(), workers, log_path, FROZEN_CACHE_SECONDS="0")
            base = server.base_url
            cookies = {role: login(base, username, PASSWORD, timeout=120) for role, username in d["users"].items()}
            for name, path, role in frozen[1:]:
                cookie = cookies[role] if role else None
                run_load(base, [(name, path)], clients=args.clients, seconds=2, cookies=[cookie] if cookie else None)
                result = run_load(base, [(name, path)], clients=args.clients, seconds=args.seconds,
                                  cookies=[cookie] if cookie else None, timeout=120, ok_statuses={200})
                p50, p95, p99 = result.overall()
                record(f"{name}.uncached_throughput.{scale}", result.throughput, "req/s", baseline=hello,
                       engine=engine, note=f"the same page without the frozen cache (FROZEN_CACHE_SECONDS=0): "
                                           f"p50 {p50:.2f} ms, p95 {p95:.2f} ms; {machine}")
        record(f"frozen_rankings.digest_check_ms.{scale}", checks["rankings"], "ms", engine=engine,
               note=f"close.check_digest of the finalized month ({n_orgs} result rows hashed), run before every "
                    f"request of the rankings; median of 7, in the bench process")
        record(f"frozen_wall.digest_check_ms.{scale}", checks["wall"], "ms", engine=engine,
               note="appraisal close.check_months of one branch month, run before every request of a wall; "
                    "median of 7")
    finally:
        stop_server(server)
        cleanup()
    if log_path.exists() and log_path.stat().st_size:
        print(f"gunicorn log: {log_path}")


if __name__ == "__main__":
    main()
