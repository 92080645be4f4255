"""让人民生活更美好: needs, PDCA tickets, satisfaction surveys, service teams and social-responsibility projects.

- ``ServiceArea``: a supply area or grid (网格) of an organization, with its grid manager; needs, tickets and survey
  links may name one.
- ``Need``: a government requirement (政府统筹发展要求) or a person's request (客户/群众诉求), entered by staff,
  imported from Excel, or sent through a public form (``NeedChannel``: a link and QR code per organization or
  area, no login). The requester's name and contact are private: never shown publicly, masked in lists.
  Accepting a need opens its ``Ticket``; declining it records why.
- ``Ticket``: one improvement run through Plan → Do → Check → Act → closed (``TRANSITIONS``), from a need, a low
  satisfaction index, or staff. Every move writes a ``TicketTransition``; the Do step's actions are
  ``TicketAction`` rows with ``TicketEvidence`` files.
- ``Survey`` with ``Question`` rows; ``SurveyLink`` per organization or area (anonymous link and QR code);
  ``SurveyInvitation`` tokens where the survey allows one response per invitation; ``SurveyResponse`` with
  ``Answer`` rows. ``SatisfactionIndex`` per organization, month and survey kind is computed set-based; one below
  the survey's threshold opens a ticket by itself.
- ``ServiceTeam`` (光明先锋共产党员服务队, 公益组织) with members and ``ServiceActivity`` rows; each participant's
  hours become an ``appraisal.ServiceRecord`` (``ServiceParticipation.record``), which pre-fills the members'
  bonus items.
- ``Project`` (社会责任根植项目) with ``Milestone`` and ``Indicator`` rows and the indicators' values over time.

Every model names the organization it belongs to; ``SCOPE_PATH`` lets ``core.access.scope`` filter it.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from dangjian.appraisal.models import ServiceRecord
from dangjian.orgs.models import ChoiceLabel, Member, Organization

USER = settings.AUTH_USER_MODEL


# ---- areas and needs --------------------------------------------------------------------------------------------


class ServiceArea(models.Model):
    """A supply area or grid (网格) an organization serves."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name=_("所属组织"), related_name="service_areas",
                            on_delete=models.PROTECT)
    name = models.CharField(_("服务区域"), max_length=60)
    grid_manager = models.CharField(_("网格经理"), max_length=40, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    archived = models.BooleanField(_("已停用"), default=False)

    class Meta:
        ordering = ["org", "name"]
        verbose_name = pgettext_lazy("model name", "服务区域")
        verbose_name_plural = pgettext_lazy("model name plural", "服务区域")
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="service_area_unique_name")]

    def __str__(self):
        return self.name


class NeedKind(models.TextChoices):
    GOVERNMENT = "government", ChoiceLabel(gettext_noop("政府统筹发展要求"))
    PEOPLE = "people", ChoiceLabel(gettext_noop("客户/群众诉求"))


class NeedCategory(models.TextChoices):
    COMPLAINT = "complaint", ChoiceLabel(gettext_noop("投诉"))
    OPINION = "opinion", ChoiceLabel(gettext_noop("意见"))
    NEED = "need", ChoiceLabel(gettext_noop("需求"))
    SUGGESTION = "suggestion", ChoiceLabel(gettext_noop("建议"))
    PRAISE = "praise", ChoiceLabel(gettext_noop("表扬"))


class NeedSource(models.TextChoices):
    HOTLINE = "95598", ChoiceLabel(gettext_noop("95598热线"))
    REGULATOR = "12398", ChoiceLabel(gettext_noop("12398能源监管热线"))
    GOVERNMENT = "12345", ChoiceLabel(gettext_noop("12345政务热线"))
    VISIT = "visit", ChoiceLabel(gettext_noop("走访"))
    SURVEY = "survey", ChoiceLabel(gettext_noop("满意度调查"))
    SERVICE_TEAM = "team", ChoiceLabel(gettext_noop("服务队"))
    MEDIA = "media", ChoiceLabel(gettext_noop("媒体"))
    MEETING = "meeting", ChoiceLabel(gettext_noop("政企座谈"))
    ONLINE = "online", ChoiceLabel(gettext_noop("线上征集（二维码）"))
    OTHER = "other", ChoiceLabel(gettext_noop("其他"))


