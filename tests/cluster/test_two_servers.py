"""Nothing is tied to one process (ARCHITECTURE.md "Scale-out", issue 7 point 4): a session, an upload and a month
close made through app server A are seen through app server B; behind nginx, requests alternate between the two.

The tests run in file order on one cluster: the upload needs the demo's open month, which the close then
finalizes."""

import json
import os
import time

import pytest

from tests.cluster.cluster import Browser, request
from tests.cluster.conftest import PASSWORD

pytestmark = pytest.mark.cluster


def test_session_made_on_a_is_signed_in_on_b(cluster):
    a, b = cluster.server_urls
    browser = Browser()
    browser.login(a, "shuji", PASSWORD)
    home = browser.get(b, "/")
    assert home.status == 200, home.status
    assert 'data-testid="user-menu"' in home.text
    # The same request without the session is sent to the login page: B really recognised the cookie.
    anonymous = request(b, "GET", "/")
    assert anonymous.status == 302 and anonymous.header("Location").startswith("/login/")
    # Signing out through B ends the session on A too.
    page = browser.get(b, "/")
    assert browser.post(b, "/logout/", {"csrfmiddlewaretoken": page.csrf_token()}).status == 302
    after = browser.get(a, "/")
    assert after.status == 302 and after.header("Location").startswith("/login/")


def test_upload_through_a_downloads_through_b(cluster, demo_ids):
    a, b = cluster.server_urls
    ev = demo_ids["branch_eval"]
    assert demo_ids["branch_state"] in ("not_started", "submitted"), demo_ids
    browser = Browser()
    browser.login(a, "shuji", PASSWORD)
    page = browser.get(a, f"/assessments/evaluations/{ev}/")
    assert page.status == 200
    # Larger than FILE_UPLOAD_MAX_MEMORY_SIZE (5 MB): A spools it to a temporary file before storing it.
    content = b"%PDF-1.4\n" + os.urandom(6 * 1024 * 1024) + b"\n%%EOF\n"
    resp = browser.post(a, f"/assessments/evaluations/{ev}/evidence/",
                        {"csrfmiddlewaretoken": page.csrf_token(), "kind": "evidence"},
                        files={"file": ("集群佐证.pdf", content, "application/pdf")})
    assert resp.status == 302, resp.status
    listing = browser.get(b, f"/assessments/evaluations/{ev}/")
    assert listing.status == 200
    assert "集群佐证.pdf" in listing.text
    links = sorted({int(part.split("/", 1)[0]) for part in listing.text.split("/assessments/evidence/")[1:]
                    if part.split("/", 1)[0].isdigit()})
    assert links, "no evidence link on the evaluation page served by B"
    download = browser.get(b, f"/assessments/evidence/{links[-1]}/")
    assert download.status == 200, download.status
    assert download.body == content
    assert "attachment" in download.header("Content-Disposition")


PREPARE_CLOSE = """
from dangjian.assessments.models import Evaluation, Period
# The demo's open month, made ready to finalize: every organization published, no publicity window left.
Period.objects.filter(pk={pk}).update(objection_days=0)
print(Evaluation.objects.filter(period_id={pk}).update(state="published"))
"""

TASK_OF = """
import json
from django_tasks_db.models import DBTaskResult
rows = DBTaskResult.objects.filter(task_path__endswith="finalize_period_task", args_kwargs__kwargs__period_id={pk})
print(json.dumps([{{"status": r.status, "workers": r.worker_ids}} for r in rows]))
"""


def test_month_close_through_a_done_by_worker_seen_through_b(cluster, demo_ids):
    a, b = cluster.server_urls
    pk = demo_ids["current"]
    assert int(cluster.shell(PREPARE_CLOSE.format(pk=pk)).split()[-1]) > 0
    staff = Browser()
    staff.login(a, "dangjian", PASSWORD)
    detail = staff.get(a, f"/assessments/{pk}/")
    assert detail.status == 200
    assert f"/assessments/{pk}/finalize/" in detail.text, "the finalize button is not offered"
    resp = staff.post(a, f"/assessments/{pk}/finalize/", {"csrfmiddlewaretoken": detail.csrf_token()})
    assert resp.status == 302 and resp.header("Location") == f"/assessments/{pk}/"
    # The next page, served by B, carries A's message: the close was submitted, not done in the request.
    assert "兑现已提交" in staff.get(b, f"/assessments/{pk}/").text
    # TASKS_BACKEND=database: the request only queued the close; the worker does it.
    deadline = time.monotonic() + 120
    while True:
        results = staff.get(b, f"/assessments/{pk}/results/")
        assert results.status == 200
        if 'data-testid="grade-cards"' in results.text:
            break
        assert cluster.worker_alive(), cluster.log_tail("worker")
        assert time.monotonic() < deadline, "the month was not finalized within 120 s:\n" + cluster.log_tail("worker")
        time.sleep(0.5)
    assert 'data-testid="not-finalized"' not in results.text
    assert 'data-testid="results-table"' in results.text
    # One task, run by the worker (it records its id), not in the request.
    tasks = json.loads(cluster.shell(TASK_OF.format(pk=pk)).strip().splitlines()[-1])
    assert [t["status"] for t in tasks] == ["SUCCESSFUL"], tasks
    assert tasks[0]["workers"], "the task records no worker"
    # A second close of the same month through B is refused, and nothing is queued.
    again = staff.get(b, f"/assessments/{pk}/")
    assert f"/assessments/{pk}/finalize/" not in again.text


def test_nginx_alternates_between_the_servers(cluster):
    upstreams = []
    for _ in range(20):
        resp = request(cluster.proxy_url, "GET", "/login/")
        assert resp.status == 200
        upstreams.append(resp.header("X-Upstream"))
    expected = {f"127.0.0.1:{port}" for port in cluster.server_ports}
    assert set(upstreams) == expected, upstreams
    # Round robin: each server answers every other request.
    assert all(x != y for x, y in zip(upstreams, upstreams[1:], strict=False)), upstreams
    # A session made through the proxy holds whichever server answers next.
    browser = Browser()
    browser.login(cluster.proxy_url, "kaoping", PASSWORD)
    seen = set()
    for _ in range(6):
        resp = browser.get(cluster.proxy_url, "/orgs/list/")
        assert resp.status == 200, resp.status
        seen.add(resp.header("X-Upstream"))
    assert seen == expected


LOGIN_IPS = """
import json
from dangjian.core.models import AuditEvent
print(json.dumps(list(AuditEvent.objects.filter(action="auth.login", user__username="{user}")
                      .order_by("id").values_list("ip", flat=True))))
"""


def test_audit_sees_the_client_behind_nginx_not_the_proxy(cluster):
    """nginx (127.0.0.1, TRUSTED_PROXIES) passes the client's address on; a client talking to an app server
    directly cannot choose its address with X-Forwarded-For."""
    Browser(source="127.0.0.2").login(cluster.proxy_url, "kaoping2", PASSWORD)
    Browser(source="127.0.0.3", headers={"X-Forwarded-For": "203.0.113.9"}).login(
        cluster.server_urls[0], "kaoping2", PASSWORD)
    ips = json.loads(cluster.shell(LOGIN_IPS.format(user="kaoping2")).strip().splitlines()[-1])
    assert ips[-2:] == ["127.0.0.2", "127.0.0.3"], ips
