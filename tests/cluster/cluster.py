"""A production-shaped cluster on this machine: two gunicorn app servers behind nginx and one task worker, all on
one PostgreSQL database and one shared DATA_DIR (issue 7 point 4, QUALITY.md R6, docs/deploy.md).

    with Cluster() as c:          # creates the database, migrates, loads the demo, starts everything
        c.proxy_url               # http://127.0.0.1:<port> — nginx, round-robin over both servers
        c.server_urls             # [http://127.0.0.1:<a>, http://127.0.0.1:<b>] — each app server directly
        c.manage("shell", "-c", code)   # a manage.py command with the cluster's environment
    # everything stopped (each process group: TERM, then KILL), the database dropped, the temp dir removed

The PostgreSQL server is CLUSTER_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); the database is
``<CLUSTER_DB_PREFIX><pid>`` (prefix default ``dangjian_cluster_``), created here and dropped at the end. The app
servers run with production settings (DEBUG=0, a random SECRET_KEY, TASKS_BACKEND=database), except that the
test speaks plain http: SECURE_SSL_REDIRECT=0, SECURE_COOKIES=0, no HSTS. CLUSTER_KEEP=1 keeps the temp dir
(logs, nginx config, uploads) for a look afterwards.
"""

import base64
import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(Path(sys.executable))
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
GUNICORN_WORKERS = int(os.environ.get("CLUSTER_GUNICORN_WORKERS", "2"))
# Variables of the developer's shell that must not leak into the production-like processes.
SCRUBBED = ("DANGJIAN_ALLOW_DEV_KEY", "DEBUG", "DATABASE_URL", "DATABASE_REPLICA_URL", "SECRET_KEY", "DATA_DIR",
            "ALLOWED_HOSTS", "TASKS_BACKEND", "TRUSTED_PROXIES", "SQLITE_TEST_NAME", "BACKUP_DIR", "PYTEST_CURRENT_TEST",
            "FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_KEY_FILE", "CACHE_URL")

