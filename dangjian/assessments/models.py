"""The monthly evaluation of Party organizations: 月小结、月考评、月兑现.

A committee opens a ``Period`` (one month) for its subtree. Every organization in scope gets an ``Evaluation``
with one ``EvalItem`` per standard item that applies to its level and type, and a snapshot of what the
organization was that month (name, path, level, type), so later moves and merges do not rewrite the past.

States are explicit (``State``) and moved only through ``TRANSITIONS`` (from, to, roles), which both the pages
(which buttons to show) and the services (what to refuse) read; every move writes a ``Transition`` row.
Every score change appends a ``ScoreEntry``: scores are facts with history. The month close writes ``Result``
rows, per peer group ``PeerAggregate`` rows and a digest on the period; a finalized month is locked in the
database itself (triggers, migration 0002).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from dangjian.orgs.models import ChoiceLabel, Level, Organization, OrgType, Role
from dangjian.standards.models import Item, StandardSet

ZERO = Decimal("0")


class State(models.TextChoices):
    NOT_STARTED = "not_started", ChoiceLabel(gettext_noop("未开始"))
    SUBMITTED = "submitted", ChoiceLabel(gettext_noop("已报送"))
    SELF_ASSESSED = "self_assessed", ChoiceLabel(gettext_noop("已自评"))
    ASSESSED = "assessed", ChoiceLabel(gettext_noop("已考评"))
    PUBLISHED = "published", ChoiceLabel(gettext_noop("已公示"))
    OBJECTED = "objected", ChoiceLabel(gettext_noop("有异议"))
    FINALIZED = "finalized", ChoiceLabel(gettext_noop("已兑现"))


S = State
SEC, ASSESSOR, STAFF, ADMIN = Role.SECRETARY, Role.ASSESSOR, Role.STAFF, Role.ADMIN

# (from, to, roles that may make the move, button label). The pages show the moves a user may make; the
# services refuse every other move. Finalizing is done for a whole period by the month close.
TRANSITIONS: list[tuple[str, str, frozenset, str]] = [
    (S.NOT_STARTED, S.SUBMITTED, frozenset({SEC, STAFF, ADMIN}), gettext_noop("报送月小结")),
    (S.SUBMITTED, S.SELF_ASSESSED, frozenset({SEC, STAFF, ADMIN}), gettext_noop("提交自评")),
    (S.SUBMITTED, S.NOT_STARTED, frozenset({STAFF, ADMIN}), gettext_noop("退回报送")),
    (S.SELF_ASSESSED, S.ASSESSED, frozenset({ASSESSOR, STAFF, ADMIN}), gettext_noop("提交考评")),
    (S.SELF_ASSESSED, S.SUBMITTED, frozenset({STAFF, ADMIN}), gettext_noop("退回自评")),
    (S.ASSESSED, S.SELF_ASSESSED, frozenset({STAFF, ADMIN}), gettext_noop("退回考评")),
    (S.ASSESSED, S.PUBLISHED, frozenset({STAFF, ADMIN}), gettext_noop("公示")),
    (S.PUBLISHED, S.OBJECTED, frozenset({SEC, STAFF, ADMIN}), gettext_noop("提出异议")),
    (S.OBJECTED, S.PUBLISHED, frozenset({STAFF, ADMIN}), gettext_noop("答复异议")),
    (S.PUBLISHED, S.FINALIZED, frozenset({STAFF, ADMIN}), gettext_noop("兑现")),
]


def allowed_transition(from_state: str, to_state: str):
    for row in TRANSITIONS:
        if row[0] == from_state and row[1] == to_state:
            return row
    return None


class PeriodStatus(models.TextChoices):
    OPEN = "open", ChoiceLabel(gettext_noop("进行中"))
    FINALIZED = "finalized", ChoiceLabel(gettext_noop("已兑现"))


def default_grade_rule():
    """Score bands (DOMAIN.md 月兑现 coefficients, assumed defaults a committee changes per period)."""
    return {
        "mode": "bands",
        "bands": [
            {"grade": "A", "min": "95", "coefficient": "1.10"},
            {"grade": "B", "min": "85", "coefficient": "1.00"},
            {"grade": "C", "min": "75", "coefficient": "0.95"},
            {"grade": "D", "min": "0", "coefficient": "0.90"},
        ],
        "veto_grade": "D",
    }


class Period(models.Model):
    """One month of evaluation for the subtree of ``owner``."""

    SCOPE_PATH = "owner__path"

    owner = models.ForeignKey(Organization, verbose_name=_("组织考评的党委"), related_name="periods",
                              on_delete=models.PROTECT)
    month = models.DateField(_("考评月份"), help_text=_("该月的第一天"))
    standard_set = models.ForeignKey(StandardSet, verbose_name=_("考评标准"), related_name="periods",
                                     on_delete=models.PROTECT)
    status = models.CharField(_("状态"), max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    submit_due = models.DateField(_("报送截止"))
    self_due = models.DateField(_("自评截止"))
    assess_due = models.DateField(_("考评截止"))
    objection_days = models.PositiveSmallIntegerField(_("公示期（天）"), default=3)
    grade_rule = models.JSONField(_("评级规则"), default=default_grade_rule)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                  on_delete=models.SET_NULL)
    opened_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(_("兑现时间"), null=True, blank=True)
    digest = models.CharField(_("结果摘要"), max_length=64, blank=True)

    class Meta:
        ordering = ["-month", "owner__path"]
        verbose_name = pgettext_lazy("model name", "考评月份")
        verbose_name_plural = pgettext_lazy("model name plural", "考评月份")
        constraints = [
            models.UniqueConstraint(fields=["owner", "month"], name="one_period_per_owner_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="period_month_is_first_day"),
        ]

    def __str__(self):
        return f"{self.owner} {self.month:%Y-%m}"

    @property
    def label(self):
        return f"{self.month:%Y-%m}"

    @property
    def is_finalized(self):
        return self.status == PeriodStatus.FINALIZED


class Evaluation(models.Model):
    """One organization's month: its summary, items, state and totals; the org as it was that month."""

    SCOPE_PATH = "org_path"

    # Few indexes on purpose: the close rewrites every row of a month (state 已兑现), and each index costs that
    # UPDATE (migration 0004). Lookups by period go through the unique (period, org) and (period, level, type).
    period = models.ForeignKey(Period, related_name="evaluations", on_delete=models.CASCADE, db_index=False)
    org = models.ForeignKey(Organization, verbose_name=_("党组织"), related_name="evaluations",
                            on_delete=models.PROTECT)
    # The organization as it was when the month was opened: ranking and scoping of this month use these.
    org_name = models.CharField(_("组织名称"), max_length=100)
    org_path = models.CharField(max_length=255, db_index=True)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    org_type = models.ForeignKey(OrgType, verbose_name=_("类型"), null=True, blank=True, on_delete=models.PROTECT,
                                 db_index=False)
    state = models.CharField(_("状态"), max_length=15, choices=State.choices, default=State.NOT_STARTED)
    summary = models.TextField(_("月小结"), max_length=5000, blank=True)
    max_total = models.DecimalField(_("满分"), max_digits=6, decimal_places=1, default=ZERO)
    self_total = models.DecimalField(_("自评得分"), max_digits=6, decimal_places=1, null=True, blank=True)
    assessor_total = models.DecimalField(_("考评得分"), max_digits=6, decimal_places=1, null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period", "org_path"]
        verbose_name = pgettext_lazy("model name", "组织考评")
        verbose_name_plural = pgettext_lazy("model name plural", "组织考评")
        constraints = [models.UniqueConstraint(fields=["period", "org"], name="one_evaluation_per_org_period")]
        indexes = [models.Index(fields=["period", "level", "org_type"])]

    def __str__(self):
        return f"{self.org_name} {self.period.label}"


class EvalItem(models.Model):
    """One standard item in one organization's month: self score, assessor score, final score.

    ``version`` grows with every change: a save that started from an older version is refused, so when two
    people change the same item at once the second is told and nothing is lost."""

    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(Evaluation, related_name="items", on_delete=models.CASCADE)
    item = models.ForeignKey(Item, related_name="+", on_delete=models.PROTECT)
    max_points = models.DecimalField(_("分值"), max_digits=5, decimal_places=1)
    self_score = models.DecimalField(_("自评得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    self_remark = models.CharField(_("自评说明"), max_length=500, blank=True)
    assessor_score = models.DecimalField(_("考评得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    assessor_reason = models.CharField(_("扣分理由"), max_length=500, blank=True)
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                 on_delete=models.SET_NULL)
    vetoed = models.BooleanField(_("触发一票否决"), default=False)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["evaluation", "id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "item"], name="one_row_per_item"),
            models.CheckConstraint(condition=Q(self_score__isnull=True) | Q(self_score__gte=0),
                                   name="self_score_not_negative"),
            models.CheckConstraint(condition=Q(assessor_score__isnull=True) | Q(assessor_score__gte=0),
                                   name="assessor_score_not_negative"),
        ]

    def __str__(self):
        return f"{self.evaluation} {self.item.code}"

    @property
    def final_score(self):
        return self.assessor_score if self.assessor_score is not None else self.self_score


class ScoreEntry(models.Model):
    """Append-only history of every score: who, when, what value, why."""

    class Kind(models.TextChoices):
        SELF = "self", ChoiceLabel(gettext_noop("自评"))
        ASSESSOR = "assessor", ChoiceLabel(gettext_noop("考评"))
        ADJUSTMENT = "adjustment", ChoiceLabel(gettext_noop("兑现后调整"))

    SCOPE_PATH = "eval_item__evaluation__org_path"

    eval_item = models.ForeignKey(EvalItem, related_name="entries", on_delete=models.CASCADE)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.DecimalField(max_digits=5, decimal_places=1, null=True)
    veto = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["eval_item", "id"]

    def __str__(self):
        return f"{self.eval_item} {self.kind} {self.value}"


class Transition(models.Model):
    """One move of an evaluation's state: who, when, from, to, with what note."""

    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(Evaluation, related_name="transitions", on_delete=models.CASCADE)
    from_state = models.CharField(max_length=15, choices=State.choices)
    to_state = models.CharField(max_length=15, choices=State.choices)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evaluation", "id"]

    def __str__(self):
        return f"{self.evaluation}: {self.from_state} → {self.to_state}"


class AssessorAssignment(models.Model):
    """考评员 assigned to organizations in a period. When a period has assignments for an organization, only
    the assigned assessors may score it; without any, every assessor whose grant covers it may."""

    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(Evaluation, related_name="assignments", on_delete=models.CASCADE)
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="assignments", on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "assessor"], name="one_assignment")]

    def __str__(self):
        return f"{self.assessor} → {self.evaluation}"


class Objection(models.Model):
    """异议 raised by an organization in the publicity window, and the committee's answer."""

    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(Evaluation, related_name="objections", on_delete=models.CASCADE)
    eval_item = models.ForeignKey(EvalItem, null=True, blank=True, related_name="objections",
                                  on_delete=models.CASCADE)
    text = models.TextField(_("异议内容"), max_length=2000)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    raised_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("答复"), max_length=2000, blank=True)
    upheld = models.BooleanField(_("异议成立"), null=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                    on_delete=models.SET_NULL)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "id"]

    def __str__(self):
        return f"{self.evaluation}: {self.text[:30]}"


