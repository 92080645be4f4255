"""The month-close result tables partitioned by period on PostgreSQL (QUALITY.md: "PostgreSQL, partitioned by
period"); SQLite keeps plain tables and every function here does nothing there.

Partitioned: ``assessments_result`` (organizations' results) and ``appraisal_memberresult`` (members' results),
LIST on ``period_id``, one partition per period named ``<table>_p<period id>`` plus ``<table>_default``, so an
insert never fails for want of a partition. Why these two and not the line tables: docs/decisions.md.

- ``convert_to_partitioned`` turns an existing plain table into a partitioned one (migrations assessments 0005,
  appraisal 0006): a new table with the same columns, the rows copied, the old table dropped, its indexes,
  constraints and statement triggers (the R4 lock) created again on the new parent. A primary key or unique
  constraint must contain the partition key on PostgreSQL, so each that lacks ``period_id`` gets it: the key
  becomes a unique (id, period_id) — ``id`` still comes from its sequence alone — and the one-to-one evaluation
  unique (evaluation_id, period_id), the same rule since an evaluation belongs to one period. They are unique
  indexes rather than constraints, so that ``pg_restore --clean`` (core.backup) can drop and restore them.
- ``ensure_period_partitions`` gives one period its partitions (called right after a period is opened) and
  ``ensure_partitions`` every period that lacks one (``manage.py ensure_partitions``, monthly from cron): rows
  that landed in the default partition meanwhile are moved into the new partition. Both are idempotent and safe
  to run twice at once (an advisory lock per table).
- The lock triggers of a parent are statement-level and fire only for statements that name the parent; each
  partition gets the same triggers, so a statement aimed at a partition directly is refused just the same.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction

log = logging.getLogger(__name__)

# (partitioned model, its period model): the tables partitioned by their period_id column.
PARTITIONED = [
    ("assessments.Result", "assessments.Period"),
    ("appraisal.MemberResult", "appraisal.AppraisalPeriod"),
]
KEY = "period_id"


def partition_name(table: str, period_id: int) -> str:
    return f"{table}_p{int(period_id)}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _tables_for(period_model) -> list[str]:
    label = period_model._meta.label
    return [apps.get_model(child)._meta.db_table for child, parent in PARTITIONED if parent == label]


def _pairs() -> list[tuple[str, object]]:
    return [(apps.get_model(child)._meta.db_table, apps.get_model(parent)) for child, parent in PARTITIONED]


# ---- introspection ------------------------------------------------------------------------------------------


def is_partitioned(cur, table: str) -> bool:
    cur.execute("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))", [table])
    return cur.fetchone()[0]


def partitions_of(cur, table: str) -> dict[str, str]:
    """{partition name: its bound (``FOR VALUES IN (7)`` or ``DEFAULT``)}."""
    cur.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)", [table])
    return dict(cur.fetchall())


def _exists(cur, name: str) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return cur.fetchone()[0]


def _statement_triggers(cur, table: str) -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER statement) of the table's own statement-level triggers (row-level triggers of a
    partitioned table are cloned onto its partitions by PostgreSQL itself)."""
    cur.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
                "AND NOT tgisinternal AND tgparentid = 0 AND (tgtype & 1) = 0 ORDER BY tgname", [table])
    return cur.fetchall()


def _copy_triggers(cur, parent: str, partition: str, qn) -> None:
    """The parent's statement triggers (the R4 lock) on a partition too, for statements that name it directly."""
    have = {name for name, _sql in _statement_triggers(cur, partition)}
    for name, sql in _statement_triggers(cur, parent):
        if name in have:
            continue
        head, sep, tail = sql.partition(" ON ")
        on_table, _space, rest = tail.partition(" ")
        if not sep or on_table.rsplit(".", 1)[-1].strip('"') != parent:
            raise RuntimeError(f"unexpected trigger definition on {parent}: {sql}")
        cur.execute(f"{head} ON {qn(partition)} {rest}")


# ---- a plain table becomes a partitioned one (the migrations) -----------------------------------------------


def _key_constraints(cur, table: str) -> list[tuple[str, str, list[str]]]:
    """(name, 'p' or 'u', columns) of the table's primary key and unique constraints."""
    cur.execute(
        "SELECT c.conname, c.contype, array_agg(a.attname ORDER BY k.i) FROM pg_constraint c "
        "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, i) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
        "WHERE c.conrelid = to_regclass(%s) AND c.contype IN ('p', 'u') GROUP BY c.conname, c.contype "
        "ORDER BY c.contype, c.conname", [table])
    return [(name, kind, list(columns)) for name, kind, columns in cur.fetchall()]


def _plain_indexes(cur, table: str) -> list[str]:
    """CREATE INDEX statements of the indexes that back no constraint."""
    cur.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1", [table])
    return [row[0] for row in cur.fetchall()]


def inbound_foreign_keys(cur, table: str) -> list[tuple[str, str]]:
    """(referencing table, constraint name) of the foreign keys that point at ``table``."""
    cur.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid = to_regclass(%s) ORDER BY 1, 2", [table])
    return cur.fetchall()


