"""A small HTTP load client for the page benchmarks (P2) and the load run against two app servers (R6).

Plain threads and keep-alive `http.client` connections — no extra dependency. Each client signs in once (its own
session), then requests the given pages in turn, round-robin from a different starting page, until the time is up
or it has made its number of requests. Every response that is not 2xx/3xx, and every connection error, counts as an
error, with a few examples kept for the report.

    from bench.load import login, run_load
    cookie = login("http://127.0.0.1:8000", "shuji", "Demo#2026dangjian")
    result = run_load("http://127.0.0.1:8000", [("首页", "/")], clients=20, seconds=30, cookies=[cookie])
    print(result.summary())
"""

import http.client
import re
import statistics
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _connection(base_url, timeout):
    parts = urllib.parse.urlsplit(base_url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), timeout=timeout)


def _cookies_from(response, jar):
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]


def _cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def login(base_url, username, password, *, timeout=30):
    """Sign in through the login page (CSRF token and all); returns the Cookie header value of the session."""
    conn = _connection(base_url, timeout)
    jar = {}
    try:
        conn.request("GET", "/login/")
        resp = conn.getresponse()
        body = resp.read()
        _cookies_from(resp, jar)
        match = _CSRF_INPUT.search(body)
        if resp.status != 200 or not match:
            raise RuntimeError(f"登录页不可用：HTTP {resp.status}")
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": match.group(1).decode(), "username": username, "password": password}
        )
        conn.request(
            "POST",
            "/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": _cookie_header(jar),
                "Referer": base_url.rstrip("/") + "/login/",
            },
        )
        resp = conn.getresponse()
        resp.read()
        _cookies_from(resp, jar)
        if resp.status != 302 or "sessionid" not in jar:
            raise RuntimeError(f"用户 {username} 登录失败：HTTP {resp.status}")
        return _cookie_header(jar)
    finally:
        conn.close()


@dataclass
class LoadResult:
    seconds: float
    clients: int
    latencies: dict = field(default_factory=dict)  # page name -> [seconds, ...]
    errors: int = 0
    error_examples: list = field(default_factory=list)

    @property
    def requests(self):
        return sum(len(v) for v in self.latencies.values())

    @property
    def throughput(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @staticmethod
    def percentiles(values):
        """p50, p95, p99 in milliseconds (nearest-rank on the sorted sample)."""
        if not values:
            return (None, None, None)
        ordered = sorted(values)

        def rank(p):
            return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))] * 1000

        return (rank(50), rank(95), rank(99))

    def page_figures(self):
        """{page: (count, p50, p95, p99, mean)} in milliseconds."""
        out = {}
        for name, values in self.latencies.items():
            p50, p95, p99 = self.percentiles(values)
            out[name] = (len(values), p50, p95, p99, statistics.fmean(values) * 1000 if values else None)
        return out

    def overall(self):
        every = [v for values in self.latencies.values() for v in values]
        return self.percentiles(every)

    def summary(self):
        p50, p95, p99 = self.overall()
        lines = [
            f"{self.clients} clients, {self.seconds:.1f} s: {self.requests} requests, "
            f"{self.throughput:.1f} req/s, errors {self.errors}, "
            + (f"p50 {p50:.1f} ms p95 {p95:.1f} ms p99 {p99:.1f} ms" if p50 is not None else "no responses")
        ]
        for name, (n, a, b, c, mean) in sorted(self.page_figures().items()):
            lines.append(f"  {name}: n={n} p50 {a:.1f} ms p95 {b:.1f} ms p99 {c:.1f} ms mean {mean:.1f} ms")
        for example in self.error_examples:
            lines.append(f"  error: {example}")
        return "\n".join(lines)


def run_load(base_url, pages, *, clients=20, seconds=None, requests_per_client=None, cookies=None, timeout=30,
             ok_statuses=None):
    """Run ``clients`` threads against ``pages`` ([(name, path), ...]) for ``seconds`` or ``requests_per_client``.

    ``cookies``: Cookie header values, one per client in turn (sessions of different users), or None.
    ``ok_statuses``: statuses that count as success (default every 2xx and 3xx)."""
    if not seconds and not requests_per_client:
        raise ValueError("run_load needs seconds or requests_per_client")
    result = LoadResult(seconds=0.0, clients=clients, latencies={name: [] for name, _ in pages})
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds if seconds else None

    def ok(status):
        return status in ok_statuses if ok_statuses else 200 <= status < 400

    def client(index):
        conn = _connection(base_url, timeout)
        headers = {"Connection": "keep-alive"}
        if cookies:
            headers["Cookie"] = cookies[index % len(cookies)]
        mine = {name: [] for name, _ in pages}
        errors, examples = 0, []
        done = 0
        turn = index
        while True:
            if deadline and time.perf_counter() >= deadline:
                break
            if requests_per_client and done >= requests_per_client:
                break
            name, path = pages[turn % len(pages)]
            turn += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = _connection(base_url, timeout)
            except (OSError, http.client.HTTPException) as exc:
                status = None
                conn.close()
                conn = _connection(base_url, timeout)
                if len(examples) < 5:
                    examples.append(f"{path}: {type(exc).__name__}: {exc}")
            elapsed = time.perf_counter() - t0
            done += 1
            if status is not None and ok(status):
                mine[name].append(elapsed)
            else:
                errors += 1
                if status is not None and len(examples) < 5:
                    examples.append(f"{path}: HTTP {status}")
        conn.close()
        with lock:
            for name, values in mine.items():
                result.latencies[name].extend(values)
            result.errors += errors
            result.error_examples.extend(examples[: max(0, 5 - len(result.error_examples))])

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    return result
