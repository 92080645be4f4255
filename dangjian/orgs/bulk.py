"""Set-based helpers for loading and removing large amounts of data.

- ``lock`` / ``id_base`` / ``reset_sequences``: allocate primary keys in Python (so materialized paths can be
  computed without reading rows back) and put the database sequences right afterwards.
- ``insert_rows``: ``executemany`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL, in chunks.
- ``indexes_rebuilt_after``: on PostgreSQL, build secondary indexes once after a large load.
- ``purge``: delete a queryset's rows and, first, every row that points at them, one statement per relation.

All of them run on the caller's connection and inside the caller's transaction.
"""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from itertools import islice

from django.db import connections, models

DEFAULT_CHUNK = 20_000


def _conn(using):
    conn = connections[using or "default"]
    conn.ensure_connection()
    return conn


def lock(model_list: Sequence[type[models.Model]], using=None) -> None:
    """Keep other writers out of these tables until the transaction ends (PostgreSQL; SQLite's IMMEDIATE
    transactions already hold the database's write lock)."""
    conn = _conn(using)
    if conn.vendor != "postgresql":
        return
    tables = ", ".join(conn.ops.quote_name(m._meta.db_table) for m in model_list)
    with conn.cursor() as cur:
        cur.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def id_base(model: type[models.Model], using=None) -> int:
    """The highest id ever handed out for ``model`` (rows or sequence); new rows may use base+1, base+2 ..."""
    conn = _conn(using)
    table = model._meta.db_table
    qn = conn.ops.quote_name
    pk = model._meta.pk.column
    with conn.cursor() as cur:
        cur.execute(f"SELECT MAX({qn(pk)}) FROM {qn(table)}")
        base = cur.fetchone()[0] or 0
        if conn.vendor == "postgresql":
            cur.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, %s)::regclass)", [table, pk])
            row = cur.fetchone()
            base = max(base, (row[0] if row else 0) or 0)
        elif conn.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='sqlite_sequence'")
            if cur.fetchone():
                cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cur.fetchone()
                base = max(base, (row[0] if row else 0) or 0)
    return int(base)


def reset_sequences(model_list: Sequence[type[models.Model]], using=None) -> None:
    """After rows were inserted with explicit ids, move each id sequence to the table's max(id) (PostgreSQL).

    SQLite's AUTOINCREMENT counter follows explicit ids by itself."""
    conn = _conn(using)
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cur:
        for m in model_list:
            table, pk = m._meta.db_table, m._meta.pk.column
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                f"COALESCE((SELECT MAX({conn.ops.quote_name(pk)}) FROM {conn.ops.quote_name(table)}), 1), "
                f"(SELECT MAX({conn.ops.quote_name(pk)}) FROM {conn.ops.quote_name(table)}) IS NOT NULL)",
                [table, pk],
            )


def columns_of(model: type[models.Model], field_names: Sequence[str]) -> list[str]:
    """Database column names for model field names ("org" -> "org_id")."""
    return [model._meta.get_field(name).column for name in field_names]


def _chunks(rows: Iterable[Sequence], size: int):
    it = iter(rows)
    while True:
        chunk = list(islice(it, size))
        if not chunk:
            return
        yield chunk


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence], *, using=None,
                chunk_size: int = DEFAULT_CHUNK) -> int:
    """Insert plain tuples (int, str, bool, None, ISO date strings) into ``table``; returns the row count.

    SQLite: ``executemany`` on the raw DB-API cursor. PostgreSQL: ``COPY table (columns) FROM STDIN`` through
    psycopg 3, one COPY per chunk so memory stays flat whatever the size."""
    conn = _conn(using)
    qn = conn.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    total = 0
    raw = conn.connection
    if conn.vendor == "postgresql":
        sql = f"COPY {qn(table)} ({cols}) FROM STDIN"
        with raw.cursor() as cur:
            for chunk in _chunks(rows, chunk_size):
                with cur.copy(sql) as copy:
                    write = copy.write_row
                    for row in chunk:
                        write(row)
                total += len(chunk)
        return total
    placeholders = ", ".join(["?" if conn.vendor == "sqlite" else "%s"] * len(columns))
    sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({placeholders})"
    cur = raw.cursor()
    try:
        for chunk in _chunks(rows, chunk_size):
            cur.executemany(sql, chunk)
            total += len(chunk)
    finally:
        cur.close()
    return total


