"""Reads of frozen months on a PostgreSQL read replica (ARCHITECTURE.md, scale-out).

Configured only when ``DATABASE_REPLICA_URL`` is set (dangjian/settings.py): the alias ``replica`` and
``DATABASE_ROUTERS = ["dangjian.core.db_router.ReplicaRouter"]``.

The rule is narrow on purpose. A replica lags the primary by a moment, so only what can no longer change is read
there: the pages, exports and API answers of a finalized (organizations) or published (members) month, which
enter ``frozen_reads()`` once they know the month is frozen — results, rankings, walls, dashboards, the annual
view. Every other read, every write, and every read inside a transaction on the primary stay on ``default``;
migrations run on ``default`` only.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_frozen: ContextVar[bool] = ContextVar("dangjian_frozen_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def frozen_reads():
    """Inside: reads go to the replica (when one is configured). For the data of frozen months only."""
    token = _frozen.set(True)
    try:
        yield
    finally:
        _frozen.reset(token)


def in_frozen_reads() -> bool:
    return _frozen.get()


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _frozen.get() or not replica_configured():
            return DEFAULT_DB_ALIAS
        # A transaction on the primary may have written what is read next: it reads its own writes.
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary: objects read from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


__all__ = ["ReplicaRouter", "frozen_reads", "in_frozen_reads", "replica_configured", "REPLICA"]
