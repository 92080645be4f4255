"""月兑现: the month close — totals, ranks, grades, the secretary's coefficient, per peer group figures, lock.

``finalize_period(user, period)`` closes a month in one transaction with a fixed number of set-based statements,
whatever the number of organizations:

1. lock the period row and check it is open, every evaluation is published (objections answered) and every
   publicity window (公示期, ``publicity_until``) has ended;
2. INSERT…SELECT the ``Result`` rows: item totals per evaluation, the score rate, RANK() per peer group (same
   level and type: 对标) and overall, the percentile, the grade from the period's rule (a CASE over score bands
   or rank shares; a veto gives the veto grade) and its coefficient, the current secretary's name;
3. INSERT…SELECT the ``PeerAggregate`` rows (count, average, minimum, maximum, median per peer group);
4. INSERT…SELECT one ``Transition`` per evaluation and UPDATE every evaluation to finalized;
5. freeze the standard set, store the SHA-256 digest of the results on the period, set it finalized, audit.

The database then refuses writes to the month (triggers, migration 0003); ``adjust_result`` is the one way to
correct a result afterwards: it records an ``Adjustment`` and recomputes the whole month's ranks and grades
through the same ranking SQL.

Numbers are computed in integer tenths inside the SQL (a total of 88.5 is 885; a rate of 93.3 % is 933), with
explicit half-up rounding by integer division (sums are cast back to BIGINT: PostgreSQL's SUM(bigint) is
numeric), so SQLite (which stores decimals as floating point) and PostgreSQL (exact numeric) give the same
figures to the last digit. Equal rates share a rank (1, 2, 2, 4): ranks depend only on the rates,
never on row order, so a re-run (a retried job, a restore drill) gives identical results.

Where the engines differ (the median, the guard that lets an adjustment through the triggers) ``close(period)``
returns a ``SqliteClose`` or a ``PostgresClose``: the same methods, one implementation per engine. Tests run both
against a pure-Python reference on the same data (tests/assessments/test_close.py).
"""

import datetime
import hashlib
import hmac
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dangjian.assessments.models import (
    Adjustment,
    EvalItem,
    Evaluation,
    PeerAggregate,
    Period,
    PeriodStatus,
    Result,
    State,
    Transition,
)
from dangjian.core.access import require
from dangjian.core.audit import log_action
from dangjian.core.errors import ConflictError, DomainError
from dangjian.orgs.models import CommitteeSeat, Duty, Member
from dangjian.standards.services import SYSTEM, mark_frozen

HUNDRED_TENTHS = 1000  # 100 % in tenths of a percent
MAX_COEFFICIENT = Decimal("9.99")


# ---- the grade rule -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    name: str
    threshold: int  # bands: minimum rate in tenths of a percent; shares: cumulative share in tenths of a percent
    coefficient: Decimal


@dataclass(frozen=True)
class Rule:
    """A period's grade rule, checked and normalized: grades best first."""

    mode: str  # "bands" or "shares"
    grades: tuple[Grade, ...]
    veto_grade: str

    def coefficient_of(self, grade: str) -> Decimal:
        return next(g.coefficient for g in self.grades if g.name == grade)


def _tenths(value, *, low: Decimal, high: Decimal) -> int | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite() or number < low or number > high or number != number.quantize(Decimal("0.1")):
        return None
    return int(number * 10)


