"""`manage.py worker` in this process (dangjian.core.worker): with TASKS on the database backend a task enqueued is
run by ``worker --batch``; the heartbeat row lives while the worker does and is refreshed during a task; RUNNING
tasks of dead workers are put back in the queue (conditionally: two reclaiming at once change a task once), those
of live workers are not. Transactional tests: the worker commits, and its heartbeat thread has its own connection.
Killed workers in child processes: tests/faults/test_worker_kill.py."""

import datetime
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dangjian.core.models import WorkerHeartbeat
from dangjian.core.worker import Worker, reclaim_abandoned
from tests.core import worker_tasks

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("flushable_audit")]

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def database_tasks(settings):
    """TASKS on django-tasks-db; django_tasks drops its cached backends on setting_changed (both ways)."""
    settings.TASKS = DB_TASKS
    settings.WORKER_HEARTBEAT_SECONDS = 5
    settings.WORKER_LEASE_SECONDS = 60
    return settings


def run_worker(*args):
    call_command("worker", "--interval", "0", *args, verbosity=0)


def running(task_result, worker_ids, started_ago: float) -> DBTaskResult:
    """Mark the enqueued task as claimed by ``worker_ids[-1]`` ``started_ago`` seconds ago."""
    DBTaskResult.objects.filter(pk=task_result.id).update(
        status=TaskResultStatus.RUNNING, worker_ids=worker_ids,
        started_at=timezone.now() - datetime.timedelta(seconds=started_ago))
    return DBTaskResult.objects.get(pk=task_result.id)


def test_a_task_enqueued_is_run_by_worker_batch_and_the_worker_leaves_no_heartbeat(database_tasks, tmp_path):
    path = str(tmp_path / "effects")
    results = [worker_tasks.note.enqueue(path, f"t{i}") for i in range(3)]
    assert DBTaskResult.objects.ready().count() == 3 and worker_tasks.lines(path) == []
    run_worker("--batch", "--worker-id", "w-batch")
    assert sorted(worker_tasks.lines(path)) == ["t0", "t1", "t2"]
    for r in results:
        row = DBTaskResult.objects.get(pk=r.id)
        assert row.status == TaskResultStatus.SUCCESSFUL and row.worker_ids == ["w-batch"]
        assert row.return_value == r.args[1]
    assert not WorkerHeartbeat.objects.exists()  # deleted on the clean exit


def test_max_tasks_stops_the_worker_and_leaves_the_rest_queued(database_tasks, tmp_path):
    path = str(tmp_path / "effects")
    for i in range(3):
        worker_tasks.note.enqueue(path, f"t{i}")
    run_worker("--max-tasks", "2")
    assert len(worker_tasks.lines(path)) == 2
    assert DBTaskResult.objects.ready().count() == 1 and DBTaskResult.objects.successful().count() == 2


def test_a_failing_task_is_recorded_failed_and_the_worker_goes_on(database_tasks, tmp_path):
    path = str(tmp_path / "effects")
    bad = worker_tasks.broken.enqueue()
    good = worker_tasks.note.enqueue(path, "after")
    run_worker("--batch")
    row = DBTaskResult.objects.get(pk=bad.id)
    assert row.status == TaskResultStatus.FAILED and "测试任务按设计失败" in row.traceback
    assert DBTaskResult.objects.get(pk=good.id).status == TaskResultStatus.SUCCESSFUL


def test_the_heartbeat_is_refreshed_while_a_task_runs(database_tasks):
    database_tasks.WORKER_HEARTBEAT_SECONDS = 0.1
    result = worker_tasks.watch_heartbeats.enqueue(0.8)
    run_worker("--batch")
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL, row.traceback
    before, after = (datetime.datetime.fromisoformat(t) for t in row.return_value)
    assert after - before >= datetime.timedelta(seconds=0.3)
    assert not WorkerHeartbeat.objects.exists()


def test_the_worker_needs_the_database_backend_and_valid_options(settings):
    with pytest.raises(CommandError, match="TASKS_BACKEND 不是 database"):
        run_worker("--batch")
    settings.TASKS = DB_TASKS
    with pytest.raises(CommandError, match="正整数"):
        run_worker("--max-tasks", "0")
    with pytest.raises(CommandError, match="不超过 64 个字符"):
        run_worker("--worker-id", "x" * 65)
    with pytest.raises(CommandError, match="没有名为 other"):
        run_worker("--backend", "other")


