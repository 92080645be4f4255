"""Workers as real processes (`manage.py worker`, TASKS_BACKEND=database) against a database they share with this
test (QUALITY.md R1/R2; django-tasks issue #46: a db_worker killed with -9 leaves its task RUNNING for ever).

- kill -9 mid-task: the task stays RUNNING; two workers started afterwards with a 2-second lease and a half-second
  heartbeat — reclaiming at the same time — re-queue it once (one Chinese log line in all), one of them runs it,
  and it completes exactly once (two starts, one finish); no heartbeat row is left behind.
- SIGTERM mid-task: the worker finishes the task, then exits 0 and deletes its heartbeat row.

The database: on PostgreSQL the test database itself (a transactional test commits its rows); on SQLite a file
(the test database when SQLITE_TEST_NAME names one, else a copy made with the online backup API and copied back
for the assertions). ``shared_database`` and ``start_worker`` are used by tests/assessments/test_finalize_task.py.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dangjian.core.models import WorkerHeartbeat
from tests.core import worker_tasks
from tests.core.test_worker import DB_TASKS
from tests.faults.harness import ROOT, _pg_url, child_env

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DB_TASKS
    return settings


class Shared:
    """A DATABASE_URL child processes can open, holding what this test committed; ``sync()`` makes what they
    wrote visible to this test's connection (a copy back on SQLite in memory; nothing to do elsewhere)."""

    def __init__(self, workdir: Path):
        self.copy = None
        if connection.vendor == "postgresql":
            self.url = _pg_url(connection.settings_dict["NAME"])
        elif not connection.is_in_memory_db():
            self.url = f"sqlite:///{connection.settings_dict['NAME']}"
        else:
            self.copy = workdir / "shared.sqlite3"
            connection.ensure_connection()
            dest = sqlite3.connect(self.copy)
            try:
                with dest:
                    connection.connection.backup(dest)
            finally:
                dest.close()
            self.url = f"sqlite:///{self.copy}"

    def sync(self) -> None:
        if self.copy is None:
            return
        src = sqlite3.connect(self.copy)
        try:
            src.backup(connection.connection)
        finally:
            src.close()


def shared_database(workdir: Path) -> Shared:
    return Shared(workdir)


def start_worker(shared: Shared, workdir: Path, name: str, *args, lease: float = 2,
                 heartbeat: float = 0.5) -> subprocess.Popen:
    """``manage.py worker --worker-id <name> *args`` in a child process; its output in ``workdir/<name>.log``."""
    env = child_env(shared.url, workdir)
    env.update(TASKS_BACKEND="database", WORKER_LEASE_SECONDS=str(lease), WORKER_HEARTBEAT_SECONDS=str(heartbeat))
    log = open(workdir / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen([sys.executable, "manage.py", "worker", "--worker-id", name, "--interval", "0.1", *args],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log_file = log
    return proc


def output(workdir: Path, name: str) -> str:
    return (workdir / f"{name}.log").read_text(encoding="utf-8")


def finish(proc: subprocess.Popen, timeout: float = 30) -> int:
    try:
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.log_file.close()


def wait_for(predicate, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_task_of_a_worker_killed_with_9_is_requeued_once_and_completes_once(database_tasks, tmp_path):
    effects, hold = str(tmp_path / "effects"), tmp_path / "hold"
    hold.touch()
    result = worker_tasks.held.enqueue(effects, str(hold))
    shared = shared_database(tmp_path)
    first = start_worker(shared, tmp_path, "first")
    try:
        wait_for(lambda: worker_tasks.lines(effects) == ["start"], what="the first worker to start the task")
        os.kill(first.pid, signal.SIGKILL)
    finally:
        assert finish(first) == -signal.SIGKILL
    shared.sync()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.RUNNING and row.worker_ids == ["first"]  # what issue #46 leaves
    assert WorkerHeartbeat.objects.filter(pk="first").exists()

    hold.unlink()
    seconds = [start_worker(shared, tmp_path, name) for name in ("second", "third")]
    try:
        wait_for(lambda: "done" in worker_tasks.lines(effects), what="the task to be run again")
        time.sleep(1)  # a second, wrong run would have started by now
    finally:
        for proc in seconds:
            proc.send_signal(signal.SIGTERM)
        codes = [finish(proc) for proc in seconds]
    assert codes == [0, 0]
    assert worker_tasks.lines(effects) == ["start", "start", "done"]
    logs = output(tmp_path, "second") + output(tmp_path, "third")
    assert logs.count("视为已中断，任务已重新排队") == 1, logs
    assert "进程 first" in logs
    shared.sync()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value == "done"
    assert row.worker_ids[0] == "first" and len(row.worker_ids) == 2 and row.worker_ids[1] in ("second", "third")
    assert not WorkerHeartbeat.objects.exists()


def test_sigterm_lets_the_running_task_finish_then_the_worker_exits(database_tasks, tmp_path):
    effects, hold = str(tmp_path / "effects"), tmp_path / "hold"
    hold.touch()
    result = worker_tasks.held.enqueue(effects, str(hold))
    worker_tasks.note.enqueue(effects, "not-started")
    shared = shared_database(tmp_path)
    proc = start_worker(shared, tmp_path, "graceful", heartbeat=0.2)
    try:
        wait_for(lambda: worker_tasks.lines(effects) == ["start"], what="the task to start")
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert proc.poll() is None  # still finishing the task
        hold.unlink()
    finally:
        code = finish(proc)
    assert code == 0, output(tmp_path, "graceful")
    assert worker_tasks.lines(effects) == ["start", "done"]  # and the next task was not started
    shared.sync()
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL
    assert DBTaskResult.objects.ready().count() == 1
    assert not WorkerHeartbeat.objects.exists()