def parse_rule(raw) -> Rule:
    """Check a period's ``grade_rule`` and normalize it; a broken rule is refused with a Chinese sentence.

    bands:  {"mode": "bands", "bands": [{"grade": "A", "min": "95", "coefficient": "1.10"}, …], "veto_grade": "D"}
            the first band (highest ``min`` first) whose minimum the score rate reaches; below every minimum,
            the lowest band.
    shares: {"mode": "shares", "shares": [{"grade": "A", "share": "20", "coefficient": "1.10"}, …], …}
            ``share`` is cumulative from the top of the peer group: A for the top 20 %, B down to the top 70 %, …
            An organization gets the first grade whose share the organizations ranked above it stay under
            ((rank − 1) / size < share); equal rates share a rank and so the grade. The last grade takes the rest.
    A vetoed organization (一票否决) gets ``veto_grade`` (default: the lowest grade) and its coefficient.
    """
    raw = raw if isinstance(raw, dict) else {}
    mode = raw.get("mode")
    if mode not in ("bands", "shares"):
        raise DomainError(_("评级规则的方式应为“按分数段”（bands）或“按名次比例”（shares）。"), "grade_rule")
    entries = raw.get(mode)
    if not isinstance(entries, list) or not entries:
        raise DomainError(_("评级规则不完整：请至少设置一个等级。"), "grade_rule")
    grades, seen = [], set()
    for entry in entries:
        entry = entry if isinstance(entry, dict) else {}
        name = str(entry.get("grade") or "").strip()
        if not name or len(name) > 10:
            raise DomainError(_("等级名称不能为空，且不超过10个字。"), "grade_rule")
        if name in seen:
            raise DomainError(_("等级“{grade}”重复。").format(grade=name), "grade_rule")
        seen.add(name)
        if mode == "bands":
            threshold = _tenths(entry.get("min"), low=Decimal(0), high=Decimal(100))
            if threshold is None:
                raise DomainError(_("等级“{grade}”的分数线应为 0 至 100 之间、最多一位小数的数。").format(grade=name),
                                  "grade_rule")
        else:
            threshold = _tenths(entry.get("share"), low=Decimal("0.1"), high=Decimal(100))
            if threshold is None:
                raise DomainError(
                    _("等级“{grade}”的名次比例应为大于 0、不超过 100、最多一位小数的百分数。").format(grade=name),
                    "grade_rule")
        try:
            coefficient = Decimal(str(entry.get("coefficient")).strip())
        except (InvalidOperation, ValueError):
            coefficient = None
        if coefficient is None or not coefficient.is_finite() or not Decimal(0) <= coefficient <= MAX_COEFFICIENT \
                or coefficient != coefficient.quantize(Decimal("0.01")):
            raise DomainError(_("等级“{grade}”的兑现系数应为 0 至 9.99 之间、最多两位小数的数。").format(grade=name),
                              "grade_rule")
        grades.append(Grade(name, threshold, coefficient.quantize(Decimal("0.01"))))
    # Best first: the highest minimum rate, or the smallest share of the top.
    grades.sort(key=lambda g: -g.threshold if mode == "bands" else g.threshold)
    veto = str(raw.get("veto_grade") or grades[-1].name).strip()
    if veto not in seen:
        raise DomainError(_("一票否决对应的等级“{grade}”不在评级规则中。").format(grade=veto), "grade_rule")
    return Rule(mode, tuple(grades), veto)


# ---- the two engines behind one interface --------------------------------------------------------------------