def test_running_tasks_of_dead_workers_are_requeued_and_others_left_alone(database_tasks, tmp_path, caplog):
    path = str(tmp_path / "effects")
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="alive", last_seen=now)
    WorkerHeartbeat.objects.create(worker_id="dead", last_seen=now - datetime.timedelta(seconds=120))
    of_dead = running(worker_tasks.note.enqueue(path, "a"), ["first", "dead"], 300)
    of_missing = running(worker_tasks.note.enqueue(path, "b"), ["gone"], 300)
    of_alive = running(worker_tasks.note.enqueue(path, "c"), ["alive"], 300)
    just_claimed = running(worker_tasks.note.enqueue(path, "d"), ["unknown"], 5)  # younger than the lease
    with caplog.at_level("WARNING", logger="dangjian.worker"):
        reclaimed = reclaim_abandoned("default")
    assert sorted(reclaimed) == sorted([str(of_dead.pk), str(of_missing.pk)])
    for row in (of_dead, of_missing):
        row.refresh_from_db()
        assert row.status == TaskResultStatus.READY and row.started_at is None
    assert of_dead.worker_ids == ["first", "dead"]  # the history is kept; the next claim appends
    for row in (of_alive, just_claimed):
        row.refresh_from_db()
        assert row.status == TaskResultStatus.RUNNING
    assert "已 120 秒没有心跳" in caplog.text and "没有心跳记录" in caplog.text and "重新排队" in caplog.text
    assert set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == {"alive"}
    assert reclaim_abandoned("default") == []  # nothing left to reclaim
    run_worker("--batch", "--worker-id", "next")
    of_dead.refresh_from_db()
    assert of_dead.status == TaskResultStatus.SUCCESSFUL and of_dead.worker_ids == ["first", "dead", "next"]
    assert sorted(worker_tasks.lines(path)) == ["a", "b"]


def test_a_task_claimed_again_meanwhile_is_not_reset(database_tasks, tmp_path, monkeypatch):
    """The reset is conditional on the ``started_at`` read: a task re-claimed in between keeps running."""
    row = running(worker_tasks.note.enqueue(str(tmp_path / "e"), "a"), ["dead"], 300)
    later = row.started_at + datetime.timedelta(seconds=1)
    original_filter = DBTaskResult.objects.filter

    def claimed_in_between(*args, **kwargs):
        if "started_at" in kwargs:  # the conditional UPDATE: another worker claimed the task just before
            DBTaskResult.objects.all().update(started_at=later, worker_ids=["dead", "other"])
        return original_filter(*args, **kwargs)

    monkeypatch.setattr(DBTaskResult.objects, "filter", claimed_in_between)
    assert reclaim_abandoned("default") == []
    monkeypatch.undo()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.RUNNING and row.worker_ids == ["dead", "other"]


def test_two_workers_reclaiming_at_once_reset_each_task_once(database_tasks, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once: PostgreSQL (SQLite's writers queue up behind one lock)")
    tasks = [running(worker_tasks.note.enqueue(str(tmp_path / "e"), str(i)), ["dead"], 300) for i in range(40)]
    barrier = threading.Barrier(2)
    found: list[list[str]] = [[], []]

    def reclaim(i):
        try:
            barrier.wait(5)
            found[i] = reclaim_abandoned("default")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reclaim, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(found[0] + found[1]) == sorted(str(t.pk) for t in tasks)
    assert not set(found[0]) & set(found[1])
    assert DBTaskResult.objects.ready().count() == 40


def test_the_worker_reclaims_before_it_claims(database_tasks, tmp_path):
    path = str(tmp_path / "effects")
    row = running(worker_tasks.note.enqueue(path, "again"), ["killed"], 120)
    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", max_tasks=None,
                    worker_id="w2", lease=60)
    worker.run()
    assert worker.reclaimed == [str(row.pk)]
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL and row.worker_ids == ["killed", "w2"]
    assert worker_tasks.lines(path) == ["again"]


def test_worker_status_shows_workers_and_the_queue_and_check_flags_stuck_work(database_tasks, tmp_path, capsys):
    path = str(tmp_path / "e")
    WorkerHeartbeat.objects.create(worker_id="live", hostname="app1", pid=42, last_seen=timezone.now())
    running(worker_tasks.note.enqueue(path, "a"), ["live"], 10)
    worker_tasks.note.enqueue(path, "b")
    call_command("worker_status", "--check")
    out = capsys.readouterr().out
    assert "进程 live（主机 app1，进程号 42）" in out and "存活" in out
    assert "排队中 1 个，执行中 1 个，已完成 0 个，失败 0 个" in out and "进程 live" in out
    WorkerHeartbeat.objects.filter(pk="live").update(last_seen=timezone.now() - datetime.timedelta(seconds=600))
    with pytest.raises(CommandError, match="执行进程 live 已失联"):
        call_command("worker_status", "--check")
    assert "已失联" in capsys.readouterr().out
