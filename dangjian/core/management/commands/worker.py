"""`manage.py worker`: run the background tasks stored by TASKS_BACKEND=database (dangjian.core.worker)."""

import logging
import math
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, task_backends
from django_tasks.exceptions import InvalidTaskBackendError
from django_tasks_db import DatabaseBackend

from dangjian.core.worker import WORKER_ID_MAX, Worker, default_worker_id


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise ArgumentTypeError("应为秒数，例如 1 或 0.5。") from exc
    if not math.isfinite(value) or value < 0:
        raise ArgumentTypeError("应为不小于 0 的秒数。")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise ArgumentTypeError("应为正整数。") from exc
    if value <= 0:
        raise ArgumentTypeError("应为正整数。")
    return value


def _worker_id(text: str) -> str:
    text = text.strip()
    if not text or len(text) > WORKER_ID_MAX:
        raise ArgumentTypeError(f"进程标识不能为空，且不超过 {WORKER_ID_MAX} 个字符。")
    return text


class Command(BaseCommand):
    help = (
        "后台任务进程：执行 TASKS_BACKEND=database 时存入数据库的后台任务（月兑现、截止提醒等），可在多台机器上各运行"
        "一个或多个。每个进程定期写心跳（WORKER_HEARTBEAT_SECONDS，默认5秒）；某进程超过 WORKER_LEASE_SECONDS"
        "（默认60秒）没有心跳时（例如被 kill -9 或机器宕机），它正在执行的任务由其他进程重新排队执行，"
        "所有任务都可安全地重复执行。收到 SIGTERM/SIGINT 时先做完当前任务再退出。"
        " Run background tasks (database backend) with heartbeats; tasks of dead workers are re-queued."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queue", "--queue-name", dest="queue", default=DEFAULT_TASK_QUEUE_NAME,
                            help="要处理的队列，多个用逗号分隔，* 表示全部（默认 %(default)s）")
        parser.add_argument("--interval", type=_seconds, default=1.0,
                            help="队列为空时每隔多少秒再查一次（默认 %(default)s）")
        parser.add_argument("--batch", action="store_true", help="执行完队列中现有的任务后退出")
        parser.add_argument("--max-tasks", type=_positive, default=None, help="执行这么多个任务后退出")
        parser.add_argument("--worker-id", type=_worker_id, default=None,
                            help="进程标识，在所有进程中必须唯一（默认：主机名-进程号-随机串）")
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS,
                            help="TASKS 中的后台任务配置名（默认 %(default)s）")

    def configure_logging(self, verbosity: int) -> None:
        level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
        for name in ("dangjian.worker", "django_tasks", "django_tasks_db"):
            logger = logging.getLogger(name)
            logger.setLevel(level)
            if not logger.handlers and not logging.getLogger().handlers:
                logger.addHandler(logging.StreamHandler(self.stderr))

    def handle(self, *args, queue, interval, batch, max_tasks, worker_id, backend, verbosity, **options):
        try:
            task_backend = task_backends[backend]
        except InvalidTaskBackendError as exc:
            raise CommandError(f"TASKS 中没有名为 {backend} 的后台任务配置。") from exc
        if not isinstance(task_backend, DatabaseBackend):
            raise CommandError("后台任务当前在请求中立即执行（TASKS_BACKEND 不是 database），不需要也不能运行 worker；"
                               "要在后台执行，请在所有应用服务器和 worker 上设置 TASKS_BACKEND=database。")
        queues = [q.strip() for q in queue.split(",") if q.strip()]
        if not queues:
            raise CommandError("请用 --queue 指定至少一个队列，或用 * 表示全部队列。")
        self.configure_logging(verbosity)
        worker = Worker(queue_names=queues, interval=interval, batch=batch, backend_name=backend,
                        max_tasks=max_tasks, worker_id=worker_id or default_worker_id())
        worker.configure_signals()
        try:
            worker.run()
        finally:
            worker.reset_signals()