class BaseClose:
    """The month close's SQL for one period. Subclasses supply what differs between engines: the median of a
    peer group and the guard that lets an adjustment rewrite results through the triggers."""

    vendor = ""

    def __init__(self, period: Period, using: str = DEFAULT_DB_ALIAS):
        self.period = period
        self.using = using
        self.conn = connections[using]
        qn = self.conn.ops.quote_name
        self.t = {name: qn(model._meta.db_table) for name, model in [
            ("result", Result), ("aggregate", PeerAggregate), ("evaluation", Evaluation), ("item", EvalItem),
            ("transition", Transition), ("seat", CommitteeSeat), ("member", Member)]}
        self.qn = qn

    def _execute(self, sql: str, params=()) -> int:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount

    # -- the ranking, shared by the close and by adjustments --

    def base_from_items(self) -> tuple[str, list]:
        """One row per evaluation of the period: final total (assessor score where present, else self score),
        full marks and veto, in integer tenths."""
        t = self.t
        # The items are summed by evaluation id alone (an inner join, grouped by one integer), then joined to the
        # month's evaluations, so one without items still gets its row (0 of 0). Grouping the outer join of every
        # evaluation column instead costs ~25 % more on PostgreSQL at 3,000 organizations.
        return (
            f"SELECT e.id AS evaluation_id, e.org_id, e.org_name, e.org_path, e.level, e.org_type_id, "
            f"COALESCE(a.t, 0) AS t, COALESCE(a.m, 0) AS m, COALESCE(a.v, 0) AS v "
            f"FROM {t['evaluation']} e LEFT JOIN ("
            f"SELECT i.evaluation_id, "
            f"CAST(SUM(CAST(ROUND(COALESCE(i.assessor_score, i.self_score, 0) * 10) AS INTEGER)) AS BIGINT) AS t, "
            f"CAST(SUM(CAST(ROUND(i.max_points * 10) AS INTEGER)) AS BIGINT) AS m, "
            f"MAX(CASE WHEN i.vetoed THEN 1 ELSE 0 END) AS v "
            f"FROM {t['item']} i JOIN {t['evaluation']} ie ON ie.id = i.evaluation_id WHERE ie.period_id = %s "
            f"GROUP BY i.evaluation_id) a ON a.evaluation_id = e.id "
            f"WHERE e.period_id = %s",
            [self.period.pk, self.period.pk],
        )

    def base_from_results(self) -> tuple[str, list]:
        """The same columns from the month's results (after an adjustment changed a total)."""
        return (
            f"SELECT evaluation_id, org_id, org_name, org_path, level, org_type_id, "
            f"CAST(ROUND(total * 10) AS BIGINT) AS t, CAST(ROUND(max_total * 10) AS BIGINT) AS m, "
            f"CASE WHEN vetoed THEN 1 ELSE 0 END AS v FROM {self.t['result']} WHERE period_id = %s",
            [self.period.pk],
        )

    def ranking(self, base: tuple[str, list], rule: Rule) -> tuple[str, list]:
        """``WITH base, rated, ranked, graded``: graded has the base columns and r (rate in tenths of a percent,
        half up), peer_rank, peer_rank_up (rank from the bottom, for the percentile), peer_size, overall_rank,
        overall_size, grade."""
        base_sql, params = base
        peer = "PARTITION BY x.level, x.org_type_id"
        if rule.mode == "bands":
            whens = " ".join(f"WHEN y.r >= {int(g.threshold)} THEN %s" for g in rule.grades[:-1])
        else:
            whens = " ".join(f"WHEN (y.peer_rank - 1) * {HUNDRED_TENTHS} < {int(g.threshold)} * y.peer_size THEN %s"
                             for g in rule.grades[:-1])
        sql = (
            f"WITH base AS ({base_sql}), "
            f"rated AS (SELECT b.*, CASE WHEN b.m > 0 THEN (2000 * b.t + b.m) / (2 * b.m) ELSE 0 END AS r "
            f"FROM base b), "
            f"ranked AS (SELECT x.*, "
            f"RANK() OVER ({peer} ORDER BY x.r DESC) AS peer_rank, "
            f"RANK() OVER ({peer} ORDER BY x.r) AS peer_rank_up, "
            f"COUNT(*) OVER ({peer}) AS peer_size, "
            f"RANK() OVER (ORDER BY x.r DESC) AS overall_rank, "
            f"COUNT(*) OVER () AS overall_size FROM rated x), "
            f"graded AS (SELECT y.*, CASE WHEN y.v = 1 THEN %s {whens} ELSE %s END AS grade FROM ranked y) "
        )
        params = params + [rule.veto_grade] + [g.name for g in rule.grades[:-1]] + [rule.grades[-1].name]
        return sql, params

    @staticmethod
    def _coefficient_case(rule: Rule, column: str) -> tuple[str, list]:
        whens = " ".join("WHEN %s THEN %s" for _g in rule.grades)
        params = []
        for g in rule.grades:
            params += [g.name, g.coefficient]
        return f"CASE {column} {whens} END", params

    @staticmethod
    def _percentile(alias: str) -> str:
        # PERCENT_RANK() ascending (share of the peer group with a lower rate) in tenths of a percent, half up.
        return (f"CASE WHEN {alias}.peer_size > 1 THEN (2000 * ({alias}.peer_rank_up - 1) + {alias}.peer_size - 1) "
                f"/ (2 * ({alias}.peer_size - 1)) ELSE 0 END")

    def insert_results(self, rule: Rule) -> int:
        """One INSERT…SELECT of every result of the month."""
        t = self.t
        ctes, params = self.ranking(self.base_from_items(), rule)
        coefficient, coef_params = self._coefficient_case(rule, "g.grade")
        sql = (
            f"INSERT INTO {t['result']} (period_id, evaluation_id, org_id, org_name, org_path, level, org_type_id, "
            f"total, max_total, score_rate, vetoed, peer_rank, peer_size, overall_rank, overall_size, percentile, "
            f"grade, coefficient, secretary) "
            f"{ctes}"
            f"SELECT %s, g.evaluation_id, g.org_id, g.org_name, g.org_path, g.level, g.org_type_id, "
            f"g.t / 10.0, g.m / 10.0, g.r / 10.0, g.v = 1, g.peer_rank, g.peer_size, g.overall_rank, "
            f"g.overall_size, {self._percentile('g')} / 10.0, g.grade, {coefficient}, "
            # The secretary in office: an indexed look-up per row (the partial unique index one_current_secretary
            # has exactly this condition); a join to a derived table made SQLite scan it for every row.
            f"COALESCE((SELECT m.name FROM {t['seat']} s JOIN {t['member']} m ON m.id = s.member_id "
            f"WHERE s.org_id = g.org_id AND s.duty = '{Duty.SECRETARY.value}' AND s.until IS NULL), '') "
            f"FROM graded g"
        )
        return self._execute(sql, params + [self.period.pk] + coef_params)

    def recompute_results(self, rule: Rule) -> int:
        """After a total changed: the same ranking over the month's results, written back with one UPDATE."""
        t = self.t
        ctes, params = self.ranking(self.base_from_results(), rule)
        coefficient, coef_params = self._coefficient_case(rule, "g.grade")
        sql = (
            f"{ctes}"
            f"UPDATE {t['result']} SET score_rate = g.r / 10.0, peer_rank = g.peer_rank, peer_size = g.peer_size, "
            f"overall_rank = g.overall_rank, overall_size = g.overall_size, "
            f"percentile = {self._percentile('g')} / 10.0, grade = g.grade, coefficient = {coefficient} "
            f"FROM graded g WHERE {t['result']}.evaluation_id = g.evaluation_id AND {t['result']}.period_id = %s"
        )
        return self._execute(sql, params + coef_params + [self.period.pk])

    # -- per peer group figures --

    def median_select(self) -> str:
        """SELECT over CTE ``r`` (level, org_type_id, org_path, t) giving one row per peer group:
        (period_id, level, org_type_id, count, avg, min, max, median)."""
        raise NotImplementedError

    def insert_aggregates(self) -> int:
        t, qn = self.t, self.qn
        cols = ", ".join(qn(c) for c in ["period_id", "level", "org_type_id", "count", "avg", "min", "max", "median"])
        sql = (
            f"INSERT INTO {t['aggregate']} ({cols}) "
            f"WITH r AS (SELECT level, org_type_id, org_path, CAST(ROUND(total * 10) AS BIGINT) AS t "
            f"FROM {t['result']} WHERE period_id = %s) "
            f"{self.median_select()}"
        )
        return self._execute(sql, [self.period.pk, self.period.pk])

    @staticmethod
    def _common_figures() -> str:
        # avg in hundredths, half up; min and max in tenths.
        return ("COUNT(*), (20 * CAST(SUM(t) AS BIGINT) + COUNT(*)) / (2 * COUNT(*)) / 100.0, MIN(t) / 10.0, "
                "MAX(t) / 10.0")

    def replace_aggregates(self) -> int:
        self._execute(f"DELETE FROM {self.t['aggregate']} WHERE period_id = %s", [self.period.pk])
        return self.insert_aggregates()

    # -- states --

    def finalize_evaluations(self, user_id, now, expected: int) -> int:
        """Every published evaluation of the month to 已兑现, then one Transition row each (已公示 → 已兑现).

        Runs first in the close: the UPDATE locks the month's evaluations until the commit, so nothing can move
        one of them (an objection, a correction) while the results are computed. Only rows still 已公示 are
        updated: if another transaction moved one since the close counted the states (an objection raised at
        that moment — under READ COMMITTED PostgreSQL re-checks the condition after waiting for that row), fewer
        rows than ``expected`` change and the close refuses; the caller's transaction rolls everything back."""
        t = self.t
        when = self.conn.ops.adapt_datetimefield_value(now)
        n = self._execute(
            f"UPDATE {t['evaluation']} SET state = %s, version = version + 1, updated_at = %s "
            f"WHERE period_id = %s AND state = %s",
            [State.FINALIZED.value, when, self.period.pk, State.PUBLISHED.value],
        )
        if n != expected:
            raise ConflictError(_("兑现过程中有组织的考评状态发生了变化（例如刚刚提出了异议），本次兑现未执行，"
                                  "请刷新页面核对后重试。"))
        self._execute(
            f"INSERT INTO {t['transition']} (evaluation_id, from_state, to_state, note, by_id, at) "
            f"SELECT id, %s, %s, '', %s, %s FROM {t['evaluation']} WHERE period_id = %s",
            [State.PUBLISHED.value, State.FINALIZED.value, user_id, when, self.period.pk],
        )
        return n

    # -- the digest --

    def digest(self) -> str:
        """SHA-256 over the canonical result rows (org id, total, peer rank, overall rank, grade, coefficient)
        ordered by org id, with the period's identity first. Numbers come out of the SQL as integers (tenths,
        hundredths), so the text is the same on every engine."""
        h = hashlib.sha256(f"dangjian-close-v1|{self.period.pk}|{self.period.owner_id}|{self.period.month:%Y-%m}\n"
                           .encode())
        with self.conn.cursor() as cur:
            cur.execute(
                f"SELECT org_id, CAST(ROUND(total * 10) AS BIGINT), peer_rank, overall_rank, grade, "
                f"CAST(ROUND(coefficient * 100) AS BIGINT) FROM {self.t['result']} WHERE period_id = %s "
                f"ORDER BY org_id", [self.period.pk])
            rows = cur.fetchall()
        # total 88.5 → "88.5", coefficient 1.1 → "1.10" (both non-negative integers here)
        h.update("".join(f"{org_id}|{total // 10}.{total % 10}|{peer_rank}|{overall_rank}|{grade}|"
                         f"{coefficient // 100}.{coefficient % 100:02d}\n"
                         for org_id, total, peer_rank, overall_rank, grade, coefficient in rows).encode())
        return h.hexdigest()

    # -- the guard of the adjustment path --

    def _guard(self, cur, on: bool) -> None:
        raise NotImplementedError

    @contextmanager
    def adjusting(self):
        """Let the statements inside rewrite results, aggregates and the digest of a finalized month. Only inside
        a transaction, in a savepoint of its own: on any error the guard goes with the rolled-back work."""
        if not self.conn.in_atomic_block:
            raise RuntimeError("adjusting() needs a transaction")
        with transaction.atomic(using=self.using):
            with self.conn.cursor() as cur:
                self._guard(cur, True)
            yield self
            with self.conn.cursor() as cur:
                self._guard(cur, False)


