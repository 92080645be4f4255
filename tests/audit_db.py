"""Test databases only: let the flush that ends a transactional test empty the audit tables.

The same switch the retention purge uses (core.audit_chain): on PostgreSQL the setting dangjian.audit_purge,
here set for the whole test database (ALTER DATABASE, so the fresh connection Django opens after each
transactional test has it too) and for the open session; on SQLite a row in the guard table, which no flush
touches because it has no model."""

from contextlib import contextmanager

from dangjian.core.audit_chain import GUARD_TABLE, PURGE_SETTING


def _check_test_database(connection):
    name = str(connection.settings_dict["NAME"])
    if not (name.startswith("test_") or "memory" in name or "test" in name.rsplit("/", 1)[-1]):
        raise RuntimeError(f"refusing to lift the audit triggers on {name!r}: not a test database")


def allow_audit_deletes(connection, on: bool) -> None:
    _check_test_database(connection)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            db = connection.ops.quote_name(connection.settings_dict["NAME"])
            if on:
                cur.execute(f"ALTER DATABASE {db} SET {PURGE_SETTING} = 'on'")
                cur.execute(f"SET {PURGE_SETTING} = 'on'")
            else:
                cur.execute(f"ALTER DATABASE {db} RESET {PURGE_SETTING}")
                cur.execute(f"RESET {PURGE_SETTING}")
        elif on:
            cur.execute(f"INSERT INTO {GUARD_TABLE} (reason) VALUES ('tests')")
        else:
            cur.execute(f"DELETE FROM {GUARD_TABLE} WHERE reason = 'tests'")


@contextmanager
def audit_deletes_allowed(connection):
    allow_audit_deletes(connection, True)
    try:
        yield
    finally:
        allow_audit_deletes(connection, False)
