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

The database refuses changes to a published month afterwards (triggers, migration 0003). ``close_period`` ends a
month for the whole subtree: it publishes what is ready and refuses while a member is not yet determined.

The statements are the same SQL on SQLite and PostgreSQL (window functions and CTEs are in both); ``MemberClose``
is the one interface, ``engine(period)`` returns it per connection, as the organization close does.
"""

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

    def insert_aggregates(self, user_id, now) -> int:
        r, agg = MemberResult._meta.db_table, BranchAggregate._meta.db_table
        conn = connections[self.using]
        sql = f"""
            INSERT INTO {agg} (period_id, org_id, org_path, month, count, avg, min, max, unqualified,
                               published_by_id, published_at, digest)
            SELECT period_id, org_id, MIN(org_path), MIN(month), COUNT(*),
                   ROUND(AVG(CAST(ROUND(total * 10) AS INTEGER)) / 10.0, 2), MIN(total), MAX(total),
                   SUM(CASE WHEN qualified THEN 0 ELSE 1 END), %s, %s, ''
            FROM {r}
            WHERE period_id = %s AND org_id NOT IN (SELECT org_id FROM {agg} WHERE period_id = %s)
            GROUP BY period_id, org_id
        """
        with conn.cursor() as cur:
            cur.execute(sql, [user_id, conn.ops.adapt_datetimefield_value(now), self.period.pk, self.period.pk])
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
    close.insert_aggregates(_u(user) and user.pk, now)
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
    branches = close.insert_aggregates(_u(user) and user.pk, now)
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