class SqliteClose(BaseClose):
    vendor = "sqlite"

    def median_select(self) -> str:
        # The middle one or two rows of each peer group by ROW_NUMBER(); their sum × 2 / count is the median in
        # twentieths (exact: a half-tenth at most).
        mid = "o.rn IN ((o.n + 1) / 2, (o.n + 2) / 2)"
        return (
            f", o AS (SELECT level, org_type_id, t, "
            f"ROW_NUMBER() OVER (PARTITION BY level, org_type_id ORDER BY t, org_path) AS rn, "
            f"COUNT(*) OVER (PARTITION BY level, org_type_id) AS n FROM r) "
            f"SELECT %s, level, org_type_id, {self._common_figures()}, "
            f"CAST(SUM(CASE WHEN {mid} THEN t ELSE 0 END) AS BIGINT) * 2 "
            f"/ SUM(CASE WHEN {mid} THEN 1 ELSE 0 END) / 20.0 "
            f"FROM o GROUP BY level, org_type_id"
        )

    def _guard(self, cur, on: bool) -> None:
        # A row in assessments_adjusting opens the triggers; SQLite has one writer at a time and the row never
        # outlives this transaction, so no other connection ever sees it.
        if on:
            cur.execute("INSERT INTO assessments_adjusting DEFAULT VALUES")
        else:
            cur.execute("DELETE FROM assessments_adjusting")