def evidence_path(instance, filename):
    import uuid

    return f"evidence/{instance.evaluation.period.month:%Y-%m}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """A file for an item (信息资料报送) or an assessor's photo; stored outside the web root under a random
    name and served only through the access check, as an attachment."""

    class Kind(models.TextChoices):
        EVIDENCE = "evidence", ChoiceLabel(gettext_noop("佐证资料"))
        PHOTO = "photo", ChoiceLabel(gettext_noop("现场照片"))

    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(Evaluation, related_name="evidence", on_delete=models.CASCADE)
    eval_item = models.ForeignKey(EvalItem, null=True, blank=True, related_name="evidence", on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EVIDENCE)
    file = models.FileField(upload_to=evidence_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "id"]

    def __str__(self):
        return self.name


# ---- the month close (月兑现): written by assessments.close, read by walls, rankings and dashboards ----------


class Result(models.Model):
    """One organization's final result of a finalized month: total, rate, ranks, grade and the secretary's
    月兑现 coefficient. Written set-based by ``close.finalize_period``; afterwards the database refuses every
    change except through ``close.adjust_result`` (triggers, migration 0003)."""

    SCOPE_PATH = "org_path"

    # The close inserts a month's results in one statement, where every index and foreign-key check costs per
    # row (QUALITY.md P1). The row is derived in that statement from the evaluation, whose own foreign keys hold,
    # and the lock triggers refuse deleting the evaluations and the period of a finalized month: so the database
    # does not check these references again (Django still applies CASCADE / PROTECT). ``period`` is served by
    # the indexes below, which all start with it; ``org`` and ``org_type`` are a snapshot, like ``org_name``.
    # ``org_path`` (scoping) has no index of its own: results are read a month at a time, through the period.
    period = models.ForeignKey(Period, related_name="results", on_delete=models.CASCADE, db_index=False,
                               db_constraint=False)
    evaluation = models.OneToOneField(Evaluation, related_name="result", on_delete=models.CASCADE,
                                      db_constraint=False)
    org = models.ForeignKey(Organization, verbose_name=_("党组织"), related_name="+", on_delete=models.PROTECT,
                            db_constraint=False)
    org_name = models.CharField(_("组织名称"), max_length=100)
    org_path = models.CharField(max_length=255)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    org_type = models.ForeignKey(OrgType, verbose_name=_("类型"), null=True, blank=True, related_name="+",
                                 on_delete=models.PROTECT, db_constraint=False, db_index=False)
    total = models.DecimalField(_("得分"), max_digits=6, decimal_places=1)
    max_total = models.DecimalField(_("满分"), max_digits=6, decimal_places=1)
    score_rate = models.DecimalField(_("得分率（%）"), max_digits=5, decimal_places=1)
    vetoed = models.BooleanField(_("触发一票否决"), default=False)
    peer_rank = models.PositiveIntegerField(_("同类排名"))
    peer_size = models.PositiveIntegerField(_("同类组织数"))
    overall_rank = models.PositiveIntegerField(_("总排名"))
    overall_size = models.PositiveIntegerField(_("参评组织数"))
    # Share of the peer group ranked strictly below this organization, in percent (top 100.0, bottom 0.0).
    percentile = models.DecimalField(_("超过同类组织（%）"), max_digits=5, decimal_places=1)
    grade = models.CharField(_("等级"), max_length=10)
    coefficient = models.DecimalField(_("兑现系数"), max_digits=4, decimal_places=2)
    secretary = models.CharField(_("书记"), max_length=40, blank=True)

    class Meta:
        ordering = ["period", "level", "org_type", "peer_rank", "org_path"]
        verbose_name = pgettext_lazy("model name", "兑现结果")
        verbose_name_plural = pgettext_lazy("model name plural", "兑现结果")
        constraints = [models.UniqueConstraint(fields=["period", "org"], name="one_result_per_org_period")]
        indexes = [
            models.Index(fields=["period", "level", "org_type", "peer_rank"], name="result_peer_rank"),
            models.Index(fields=["period", "overall_rank"], name="result_overall_rank"),
        ]

    def __str__(self):
        return f"{self.org_name} {self.period.label} {self.total}"


class PeerAggregate(models.Model):
    """Figures of one peer group (same level and type: 对标) in a finalized month, over the results' totals."""

    SCOPE_PATH = "period__owner__path"

    period = models.ForeignKey(Period, related_name="peer_aggregates", on_delete=models.CASCADE)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    org_type = models.ForeignKey(OrgType, verbose_name=_("类型"), null=True, blank=True, related_name="+",
                                 on_delete=models.PROTECT)
    count = models.PositiveIntegerField(_("组织数"))
    avg = models.DecimalField(_("平均分"), max_digits=7, decimal_places=2)
    min = models.DecimalField(_("最低分"), max_digits=6, decimal_places=1)
    max = models.DecimalField(_("最高分"), max_digits=6, decimal_places=1)
    median = models.DecimalField(_("中位数"), max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["period", "level", "org_type"]
        verbose_name = pgettext_lazy("model name", "同类组织统计")
        verbose_name_plural = pgettext_lazy("model name plural", "同类组织统计")
        constraints = [
            models.UniqueConstraint(fields=["period", "level", "org_type"], name="one_aggregate_per_peer_group"),
        ]

    def __str__(self):
        return f"{self.period} {self.level} {self.org_type_id}: {self.avg}"


class Adjustment(models.Model):
    """A correction of a finalized result (兑现后调整): the old and new total, why, who, when. Applying one
    recomputes the ranks and grades of the whole month; rows are never changed or removed afterwards."""

    SCOPE_PATH = "result__org_path"

    # No foreign key constraint: on PostgreSQL the results are partitioned by period and a foreign key to them
    # would need period_id; a trigger checks the result exists instead (migration 0005).
    result = models.ForeignKey(Result, related_name="adjustments", on_delete=models.CASCADE, db_constraint=False)
    old_total = models.DecimalField(_("原得分"), max_digits=6, decimal_places=1)
    new_total = models.DecimalField(_("调整后得分"), max_digits=6, decimal_places=1)
    reason = models.CharField(_("调整理由"), max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["result", "id"]
        verbose_name = pgettext_lazy("model name", "兑现后调整")
        verbose_name_plural = pgettext_lazy("model name plural", "兑现后调整")
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="adjustment_reason_required")]

    def __str__(self):
        return f"{self.result}: {self.old_total} → {self.new_total}"
