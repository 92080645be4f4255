"""公示: publishing a branch's member month — the member close, set-based.

``publish_branch(user, period, org)`` (the secretary, after the 党员大会) and ``publish_ready(user, period)`` (the
committee's staff, every branch whose members are all determined) run the same statements, whatever the number
of members:

1. INSERT…SELECT the ``MemberResult`` rows: per evaluation the line points summed per part and dimension, the
   dimension caps and the part caps, the floor, the rater weights, the veto's effect, qualified or not, RANK()
   within the branch and the branch size — all in integer tenths with the same rounding as
   ``scoring.month_totals`` (the Python reference the tests compare it with on both engines);
2. INSERT…SELECT one ``BranchAggregate`` per newly published branch (count, average, minimum, maximum,
   unqualified);
3. INSERT…SELECT one ``MemberTransition`` per evaluation and UPDATE them to published (exempt members too: their
   month is closed, without a result);
4. freeze the member standard set, audit.

Each branch's published month gets a digest (QUALITY.md S6): after step 1, one ordered SELECT of the new result
rows, SHA-256 in Python per branch, written into the ``BranchAggregate`` row by step 2 (the row is insert-only).
``check_months`` recomputes it from the stored rows before the wall, the poster and the handbook show a month, and
compares the aggregate's figures with the rows too; a mismatch refuses with a Chinese message, as the
organizations' ``check_digest`` does.

The database refuses changes to a published month afterwards (triggers, migration 0003). ``close_period`` ends a
month for the whole subtree: it publishes what is ready and refuses while a member is not yet determined.

The statements are the same SQL on SQLite and PostgreSQL (window functions and CTEs are in both); ``MemberClose``
is the one interface, ``engine(period)`` returns it per connection, as the organization close does.
"""

import hashlib
import hmac
import itertools
import json

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.appraisal.models import (
    AppraisalPeriod,
    AState,
    BranchAggregate,
    MemberEvaluation,
    MemberLine,
    MemberResult,
    MemberTransition,
    PeriodStatus,
)
from dangjian.appraisal.scoring import dimension_caps_tenths, tenths
from dangjian.core.access import require
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.standards.models import Dimension, MemberStandardSet, VetoEffect

PUB, DET = AState.PUBLISHED.value, AState.DETERMINED.value


def _min(expr: str, cap: int | None) -> str:
    return expr if cap is None else f"(CASE WHEN {expr} > {int(cap)} THEN {int(cap)} ELSE {expr} END)"


def _max(expr: str, floor: int | None) -> str:
    return expr if floor is None else f"(CASE WHEN {expr} < {int(floor)} THEN {int(floor)} ELSE {expr} END)"


# ---- the digest of a branch's published month -----------------------------------------------------------------

DIGEST_VERSION = "dangjian-member-close-v1"


def _digest_select(where: str, alias: str = "") -> str:
    """The result rows a digest covers, as integers and text that read the same on every engine (numbers in
    tenths, booleans as 0/1), ordered by period, branch and member."""
    r, p = MemberResult._meta.db_table, f"{alias}." if alias else ""
    tenths = ", ".join(f"CAST(ROUND({p}{c} * 10) AS BIGINT)"
                       for c in ("base", "bonus", "deduction", "self_total", "branch_total", "total"))
    return (f"SELECT {p}period_id, {p}org_id, {p}member_id, {p}evaluation_id, {p}month, {p}member_name, {tenths}, "
            f"CASE WHEN {p}vetoed THEN 1 ELSE 0 END, CASE WHEN {p}qualified THEN 1 ELSE 0 END, {p}rank, "
            f"{p}branch_size FROM {r}{' ' + alias if alias else ''} WHERE {where} "
            f"ORDER BY {p}period_id, {p}org_id, {p}member_id")