NGINX_CONF = """\
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}

http {{
    log_format upstream '$remote_addr "$request" $status $body_bytes_sent $request_time '
                        'upstream=$upstream_addr $upstream_status $upstream_response_time';
    access_log {prefix}/access.log upstream;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server_tokens off;

    upstream dangjian {{
        zone dangjian 64k;  # one round-robin state for all nginx workers
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        # Evidence files are capped at 20 MB by the application (EVIDENCE_MAX_BYTES), plus the form around them.
        client_max_body_size 25m;

        location / {{
            proxy_pass http://dangjian;
            proxy_set_header Host $http_host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_redirect off;
            proxy_read_timeout 120s;
            # Which app server answered: the cluster test checks that requests alternate.
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_url(url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


class ClusterError(RuntimeError):
    pass


class Cluster:
    def __init__(self, *, pg_url: str | None = None, workers: int = GUNICORN_WORKERS):
        self.pg_url = pg_url or os.environ.get("CLUSTER_PG_URL") or DEFAULT_PG
        self.dbname = f"{os.environ.get('CLUSTER_DB_PREFIX', 'dangjian_cluster_')}{os.getpid()}"
        self.gunicorn_workers = workers
        self.tmp = Path(tempfile.mkdtemp(prefix="dangjian-cluster-"))
        self.data_dir = self.tmp / "data"
        self.logs = self.tmp / "logs"
        self.procs: dict[str, subprocess.Popen] = {}
        self.server_ports = [free_port(), free_port()]
        self.proxy_port = free_port()
        self.created_db = False
        self.timings: dict[str, float] = {}
        self.env = self._env()

    # ---- environment -------------------------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return _server_url(self.pg_url, self.dbname)

    @property
    def server_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.server_ports]

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env.update({
            "DJANGO_SETTINGS_MODULE": "dangjian.settings",
            "DATABASE_URL": self.database_url,
            "DATA_DIR": str(self.data_dir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain http in this test; production keeps the defaults (https redirect, Secure cookies, HSTS).
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            "TASKS_BACKEND": "database",
            # nginx runs on this machine: its X-Forwarded-For names the client (dangjian/core/proxy.py).
            "TRUSTED_PROXIES": "127.0.0.1",
            "WORKER_HEARTBEAT_SECONDS": "1",
            "WORKER_LEASE_SECONDS": "15",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    # ---- life cycle --------------------------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop(failed=exc_type is not None)

    def start(self):
        self.data_dir.mkdir(mode=0o700)
        self.logs.mkdir()
        t0 = time.monotonic()
        self._create_database()
        self.manage("migrate", "--noinput", "-v0")
        self.timings["migrate"] = time.monotonic() - t0
        t0 = time.monotonic()
        # The demo's password is public: it is built with --force because DEBUG is off here, as in production.
        self.manage("demo", "--force")
        self.timings["demo"] = time.monotonic() - t0
        t0 = time.monotonic()
        for name, port in zip(("app-a", "app-b"), self.server_ports, strict=True):
            self._spawn(name, [str(BIN / "gunicorn"), "dangjian.wsgi:application",
                               "--bind", f"127.0.0.1:{port}", "--workers", str(self.gunicorn_workers),
                               "--timeout", "60", "--graceful-timeout", "10", "--name", f"dangjian-{name}"])
        self._spawn("worker", self.worker_command())
        self._start_nginx()
        for url in [*self.server_urls, self.proxy_url]:
            self._wait_ready(url)
        if not self.worker_alive():
            raise ClusterError("后台任务进程启动后立即退出：\n" + self.log_tail("worker"))
        self.timings["start"] = time.monotonic() - t0
        sys.stderr.write("cluster ready: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()) + "\n")

    def worker_command(self) -> list[str]:
        """The platform's task worker (heartbeat and lease, docs/deploy.md), polling the queue twice a second."""
        return [PYTHON, "manage.py", "worker", "--interval", "0.5"]

    def _create_database(self):
        with psycopg.connect(_server_url(self.pg_url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.dbname)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
        self.created_db = True

    def _drop_database(self):
        if not self.created_db:
            return
        with psycopg.connect(_server_url(self.pg_url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.dbname)))
        self.created_db = False

    def _spawn(self, name: str, cmd: list[str], cwd: Path = ROOT):
        # Its own session, so stopping it reaches every process it forks (gunicorn's workers, nginx's).
        with open(self.logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(cmd, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)

    def _start_nginx(self):
        prefix = self.tmp / "nginx"
        (prefix / "tmp").mkdir(parents=True)
        # nginx started as root runs its workers as nobody: they must reach the temp dirs (uploads are buffered
        # there). The data dir stays private (0700).
        for d in (self.tmp, prefix, prefix / "tmp"):
            d.chmod(0o755)
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=5s;" for p in self.server_ports)
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, servers=servers, port=self.proxy_port))
        check = subprocess.run([NGINX, "-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
                               capture_output=True, text=True)
        if check.returncode:
            raise ClusterError(f"nginx 配置无效：{check.stderr}")
        self._spawn("nginx", [NGINX, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf),
                              "-g", "daemon off;"], cwd=prefix)

    def _wait_ready(self, base_url: str, timeout: float = 90):
        """Ready when GET /healthz/ answers 200 (or, where there is no health page, GET /login/)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise ClusterError(f"{name} 已退出（{proc.returncode}）：\n{self.log_tail(name)}")
            try:
                status = request(base_url, "GET", "/healthz/").status
                if status == 404:
                    status = request(base_url, "GET", "/login/").status
                if status == 200:
                    return
                last = f"HTTP {status}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise ClusterError(f"{base_url} 在 {timeout:.0f} 秒内没有就绪：{last}")

    def worker_alive(self) -> bool:
        proc = self.procs.get("worker")
        return proc is not None and proc.poll() is None

    def dead(self) -> list[str]:
        return [f"{name} ({proc.returncode})" for name, proc in self.procs.items() if proc.poll() is not None]

    def stop(self, failed: bool = False):
        for name in ("nginx", "app-a", "app-b", "worker"):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        # Whatever is left in a group (a gunicorn worker that outlived its master) is killed too.
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if failed:
            for name in self.procs:
                sys.stderr.write(f"---- {name} log ----\n{self.log_tail(name)}\n")
        try:
            self._drop_database()
        finally:
            if os.environ.get("CLUSTER_KEEP") == "1":
                sys.stderr.write(f"cluster temp dir kept: {self.tmp}\n")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        if name == "nginx":
            path = self.tmp / "nginx" / "error.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # ---- commands ----------------------------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 600) -> str:
        """Run a manage.py command with the cluster's environment; its stdout, or ClusterError with its output."""
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            raise ClusterError(f"manage.py {' '.join(args[:2])} 失败：\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)


# ---- a small HTTP client: a cookie jar per "browser", redirects not followed -----------------------------------

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str, default: str = "") -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), default)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def csrf_token(self) -> str:
        match = _CSRF_INPUT.search(self.text)
        if not match:
            raise AssertionError(f"no CSRF token in the page (HTTP {self.status})")
        return match.group(1)


def request(base_url: str, method: str, path: str, *, headers: dict | None = None, body: bytes | None = None,
            timeout: float = 60, source: str | None = None) -> Response:
    """One request on its own connection; ``source``: the local address to connect from (e.g. 127.0.0.2, another
    client than the proxy at 127.0.0.1)."""
    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


class Browser:
    """Cookies kept across requests and across servers: the same session presented to any base URL."""

    def __init__(self, source: str | None = None, headers: dict | None = None):
        self.cookies: dict[str, str] = {}
        self.source = source
        self.extra = headers or {}

    def _headers(self, base_url, extra=None):
        headers = {"Referer": base_url + "/", **self.extra}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep(self, resp: Response) -> Response:
        for name, value in resp.headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return resp

    def get(self, base_url: str, path: str) -> Response:
        return self._keep(request(base_url, "GET", path, headers=self._headers(base_url), source=self.source))

    def post(self, base_url: str, path: str, fields: dict, files: dict | None = None) -> Response:
        if files:
            body, content_type = multipart(fields, files)
        else:
            body, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return self._keep(request(base_url, "POST", path, body=body, source=self.source,
                                  headers=self._headers(base_url, {"Content-Type": content_type})))

    def login(self, base_url: str, username: str, password: str) -> Response:
        page = self.get(base_url, "/login/")
        resp = self.post(base_url, "/login/", {"csrfmiddlewaretoken": page.csrf_token(), "username": username,
                                               "password": password})
        if resp.status != 302 or "sessionid" not in self.cookies:
            raise AssertionError(f"{username} could not sign in through {base_url}: HTTP {resp.status}")
        return resp


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """multipart/form-data: ``files`` maps a field to (file name, bytes, content type)."""
    boundary = uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, content_type) in files.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"