class Urgency(models.TextChoices):
    NORMAL = "normal", ChoiceLabel(gettext_noop("一般"))
    URGENT = "urgent", ChoiceLabel(gettext_noop("紧急"))
    CRITICAL = "critical", ChoiceLabel(gettext_noop("特急"))


class Channel(models.TextChoices):
    """How the need reached the platform."""

    STAFF = "staff", ChoiceLabel(gettext_noop("员工录入"))
    IMPORT = "import", ChoiceLabel(gettext_noop("Excel导入"))
    PUBLIC = "public", ChoiceLabel(gettext_noop("公众提交"))
    API = "api", ChoiceLabel(gettext_noop("接口"))


class NeedState(models.TextChoices):
    RECEIVED = "received", ChoiceLabel(gettext_noop("待受理"))
    ACCEPTED = "accepted", ChoiceLabel(gettext_noop("已受理"))
    DECLINED = "declined", ChoiceLabel(gettext_noop("不予受理"))


class NeedChannel(models.Model):
    """The public form of an organization (or one of its areas): a random key in the link and QR code. Renewing
    the key makes old QR codes stop working; disabling closes the form."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, related_name="need_channels", on_delete=models.PROTECT)
    area = models.ForeignKey(ServiceArea, null=True, blank=True, related_name="need_channels",
                             on_delete=models.PROTECT)
    key = models.CharField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org", "area", "id"]
        # One channel per organization and one per area (two partial indexes: SQLite has no NULLS NOT DISTINCT).
        constraints = [
            models.UniqueConstraint(fields=["org", "area"], condition=Q(area__isnull=False),
                                    name="need_channel_one_per_area"),
            models.UniqueConstraint(fields=["org"], condition=Q(area__isnull=True), name="need_channel_one_per_org"),
        ]

    def __str__(self):
        return f"{self.org} {self.area or ''}".strip()


class Need(models.Model):
    """One government requirement or one person's request. ``requester`` and ``contact`` are private."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name=_("受理单位"), related_name="needs", on_delete=models.PROTECT)
    area = models.ForeignKey(ServiceArea, verbose_name=_("服务区域"), null=True, blank=True, related_name="needs",
                             on_delete=models.PROTECT)
    number = models.CharField(_("编号"), max_length=20, unique=True)
    kind = models.CharField(_("类型"), max_length=12, choices=NeedKind.choices, default=NeedKind.PEOPLE)
    category = models.CharField(_("类别"), max_length=12, choices=NeedCategory.choices, default=NeedCategory.NEED)
    source = models.CharField(_("来源"), max_length=10, choices=NeedSource.choices, default=NeedSource.VISIT)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("标题"), max_length=60)
    text = models.TextField(_("内容"), max_length=2000)
    requester = models.CharField(_("诉求人"), max_length=40, blank=True)
    contact = models.CharField(_("联系方式"), max_length=40, blank=True)
    address = models.CharField(_("地址"), max_length=120, blank=True)
    received_on = models.DateField(_("受理日期"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.STAFF)
    state = models.CharField(_("状态"), max_length=10, choices=NeedState.choices, default=NeedState.RECEIVED)
    decline_reason = models.CharField(_("不予受理理由"), max_length=300, blank=True)
    client_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = pgettext_lazy("model name", "需求")
        verbose_name_plural = pgettext_lazy("model name plural", "需求")
        indexes = [models.Index(fields=["org", "received_on"], name="need_org_date"),
                   models.Index(fields=["created_at"], name="need_created")]

    def __str__(self):
        return f"{self.number} {self.title}"


# ---- PDCA tickets -----------------------------------------------------------------------------------------------


class TState(models.TextChoices):
    PLAN = "plan", ChoiceLabel(gettext_noop("计划（P）"))
    DO = "do", ChoiceLabel(gettext_noop("实施（D）"))
    CHECK = "check", ChoiceLabel(gettext_noop("检查（C）"))
    ACT = "act", ChoiceLabel(gettext_noop("改进（A）"))
    CLOSED = "closed", ChoiceLabel(gettext_noop("已销号"))
    CANCELLED = "cancelled", ChoiceLabel(gettext_noop("已撤销"))


OPEN_STATES = (TState.PLAN, TState.DO, TState.CHECK, TState.ACT)

# (from, to, action that may make the move, button label). ``ticket.handle``: the owner organization's people;
# ``ticket.manage``: the committee's staff. Returning (check → do) and cancelling need a reason.
TRANSITIONS: list[tuple[str, str, str, str]] = [
    (TState.PLAN, TState.DO, "ticket.handle", gettext_noop("提交计划，开始实施")),
    (TState.DO, TState.CHECK, "ticket.handle", gettext_noop("实施完成，提交检查")),
    (TState.CHECK, TState.ACT, "ticket.handle", gettext_noop("检查通过")),
    (TState.CHECK, TState.DO, "ticket.handle", gettext_noop("退回（附理由）")),
    (TState.ACT, TState.CLOSED, "ticket.handle", gettext_noop("销号")),
    (TState.PLAN, TState.CANCELLED, "ticket.manage", gettext_noop("撤销")),
    (TState.DO, TState.CANCELLED, "ticket.manage", gettext_noop("撤销")),
    (TState.CHECK, TState.CANCELLED, "ticket.manage", gettext_noop("撤销")),
    (TState.ACT, TState.CANCELLED, "ticket.manage", gettext_noop("撤销")),
    (TState.CLOSED, TState.DO, "ticket.manage", gettext_noop("重新打开")),
]


class Origin(models.TextChoices):
    NEED = "need", ChoiceLabel(gettext_noop("需求"))
    SURVEY = "survey", ChoiceLabel(gettext_noop("满意度偏低"))
    STAFF = "staff", ChoiceLabel(gettext_noop("自查发现"))


class Satisfaction(models.TextChoices):
    """The requester's satisfaction at the call-back (回访)."""

    SATISFIED = "satisfied", ChoiceLabel(gettext_noop("满意"))
    FAIRLY = "fairly", ChoiceLabel(gettext_noop("比较满意"))
    NOT_VERY = "not_very", ChoiceLabel(gettext_noop("不太满意"))
    UNSATISFIED = "unsatisfied", ChoiceLabel(gettext_noop("不满意"))
    UNKNOWN = "unknown", ChoiceLabel(gettext_noop("不清楚/未回访"))


class Ticket(models.Model):
    """One PDCA improvement. The fields of each step are filled while the ticket is in that step."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name=_("责任单位"), related_name="tickets", on_delete=models.PROTECT)
    area = models.ForeignKey(ServiceArea, verbose_name=_("服务区域"), null=True, blank=True, related_name="tickets",
                             on_delete=models.PROTECT)
    number = models.CharField(_("编号"), max_length=20, unique=True)
    origin = models.CharField(_("来源"), max_length=10, choices=Origin.choices, default=Origin.STAFF)
    need = models.OneToOneField(Need, null=True, blank=True, related_name="ticket", on_delete=models.PROTECT)
    index = models.OneToOneField("SatisfactionIndex", null=True, blank=True, related_name="ticket",
                                 on_delete=models.PROTECT)
    title = models.CharField(_("标题"), max_length=60)
    description = models.TextField(_("问题描述"), max_length=2000)
    state = models.CharField(_("状态"), max_length=10, choices=TState.choices, default=TState.PLAN)
    version = models.PositiveIntegerField(default=1)
    owner = models.ForeignKey(USER, verbose_name=_("责任人"), null=True, blank=True, related_name="+",
                              on_delete=models.SET_NULL)
    due_date = models.DateField(_("完成期限"), null=True, blank=True)
    # Plan
    analysis = models.TextField(_("原因分析"), max_length=2000, blank=True)
    measures = models.TextField(_("整改措施"), max_length=2000, blank=True)
    # Check
    verification = models.TextField(_("核查情况"), max_length=2000, blank=True)
    satisfaction = models.CharField(_("诉求人满意度"), max_length=12, choices=Satisfaction.choices, blank=True)
    callback_on = models.DateField(_("回访日期"), null=True, blank=True)
    # Act
    standardization = models.TextField(_("固化与改进"), max_length=2000, blank=True)
    similar_cases = models.TextField(_("举一反三"), max_length=2000, blank=True)
    recurrence = models.BooleanField(_("同类问题重复发生"), default=False)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = pgettext_lazy("model name", "整改工单")
        verbose_name_plural = pgettext_lazy("model name plural", "整改工单")
        indexes = [models.Index(fields=["org", "state"], name="ticket_org_state"),
                   models.Index(fields=["state", "due_date"], name="ticket_state_due"),
                   models.Index(fields=["created_at"], name="ticket_created")]

    def __str__(self):
        return f"{self.number} {self.title}"


class TicketTransition(models.Model):
    SCOPE_PATH = "ticket__org__path"

    ticket = models.ForeignKey(Ticket, related_name="transitions", on_delete=models.CASCADE)
    from_state = models.CharField(max_length=10, choices=TState.choices)
    to_state = models.CharField(max_length=10, choices=TState.choices)
    actor = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    reason = models.CharField(_("理由"), max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ticket", "at", "id"]

    def __str__(self):
        return f"{self.ticket_id} {self.from_state}→{self.to_state}"


def ticket_evidence_path(instance, filename):
    return f"tickets/{instance.ticket_id}/{filename}"


class TicketAction(models.Model):
    """A step taken in the Do phase (or a note in any phase)."""

    SCOPE_PATH = "ticket__org__path"

    ticket = models.ForeignKey(Ticket, related_name="actions", on_delete=models.CASCADE)
    date = models.DateField(_("日期"))
    text = models.TextField(_("措施落实情况"), max_length=2000)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ticket", "date", "id"]

    def __str__(self):
        return f"{self.date} {self.text[:20]}"


class TicketEvidence(models.Model):
    SCOPE_PATH = "ticket__org__path"

    ticket = models.ForeignKey(Ticket, related_name="evidence", on_delete=models.CASCADE)
    action = models.ForeignKey(TicketAction, null=True, blank=True, related_name="evidence",
                               on_delete=models.CASCADE)
    file = models.FileField(upload_to=ticket_evidence_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(USER, null=True, related_name="+", on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        ordering = ["ticket", "id"]

    def __str__(self):
        return self.name


# ---- satisfaction surveys ---------------------------------------------------------------------------------------


class SurveyKind(models.TextChoices):
    GOVERNMENT = "government", ChoiceLabel(gettext_noop("政府满意度"))
    CUSTOMER = "customer", ChoiceLabel(gettext_noop("客户满意度"))


class SurveyState(models.TextChoices):
    DRAFT = "draft", ChoiceLabel(gettext_noop("草稿"))
    OPEN = "open", ChoiceLabel(gettext_noop("收集中"))
    CLOSED = "closed", ChoiceLabel(gettext_noop("已结束"))


class Survey(models.Model):
    """A questionnaire owned by an organization (usually the committee) and answered about the organizations
    its links name. Its questions are fixed once it opens."""

    SCOPE_PATH = "owner__path"

    owner = models.ForeignKey(Organization, verbose_name=_("发起单位"), related_name="surveys",
                              on_delete=models.PROTECT)
    title = models.CharField(_("问卷名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=SurveyKind.choices, default=SurveyKind.CUSTOMER)
    intro = models.TextField(_("卷首语"), max_length=1000, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=SurveyState.choices, default=SurveyState.DRAFT)
    threshold = models.DecimalField(_("满意度预警线"), max_digits=4, decimal_places=1, default=Decimal("80.0"),
                                    help_text=_("月度满意度指数低于此值时自动生成整改工单（0–100）"))
    min_responses = models.PositiveSmallIntegerField(_("预警最少样本数"), default=5)
    one_per_invitation = models.BooleanField(_("每个邀请码限答一次"), default=False)
    opens_on = models.DateField(_("开始日期"), null=True, blank=True)
    closes_on = models.DateField(_("结束日期"), null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = pgettext_lazy("model name", "满意度调查")
        verbose_name_plural = pgettext_lazy("model name plural", "满意度调查")

    def __str__(self):
        return self.title


class QKind(models.TextChoices):
    SCALE = "scale", ChoiceLabel(gettext_noop("满意度量表"))
    CHOICE = "choice", ChoiceLabel(gettext_noop("单选"))
    MULTI = "multi", ChoiceLabel(gettext_noop("多选"))
    TEXT = "text", ChoiceLabel(gettext_noop("文字"))


# The five-level scale of State Grid questionnaires and each level's score on the 0–100 index; 不清楚 counts as
# an answer but not into the index.
SCALE_LEVELS: list[tuple[str, Decimal | None]] = [
    (gettext_noop("满意"), Decimal("100")),
    (gettext_noop("比较满意"), Decimal("80")),
    (gettext_noop("不太满意"), Decimal("40")),
    (gettext_noop("不满意"), Decimal("0")),
    (gettext_noop("不清楚"), None),
]
SATISFIED_AT = Decimal("80")  # a response whose score is at least this counts as satisfied


class Question(models.Model):
    SCOPE_PATH = "survey__owner__path"

    survey = models.ForeignKey(Survey, related_name="questions", on_delete=models.CASCADE)
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    kind = models.CharField(_("题型"), max_length=10, choices=QKind.choices, default=QKind.SCALE)
    text = models.CharField(_("题目"), max_length=200)
    required = models.BooleanField(_("必答"), default=True)
    # choice/multi: ["选项一", "选项二", ...]; scale: empty (SCALE_LEVELS)
    options = models.JSONField(_("选项"), default=list, blank=True)
    # the driver a scale question measures (供电质量, 电费电价, 抢修服务 …), for the decision-support charts
    topic = models.CharField(_("关注方面"), max_length=20, blank=True)

    class Meta:
        ordering = ["survey", "order", "id"]

    def __str__(self):
        return self.text


class SurveyLink(models.Model):
    """The anonymous link (and QR code) of a survey for one organization or one of its areas."""

    SCOPE_PATH = "org__path"

    survey = models.ForeignKey(Survey, related_name="links", on_delete=models.CASCADE)
    org = models.ForeignKey(Organization, verbose_name=_("被评价单位"), related_name="survey_links",
                            on_delete=models.PROTECT)
    area = models.ForeignKey(ServiceArea, verbose_name=_("服务区域"), null=True, blank=True,
                             related_name="survey_links", on_delete=models.PROTECT)
    key = models.CharField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["survey", "org", "area", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "org", "area"], condition=Q(area__isnull=False),
                                    name="survey_link_one_per_area"),
            models.UniqueConstraint(fields=["survey", "org"], condition=Q(area__isnull=True),
                                    name="survey_link_one_per_org"),
        ]

    def __str__(self):
        return f"{self.survey_id} {self.org_id} {self.area_id or ''}"


class SurveyInvitation(models.Model):
    """One invitation code of a link: where the survey asks for it, the code answers once."""

    SCOPE_PATH = "link__org__path"

    link = models.ForeignKey(SurveyLink, related_name="invitations", on_delete=models.CASCADE)
    token = models.CharField(max_length=40, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["link", "id"]

    def __str__(self):
        return self.token[:6]


class SurveyResponse(models.Model):
    """One anonymous response. ``score`` is the mean of its scale answers on 0–100 (None when it has none)."""

    SCOPE_PATH = "org__path"

    survey = models.ForeignKey(Survey, related_name="responses", on_delete=models.CASCADE)
    link = models.ForeignKey(SurveyLink, related_name="responses", on_delete=models.CASCADE)
    org = models.ForeignKey(Organization, related_name="survey_responses", on_delete=models.PROTECT)
    area = models.ForeignKey(ServiceArea, null=True, blank=True, related_name="survey_responses",
                             on_delete=models.PROTECT)
    invitation = models.OneToOneField(SurveyInvitation, null=True, blank=True, related_name="response",
                                      on_delete=models.PROTECT)
    month = models.DateField(_("月份"))
    score = models.DecimalField(_("得分"), max_digits=4, decimal_places=1, null=True, blank=True)
    client_hash = models.CharField(max_length=64, blank=True, db_index=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["org", "month"], name="response_org_month"),
                   models.Index(fields=["survey", "month"], name="response_survey_month")]

    def __str__(self):
        return f"{self.survey_id} {self.month:%Y-%m} {self.score}"


class Answer(models.Model):
    SCOPE_PATH = "response__org__path"

    response = models.ForeignKey(SurveyResponse, related_name="answers", on_delete=models.CASCADE)
    question = models.ForeignKey(Question, related_name="answers", on_delete=models.CASCADE)
    # scale/choice: the option's index; multi: the indexes in ``choices``; text: ``text``
    choice = models.SmallIntegerField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True)
    text = models.TextField(max_length=1000, blank=True)
    score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["response", "question"]
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_once")]

    def __str__(self):
        return f"{self.response_id} {self.question_id}"


class SatisfactionIndex(models.Model):
    """The month's satisfaction of one organization by one kind of survey, computed set-based from the responses
    (service.surveys.compute_indices): responses, mean score (0–100), share of satisfied responses (%)."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, related_name="satisfaction_indices", on_delete=models.PROTECT)
    month = models.DateField(_("月份"))
    kind = models.CharField(_("类型"), max_length=12, choices=SurveyKind.choices)
    responses = models.PositiveIntegerField(_("样本数"))
    mean_score = models.DecimalField(_("满意度指数"), max_digits=4, decimal_places=1, null=True)
    share_satisfied = models.DecimalField(_("满意率（%）"), max_digits=4, decimal_places=1, null=True)
    threshold = models.DecimalField(_("预警线"), max_digits=4, decimal_places=1, null=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "org", "kind"]
        verbose_name = pgettext_lazy("model name", "满意度指数")
        verbose_name_plural = pgettext_lazy("model name plural", "满意度指数")
        constraints = [models.UniqueConstraint(fields=["org", "month", "kind"], name="satisfaction_index_unique")]

    def __str__(self):
        return f"{self.org_id} {self.month:%Y-%m} {self.kind} {self.mean_score}"


# ---- service teams ----------------------------------------------------------------------------------------------


class TeamKind(models.TextChoices):
    PARTY = "party", ChoiceLabel(gettext_noop("光明先锋共产党员服务队"))
    WELFARE = "welfare", ChoiceLabel(gettext_noop("公益组织"))


class ServiceTeam(models.Model):
    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name=_("所属组织"), related_name="service_teams",
                            on_delete=models.PROTECT)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=10, choices=TeamKind.choices, default=TeamKind.PARTY)
    leader = models.ForeignKey(Member, verbose_name=_("队长"), null=True, blank=True, related_name="+",
                               on_delete=models.SET_NULL)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    description = models.TextField(_("简介"), max_length=1000, blank=True)
    archived = models.BooleanField(_("已撤销"), default=False)

    class Meta:
        ordering = ["org", "name"]
        verbose_name = pgettext_lazy("model name", "服务队")
        verbose_name_plural = pgettext_lazy("model name plural", "服务队")
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="service_team_unique_name")]

    def __str__(self):
        return self.name