class PostgresClose(BaseClose):
    vendor = "postgresql"

    def base_from_items(self) -> tuple[str, list]:
        # Each evaluation's items summed through the index on evaluation_id (LATERAL): the work grows with the
        # month, not with the table. PostgreSQL's planner otherwise reads every month's items in a sequential
        # scan (4× slower with a year of history at 3,000 organizations, and worse each month).
        t = self.t
        return (
            f"SELECT e.id AS evaluation_id, e.org_id, e.org_name, e.org_path, e.level, e.org_type_id, "
            f"COALESCE(a.t, 0) AS t, COALESCE(a.m, 0) AS m, COALESCE(a.v, 0) AS v "
            f"FROM {t['evaluation']} e CROSS JOIN LATERAL ("
            f"SELECT CAST(SUM(CAST(ROUND(COALESCE(i.assessor_score, i.self_score, 0) * 10) AS INTEGER)) AS BIGINT) "
            f"AS t, CAST(SUM(CAST(ROUND(i.max_points * 10) AS INTEGER)) AS BIGINT) AS m, "
            f"MAX(CASE WHEN i.vetoed THEN 1 ELSE 0 END) AS v "
            f"FROM {t['item']} i WHERE i.evaluation_id = e.id) a "
            f"WHERE e.period_id = %s",
            [self.period.pk],
        )

    def _no_jit(self) -> None:
        # The estimated cost of the close's statements (a sub-select per organization for its secretary) passes
        # PostgreSQL's JIT thresholds, and compiling them took 640 ms for a statement that runs in 110 ms at
        # 3,000 organizations. SET LOCAL: for this transaction only.
        self._execute("SET LOCAL jit = off")

    def insert_results(self, rule: Rule) -> int:
        self._no_jit()
        return super().insert_results(rule)

    def recompute_results(self, rule: Rule) -> int:
        self._no_jit()
        return super().recompute_results(rule)

    def median_select(self) -> str:
        # PERCENTILE_CONT over integer tenths gives a whole or half tenth: × 2 is an exact integer (twentieths).
        return (
            f"SELECT %s, level, org_type_id, {self._common_figures()}, "
            f"CAST(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY t) * 2 AS BIGINT) / 20.0 "
            f"FROM r GROUP BY level, org_type_id"
        )

    def _guard(self, cur, on: bool) -> None:
        # SET LOCAL: the setting ends with the transaction, or with the savepoint if that rolls back.
        cur.execute("SELECT set_config('dangjian.adjusting', %s, true)", ["on" if on else "off"])


