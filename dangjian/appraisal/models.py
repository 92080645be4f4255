"""做新时代答卷人: the monthly quantitative evaluation of Party members, and what feeds and shows it.

- ``AppraisalPeriod``: one month of member evaluation for the subtree of a committee (or one branch), under a
  ``MemberStandardSet``. Opening it gives every member on the rolls of a branch in scope a ``MemberEvaluation``
  (a snapshot of the member's name, branch and post that month) with one ``MemberLine`` per standard item.
- The procedure: the member self-evaluates (党员自评) → the branch determines item by item with reasons
  (支部评定) → the branch publishes its month (党员大会公示), which closes it set-based (appraisal.close):
  ``MemberResult`` rows with the parts, the total, veto, qualified, rank in the branch; ``BranchAggregate`` rows.
  States move only through ``TRANSITIONS``; every move writes a ``MemberTransition``; a published month is locked
  in the database itself (triggers).
- Activity records (组织生活 with attendance, 学习记录, 党费, 服务时长) pre-fill the counts of items whose
  ``source`` names them.
- The wall (上墙) reads the results; its public QR form writes ``WallFeedback``.
- Year end: ``YearAppraisal`` per member and year — annual totals, suggested and final 民主评议 grade, votes.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from dangjian.orgs.models import ChoiceLabel, Member, Organization, Role
from dangjian.standards.models import MemberItem, MemberStandardSet, ancestor_or_self_paths

ZERO = Decimal("0")


def _own_member_q(prefix: str):
    """Rows of the signed-in user's own member record, for ``core.access.scope``'s ``own_q``."""

    def own_q(user, action):
        if action not in OWN_ACTIONS:
            return None
        return Q(**{f"{prefix}user_id": user.pk})

    return staticmethod(own_q)


# What a member may do on their own rows whatever their grants (core.access.scope asks own_q).
OWN_ACTIONS = frozenset({"appraisal.view", "appraisal.self", "activity.view", "activity.own"})


class AState(models.TextChoices):
    NOT_STARTED = "not_started", ChoiceLabel(gettext_noop("待自评"))
    SELF_EVALUATED = "self_evaluated", ChoiceLabel(gettext_noop("已自评"))
    DETERMINED = "determined", ChoiceLabel(gettext_noop("已评定"))
    PUBLISHED = "published", ChoiceLabel(gettext_noop("已公示"))


AS = AState
SELF = "self"  # the member themself, on their own evaluation
SEC, STAFF, ADMIN = Role.SECRETARY, Role.STAFF, Role.ADMIN

# (from, to, who may make the move, button label). ``SELF`` is the member whose evaluation it is. Publishing
# (determined → published) is done for a whole branch at once by the close (appraisal.close.publish_branch).
TRANSITIONS: list[tuple[str, str, frozenset, str]] = [
    (AS.NOT_STARTED, AS.SELF_EVALUATED, frozenset({SELF, SEC, STAFF, ADMIN}), gettext_noop("提交自评")),
    (AS.SELF_EVALUATED, AS.NOT_STARTED, frozenset({SELF, SEC, STAFF, ADMIN}), gettext_noop("撤回自评")),
    (AS.SELF_EVALUATED, AS.DETERMINED, frozenset({SEC, STAFF, ADMIN}), gettext_noop("评定")),
    (AS.NOT_STARTED, AS.DETERMINED, frozenset({SEC, STAFF, ADMIN}), gettext_noop("直接评定")),
    (AS.DETERMINED, AS.SELF_EVALUATED, frozenset({SEC, STAFF, ADMIN}), gettext_noop("撤回评定")),
    (AS.DETERMINED, AS.PUBLISHED, frozenset({SEC, STAFF, ADMIN}), gettext_noop("公示")),
]


def allowed_transition(from_state: str, to_state: str):
    for row in TRANSITIONS:
        if row[0] == from_state and row[1] == to_state:
            return row
    return None


class PeriodStatus(models.TextChoices):
    OPEN = "open", ChoiceLabel(gettext_noop("进行中"))
    CLOSED = "closed", ChoiceLabel(gettext_noop("已结束"))


class AppraisalPeriod(models.Model):
    """One month of member evaluation for the subtree of ``owner`` (a committee, or a single branch)."""

    SCOPE_PATH = "owner__path"

    owner = models.ForeignKey(Organization, verbose_name=_("组织评价的单位"), related_name="appraisal_periods",
                              on_delete=models.PROTECT)
    month = models.DateField(_("评价月份"), help_text=_("该月的第一天"))
    standard_set = models.ForeignKey(MemberStandardSet, verbose_name=_("评价标准"), related_name="periods",
                                     on_delete=models.PROTECT)
    status = models.CharField(_("状态"), max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    self_due = models.DateField(_("自评截止"))
    determine_due = models.DateField(_("评定截止"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                  on_delete=models.SET_NULL)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    digest = models.CharField(_("结果摘要"), max_length=64, blank=True)

    class Meta:
        ordering = ["-month", "owner__path"]
        verbose_name = pgettext_lazy("model name", "党员评价月份")
        verbose_name_plural = pgettext_lazy("model name plural", "党员评价月份")
        constraints = [
            models.UniqueConstraint(fields=["owner", "month"], name="one_appraisal_period_per_owner_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="appraisal_month_is_first_day"),
        ]

    def __str__(self):
        return f"{self.owner} {self.month:%Y-%m}"

    @property
    def label(self):
        return f"{self.month:%Y-%m}"

    @property
    def is_closed(self):
        return self.status == PeriodStatus.CLOSED

    @staticmethod
    def own_q(user, action):
        """Secretaries and members see the months their committee opened for them: a period owned by an
        ancestor of a granted organization, or of the user's own branch, is visible for ``appraisal.view``."""
        if action not in ("appraisal.view", "appraisal.self"):
            return None
        from dangjian.core.access import allowed_paths

        paths = list(allowed_paths(user, "appraisal.view") or [])
        member = Member.objects.filter(user_id=user.pk).select_related("org").first()
        if member is not None:
            paths.append(member.org.path)
        if not paths:
            return None
        ancestors = sorted({a for p in paths for a in ancestor_or_self_paths(p)})
        return Q(owner__path__in=ancestors)