def _digests(rows) -> dict[tuple[int, int], tuple[str, tuple]]:
    """(period, branch) → (hex digest, (count, sum of totals in tenths, min, max, unqualified)) of rows from
    ``_digest_select``."""
    out = {}
    for (period_id, org_id), group in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
        group = list(group)
        h = hashlib.sha256(f"{DIGEST_VERSION}|{period_id}|{org_id}\n".encode())
        # One f-string per row (twice as fast as joining the fields): member, evaluation, month, name, base,
        # bonus, deduction, self, branch and final totals in tenths, vetoed, qualified, rank, branch size.
        h.update("".join([f"{r[2]}|{r[3]}|{str(r[4])[:10]}|{r[5]}|{r[6]}|{r[7]}|{r[8]}|{r[9]}|{r[10]}|{r[11]}|"
                          f"{r[12]}|{r[13]}|{r[14]}|{r[15]}\n" for r in group]).encode())
        totals = [r[11] for r in group]
        out[(period_id, org_id)] = (h.hexdigest(), (len(group), sum(totals), min(totals), max(totals),
                                                    len(group) - sum(r[13] for r in group)))
    return out


def read_checked(where: str, params: list, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """Result rows (``r``: appraisal_memberresult) matching ``where``, each as ``_digest_select``'s sixteen
    columns, then its aggregate's digest, count, average in hundredths, minimum and maximum in tenths and
    unqualified (None without an aggregate), then the result's id. One ordered SELECT."""
    r, agg = MemberResult._meta.db_table, BranchAggregate._meta.db_table
    sql = _digest_select(where, alias="r").replace(
        f" FROM {r} r ",
        f", a.digest, a.count, CAST(ROUND(a.avg * 100) AS BIGINT), CAST(ROUND(a.min * 10) AS BIGINT), "
        f"CAST(ROUND(a.max * 10) AS BIGINT), a.unqualified, r.id "
        f"FROM {r} r LEFT JOIN {agg} a ON a.period_id = r.period_id AND a.org_id = r.org_id ")
    with connections[using].cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def refused_in(rows: list[tuple], months: dict[tuple[int, int], object]) -> list:
    """Of ``months`` ((period id, branch id) → month), those whose rows (from ``read_checked``, every row of each
    of those branch months) no longer match the digest stored with their aggregate, whose aggregate's figures
    (count, average, minimum, maximum, unqualified) no longer match the rows, or that have no aggregate or no
    rows."""
    stored = {(row[0], row[1]): row[16:22] for row in rows}
    found = _digests([row[:16] for row in rows])
    bad = []
    for key, month in months.items():
        if key not in found:
            bad.append(month)
            continue
        digest, (count, total, low, high, unqualified) = found[key]
        a_digest, a_count, a_avg, a_min, a_max, a_unq = stored[key]
        ok = (bool(a_digest) and hmac.compare_digest(digest, a_digest) and a_count == count
              and a_unq == unqualified and a_min == low and a_max == high
              # the average was rounded to two places: within half a hundredth of the rows' own
              and abs(a_avg * count - total * 10) * 2 <= count)
        if not ok:
            bad.append(month)
    return bad


def refused_months(months: dict[tuple[int, int], object], using: str = DEFAULT_DB_ALIAS) -> list:
    """``refused_in`` for the branch months ``months``, read in one query."""
    if not months:
        return []
    periods = sorted({p for p, _o in months})
    orgs = sorted({o for _p, o in months})
    rows = read_checked(f"r.period_id IN ({', '.join(['%s'] * len(periods))}) "
                        f"AND r.org_id IN ({', '.join(['%s'] * len(orgs))})", [*periods, *orgs], using)
    return refused_in(rows, months)


def raise_refused(bad: list) -> None:
    if bad:
        labels = sorted({str(m)[:7] for m in bad})
        raise DomainError(_("{months}党员评价公示结果的校验值不符，结果可能被改动，暂不能展示或导出，请联系系统管理员。")
                          .format(months="、".join(labels[:6]) + ("等" if len(labels) > 6 else "")))


def check_months(months: dict[tuple[int, int], object], using: str = DEFAULT_DB_ALIAS) -> None:
    """For walls and posters: refuse (DomainError) to show published member months whose results no longer
    match (``refused_months``)."""
    raise_refused(refused_months(months, using))


class MemberClose:
    """The member close on one connection. Every number in the SQL is an integer built here from the set's
    settings (never user text); values go in as bound parameters."""

    def __init__(self, period: AppraisalPeriod, using: str = DEFAULT_DB_ALIAS):
        self.period = period
        self.using = using
        self.ms: MemberStandardSet = period.standard_set

    # -- the pieces of SQL from the member standard set --

    def _total_sql(self, field: str) -> str:
        bonus_cap = tenths(self.ms.bonus_cap) if self.ms.bonus_cap is not None else None
        ded_cap = tenths(self.ms.deduction_cap) if self.ms.deduction_cap is not None else None
        floor = tenths(self.ms.floor) if self.ms.floor is not None else None
        return _max(f"({field}base + {_min(f'{field}bonus', bonus_cap)} - {_min(f'{field}ded', ded_cap)})", floor)

    def _weighted_sql(self) -> str:
        ws, wb = tenths(self.ms.weight_self), tenths(self.ms.weight_branch)
        if ws == 0 and wb == 1000:
            return "branch_total"
        num = f"(self_total * {ws} + branch_total * {wb})"
        return f"(CASE WHEN {num} >= 0 THEN ({num} + 500) / 1000 ELSE -((-{num} + 500) / 1000) END)"

    def _ready_orgs_sql(self) -> str:
        """Organizations of the period whose every member is determined (or exempt), not yet published."""
        e = MemberEvaluation._meta.db_table
        agg = BranchAggregate._meta.db_table
        return (f"(SELECT org_id FROM {e} WHERE period_id = %s GROUP BY org_id HAVING "
                f"SUM(CASE WHEN exempt = %s AND state <> '{DET}' AND state <> '{PUB}' THEN 1 ELSE 0 END) = 0 "
                f"AND SUM(CASE WHEN exempt = %s AND state = '{DET}' THEN 1 ELSE 0 END) > 0 "
                f"AND org_id NOT IN (SELECT org_id FROM {agg} WHERE period_id = %s))")

    # -- the statements --

    def insert_results(self, org_id: int | None, now) -> int:
        e, line, r = MemberEvaluation._meta.db_table, MemberLine._meta.db_table, MemberResult._meta.db_table
        conn = connections[self.using]
        zero_on_veto = self.ms.veto_effect in (VetoEffect.MONTH, VetoEffect.YEAR_ZERO)
        total = f"(CASE WHEN veto = 1 THEN 0 ELSE {self._weighted_sql()} END)" if zero_on_veto else \
            self._weighted_sql()
        pass_mark = tenths(self.ms.pass_mark) if self.ms.pass_mark is not None else None
        qualified = ("(CASE WHEN veto = 1 THEN FALSE " +
                     (f"WHEN total < {pass_mark} THEN FALSE " if pass_mark is not None else "") + "ELSE TRUE END)")
        if org_id is None:
            org_filter, org_params = f"e.org_id IN {self._ready_orgs_sql()}", [self.period.pk, False, False,
                                                                              self.period.pk]
        else:
            org_filter, org_params = "e.org_id = %s", [org_id]
        sql = f"""
            WITH parts AS (
                SELECT l.evaluation_id, {self._part_sums()},
                       MAX(CASE WHEN l.part = 'veto' AND COALESCE(l.count, 0) > 0 THEN 1 ELSE 0 END) AS veto
                FROM {line} l JOIN {e} e ON e.id = l.evaluation_id
                WHERE e.period_id = %s AND e.exempt = %s AND e.state = '{DET}' AND {org_filter}
                GROUP BY l.evaluation_id
            ), capped AS (
                SELECT evaluation_id, base,
                       {_min('bonus', tenths(self.ms.bonus_cap) if self.ms.bonus_cap is not None else None)} AS bonus,
                       {_min('ded', tenths(self.ms.deduction_cap) if self.ms.deduction_cap is not None else None)}
                           AS ded,
                       {self._total_sql('')} AS branch_total,
                       {self._total_sql('s')} AS self_total,
                       veto
                FROM parts
            ), totals AS (
                SELECT evaluation_id, base, bonus, ded, branch_total, self_total, veto, {total} AS total
                FROM capped
            )
            INSERT INTO {r} (period_id, evaluation_id, member_id, org_id, org_path, org_name, member_name, month,
                             base, bonus, deduction, self_total, branch_total, total, vetoed, qualified, rank,
                             branch_size, published_at)
            SELECT e.period_id, e.id, e.member_id, e.org_id, e.org_path, e.org_name, e.member_name, %s,
                   t.base / 10.0, t.bonus / 10.0, t.ded / 10.0, t.self_total / 10.0, t.branch_total / 10.0,
                   t.total / 10.0, (CASE WHEN t.veto = 1 THEN TRUE ELSE FALSE END),
                   {qualified.replace("total", "t.total").replace("veto", "t.veto")},
                   RANK() OVER (PARTITION BY e.org_id ORDER BY t.total DESC),
                   COUNT(*) OVER (PARTITION BY e.org_id), %s
            FROM totals t JOIN {e} e ON e.id = t.evaluation_id
        """
        params = [self.period.pk, False, *org_params, conn.ops.adapt_datefield_value(self.period.month),
                  conn.ops.adapt_datetimefield_value(now)]
        with conn.cursor() as cur:
            if conn.vendor == "postgresql":
                # The statement's estimated cost passes PostgreSQL's JIT thresholds and compiling it costs more
                # than running it (as in the organizations' close, PostgresClose._no_jit). SET LOCAL: this
                # transaction only — the close's other statements too.
                cur.execute("SET LOCAL jit = off")
            cur.execute(sql, params)
            if cur.rowcount >= 0:
                return cur.rowcount
            # Python's sqlite3 reports no row count for a statement that starts with WITH.
            cur.execute("SELECT changes()")
            return cur.fetchone()[0]

    def _part_sums(self) -> str:
        """One pass over the lines grouped by evaluation (the lines' index gives that order, so no sort): base,
        bonus and deductions in tenths for the branch's points (p) and the member's own (sp). A dimension with a
        bonus cap gets its own sum, capped afterwards, so no grouping by dimension is needed."""
        caps = dimension_caps_tenths(self.ms)
        capped = [d for d in Dimension.values if d in caps]
        out = []
        for prefix, column in (("", "points"), ("s", "self_points")):
            v = f"CAST(ROUND(COALESCE(l.{column}, 0) * 10) AS INTEGER)"
            out.append(f"CAST(SUM(CASE WHEN l.part = 'base' THEN {v} ELSE 0 END) AS BIGINT) AS {prefix}base")
            out.append(f"CAST(SUM(CASE WHEN l.part = 'deduction' THEN -{v} ELSE 0 END) AS BIGINT) AS {prefix}ded")
            free = "l.part = 'bonus'" + (
                " AND l.dimension NOT IN (" + ", ".join(f"'{d}'" for d in capped) + ")" if capped else "")
            bonus = [f"SUM(CASE WHEN {free} THEN {v} ELSE 0 END)"]
            for d in capped:
                bonus.append(_min(f"SUM(CASE WHEN l.part = 'bonus' AND l.dimension = '{d}' THEN {v} ELSE 0 END)",
                                  caps[d]))
            out.append(f"CAST({' + '.join(bonus)} AS BIGINT) AS {prefix}bonus")
        return ",\n                       ".join(out)

    def _new_branches(self, org_id: int | None) -> tuple[str, list]:
        """The result rows of the branches being published now: ``org_id``, or every branch of the month
        without an aggregate yet."""
        if org_id is not None:
            return "period_id = %s AND org_id = %s", [self.period.pk, org_id]
        agg = BranchAggregate._meta.db_table
        return (f"period_id = %s AND org_id NOT IN (SELECT org_id FROM {agg} WHERE period_id = %s)",
                [self.period.pk, self.period.pk])

    def digests(self, org_id: int | None = None) -> dict[int, str]:
        """Branch → digest of the results just written (one ordered SELECT, SHA-256 in Python)."""
        where, params = self._new_branches(org_id)
        with connections[self.using].cursor() as cur:
            cur.execute(_digest_select(where), params)
            return {org: digest for (_period, org), (digest, _figures) in _digests(cur.fetchall()).items()}

    def _digest_table(self) -> str:
        """A JSON object {branch id: digest} (one bound parameter) as rows (org_id, digest)."""
        if connections[self.using].vendor == "postgresql":
            return "SELECT CAST(key AS BIGINT) AS org_id, value AS digest FROM jsonb_each_text(CAST(%s AS jsonb))"
        return "SELECT CAST(key AS INTEGER) AS org_id, value AS digest FROM json_each(%s)"

    def insert_aggregates(self, user_id, now, digests: dict[int, str], org_id: int | None = None) -> int:
        """One aggregate per branch of ``digests`` (from ``digests()``), with its digest: the row is
        insert-only, so the digest goes in with it. CROSS JOIN with the digests first: SQLite then looks the
        branches' figures up through an automatic index instead of scanning the JSON once per branch (60 → 2 ms
        at 500 branches)."""
        if not digests:
            return 0
        r, agg = MemberResult._meta.db_table, BranchAggregate._meta.db_table
        conn = connections[self.using]
        where, params = self._new_branches(org_id)
        sql = f"""
            INSERT INTO {agg} (period_id, org_id, org_path, month, count, avg, min, max, unqualified,
                               published_by_id, published_at, digest)
            SELECT g.period_id, g.org_id, g.org_path, g.month, g.n, g.avg, g.lo, g.hi, g.unq, %s, %s, d.digest
            FROM ({self._digest_table()}) d
            CROSS JOIN (SELECT period_id, org_id, MIN(org_path) AS org_path, MIN(month) AS month, COUNT(*) AS n,
                               ROUND(AVG(CAST(ROUND(total * 10) AS INTEGER)) / 10.0, 2) AS avg, MIN(total) AS lo,
                               MAX(total) AS hi, SUM(CASE WHEN qualified THEN 0 ELSE 1 END) AS unq
                        FROM {r} WHERE {where} GROUP BY period_id, org_id) g
            WHERE g.org_id = d.org_id
        """
        with conn.cursor() as cur:
            cur.execute(sql, [user_id, conn.ops.adapt_datetimefield_value(now),
                              json.dumps({str(k): v for k, v in digests.items()}), *params])
            return cur.rowcount

    def mark_published(self, user_id, now) -> int:
        e, t, agg = MemberEvaluation._meta.db_table, MemberTransition._meta.db_table, BranchAggregate._meta.db_table
        conn = connections[self.using]
        target = (f"period_id = %s AND state <> '{PUB}' AND org_id IN "
                  f"(SELECT org_id FROM {agg} WHERE period_id = %s)")
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {t} (evaluation_id, from_state, to_state, note, by_id, at) "
                f"SELECT id, state, '{PUB}', '', %s, %s FROM {e} WHERE {target}",
                [user_id, conn.ops.adapt_datetimefield_value(now), self.period.pk, self.period.pk])
            cur.execute(f"UPDATE {e} SET state = '{PUB}', version = version + 1, updated_at = %s WHERE {target}",
                        [conn.ops.adapt_datetimefield_value(now), self.period.pk, self.period.pk])
            return cur.rowcount

    def freeze_set(self, now) -> None:
        MemberStandardSet.objects.using(self.using).filter(pk=self.ms.pk, frozen_at__isnull=True).update(
            frozen_at=now)