ENGINES = {"sqlite": SqliteClose, "postgresql": PostgresClose}


def close(period: Period, using: str = DEFAULT_DB_ALIAS) -> BaseClose:
    """The month close's implementation for the database in use."""
    vendor = connections[using].vendor
    try:
        return ENGINES[vendor](period, using)
    except KeyError:
        raise NotImplementedError(f"month close: no implementation for {vendor}") from None


# ---- the services ------------------------------------------------------------------------------------------


def _check(user, action: str, path: str) -> None:
    if user is not SYSTEM:  # background jobs and commands act as the system
        require(user, action, path)


def _u(user):
    return user if getattr(user, "is_authenticated", False) else None


def _lock_period(pk) -> Period:
    return Period.objects.select_for_update(of=("self",)).select_related("owner", "standard_set").get(pk=pk)


# ---- the publicity window (公示期) ------------------------------------------------------------------------------


class FinalizeRefused(DomainError):
    """The month cannot be finalized in its present state (already finalized, or the publicity window is still
    open): the API answers 409."""


def window_end(first_published_at, objection_days: int) -> datetime.date | None:
    """The last day of one evaluation's publicity window (公示期): ``objection_days`` calendar days after the
    (local) day of its first move to 已公示, that day itself not counted. Published on 10-03 with 3 days: objections
    may come on 10-03 … 10-06, the month may be finalized from 10-07. ``objection_days`` = 0: no window (None)."""
    if not objection_days or first_published_at is None:
        return None
    return timezone.localtime(first_published_at).date() + datetime.timedelta(days=objection_days)