@dataclass
class Conversion:
    table: str
    rows: int = 0
    partitions: list[str] = field(default_factory=list)
    dropped_foreign_keys: list[tuple[str, str]] = field(default_factory=list)


def convert_to_partitioned(schema_editor, table: str, period_table: str, *,
                           drop_foreign_keys_from: frozenset = frozenset()) -> Conversion:
    """Turn the plain ``table`` into one partitioned by LIST (period_id), inside the migration's transaction.
    ``drop_foreign_keys_from``: the tables whose foreign keys to ``table`` the caller replaces by other means
    (PostgreSQL has no foreign key to a partitioned table without the partition key); a foreign key from any
    other table stops the migration."""
    conn = schema_editor.connection
    qn = conn.ops.quote_name
    done = Conversion(table)
    with conn.cursor() as cur:
        if is_partitioned(cur, table):
            return done
        inbound = inbound_foreign_keys(cur, table)
        unexpected = [fk for fk in inbound if fk[0] not in drop_foreign_keys_from]
        if unexpected:
            raise RuntimeError(f"{table} is referenced by {unexpected}: a partitioned table cannot be (docs/decisions.md)")
        for referencing, name in inbound:
            cur.execute(f"ALTER TABLE {qn(referencing)} DROP CONSTRAINT {qn(name)}")
            done.dropped_foreign_keys.append((referencing, name))
        keys = _key_constraints(cur, table)
        indexes = _plain_indexes(cur, table)
        triggers = _statement_triggers(cur, table)
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cur.fetchone()[0]
        cur.execute(f"SELECT last_value, is_called FROM {sequence}")
        last_value, is_called = cur.fetchone()

        # The new parent: the same columns, defaults, NOT NULL and CHECK constraints (``id`` loses its identity:
        # PostgreSQL 15 has none on partitioned tables; a sequence owned by the column takes its place).
        new = f"{table}__partitioned"
        cur.execute(f"CREATE TABLE {qn(new)} (LIKE {qn(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                    f"INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY LIST ({KEY})")
        cur.execute(f"SELECT id FROM {qn(period_table)} ORDER BY id")
        periods = [row[0] for row in cur.fetchall()]
        for period_id in periods:
            cur.execute(f"CREATE TABLE {qn(partition_name(table, period_id))} PARTITION OF {qn(new)} "
                        f"FOR VALUES IN ({int(period_id)})")
        cur.execute(f"CREATE TABLE {qn(default_name(table))} PARTITION OF {qn(new)} DEFAULT")
        # The rows, before any index or trigger exists (the lock triggers would refuse a finalized month's rows).
        cur.execute(f"INSERT INTO {qn(new)} SELECT * FROM {qn(table)}")
        done.rows = cur.rowcount
        cur.execute(f"DROP TABLE {qn(table)}")
        cur.execute(f"ALTER TABLE {qn(new)} RENAME TO {qn(table)}")
        cur.execute(f"CREATE SEQUENCE {sequence} AS bigint OWNED BY {qn(table)}.id")
        cur.execute("SELECT setval(%s, %s, %s)", [sequence, last_value, is_called])
        cur.execute(f"ALTER TABLE {qn(table)} ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)")

        # Keys and indexes again; a key without the partition key gets it at the end. Keys become unique indexes,
        # not constraints: pg_restore --clean (core.backup) cannot drop a partition's inherited constraint
        # (PostgreSQL 15), while it drops partitioned indexes with their tables. Unique constraints keep their
        # names; the primary key becomes the unique index <table>_id_period_uniq (Django keeps ``id`` as the key).
        for name, kind, columns in keys:
            if KEY not in columns:
                columns = [*columns, KEY]
            cols = ", ".join(qn(c) for c in columns)
            index = f"{table}_id_period_uniq" if kind == "p" else name
            cur.execute(f"CREATE UNIQUE INDEX {qn(index)} ON {qn(table)} ({cols})")
        for sql in indexes:
            cur.execute(sql)
        for _name, sql in triggers:
            cur.execute(sql)
        done.partitions = sorted(partitions_of(cur, table))
        for partition in done.partitions:
            _copy_triggers(cur, table, partition, qn)
        cur.execute(f"ANALYZE {qn(table)}")
    return done


# ---- partitions for periods (the hook and the monthly job) --------------------------------------------------


def _create_partition(cur, table: str, period_id: int, qn) -> int | None:
    """The partition of ``period_id`` in ``table`` (rows waiting in the default partition moved into it).
    None if it existed already, else the number of rows moved."""
    name = partition_name(table, period_id)
    if _exists(cur, name):
        return None
    default = default_name(table)
    cur.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(default)} WHERE {KEY} = %s)", [period_id])
    moved = 0
    if cur.fetchone()[0]:
        # PostgreSQL refuses a new partition while the default one holds rows of its value: build it apart, move
        # the rows (the default partition's lock triggers are lifted for this one statement, in this transaction),
        # then attach it.
        cur.execute(f"CREATE TABLE {qn(name)} (LIKE {qn(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                    f"INCLUDING STORAGE)")
        cur.execute(f"ALTER TABLE {qn(default)} DISABLE TRIGGER USER")
        cur.execute(f"WITH gone AS (DELETE FROM {qn(default)} WHERE {KEY} = %s RETURNING *) "
                    f"INSERT INTO {qn(name)} SELECT * FROM gone", [period_id])
        moved = cur.rowcount
        cur.execute(f"ALTER TABLE {qn(default)} ENABLE TRIGGER USER")
        cur.execute(f"ALTER TABLE {qn(table)} ATTACH PARTITION {qn(name)} FOR VALUES IN ({int(period_id)})")
    else:
        cur.execute(f"CREATE TABLE {qn(name)} PARTITION OF {qn(table)} FOR VALUES IN ({int(period_id)})")
    _copy_triggers(cur, table, name, qn)
    return moved


