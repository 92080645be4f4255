"""The task worker (`manage.py worker`): django-tasks-db's Worker with a heartbeat and a lease.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again: a worker killed with -9
(or a machine lost) leaves the task RUNNING for ever (django-tasks issue #46). Here every worker

- keeps a row in ``core.WorkerHeartbeat`` fresh: written at start, then every WORKER_HEARTBEAT_SECONDS by a small
  thread with its own database connection (so also while a long task runs), deleted on a clean exit;
- before claiming (at most once per heartbeat interval), puts back in the queue (status READY, ``worker_ids`` kept as history) every RUNNING task
  started more than WORKER_LEASE_SECONDS ago whose last worker has no heartbeat that recent. The UPDATE is
  conditional (``WHERE status = RUNNING AND started_at = <what was read>``): when two workers reclaim the same task
  at once only one of them changes the row, and a task claimed again in between is left alone.

A task can thus run more than once (at-least-once delivery): the task that was killed half-way and, rarely, a
task whose worker only looked dead. Every task of the platform is idempotent (docs/decisions.md, "Background
work"). Signals are django-tasks-db's: SIGTERM / SIGINT let the current task finish, then the worker exits.
"""

import datetime
import logging
import math
import os
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.utils import DatabaseError, OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from dangjian.core.models import WorkerHeartbeat

log = logging.getLogger("dangjian.worker")

WORKER_ID_MAX = 64


def default_worker_id() -> str:
    """host-pid-random, at most 64 characters (the width of ``WorkerHeartbeat.worker_id``)."""
    suffix = f"-{os.getpid()}-{get_random_string(8)}"
    return socket.gethostname()[: WORKER_ID_MAX - len(suffix)] + suffix


def heartbeat_seconds() -> float:
    return max(float(getattr(settings, "WORKER_HEARTBEAT_SECONDS", 5)), 0.05)


def lease_seconds() -> float:
    return max(float(getattr(settings, "WORKER_LEASE_SECONDS", 60)), 0.1)


def beat(worker_id: str, *, started: datetime.datetime | None = None) -> None:
    """Upsert the worker's heartbeat row (one UPDATE; an INSERT the first time or after a reclaim removed it)."""
    now = timezone.now()
    if WorkerHeartbeat.objects.filter(pk=worker_id).update(last_seen=now):
        return
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "last_seen": now,
                  "started_at": started or now})


def reclaim_abandoned(backend_name: str, *, lease: float | None = None, now=None) -> list[str]:
    """Put back in the queue the RUNNING tasks of dead workers; returns their ids.

    Dead: the task was started more than ``lease`` seconds ago and its last worker (the last of ``worker_ids``) has
    no heartbeat younger than ``lease`` seconds, or none at all. Each task is reset by its own conditional UPDATE;
    the rows that did not change were taken care of by someone else in the meantime."""
    lease = lease_seconds() if lease is None else lease
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=lease)
    candidates = list(DBTaskResult.objects.running().filter(backend_name=backend_name, started_at__lt=cutoff)
                      .order_by().values_list("id", "worker_ids", "started_at", "task_path"))
    if not candidates:
        return []
    last = {pk: (ids[-1] if ids else None) for pk, ids, _started, _path in candidates}
    alive = set(WorkerHeartbeat.objects.filter(worker_id__in={w for w in last.values() if w},
                                               last_seen__gte=cutoff).values_list("worker_id", flat=True))
    reclaimed = []
    with transaction.atomic():
        for pk, _ids, started, path in candidates:
            worker = last[pk]
            if worker in alive:
                continue
            changed = (DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING, started_at=started)
                       .update(status=TaskResultStatus.READY, started_at=None))
            if not changed:
                continue
            reclaimed.append(str(pk))
            seen = (WorkerHeartbeat.objects.filter(pk=worker).values_list("last_seen", flat=True).first()
                    if worker else None)
            if seen is None:
                why = "没有心跳记录"
            else:
                why = f"已 {(now - seen).total_seconds():.0f} 秒没有心跳"
            log.warning("后台任务 %s（%s）的执行进程 %s %s（租期 %s 秒），视为已中断，任务已重新排队，将由其他进程重新执行。",
                        pk, path, worker or "（未知）", why, f"{lease:g}")
        # The dead workers' rows go too: their tasks are back in the queue.
        WorkerHeartbeat.objects.filter(last_seen__lt=cutoff, worker_id__in=[w for w in last.values() if w]).delete()
    return reclaimed


