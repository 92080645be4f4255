"""What the apps' tasks.py share (Django's tasks API, django-tasks-db; the worker is dangjian.core.worker)."""

from django_tasks_db import DatabaseBackend


def in_background(t) -> bool:
    """Does task ``t`` go to a queue for ``manage.py worker`` (TASKS_BACKEND=database) rather than run inside the
    caller (the immediate backend of tests and ``make run``)?"""
    return isinstance(t.get_backend(), DatabaseBackend)


__all__ = ["in_background"]
