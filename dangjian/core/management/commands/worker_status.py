"""`manage.py worker_status`: the task workers' heartbeats and the queue, for the operator (dangjian.core.worker)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dangjian.core.models import WorkerHeartbeat
from dangjian.core.worker import heartbeat_seconds, lease_seconds

STATUS_NAMES = {TaskResultStatus.READY: "排队中", TaskResultStatus.RUNNING: "执行中",
                TaskResultStatus.SUCCESSFUL: "已完成", TaskResultStatus.FAILED: "失败"}


class Command(BaseCommand):
    help = (
        "查看后台任务进程（manage.py worker）的心跳和任务队列：每个进程最近一次心跳距今多少秒、是否超过租期；"
        "各状态的任务数、最早排队的任务已等待多久、正在执行的任务由哪个进程执行。加 --check 时，"
        "有任务排队超过租期却没有存活的进程，或有任务的执行进程已失联，则以返回码 1 退出（供监控使用）。"
        " Show task workers' heartbeats and the queue; --check exits 1 when work is stuck."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="发现积压或失联时以返回码 1 退出")

    def handle(self, *args, check=False, **options):
        now = timezone.now()
        lease = lease_seconds()
        self.stdout.write(f"心跳间隔 {heartbeat_seconds():g} 秒，租期 {lease:g} 秒。")
        workers = list(WorkerHeartbeat.objects.order_by("started_at"))
        alive = {w.worker_id for w in workers if (now - w.last_seen).total_seconds() <= lease}
        if not workers:
            self.stdout.write("没有正在运行的后台任务进程。")
        for w in workers:
            age = (now - w.last_seen).total_seconds()
            state = "存活" if w.worker_id in alive else "已失联（超过租期）"
            self.stdout.write(f"进程 {w.worker_id}（主机 {w.hostname}，进程号 {w.pid}）：最近心跳 {age:.0f} 秒前，"
                              f"{state}；启动于 {timezone.localtime(w.started_at):%Y-%m-%d %H:%M:%S}。")
        counts = dict(DBTaskResult.objects.order_by().values_list("status").annotate(n=Count("id")))
        self.stdout.write("任务：" + "，".join(f"{name} {counts.get(status, 0)} 个"
                                               for status, name in STATUS_NAMES.items()) + "。")
        problems = []
        oldest = (DBTaskResult.objects.ready().order_by().aggregate(t=Min("enqueued_at"))["t"])
        if oldest is not None:
            waited = (now - oldest).total_seconds()
            self.stdout.write(f"最早排队的任务已等待 {waited:.0f} 秒。")
            if waited > lease and not alive:
                problems.append(f"有任务已排队 {waited:.0f} 秒，但没有存活的后台任务进程。")
        for pk, path, ids, started in (DBTaskResult.objects.running().order_by("started_at")
                                       .values_list("id", "task_path", "worker_ids", "started_at")):
            worker = ids[-1] if ids else "（未知）"
            ok = worker in alive
            self.stdout.write(f"执行中：{pk}（{path}），进程 {worker}，已执行 {(now - started).total_seconds():.0f} 秒"
                              + ("" if ok else "，该进程已失联，下一个存活进程会将其重新排队") + "。")
            if not ok:
                problems.append(f"任务 {pk} 的执行进程 {worker} 已失联。")
        if check and problems:
            raise CommandError("；".join(problems))
