"""QUALITY.md R6: 50 concurrent clients for 5 minutes against two app servers behind nginx and one task worker on
one PostgreSQL — zero errors.

Every client signs in through nginx as a demo user and then requests, in turn, the main pages that user's role
sees (each page checked to answer 200 for that user first). Only a 200 counts as success: a redirect to the login
page (a session lost between the servers) is an error. LOAD_SECONDS (default 300) and LOAD_CLIENTS (default 50)
shorten the run by hand: ``LOAD_SECONDS=20 make test-cluster``.
"""

import collections
import os
import re
import threading

import pytest

from bench.load import LoadResult, login, run_load
from tests.cluster.cluster import request
from tests.cluster.conftest import PASSWORD

pytestmark = pytest.mark.cluster

LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "300"))
LOAD_CLIENTS = int(os.environ.get("LOAD_CLIENTS", "50"))
SESSIONS_PER_USER = 2

COMMON = [("首页", "/"), ("组织列表", "/orgs/list/"), ("考评月份", "/assessments/"),
          ("本月考评", "/assessments/{current}/"), ("兑现结果", "/assessments/{past}/results/"),
          ("组织考评", "/assessments/evaluations/{branch_eval}/"), ("站内消息", "/notifications/")]
# (users, share of the clients, pages beyond COMMON)
GROUPS = [
    (["admin", "dangjian"], 0.3, [("党员列表", "/orgs/members/"), ("考评标准", "/standards/"),
                                  ("党员评价", "/appraisal/"), ("上墙", "/appraisal/wall/"),
                                  ("服务看板", "/service/"), ("需求", "/service/needs/"),
                                  ("工单", "/service/tickets/"), ("考评看板", "/assessments/oversight/")]),
    (["kaoping", "kaoping2", "kaoping3", "kaoping4"], 0.3, [("党员列表", "/orgs/members/"),
                                                           ("考评标准", "/standards/")]),
    (["shuji"], 0.3, [("党员列表", "/orgs/members/"), ("党员评价", "/appraisal/"),
                      ("组织生活", "/appraisal/activities/"), ("服务看板", "/service/"), ("需求", "/service/needs/"),
                      ("工单", "/service/tickets/")]),
    (["dangyuan"], 0.1, []),
]
UPSTREAM = re.compile(r"upstream=(\S+) (\S+)")


def _clients_per_group(total):
    counts = [max(1, int(total * share)) for _users, share, _pages in GROUPS]
    counts[0] += total - sum(counts)
    return counts


def _merge(results, seconds, clients):
    merged = LoadResult(seconds=seconds, clients=clients)
    for result in results:
        for name, values in result.latencies.items():
            merged.latencies.setdefault(name, []).extend(values)
        merged.errors += result.errors
        merged.error_examples.extend(result.error_examples)
    return merged


def test_fifty_clients_two_servers_zero_errors(cluster, demo_ids):
    base = cluster.proxy_url
    plans = []
    for (users, _share, extra), clients in zip(GROUPS, _clients_per_group(LOAD_CLIENTS), strict=True):
        pages = [(name, path.format(**demo_ids)) for name, path in COMMON + extra]
        cookies = [login(base, user, PASSWORD) for user in users for _ in range(SESSIONS_PER_USER)]
        # Each user's pages answer 200 before the run (so the run measures the cluster, not the permissions).
        for user, cookie in zip(users, cookies[::SESSIONS_PER_USER], strict=True):
            for name, path in pages:
                status = request(base, "GET", path, headers={"Cookie": cookie}).status
                assert status == 200, f"{user} {name} {path}: HTTP {status}"
        plans.append((pages, clients, cookies))

    results = [None] * len(plans)

    def run(index, pages, clients, cookies):
        results[index] = run_load(base, pages, clients=clients, seconds=LOAD_SECONDS, cookies=cookies,
                                  ok_statuses={200})

    access_log = cluster.tmp / "nginx" / "access.log"
    log_start = access_log.stat().st_size
    threads = [threading.Thread(target=run, args=(i, *plan)) for i, plan in enumerate(plans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = _merge(results, max(r.seconds for r in results), LOAD_CLIENTS)
    p50, p95, p99 = result.overall()

    # Who answered, from nginx's own log of the run.
    by_upstream, statuses = collections.Counter(), collections.Counter()
    with open(access_log, "rb") as fh:
        fh.seek(log_start)
        for line in fh.read().decode("utf-8", "replace").splitlines():
            match = UPSTREAM.search(line)
            if match:
                by_upstream[match.group(1)] += 1
                statuses[match.group(2)] += 1
    print(f"\nR6 load run: two gunicorn servers × {cluster.gunicorn_workers} workers behind nginx, one task worker, "
          f"PostgreSQL\n{result.summary()}\nby app server: {dict(by_upstream)}; statuses: {dict(statuses)}")

    assert result.requests > 0
    assert result.errors == 0, result.summary()
    assert p50 is not None and p99 is not None
    assert set(by_upstream) == {f"127.0.0.1:{port}" for port in cluster.server_ports}, by_upstream
    assert min(by_upstream.values()) >= 0.3 * sum(by_upstream.values()), by_upstream
    assert cluster.worker_alive(), "the task worker died during the load run:\n" + cluster.log_tail("worker")
    assert not cluster.dead(), cluster.dead()