def _lock(cur, table: str) -> None:
    # One creator per table at a time: a second run waits, then finds the partition there.
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"dangjian.partitions.{table}"])


def ensure_period_partitions(period, using: str = DEFAULT_DB_ALIAS) -> dict[str, int | None]:
    """Give one period (a ``Period`` or an ``AppraisalPeriod``) its partitions: {table: rows moved, or None if it
    had its partition already}. Nothing on SQLite, nor for a table not partitioned."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return {}
    out = {}
    with transaction.atomic(using=using), conn.cursor() as cur:
        for table in _tables_for(type(period)):
            if not is_partitioned(cur, table):
                continue
            _lock(cur, table)
            out[table] = _create_partition(cur, table, period.pk, conn.ops.quote_name)
    return out


def after_period_opened(period, using: str = DEFAULT_DB_ALIAS) -> None:
    """The hook of the services that open a period: its partitions once the period is committed. Not inside the
    opening transaction: creating a partition locks the parent table (ACCESS EXCLUSIVE) until commit, and
    opening a member month inserts millions of lines — every wall would wait for it. Should this fail, the rows
    go to the default partition and ``manage.py ensure_partitions`` moves them (robust: logged, not raised)."""
    if connections[using].vendor != "postgresql":
        return
    transaction.on_commit(lambda: ensure_period_partitions(period, using), using=using, robust=True)


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    moved: dict[str, int] = field(default_factory=dict)
    existing: int = 0
    later: int = 0  # periods beyond the horizon, left to their own opening
    default_rows: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # empty partitions of periods deleted since


def _horizon(today: datetime.date, months_ahead: int) -> datetime.date:
    index = today.year * 12 + today.month - 1 + months_ahead
    return datetime.date(index // 12, index % 12 + 1, 1)


def ensure_partitions(months_ahead: int = 2, *, today: datetime.date | None = None,
                      using: str = DEFAULT_DB_ALIAS) -> Report:
    """Every period up to ``months_ahead`` months from now (past months included) gets the partitions it lacks,
    with its rows moved out of the default partition; one transaction per period and table. Idempotent."""
    if months_ahead < 0:
        raise ValueError("months_ahead must not be negative")
    report = Report()
    conn = connections[using]
    if conn.vendor != "postgresql":
        return report
    from django.utils import timezone

    horizon = _horizon(today or timezone.localdate(), months_ahead)
    qn = conn.ops.quote_name
    for table, period_model in _pairs():
        with conn.cursor() as cur:
            if not is_partitioned(cur, table):
                continue
            present = set(partitions_of(cur, table))
        periods = list(period_model.objects.using(using).order_by("pk").values_list("pk", "month"))
        for period_id, month in periods:
            if month > horizon:
                report.later += 1
                continue
            if partition_name(table, period_id) in present:
                report.existing += 1
                continue
            with transaction.atomic(using=using), conn.cursor() as cur:
                _lock(cur, table)
                moved = _create_partition(cur, table, period_id, qn)
            if moved is None:
                report.existing += 1
                continue
            report.created.append(partition_name(table, period_id))
            if moved:
                report.moved[partition_name(table, period_id)] = moved
        report.dropped += _drop_orphans(conn, table, {pk for pk, _month in periods}, present)
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {qn(default_name(table))}")
            report.default_rows[table] = cur.fetchone()[0]
    return report


def _drop_orphans(conn, table: str, period_ids: set, present: set) -> list[str]:
    """Drop the partitions of periods that no longer exist (an open month deleted), when they are empty."""
    qn = conn.ops.quote_name
    prefix = f"{table}_p"
    dropped = []
    for name in sorted(present):
        suffix = name[len(prefix):] if name.startswith(prefix) else ""
        if not suffix.isdigit() or int(suffix) in period_ids:
            continue
        with transaction.atomic(using=conn.alias), conn.cursor() as cur:
            _lock(cur, table)
            if not _exists(cur, name):
                continue
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(name)})")
            if cur.fetchone()[0]:
                continue
            cur.execute(f"DROP TABLE {qn(name)}")
        dropped.append(name)
    return dropped


__all__ = ["PARTITIONED", "partition_name", "default_name", "is_partitioned", "partitions_of",
           "convert_to_partitioned", "ensure_period_partitions", "after_period_opened", "ensure_partitions",
           "inbound_foreign_keys"]