class MemberEvaluation(models.Model):
    """One member's month: state, self and determined totals; the member and branch as they were that month."""

    SCOPE_PATH = "org_path"

    period = models.ForeignKey(AppraisalPeriod, related_name="evaluations", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, verbose_name=_("党员"), related_name="appraisals", on_delete=models.PROTECT)
    org = models.ForeignKey(Organization, verbose_name=_("所在支部"), related_name="member_evaluations",
                            on_delete=models.PROTECT)
    org_path = models.CharField(max_length=255, db_index=True)
    org_name = models.CharField(_("支部"), max_length=100)
    member_name = models.CharField(_("姓名"), max_length=40)
    post = models.CharField(_("岗位"), max_length=60, blank=True)
    state = models.CharField(_("状态"), max_length=15, choices=AState.choices, default=AState.NOT_STARTED)
    exempt = models.BooleanField(_("免于评价"), default=False)
    exempt_reason = models.CharField(_("免评原因"), max_length=200, blank=True)
    self_note = models.TextField(_("自评小结"), max_length=2000, blank=True)
    branch_note = models.CharField(_("评定意见"), max_length=500, blank=True)
    self_total = models.DecimalField(_("自评得分"), max_digits=6, decimal_places=1, null=True, blank=True)
    total = models.DecimalField(_("评定得分"), max_digits=6, decimal_places=1, null=True, blank=True)
    vetoed = models.BooleanField(_("触发一票否决"), default=False)
    self_at = models.DateTimeField(_("自评时间"), null=True, blank=True)
    determined_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                      on_delete=models.SET_NULL)
    determined_at = models.DateTimeField(_("评定时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    own_q = _own_member_q("member__")

    class Meta:
        ordering = ["period", "org_path", "member_name", "id"]
        verbose_name = pgettext_lazy("model name", "党员月度评价")
        verbose_name_plural = pgettext_lazy("model name plural", "党员月度评价")
        constraints = [
            models.UniqueConstraint(fields=["period", "member"], name="one_member_evaluation_per_period"),
        ]
        indexes = [models.Index(fields=["period", "org", "state"], name="member_eval_branch_state")]

    def __str__(self):
        return f"{self.member_name} {self.period.label}"


class MemberLine(models.Model):
    """One standard item in one member's month: what the member reported, what the branch determined.

    ``*_count`` is the number of occurrences (bonus claims, deductions, base misses, veto); ``*_points`` is the
    line's signed contribution after the item's month and year caps (appraisal.scoring.line_points): positive
    for base and bonus, negative for deductions, 0 for veto."""

    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(MemberEvaluation, related_name="lines", on_delete=models.CASCADE)
    item = models.ForeignKey(MemberItem, related_name="+", on_delete=models.PROTECT)
    part = models.CharField(max_length=10)  # copy of item.part, so the close groups without a join
    dimension = models.CharField(max_length=12)
    prefill_count = models.PositiveSmallIntegerField(_("记录带入次数"), null=True, blank=True)
    self_count = models.PositiveSmallIntegerField(_("自报次数"), null=True, blank=True)
    self_points = models.DecimalField(_("自评分"), max_digits=5, decimal_places=1, null=True, blank=True)
    claim = models.CharField(_("自评说明"), max_length=500, blank=True)
    count = models.PositiveSmallIntegerField(_("评定次数"), null=True, blank=True)
    points = models.DecimalField(_("评定分"), max_digits=5, decimal_places=1, null=True, blank=True)
    reason = models.CharField(_("评定理由"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["evaluation", "item__order", "item_id"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "item"], name="one_member_line_per_item")]

    def __str__(self):
        return f"{self.evaluation} {self.item.code}"


class MemberTransition(models.Model):
    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(MemberEvaluation, related_name="transitions", on_delete=models.CASCADE)
    from_state = models.CharField(max_length=15, choices=AState.choices)
    to_state = models.CharField(max_length=15, choices=AState.choices)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evaluation", "id"]

    def __str__(self):
        return f"{self.evaluation}: {self.from_state} → {self.to_state}"


def member_evidence_path(instance, filename):
    import uuid

    return f"member-evidence/{instance.evaluation.period.month:%Y-%m}/{uuid.uuid4().hex}"


class MemberEvidence(models.Model):
    """A file for a bonus claim (e.g. a commendation), checked by content like the organizations' evidence and
    served only through the access check."""

    SCOPE_PATH = "evaluation__org_path"

    evaluation = models.ForeignKey(MemberEvaluation, related_name="evidence", on_delete=models.CASCADE)
    line = models.ForeignKey(MemberLine, null=True, blank=True, related_name="evidence", on_delete=models.CASCADE)
    file = models.FileField(upload_to=member_evidence_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    own_q = _own_member_q("evaluation__member__")

    class Meta:
        ordering = ["evaluation", "id"]

    def __str__(self):
        return self.name


class MemberResult(models.Model):
    """One member's published month, written set-based by appraisal.close; read by the wall, the member's history,
    the handbook and year end. The database refuses changes afterwards (triggers)."""

    SCOPE_PATH = "org_path"

    # No single-column indexes on period and member: the unique (period, member) and the (member, month) index
    # serve those lookups, and every index costs the close its share (QUALITY.md P1).
    period = models.ForeignKey(AppraisalPeriod, related_name="results", on_delete=models.CASCADE,
                               db_constraint=False, db_index=False)
    evaluation = models.OneToOneField(MemberEvaluation, related_name="result", on_delete=models.CASCADE,
                                      db_constraint=False)
    member = models.ForeignKey(Member, related_name="results", on_delete=models.PROTECT, db_constraint=False,
                               db_index=False)
    org = models.ForeignKey(Organization, related_name="+", on_delete=models.PROTECT, db_constraint=False,
                            db_index=False)
    org_path = models.CharField(max_length=255)
    org_name = models.CharField(_("支部"), max_length=100)
    member_name = models.CharField(_("姓名"), max_length=40)
    month = models.DateField(_("月份"))
    base = models.DecimalField(_("基础分"), max_digits=6, decimal_places=1)
    bonus = models.DecimalField(_("奖励分"), max_digits=6, decimal_places=1)
    deduction = models.DecimalField(_("减项分"), max_digits=6, decimal_places=1)
    self_total = models.DecimalField(_("自评得分"), max_digits=6, decimal_places=1)
    branch_total = models.DecimalField(_("支部评定得分"), max_digits=6, decimal_places=1)
    total = models.DecimalField(_("月度得分"), max_digits=6, decimal_places=1)
    vetoed = models.BooleanField(_("触发一票否决"), default=False)
    qualified = models.BooleanField(_("合格"), default=True)
    rank = models.PositiveIntegerField(_("支部内排名"))
    branch_size = models.PositiveIntegerField(_("支部参评人数"))
    published_at = models.DateTimeField(_("公示时间"))

    own_q = _own_member_q("member__")

    class Meta:
        ordering = ["period", "org_path", "rank", "member_name"]
        verbose_name = pgettext_lazy("model name", "党员月度结果")
        verbose_name_plural = pgettext_lazy("model name plural", "党员月度结果")
        constraints = [models.UniqueConstraint(fields=["period", "member"], name="one_member_result_per_period")]
        indexes = [
            models.Index(fields=["org", "month", "rank"], name="member_result_wall"),
            models.Index(fields=["member", "month"], name="member_result_history"),
        ]

    def __str__(self):
        return f"{self.member_name} {self.month:%Y-%m} {self.total}"


class BranchAggregate(models.Model):
    """A branch's published month: how many were evaluated, the average, minimum and maximum, unqualified."""

    SCOPE_PATH = "org_path"

    period = models.ForeignKey(AppraisalPeriod, related_name="branch_aggregates", on_delete=models.CASCADE)
    org = models.ForeignKey(Organization, related_name="+", on_delete=models.PROTECT)
    org_path = models.CharField(max_length=255)
    month = models.DateField(_("月份"))
    count = models.PositiveIntegerField(_("参评人数"))
    avg = models.DecimalField(_("平均分"), max_digits=7, decimal_places=2)
    min = models.DecimalField(_("最低分"), max_digits=6, decimal_places=1)
    max = models.DecimalField(_("最高分"), max_digits=6, decimal_places=1)
    unqualified = models.PositiveIntegerField(_("不合格人数"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                     on_delete=models.SET_NULL)
    published_at = models.DateTimeField(_("公示时间"))
    digest = models.CharField(_("结果摘要"), max_length=64, blank=True)

    class Meta:
        ordering = ["period", "org_path"]
        constraints = [models.UniqueConstraint(fields=["period", "org"], name="one_branch_aggregate_per_period")]

    def __str__(self):
        return f"{self.org_path} {self.month:%Y-%m}"


# ---- activity records (组织生活、学习、党费、服务时长) -------------------------------------------------------------


class MeetingKind(models.TextChoices):
    GENERAL = "general", ChoiceLabel(gettext_noop("支部党员大会"))
    COMMITTEE = "committee", ChoiceLabel(gettext_noop("支委会"))
    GROUP = "group", ChoiceLabel(gettext_noop("党小组会"))
    LECTURE = "lecture", ChoiceLabel(gettext_noop("党课"))
    THEME_DAY = "theme_day", ChoiceLabel(gettext_noop("主题党日"))
    LIFE = "life", ChoiceLabel(gettext_noop("组织生活会"))
    OTHER = "other", ChoiceLabel(gettext_noop("其他"))


class Meeting(models.Model):
    """An organization-life event of a branch (三会一课, 主题党日 …) with its attendance list."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name=_("组织"), related_name="meetings", on_delete=models.PROTECT)
    kind = models.CharField(_("类型"), max_length=12, choices=MeetingKind.choices)
    title = models.CharField(_("主题"), max_length=200)
    date = models.DateField(_("日期"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    host = models.CharField(_("主持人"), max_length=40, blank=True)
    lecturer = models.ForeignKey(Member, verbose_name=_("授课人"), null=True, blank=True, related_name="+",
                                 on_delete=models.SET_NULL)
    content = models.TextField(_("内容纪要"), max_length=5000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = pgettext_lazy("model name", "组织生活")
        verbose_name_plural = pgettext_lazy("model name plural", "组织生活")
        indexes = [models.Index(fields=["org", "date"], name="meeting_org_date")]

    def __str__(self):
        return f"{self.date} {self.title}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", ChoiceLabel(gettext_noop("出席"))
    LEAVE = "leave", ChoiceLabel(gettext_noop("请假"))
    ABSENT = "absent", ChoiceLabel(gettext_noop("缺席"))


class Attendance(models.Model):
    SCOPE_PATH = "meeting__org__path"

    meeting = models.ForeignKey(Meeting, related_name="attendance", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, related_name="attendance", on_delete=models.CASCADE)
    status = models.CharField(_("出勤"), max_length=8, choices=AttendanceStatus.choices,
                              default=AttendanceStatus.PRESENT)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    own_q = _own_member_q("member__")

    class Meta:
        ordering = ["meeting", "member__name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="one_attendance_per_meeting")]
        indexes = [models.Index(fields=["member", "status"], name="attendance_member_status")]

    def __str__(self):
        return f"{self.meeting} {self.member} {self.status}"


class StudyForm(models.TextChoices):
    SELF = "self", ChoiceLabel(gettext_noop("个人自学"))
    GROUP = "group", ChoiceLabel(gettext_noop("集中学习"))
    ONLINE = "online", ChoiceLabel(gettext_noop("网络学习"))
    TRAINING = "training", ChoiceLabel(gettext_noop("培训"))


class StudyRecord(models.Model):
    """学习记录: what a member studied, entered by the member or the branch; printed in the handbook."""

    SCOPE_PATH = "member__org__path"

    member = models.ForeignKey(Member, related_name="study_records", on_delete=models.CASCADE)
    date = models.DateField(_("日期"))
    title = models.CharField(_("学习内容"), max_length=200)
    form = models.CharField(_("形式"), max_length=10, choices=StudyForm.choices, default=StudyForm.SELF)
    hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1, default=Decimal("1"))
    notes = models.TextField(_("心得体会"), max_length=2000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    own_q = _own_member_q("member__")

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = pgettext_lazy("model name", "学习记录")
        verbose_name_plural = pgettext_lazy("model name plural", "学习记录")
        indexes = [models.Index(fields=["member", "date"], name="study_member_date")]

    def __str__(self):
        return f"{self.member} {self.date} {self.title}"


class DuesPayment(models.Model):
    """党费 for one member and month: amount and date paid; ``on_time`` when paid by the month's last day."""

    SCOPE_PATH = "member__org__path"

    member = models.ForeignKey(Member, related_name="dues", on_delete=models.CASCADE)
    month = models.DateField(_("所属月份"))
    amount = models.DecimalField(_("金额（元）"), max_digits=8, decimal_places=2)
    paid_on = models.DateField(_("交纳日期"))
    on_time = models.BooleanField(_("按时交纳"), default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                    on_delete=models.SET_NULL)
    recorded_at = models.DateTimeField(auto_now_add=True)

    own_q = _own_member_q("member__")

    class Meta:
        ordering = ["-month", "member__name"]
        verbose_name = pgettext_lazy("model name", "党费交纳")
        verbose_name_plural = pgettext_lazy("model name plural", "党费交纳")
        constraints = [
            models.UniqueConstraint(fields=["member", "month"], name="one_dues_per_member_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="dues_month_is_first_day"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="dues_amount_positive"),
        ]

    def __str__(self):
        return f"{self.member} {self.month:%Y-%m} {self.amount}"


class ServiceRecord(models.Model):
    """Volunteer service hours of a member (服务队活动 …); the service pillar's activities write these too."""

    SCOPE_PATH = "member__org__path"

    member = models.ForeignKey(Member, related_name="service_records", on_delete=models.CASCADE)
    date = models.DateField(_("日期"))
    activity = models.CharField(_("服务内容"), max_length=200)
    hours = models.DecimalField(_("时长（小时）"), max_digits=5, decimal_places=1)
    people_served = models.PositiveIntegerField(_("服务人次"), default=0)
    source = models.CharField(_("来源"), max_length=40, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    own_q = _own_member_q("member__")

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = pgettext_lazy("model name", "志愿服务记录")
        verbose_name_plural = pgettext_lazy("model name plural", "志愿服务记录")
        indexes = [models.Index(fields=["member", "date"], name="service_member_date")]
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="service_hours_positive")]

    def __str__(self):
        return f"{self.member} {self.date} {self.hours}"


# ---- the wall (上墙) --------------------------------------------------------------------------------------------


class PublicWall(models.Model):
    """A branch's public wall link: ``key`` makes the URL unguessable; the branch may switch it off or renew the
    key (old QR codes stop working)."""

    SCOPE_PATH = "org__path"

    org = models.OneToOneField(Organization, related_name="public_wall", on_delete=models.CASCADE)
    key = models.CharField(max_length=32, unique=True)
    enabled = models.BooleanField(_("开放公众访问"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.org} wall"


class FeedbackKind(models.TextChoices):
    PRAISE = "praise", ChoiceLabel(gettext_noop("表扬"))
    SUGGESTION = "suggestion", ChoiceLabel(gettext_noop("建议"))
    COMPLAINT = "complaint", ChoiceLabel(gettext_noop("投诉"))


class WallFeedback(models.Model):
    """群众监督: a message from the public about a branch or one member's pledge, sent by the wall's QR code."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, related_name="wall_feedback", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, null=True, blank=True, related_name="wall_feedback",
                               on_delete=models.SET_NULL)
    kind = models.CharField(_("类型"), max_length=12, choices=FeedbackKind.choices)
    text = models.TextField(_("内容"), max_length=1000)
    contact = models.CharField(_("联系方式"), max_length=40, blank=True)
    client_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    reply = models.TextField(_("处理情况"), max_length=1000, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = pgettext_lazy("model name", "群众监督留言")
        verbose_name_plural = pgettext_lazy("model name plural", "群众监督留言")

    def __str__(self):
        return f"{self.org} {self.kind} {self.created_at:%Y-%m-%d}"


# ---- year end (民主评议党员) -------------------------------------------------------------------------------------


class Grade(models.TextChoices):
    EXCELLENT = "excellent", ChoiceLabel(gettext_noop("优秀"))
    QUALIFIED = "qualified", ChoiceLabel(gettext_noop("合格"))
    BASIC = "basic", ChoiceLabel(gettext_noop("基本合格"))
    UNQUALIFIED = "unqualified", ChoiceLabel(gettext_noop("不合格"))


def default_year_rule():
    """Assumed defaults a committee changes (DOMAIN.md): 优秀 at most a third of the branch, from the top of the
    annual totals; any veto → no better than 基本合格; any unqualified month → no better than 合格; an average
    below 60 → 不合格."""
    return {
        "excellent_share": "33.3",
        "excellent_min_avg": "90",
        "basic_below_avg": "70",
        "unqualified_below_avg": "60",
        "veto_max_grade": "basic",
        "unqualified_month_max_grade": "qualified",
    }


class YearReview(models.Model):
    """A branch's 民主评议 for a year: the rule used for the suggestions and when it was recorded."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, related_name="year_reviews", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"))
    rule = models.JSONField(_("建议等次规则"), default=default_year_rule)
    meeting_date = models.DateField(_("评议日期"), null=True, blank=True)
    voters = models.PositiveIntegerField(_("参加测评人数"), null=True, blank=True)
    locked_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "org__path"]
        verbose_name = pgettext_lazy("model name", "民主评议")
        verbose_name_plural = pgettext_lazy("model name plural", "民主评议")
        constraints = [models.UniqueConstraint(fields=["org", "year"], name="one_year_review_per_branch")]

    def __str__(self):
        return f"{self.org} {self.year}"


class YearAppraisal(models.Model):
    """One member's year: annual figures from the published months, the suggested grade, the votes, the final
    grade (with a reason where it differs from the suggestion) and whether the member is an 优秀共产党员
    candidate."""

    SCOPE_PATH = "review__org__path"

    review = models.ForeignKey(YearReview, related_name="appraisals", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, related_name="year_appraisals", on_delete=models.PROTECT)
    member_name = models.CharField(_("姓名"), max_length=40)
    months = models.PositiveSmallIntegerField(_("参评月数"), default=0)
    annual_total = models.DecimalField(_("全年得分"), max_digits=7, decimal_places=1, default=ZERO)
    average = models.DecimalField(_("月均得分"), max_digits=6, decimal_places=1, default=ZERO)
    veto_months = models.PositiveSmallIntegerField(_("否决月数"), default=0)
    unqualified_months = models.PositiveSmallIntegerField(_("不合格月数"), default=0)
    rank = models.PositiveIntegerField(_("支部内排名"), null=True, blank=True)
    suggested_grade = models.CharField(_("建议等次"), max_length=12, choices=Grade.choices, blank=True)
    votes_excellent = models.PositiveIntegerField(_("优秀票"), default=0)
    votes_qualified = models.PositiveIntegerField(_("合格票"), default=0)
    votes_basic = models.PositiveIntegerField(_("基本合格票"), default=0)
    votes_unqualified = models.PositiveIntegerField(_("不合格票"), default=0)
    final_grade = models.CharField(_("评定等次"), max_length=12, choices=Grade.choices, blank=True)
    reason = models.CharField(_("与建议不同的理由"), max_length=500, blank=True)
    candidate = models.BooleanField(_("优秀共产党员候选人"), default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    own_q = _own_member_q("member__")

    class Meta:
        ordering = ["review", "rank", "member_name"]
        verbose_name = pgettext_lazy("model name", "党员年度评议")
        verbose_name_plural = pgettext_lazy("model name plural", "党员年度评议")
        constraints = [models.UniqueConstraint(fields=["review", "member"], name="one_year_appraisal_per_member")]

    def __str__(self):
        return f"{self.member_name} {self.review.year}"
