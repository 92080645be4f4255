"""Tasks for the worker tests only (tests/core/test_worker.py, tests/faults/test_worker_kill.py).

Their effects are lines appended to a file, one ``open(…, "a")`` write each, so a test sees how often a task
started and finished in any process: ``start <pid>`` / ``done <pid>``."""

import os
import time

from django_tasks import task

from dangjian.core.errors import DomainError
from dangjian.core.models import WorkerHeartbeat


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{line} {os.getpid()}\n")


def lines(path) -> list[str]:
    """The words of each line written (the pid dropped)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [line.rsplit(" ", 1)[0] for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


@task()
def note(path: str, text: str) -> str:
    _append(path, text)
    return text


@task()
def held(path: str, hold: str, limit: float = 60) -> str:
    """``start``, then wait while the file ``hold`` exists (at most ``limit`` seconds), then ``done``."""
    _append(path, "start")
    deadline = time.monotonic() + limit
    while os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
    _append(path, "done")
    return "done"


@task()
def watch_heartbeats(seconds: float) -> list[str]:
    """The workers' last_seen before and after ``seconds`` of work."""
    before = max(WorkerHeartbeat.objects.values_list("last_seen", flat=True))
    time.sleep(seconds)
    after = max(WorkerHeartbeat.objects.values_list("last_seen", flat=True))
    return [before.isoformat(), after.isoformat()]


@task()
def broken() -> None:
    raise DomainError("测试任务按设计失败。")