@contextmanager
def indexes_rebuilt_after(model_list: Sequence[type[models.Model]], using=None, enabled: bool = True):
    """Drop the plain (non-unique) secondary indexes of these tables for the duration of a large load and
    build them again afterwards: one sort per index instead of a random B-tree insert per row and index.

    Primary keys and unique indexes stay, so uniqueness is still enforced row by row. Dropping an index locks
    its table against readers until the transaction ends (PostgreSQL), so use it only for loads into (nearly)
    empty tables, inside a transaction: if anything fails, the rollback brings the indexes back. When not
    ``enabled`` it does nothing."""
    conn = _conn(using)
    if not enabled or conn.vendor not in ("postgresql", "sqlite"):
        yield
        return
    if not conn.in_atomic_block:
        raise RuntimeError("indexes_rebuilt_after must run inside a transaction")
    saved: list[tuple[str, str]] = []
    with conn.cursor() as cur:
        for m in model_list:
            if conn.vendor == "postgresql":
                cur.execute(
                    """SELECT i.relname, pg_get_indexdef(x.indexrelid)
                         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                        WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary""",
                    [conn.ops.quote_name(m._meta.db_table)],
                )
            else:  # automatic indexes of UNIQUE / PRIMARY KEY have no SQL and are never listed
                cur.execute(
                    """SELECT name, sql FROM sqlite_master
                        WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL
                          AND upper(sql) NOT LIKE 'CREATE UNIQUE%%'""",
                    [m._meta.db_table],
                )
            saved.extend(cur.fetchall())
        for name, _definition in saved:
            cur.execute(f"DROP INDEX {conn.ops.quote_name(name)}")
    yield
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            # Deferred foreign-key checks of the loaded rows must run before an index can be built.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in saved:
            cur.execute(definition)


# ---- removing -----------------------------------------------------------------------------------------


def _reverse_relations(model):
    """Foreign keys and one-to-ones of other models (and of the model itself) that point at ``model``,
    hidden ones (related_name="+") included — the same set Django's deletion collector walks."""
    return [
        f for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]


def purge(qs: models.QuerySet, _depth: int = 0) -> dict[str, int]:
    """Delete the rows of ``qs`` and everything that depends on them, set-based, in any table of any app.

    Rows pointing at them are deleted first (CASCADE, PROTECT and RESTRICT alike: the caller means to remove the
    whole set), nulled for SET_NULL and left alone for DO_NOTHING. A row of the same model outside the set that
    points into it (e.g. an organization merged into one being removed) gets its reference cleared.
    Returns {"app.Model": rows deleted}. Run inside a transaction."""
    if _depth > 12:
        raise RuntimeError("purge: relation chain too deep (cycle?)")
    model = qs.model
    ids = qs.values("pk")
    counts: dict[str, int] = {}
    for rel in _reverse_relations(model):
        field = rel.field
        related = rel.related_model
        dependents = related._base_manager.using(qs.db).filter(**{f"{field.name}__in": ids})
        on_delete = field.remote_field.on_delete
        if related is model:
            outside = dependents.exclude(pk__in=ids)
            if field.null:
                outside.update(**{field.name: None})
            elif outside.exists():
                raise RuntimeError(f"purge: {model.__name__} rows outside the set depend on it via {field.name}")
            continue
        if on_delete is models.DO_NOTHING:
            continue
        if on_delete is models.SET_NULL:
            dependents.update(**{field.name: None})
            continue
        for label, n in purge(dependents, _depth + 1).items():
            counts[label] = counts.get(label, 0) + n
    deleted = qs._raw_delete(qs.db)
    counts[model._meta.label] = counts.get(model._meta.label, 0) + deleted
    return counts