def engine(period: AppraisalPeriod, using: str = DEFAULT_DB_ALIAS) -> MemberClose:
    return MemberClose(period, using)


def _lock_period(period: AppraisalPeriod) -> AppraisalPeriod:
    return (AppraisalPeriod.objects.select_for_update(of=("self",))
            .select_related("standard_set", "owner").get(pk=period.pk))


def _not_ready(period: AppraisalPeriod, org_id=None) -> list[str]:
    qs = (MemberEvaluation.objects.filter(period=period, exempt=False)
          .exclude(state__in=[AState.DETERMINED, AState.PUBLISHED]))
    if org_id is not None:
        qs = qs.filter(org_id=org_id)
    return list(qs.order_by("org_path", "member_name").values_list("member_name", flat=True)[:6])


def _u(user):
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def publish_branch(user, period: AppraisalPeriod, org) -> BranchAggregate:
    """公示 one branch's month: every member on its rolls must be determined (or exempt)."""
    require(user, "appraisal.determine", org.path)
    period = _lock_period(period)
    if period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月党员评价已结束。"))
    if BranchAggregate.objects.filter(period=period, org=org).exists():
        raise DomainError(_("{org}{month}的评价结果已公示。").format(org=org.name, month=period.label))
    waiting = _not_ready(period, org.pk)
    if waiting:
        raise DomainError(_("以下党员尚未评定，不能公示：{names}。").format(names="、".join(waiting[:5])
                                                                         + ("等" if len(waiting) > 5 else "")))
    if not MemberEvaluation.objects.filter(period=period, org=org, exempt=False, state=AState.DETERMINED).exists():
        raise DomainError(_("该支部本月没有需要公示的评价。"))
    now = timezone.now()
    close = engine(period)
    count = close.insert_results(org.pk, now)
    close.insert_aggregates(_u(user) and user.pk, now, close.digests(org.pk), org.pk)
    close.mark_published(_u(user) and user.pk, now)
    close.freeze_set(now)
    aggregate = BranchAggregate.objects.get(period=period, org=org)
    log_action(user, "appraisal.branch_published", period, org_path=org.path, org=org.name, month=period.label,
               members=count, avg=str(aggregate.avg))
    return aggregate