class TeamMember(models.Model):
    SCOPE_PATH = "team__org__path"

    team = models.ForeignKey(ServiceTeam, related_name="memberships", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, related_name="service_teams", on_delete=models.PROTECT)
    joined_on = models.DateField(_("加入日期"), null=True, blank=True)

    class Meta:
        ordering = ["team", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "member"], name="team_member_once")]

    def __str__(self):
        return f"{self.team_id} {self.member_id}"


class ServiceActivity(models.Model):
    SCOPE_PATH = "team__org__path"

    team = models.ForeignKey(ServiceTeam, related_name="activities", on_delete=models.PROTECT)
    date = models.DateField(_("日期"))
    title = models.CharField(_("活动名称"), max_length=100)
    place = models.CharField(_("地点"), max_length=100)
    content = models.TextField(_("活动内容"), max_length=2000, blank=True)
    people_served = models.PositiveIntegerField(_("服务人次"), default=0)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = pgettext_lazy("model name", "服务活动")
        verbose_name_plural = pgettext_lazy("model name plural", "服务活动")
        indexes = [models.Index(fields=["team", "date"], name="service_activity_team_date")]

    def __str__(self):
        return f"{self.date} {self.title}"


class ServiceParticipation(models.Model):
    """A member's hours in an activity; ``record`` is the member's ServiceRecord the hours became."""

    SCOPE_PATH = "activity__team__org__path"

    activity = models.ForeignKey(ServiceActivity, related_name="participants", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, related_name="service_participations", on_delete=models.PROTECT)
    hours = models.DecimalField(_("时长（小时）"), max_digits=5, decimal_places=1)
    record = models.OneToOneField(ServiceRecord, null=True, blank=True, related_name="participation",
                                  on_delete=models.SET_NULL)

    class Meta:
        ordering = ["activity", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "member"], name="participation_once"),
                       models.CheckConstraint(condition=Q(hours__gt=0), name="participation_hours_positive")]

    def __str__(self):
        return f"{self.activity_id} {self.member_id} {self.hours}"