def publicity_until(period: Period) -> datetime.date | None:
    """The last day of the latest publicity window of the month's evaluations, whether or not it has passed;
    None when the month has no window (``objection_days`` = 0, or nothing published yet). One query: the latest
    of the evaluations' first publications."""
    if not period.objection_days:
        return None
    latest = (Transition.objects.filter(evaluation__period_id=period.pk, to_state=State.PUBLISHED)
              .values("evaluation_id").annotate(first=Min("at")).order_by("-first")
              .values_list("first", flat=True).first())
    return window_end(latest, period.objection_days)


def publicity_open_until(period: Period, today: datetime.date | None = None) -> datetime.date | None:
    """The last day of the publicity window while it is still open today, else None."""
    until = publicity_until(period)
    today = today or timezone.localdate()
    return until if until is not None and today <= until else None


def finalize_period(user, period: Period, *, at: datetime.datetime | None = None) -> Period:
    """月兑现: close the month. Refused unless every evaluation is published and every publicity window has
    ended (``publicity_until``); refused (and nothing changes) for a month already finalized, so a retried job has
    no effect. All or nothing: one transaction. ``at``: the time recorded as the close's (the demo's past months);
    now by default."""
    with transaction.atomic():
        period_obj = period
        period = _lock_period(period.pk)
        _check(user, "eval.manage", period.owner.path)
        if period.status == PeriodStatus.FINALIZED:
            raise FinalizeRefused(_("{month}的考评已于{when}兑现，不能重复兑现；如需更正，请使用“调整”并说明理由。").format(
                month=period.label, when=timezone.localtime(period.finalized_at).strftime("%Y-%m-%d %H:%M")
                if period.finalized_at else ""))
        rule = parse_rule(period.grade_rule)
        counts = dict(period.evaluations.order_by().values_list("state").annotate(
            n=Count("id")).values_list("state", "n"))
        if not counts:
            raise DomainError(_("{month}没有需要兑现的组织考评。").format(month=period.label))
        behind = {s: n for s, n in counts.items() if s != State.PUBLISHED}
        if behind:
            order = [s.value for s in State]
            detail = pgettext("list separator", "、").join(_("{state}{n}个").format(state=State(s).label, n=n)
                              for s, n in sorted(behind.items(), key=lambda kv: order.index(kv[0])))
            raise DomainError(_("还有{n}个组织的考评未处于“已公示”状态（{detail}），请先完成考评、公示并答复全部异议后再兑现。")
                              .format(n=sum(behind.values()), detail=detail))
        until = publicity_open_until(period)
        if until is not None:
            raise FinalizeRefused(
                _("{month}的考评结果仍在公示期内（公示期至{until}），期间组织可以提出异议；请于{next}及以后再兑现。")
                .format(month=period.label, until=f"{until:%Y-%m-%d}",
                        next=f"{until + datetime.timedelta(days=1):%Y-%m-%d}"))
        now = at or timezone.now()
        engine = close(period)
        engine.finalize_evaluations(_u(user).pk if _u(user) else None, now, expected=sum(counts.values()))
        n = engine.insert_results(rule)
        engine.insert_aggregates()
        mark_frozen(period.standard_set, now)
        digest = engine.digest()
        Period.objects.filter(pk=period.pk).update(status=PeriodStatus.FINALIZED, finalized_at=now, digest=digest)
        grades = dict(Result.objects.filter(period=period).order_by().values_list("grade").annotate(
            n=Count("id")).values_list("grade", "n"))
        log_action(_u(user), "period.finalized", period, org_path=period.owner.path,
                   after={"month": period.label, "organizations": n, "grades": grades, "digest": digest})
    for obj in (period, period_obj):
        obj.status, obj.finalized_at, obj.digest = PeriodStatus.FINALIZED, now, digest
    return period