@transaction.atomic
def publish_ready(user, period: AppraisalPeriod) -> int:
    """The committee's staff publish every branch of the month whose members are all determined; returns the
    number of members published."""
    require(user, "appraisal.manage", period.owner.path)
    period = _lock_period(period)
    if period.status != PeriodStatus.OPEN:
        raise DomainError(_("该月党员评价已结束。"))
    now = timezone.now()
    close = engine(period)
    count = close.insert_results(None, now)
    branches = close.insert_aggregates(_u(user) and user.pk, now, close.digests())
    close.mark_published(_u(user) and user.pk, now)
    if count:
        close.freeze_set(now)
    log_action(user, "appraisal.published_ready", period, org_path=period.owner.path, month=period.label,
               members=count, branches=branches)
    return count


@transaction.atomic
def close_period(user, period: AppraisalPeriod) -> AppraisalPeriod:
    """End the month: publish what is ready; refused while a member of the subtree is not yet determined."""
    require(user, "appraisal.manage", period.owner.path)
    locked = _lock_period(period)
    if locked.status != PeriodStatus.OPEN:
        raise DomainError(_("该月党员评价已结束。"))
    waiting = _not_ready(locked)
    if waiting:
        raise DomainError(_("以下党员尚未评定，不能结束本月评价：{names}。").format(
            names="、".join(waiting[:5]) + ("等" if len(waiting) > 5 else "")))
    publish_ready(user, locked)
    locked.status = PeriodStatus.CLOSED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    log_action(user, "appraisal.period_closed", locked, org_path=locked.owner.path, month=locked.label)
    return locked