class Heartbeat:
    """A daemon thread refreshing the worker's row every ``interval`` seconds on its own database connection; a
    failed write (database locked or briefly away) is logged and tried again at the next beat."""

    def __init__(self, worker_id: str, interval: float):
        self.worker_id = worker_id
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{worker_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    beat(self.worker_id)
                except DatabaseError:
                    log.warning("后台任务进程 %s 写心跳失败，下次再试。", self.worker_id, exc_info=True)
                    close_old_connections()
        finally:
            connections.close_all()  # this thread's connections only (they are per thread)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(self.interval, 1) + 10)


class Worker(DBWorker):
    """django-tasks-db's worker (claiming, running, recording and signals are its own) with the heartbeat and the
    reclaim of abandoned tasks before every claim."""

    def __init__(self, *, queue_names: list[str], interval: float, batch: bool, backend_name: str,
                 max_tasks: int | None, worker_id: str, heartbeat: float | None = None, lease: float | None = None):
        super().__init__(queue_names=queue_names, interval=interval, batch=batch, backend_name=backend_name,
                         startup_delay=False, max_tasks=max_tasks, worker_id=worker_id, excluded_queue_names=[])
        self.heartbeat_interval = heartbeat_seconds() if heartbeat is None else heartbeat
        self.lease = lease_seconds() if lease is None else lease
        self.reclaimed: list[str] = []
        self._last_reclaim = -math.inf

    def ready_tasks(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        return tasks

    def reclaim(self) -> None:
        """At most once per heartbeat interval (a dead worker is noticed a lease after its last beat anyway)."""
        if time.monotonic() - self._last_reclaim < min(self.heartbeat_interval, self.lease):
            return
        self._last_reclaim = time.monotonic()
        try:
            self.reclaimed += reclaim_abandoned(self.backend_name, lease=self.lease)
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise

    def claim(self) -> tuple[bool, DBTaskResult | None]:
        """(whether the queue could be read, the task claimed or None)."""
        tasks = self.ready_tasks()
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
        except OperationalError as exc:
            if is_locked_database_exception(exc):  # SQLite busy: try again on the next round
                return False, None
            raise
        return True, task_result

    def run(self) -> None:
        log.info("后台任务进程 %s 启动：队列 %s，心跳 %s 秒，租期 %s 秒。", self.worker_id, ",".join(self.queue_names),
                 f"{self.heartbeat_interval:g}", f"{self.lease:g}")
        started = timezone.now()
        beat(self.worker_id, started=started)
        heartbeat = Heartbeat(self.worker_id, self.heartbeat_interval)
        heartbeat.start()
        try:
            self._loop()
        finally:
            heartbeat.stop()
            try:
                WorkerHeartbeat.objects.filter(pk=self.worker_id).delete()
            except DatabaseError:
                log.warning("后台任务进程 %s 退出时未能删除心跳记录；它将在租期过后被清理。", self.worker_id)
            log.info("后台任务进程 %s 退出：共执行 %d 个任务。", self.worker_id, self._run_tasks)

    def _loop(self) -> None:
        while self.running:
            close_old_connections()
            self.reclaim()
            read, task_result = self.claim()
            if task_result is not None:
                self.run_task(task_result)
            if self.batch and read and task_result is None:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            close_old_connections()
            if self.running and task_result is None:
                time.sleep(self.interval)


__all__ = ["Worker", "Heartbeat", "beat", "reclaim_abandoned", "default_worker_id"]