def verify_digest(period: Period, *, fresh: bool = False) -> bool:
    """Do the stored results still match the digest taken when the month was finalized (or last adjusted)?
    ``fresh``: ``period`` was read from the database in this request, so its ``digest`` is used as it is (one
    query fewer for the pages); otherwise the stored digest is read again."""
    stored = period.digest if fresh else Period.objects.filter(pk=period.pk).values_list("digest", flat=True).first()
    if not stored:
        return False
    return hmac.compare_digest(close(period).digest(), stored)


def check_digest(period: Period, *, fresh: bool = False) -> None:
    """For walls, rankings and PDFs of a finalized month: refuse to show results that no longer match."""
    if not verify_digest(period, fresh=fresh):
        raise DomainError(_("{month}兑现结果的校验值不符，结果可能被改动，暂不能展示或导出，请联系系统管理员。")
                          .format(month=period.label))


RESULT_FIELDS = ["total", "score_rate", "peer_rank", "overall_rank", "percentile", "grade", "coefficient"]


def adjust_result(user, result: Result, new_total, reason: str) -> Adjustment:
    """兑现后调整: correct one organization's total in a finalized month, with a reason. The whole month's ranks,
    grades and coefficients are recomputed set-based (one organization's change can move others), the peer
    group figures and the digest are rebuilt, the Adjustment row and the audit event record it."""
    from dangjian.assessments.services import parse_score

    with transaction.atomic():
        period = _lock_period(result.period_id)
        _check(user, "eval.manage", period.owner.path)
        if period.status != PeriodStatus.FINALIZED:
            raise DomainError(_("只有已兑现的月份才需要调整；本月尚未兑现，请直接修改评分。"))
        result = Result.objects.get(pk=result.pk)
        reason = (reason or "").strip()
        if not reason:
            raise DomainError(_("请填写调整理由。"), "reason")
        if len(reason) > 500:
            raise DomainError(_("调整理由不能超过500字。"), "reason")
        new_total = parse_score(new_total, result.max_total)
        if new_total == result.total:
            raise DomainError(_("调整后的得分与原得分相同，无需调整。"), "new_total")
        rule = parse_rule(period.grade_rule)
        before_all = dict(Result.objects.filter(period=period).values_list("pk", "grade"))
        before = {f: getattr(result, f) for f in RESULT_FIELDS}
        engine = close(period)
        with engine.adjusting():
            Result.objects.filter(pk=result.pk).update(total=new_total)
            engine.recompute_results(rule)
            engine.replace_aggregates()
            digest = engine.digest()
            Period.objects.filter(pk=period.pk).update(digest=digest)
        adjustment = Adjustment.objects.create(result=result, old_total=before["total"], new_total=new_total,
                                               reason=reason, by=_u(user))
        result.refresh_from_db()
        after_all = Result.objects.filter(period=period).values_list("pk", "org_name", "grade")
        regraded = [{"org": name, "before": before_all.get(pk), "after": grade}
                    for pk, name, grade in after_all if pk != result.pk and before_all.get(pk) != grade]
        log_action(_u(user), "evaluation.adjusted", result, org_path=result.org_path,
                   before=before, after={f: getattr(result, f) for f in RESULT_FIELDS}, reason=reason,
                   month=period.label, others_regraded=regraded[:50], others_regraded_count=len(regraded),
                   digest=digest)
    period.digest = digest
    return adjustment


__all__ = ["finalize_period", "adjust_result", "FinalizeRefused", "window_end", "publicity_until",
           "publicity_open_until", "verify_digest", "check_digest", "close", "parse_rule",
           "SqliteClose", "PostgresClose", "Rule", "Grade"]
