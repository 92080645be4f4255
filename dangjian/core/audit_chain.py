"""The audit log's hash chain: how an event is hashed, the lock that keeps the chain linear, the check that walks
it, the retention purge, and the one switch that lets the database delete audit rows.

Each event stores ``prev_hash`` (the hash of the event before it in id order, or of the last purged event, or
"" for the first event ever) and ``hash`` = SHA-256 of a canonical JSON of its fields including ``prev_hash``.
Altering an event breaks its own hash; deleting or inserting one breaks the next event's link. Rewriting the
whole tail after a change needs raw database access and is caught only against a head hash kept elsewhere
(docs/security.md: log shipping).

Writers are serialized while they read the last hash and insert: PostgreSQL takes a transaction-scoped advisory
lock; SQLite runs every transaction as BEGIN IMMEDIATE (settings), which already holds the one write lock.

Deleting: the triggers (migration core 0003) refuse UPDATE always and DELETE unless, on PostgreSQL, the
transaction-local setting ``dangjian.audit_purge`` is 'on', or, on SQLite, the guard table
``core_auditpurge_guard`` (no model) has a row. ``deletes_allowed()`` sets either inside the caller's
transaction, so a rollback takes the permission back with everything else.
"""

import datetime
import hashlib
import ipaddress
import json
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections, transaction

GENESIS = ""
LOCK_KEY = 0x646A6175  # "djau": pg_advisory_xact_lock key of the audit chain
PURGE_SETTING = "dangjian.audit_purge"
GUARD_TABLE = "core_auditpurge_guard"
CHUNK = 5000
CHAIN_FIELDS = ("at", "user_id", "username", "ip", "action", "object_type", "object_id", "object_repr",
                "org_path", "data", "prev_hash")


def _canonical_at(value) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical_ip(value):
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).exploded  # one spelling per address, whatever the database returns
    except ValueError:
        return str(value)


def canonical(event: dict) -> str:
    """The text that is hashed: the chained fields as JSON with sorted keys, no spaces, UTF-8 as is."""
    doc = {
        "at": _canonical_at(event["at"]),
        "user": event["user_id"],
        "username": event["username"] or "",
        "ip": _canonical_ip(event["ip"]),
        "action": event["action"],
        "object_type": event["object_type"] or "",
        "object_id": event["object_id"] or "",
        "object_repr": event["object_repr"] or "",
        "org_path": event["org_path"] or "",
        "data": event["data"],
        "prev": event["prev_hash"] or "",
    }
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(event: dict) -> str:
    return hashlib.sha256(canonical(event).encode("utf-8")).hexdigest()


def lock_and_last_hash(using: str = "default") -> str:
    """Inside a transaction: take the chain lock and return the hash the next event links to."""
    conn = connections[using]
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cur.execute("SELECT hash FROM core_auditevent ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
        if row is None:
            cur.execute("SELECT last_hash FROM core_auditanchor ORDER BY last_id DESC LIMIT 1")
            row = cur.fetchone()
    return row[0] if row else GENESIS


@contextmanager
def deletes_allowed(using: str = "default"):
    """Let this transaction delete audit rows (the retention purge only). Must run inside ``atomic``."""
    conn = connections[using]
    if not conn.in_atomic_block:
        raise RuntimeError("deletes_allowed() must run inside transaction.atomic()")
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"SET LOCAL {PURGE_SETTING} = 'on'")
        else:
            cur.execute(f"INSERT INTO {GUARD_TABLE} (reason) VALUES ('purge')")
    yield
    # Only on success: after an error the rollback takes the permission back.
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"SET LOCAL {PURGE_SETTING} = 'off'")
        else:
            cur.execute(f"DELETE FROM {GUARD_TABLE} WHERE reason = 'purge'")


@dataclass
class ChainReport:
    ok: bool
    count: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    anchor_id: int | None = None  # last_id of the anchor the walk started from
    bad_id: int | None = None
    bad_at: datetime.datetime | None = None
    problem: str = ""  # "altered" | "link"


def verify_chain(using: str = "default", *, upto_id: int | None = None, chunk: int = CHUNK) -> ChainReport:
    """Walk the chain in id order, ``chunk`` events at a time, from the latest anchor (or the start); stop at the
    first event whose own hash or whose link to the previous one does not match."""
    from dangjian.core.models import AuditAnchor, AuditEvent

    anchor = AuditAnchor.objects.using(using).order_by("-last_id").values("last_id", "last_hash").first()
    expected_prev = anchor["last_hash"] if anchor else GENESIS
    after = anchor["last_id"] if anchor else 0
    report = ChainReport(ok=True, head_hash=expected_prev, anchor_id=anchor["last_id"] if anchor else None)
    qs = AuditEvent.objects.using(using).order_by("id")
    if upto_id is not None:
        qs = qs.filter(id__lte=upto_id)
    while True:
        rows = list(qs.filter(id__gt=after).values("id", "hash", *CHAIN_FIELDS)[:chunk])
        if not rows:
            return report
        for row in rows:
            if row["prev_hash"] != expected_prev:
                return _bad(report, row, "link")
            if event_hash(row) != row["hash"]:
                return _bad(report, row, "altered")
            expected_prev = row["hash"]
            report.count += 1
            report.head_id, report.head_hash = row["id"], row["hash"]
        after = rows[-1]["id"]


def _bad(report: ChainReport, row: dict, problem: str) -> ChainReport:
    report.ok, report.bad_id, report.bad_at, report.problem = False, row["id"], row["at"], problem
    return report


class ChainBroken(Exception):
    def __init__(self, report: ChainReport):
        super().__init__(report.problem)
        self.report = report


@dataclass
class PurgeResult:
    count: int
    anchor: object | None


def purge_before(before: datetime.datetime, *, username: str = "", dry_run: bool = False,
                 using: str = "default") -> PurgeResult:
    """Delete the events older than ``before`` (the caller has checked the retention period).

    In one transaction under the chain lock: verify the chain up to the cut (a broken chain is never purged,
    which would hide the break), store an anchor with the last purged event's id and hash, delete, and log an
    ``audit.purged`` event that links on to the remaining chain."""
    from dangjian.core.audit import log_action
    from dangjian.core.models import AuditAnchor, AuditEvent

    with transaction.atomic(using=using):
        lock_and_last_hash(using)
        cut = (AuditEvent.objects.using(using).filter(at__lt=before).order_by("-id")
               .values("id", "hash", "at").first())
        if cut is None:
            return PurgeResult(0, None)
        report = verify_chain(using, upto_id=cut["id"])
        if not report.ok:
            raise ChainBroken(report)
        count = AuditEvent.objects.using(using).filter(id__lte=cut["id"]).count()
        if dry_run:
            return PurgeResult(count, None)
        anchor = AuditAnchor.objects.using(using).create(
            before=before, last_id=cut["id"], last_hash=cut["hash"], last_at=cut["at"], count=count,
            username=username[:150])
        with deletes_allowed(using), connections[using].cursor() as cur:
            cur.execute("DELETE FROM core_auditevent WHERE id <= %s", [cut["id"]])
        log_action(None, "audit.purged", anchor, username=username, before=before, count=count,
                   last_id=cut["id"], last_hash=cut["hash"])
    return PurgeResult(count, anchor)
