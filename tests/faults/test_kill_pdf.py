"""kill -9 while a branch's handbooks are printed as one PDF (QUALITY.md R1, "a PDF batch").

How the application writes it: ``appraisal.handbook.render_pdf`` builds the whole PDF in memory (a BytesIO) and the
view returns it in one ``HttpResponse`` with its Content-Length; no PDF is ever written to disk or to storage. So
a kill can leave no partial file on the server, and the user either gets the complete file or no response at all.

This test shows it over real HTTP: the application runs in a child process (Django's WSGI server on 127.0.0.1) that
SIGKILLs itself right after a database event of the request (the session, the members, the audit event) or after
the Nth page ReportLab finished. The client never gets a status line, let alone part of a PDF; nothing appears
under the server's DATA_DIR or TMPDIR; and a re-run serves the complete PDF (every page, %%EOF, the length the
headers announced)."""

import http.client
import os
import re
import signal
import socket
import time

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from dangjian.core.views_security import SESSION_STATE
from dangjian.orgs.models import Pledge
from tests.factories import make_member
from tests.faults.harness import Zygote, files_under, snapshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]

YEAR = 2026


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_for(user) -> str:
    """A logged-in session of ``user``, as the login page leaves it (second factor settled)."""
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s[SESSION_STATE] = "ok"
    s.create()
    return s.session_key


def fetch(child: Zygote, path: str, session: str, **hooks):
    """Serve the application from a forked child, GET ``path`` once; returns (status, headers, body, error, run).
    A server still running after a complete answer is stopped with SIGTERM."""
    port = free_port()
    child.submit("serve", port, **hooks)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {child.stderr()[-2000:]}") from None
            time.sleep(0.05)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    status = headers = body = error = None
    try:
        conn.request("GET", path, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
        resp = conn.getresponse()
        status, headers = resp.status, dict(resp.getheaders())
        body = resp.read()
    except (http.client.HTTPException, ConnectionError) as exc:
        error = exc
    finally:
        conn.close()
    if error is None:
        os.kill(int(re.search(r"^F1-PID (\d+)$", child.stderr(), re.M).group(1)), signal.SIGTERM)
    return status, headers, body, error, child.result()


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def assert_complete(status, headers, body, n_pages=None):
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert int(headers["Content-Length"]) == len(body)
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    if n_pages is not None:
        assert pages(body) == n_pages


def test_pdf_batch_killed_mid_way_leaves_no_partial_file(company, tmp_path):
    c = company
    for n, name in enumerate(["陈红", "刘洋"]):
        member = make_member(c.branch_a, name)
        Pledge.objects.create(member=member, year=YEAR, text=f"第{n + 1}条承诺：立足岗位作贡献，保障电网安全稳定运行。")
    session = session_for(c.staff)
    path = reverse("appraisal:handbook_branch", args=[c.branch_a.pk]) + f"?year={YEAR}&download=1"
    base = snapshot(tmp_path)
    child = None
    try:
        child = Zygote(base.fresh("pdf"), tmp_path)
        status, headers, body, error, run = fetch(child, path, session, count=1)
        assert error is None, run.stderr[-3000:]
        assert_complete(status, headers, body)
        total_pages = pages(body)
        assert total_pages >= 8  # four members, at least two pages each
        events = re.findall(r"^F1-EVENT \d+ (.*)$", run.stderr, re.M)
        audit = next(i for i, e in enumerate(events, 1) if "core_auditevent" in e and e.startswith("INSERT"))
        points = [("kill_after", 1), ("kill_after", audit - 1), ("kill_after", len(events)),
                  ("kill_after_page", 1), ("kill_after_page", total_pages // 2), ("kill_after_page", total_pages)]
        server_files = tmp_path / "data", tmp_path / "tmp"
        before = [files_under(d) for d in server_files]
        for hook, k in points:
            where = f"{hook}={k} ({len(events)} events, {total_pages} pages)"
            base.fresh("pdf")  # the state the reference ran on (the audit chain's head decides its queries)
            status, headers, body, error, run = fetch(child, path, session, **{hook: k})
            assert run.killed, f"{where}: not killed ({run.returncode}) {run.stderr[-2000:]}"
            assert status is None and body is None and error is not None, f"{where}: got {status}"
            assert [files_under(d) for d in server_files] == before, where
            status, headers, body, error, run = fetch(child, path, session)
            assert error is None, f"{where}: {run.stderr[-2000:]}"
            assert_complete(status, headers, body, total_pages)
        print(f"PDF batch: {total_pages} pages, {len(events)} database events; killed at {points}")
    finally:
        if child:
            child.close()
        base.drop()
