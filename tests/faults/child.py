"""The child process of the kill -9 tests: ``python -m tests.faults.child <what> ...`` with DATABASE_URL set.

It sets Django up, installs the fault hooks (test code only: nothing here is imported by the application), then
runs one real operation — a management command, the Excel import service, an HTTP server — or reports the state of
the database as JSON on stdout. The hooks read these environment variables, which only the test harness sets:

F1_KILL_AFTER=N     SIGKILL this process right after the Nth database event: a SQL statement run through Django
                    (``execute_wrapper``) or a COMMIT (``BaseDatabaseWrapper.commit``).
F1_KILL_AT_ROW=N    SIGKILL before the Nth row of the member import's bulk write reaches the database (SQLite: the
                    Nth execution of the raw INSERT INTO orgs_member, seen by sqlite3's trace callback;
                    PostgreSQL: the Nth row handed to COPY).
F1_KILL_AFTER_PAGE=N  SIGKILL right after ReportLab finished the Nth page of a PDF.
F1_COUNT=1          write ``F1-EVENT <i> <sql>`` for every database event and, at the end, ``F1-EVENTS <n>``,
                    ``F1-ROWS <n>`` and ``F1-PAGES <n>`` to stderr.

``zygote`` sets Django up once and forks one process per job read from stdin (see ``zygote``): a child process
start-up costs ~0.5–1 s, a fork a few milliseconds, and the tests run some forty jobs per engine.

Before killing itself the child writes ``F1-KILL <what>`` to stderr, so a failing point can be told apart.
"""

import json
import os
import signal
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.backends.base.base import BaseDatabaseWrapper  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

COUNTS = {"events": 0, "rows": 0, "pages": 0}