def activity_photo_path(instance, filename):
    return f"service-activities/{instance.activity_id}/{filename}"


class ActivityPhoto(models.Model):
    SCOPE_PATH = "activity__team__org__path"

    activity = models.ForeignKey(ServiceActivity, related_name="photos", on_delete=models.CASCADE)
    file = models.FileField(upload_to=activity_photo_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(USER, null=True, related_name="+", on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["activity", "id"]

    def __str__(self):
        return self.name


# ---- social-responsibility projects -----------------------------------------------------------------------------


class ProjectKind(models.TextChoices):
    SERVICE_POINT = "service_point", ChoiceLabel(gettext_noop("便民服务点"))
    SPOKESPERSON = "spokesperson", ChoiceLabel(gettext_noop("小小新闻发言人"))
    PV_POVERTY = "pv_poverty", ChoiceLabel(gettext_noop("光伏扶贫"))
    OTHER = "other", ChoiceLabel(gettext_noop("其他"))


class ProjectState(models.TextChoices):
    PLANNED = "planned", ChoiceLabel(gettext_noop("筹备中"))
    RUNNING = "running", ChoiceLabel(gettext_noop("实施中"))
    DONE = "done", ChoiceLabel(gettext_noop("已完成"))


class Project(models.Model):
    """社会责任根植项目."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name=_("实施单位"), related_name="projects",
                            on_delete=models.PROTECT)
    name = models.CharField(_("项目名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=ProjectKind.choices, default=ProjectKind.OTHER)
    goal = models.TextField(_("项目目标"), max_length=2000)
    state = models.CharField(_("状态"), max_length=10, choices=ProjectState.choices, default=ProjectState.PLANNED)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("计划结束日期"), null=True, blank=True)
    lead = models.ForeignKey(Member, verbose_name=_("负责人"), null=True, blank=True, related_name="+",
                             on_delete=models.SET_NULL)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = pgettext_lazy("model name", "社会责任根植项目")
        verbose_name_plural = pgettext_lazy("model name plural", "社会责任根植项目")

    def __str__(self):
        return self.name


class Milestone(models.Model):
    SCOPE_PATH = "project__org__path"

    project = models.ForeignKey(Project, related_name="milestones", on_delete=models.CASCADE)
    title = models.CharField(_("里程碑"), max_length=100)
    due_on = models.DateField(_("计划日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["project", "due_on", "id"]

    def __str__(self):
        return self.title


class Indicator(models.Model):
    SCOPE_PATH = "project__org__path"

    project = models.ForeignKey(Project, related_name="indicators", on_delete=models.CASCADE)
    name = models.CharField(_("成效指标"), max_length=60)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    baseline = models.DecimalField(_("基线值"), max_digits=14, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["project", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="indicator_unique_name")]

    def __str__(self):
        return self.name


class IndicatorValue(models.Model):
    SCOPE_PATH = "indicator__project__org__path"

    indicator = models.ForeignKey(Indicator, related_name="values", on_delete=models.CASCADE)
    on = models.DateField(_("日期"))
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["indicator", "on", "id"]
        constraints = [models.UniqueConstraint(fields=["indicator", "on"], name="indicator_value_once")]

    def __str__(self):
        return f"{self.on} {self.value}"