def _die(what: str) -> None:
    sys.stderr.write(f"F1-KILL {what}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _limit(name: str) -> int:
    return int(os.environ.get(name) or 0)


def install_hooks() -> None:
    kill_after, kill_row, kill_page = _limit("F1_KILL_AFTER"), _limit("F1_KILL_AT_ROW"), _limit("F1_KILL_AFTER_PAGE")
    trace = bool(os.environ.get("F1_COUNT"))

    def event(label: str) -> None:
        COUNTS["events"] += 1
        if trace:
            sys.stderr.write(f"F1-EVENT {COUNTS['events']} {' '.join(label.split())[:100]}\n")
        if COUNTS["events"] == kill_after:
            _die(f"after event {kill_after}: {' '.join(label.split())[:100]}")

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        event(sql)
        return result

    connection.execute_wrappers.append(wrapper)
    commit = BaseDatabaseWrapper.commit

    def counted_commit(self):
        commit(self)
        event("COMMIT")

    BaseDatabaseWrapper.commit = counted_commit

    def row(label: str) -> None:
        COUNTS["rows"] += 1
        if COUNTS["rows"] == kill_row:
            _die(f"at row {kill_row}: {label}")

    def traced(sql: str) -> None:
        if sql.startswith('INSERT INTO "orgs_member"'):
            row("INSERT INTO orgs_member")

    def on_connect(sender, connection, **kwargs):
        if connection.vendor == "sqlite" and (kill_row or trace):
            connection.connection.set_trace_callback(traced)

    connection_created.connect(on_connect, weak=False)
    if connection.vendor == "postgresql" and (kill_row or trace):
        import psycopg

        write_row = psycopg.Copy.write_row

        def counted_write_row(self, values):
            row("COPY row")
            return write_row(self, values)

        psycopg.Copy.write_row = counted_write_row

    from reportlab.pdfgen.canvas import Canvas

    show_page = Canvas.showPage

    def counted_show_page(self):
        show_page(self)
        COUNTS["pages"] += 1
        if COUNTS["pages"] == kill_page:
            _die(f"after PDF page {kill_page}")

    Canvas.showPage = counted_show_page


# ---- what the child runs ---------------------------------------------------------------------------------------


def close_state(period_id: int) -> dict:
    """Everything the month close writes, as plain JSON: period, results (ordered by org id), peer aggregates,
    evaluation states, transitions to 已兑现, audit events of the close, digest and audit chain checks."""
    from django.db.models import Count

    from dangjian.assessments.close import verify_digest
    from dangjian.assessments.models import PeerAggregate, Period, Result, State, Transition
    from dangjian.core.audit_chain import verify_chain
    from dangjian.core.models import AuditEvent

    period = Period.objects.get(pk=period_id)
    fields = ["org_id", "evaluation_id", "org_name", "org_path", "level", "org_type_id", "total", "max_total",
              "score_rate", "vetoed", "peer_rank", "peer_size", "overall_rank", "overall_size", "percentile",
              "grade", "coefficient", "secretary"]
    results = [{k: str(v) for k, v in row.items()}
               for row in Result.objects.filter(period=period).order_by("org_id").values(*fields)]
    aggregates = [[str(v) for v in row] for row in PeerAggregate.objects.filter(period=period).order_by(
        "level", "org_type_id").values_list("level", "org_type_id", "count", "avg", "min", "max", "median")]
    states = dict(period.evaluations.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {
        "status": period.status,
        "digest": period.digest,
        "digest_ok": verify_digest(period, fresh=True) if period.digest else None,
        "results": results,
        "aggregates": aggregates,
        "states": states,
        "evaluations": sum(states.values()),
        "finalized_transitions": Transition.objects.filter(evaluation__period=period,
                                                           to_state=State.FINALIZED).count(),
        "finalized_events": AuditEvent.objects.filter(action="period.finalized", object_id=str(period.pk)).count(),
        "chain_ok": verify_chain().ok,
    }


def run_manage(args: list[str]) -> dict:
    """A management command; its output and, if it refused, its message."""
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as exc:
        return {"ok": False, "output": str(exc)}
    return {"ok": True, "output": out.getvalue()}


def import_members(username: str, path: str) -> dict:
    """The Excel member import through the service the upload page uses (orgs.imports.run_import)."""
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dangjian.orgs import imports

    with open(path, "rb") as fh:
        upload = SimpleUploadedFile(os.path.basename(path), fh.read())
    result = imports.run_import(User.objects.get(username=username), imports.KINDS["members"], upload)
    if "problems" in result:
        return {"problems": len(result["problems"]), "first": str(result["problems"][0].message)}
    return {"count": result["count"], "pledges": result["pledges"]}


def import_state(id_prefix: str) -> dict:
    from dangjian.core.audit_chain import verify_chain
    from dangjian.core.models import AuditEvent
    from dangjian.orgs.models import Member, Pledge

    # ID numbers are sealed (core.crypto): the prefix is matched on the opened values.
    members = Member.objects.filter(pk__in=[pk for pk, idn in Member.objects.values_list("pk", "id_number")
                                            if idn.startswith(id_prefix)])
    return {
        "members": members.count(),
        "pledges": Pledge.objects.filter(member__in=members.values("pk")).count(),
        "events": AuditEvent.objects.filter(action="member.imported").count(),
        "chain_ok": verify_chain().ok,
    }


def serve(port: int) -> None:
    """The application over HTTP on 127.0.0.1:port (Django's WSGI server, one request at a time)."""
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    sys.stderr.write(f"F1-PID {os.getpid()}\n")
    sys.stderr.flush()
    run("127.0.0.1", port, get_wsgi_application(), threading=False)


def main(argv: list[str]) -> None:
    what, args = argv[0], argv[1:]
    if what != "zygote":
        install_hooks()
    if what == "manage":
        report = run_manage(args)
    elif what == "close-check":
        # After a kill: the state as the kill left it, a re-run of the close, the state after it.
        period = int(args[0])
        before = close_state(period)
        rerun = run_manage(["finalize_month", "--period", str(period)])
        report = {"before": before, "rerun": rerun, "after": close_state(period)}
    elif what == "close-state":
        report = close_state(int(args[0]))
    elif what == "import-members":
        report = import_members(args[0], args[1])
    elif what == "import-check":
        # After a kill: the state, a re-run of the same file, the state after it.
        before = import_state(args[2])
        rerun = import_members(args[0], args[1])
        report = {"before": before, "rerun": rerun, "after": import_state(args[2])}
    elif what == "serve":
        serve(int(args[0]))
        return
    elif what == "zygote":
        zygote()
        return
    else:
        raise SystemExit(f"unknown: {what}")
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if os.environ.get("F1_COUNT"):
        sys.stderr.write(f"F1-EVENTS {COUNTS['events']}\nF1-ROWS {COUNTS['rows']}\nF1-PAGES {COUNTS['pages']}\n")


def zygote() -> None:
    """Start-up paid once: Django is set up here, and each job — a JSON line on stdin {"args", "env", "out",
    "err"} — runs in a process forked from this one (no database connection is open at the fork), with its
    stdout and stderr in the given files. The job's exit status (negative: the signal that ended it) comes back
    as a JSON line on stdout."""
    import traceback

    from django.core.wsgi import get_wsgi_application
    from django.urls import get_resolver

    # What the jobs use, loaded once before the forks: the application's modules, the pinyin table, the font.
    import dangjian.assessments.close  # noqa: F401
    import dangjian.core.audit_chain  # noqa: F401
    from dangjian.appraisal import handbook  # noqa: F401
    from dangjian.core.pdf import cjk_font
    from dangjian.core.pinyin import name_keys
    from dangjian.orgs import imports  # noqa: F401

    get_wsgi_application()
    get_resolver().url_patterns  # imports every view module  # noqa: B018
    name_keys("张三")
    try:
        cjk_font()
    except Exception:  # noqa: BLE001 - a missing font is the PDF job's own error to report
        pass
    from django.db import connections

    connections.close_all()  # no connection may be shared by the forks
    for line in sys.stdin:
        job = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for fd, path in ((1, job["out"]), (2, job["err"])):
                    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    os.dup2(target, fd)
                    os.close(target)
                os.environ.update(job["env"])
                main(job["args"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - reported to the test through stderr
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sys.stdout.write(json.dumps({"returncode": code}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
