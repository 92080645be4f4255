"""考评标准: standard sets for evaluating Party organizations (公用 + 差异).

A set belongs to the committee that defines it (``owner``) and a year, and is versioned: 1, 2, … per owner and
year. Its categories (组织建设, 组织生活, …) hold the items. An item applies to organizations by level (三级) and
type (三类): no type restriction makes it 公用 (common to every type, possibly only at some levels); a type
restriction makes it 差异. A weight per type multiplies an item's points for organizations of that type.

States: draft → published → archived. At most one published set per owner and year. A set used by a finalized
month is frozen (``frozen_at``): nothing in it changes any more; ``copy_to_new_version`` is the way to change it.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dangjian.orgs.models import ChoiceLabel, Level, Organization, OrgType

ONE = Decimal("1")
TENTH = Decimal("0.1")
LEVEL_ORDER = [value for value, _label in Level.choices]


class SetStatus(models.TextChoices):
    DRAFT = "draft", ChoiceLabel(gettext_noop("草稿"))
    PUBLISHED = "published", ChoiceLabel(gettext_noop("已发布"))
    ARCHIVED = "archived", ChoiceLabel(gettext_noop("已归档"))


class Method(models.TextChoices):
    """考评方式: how an item is evaluated; an item has one or several."""

    REPORT = "report", ChoiceLabel(gettext_noop("信息资料报送"))
    SELF = "self", ChoiceLabel(gettext_noop("自我评价"))
    ONSITE = "onsite", ChoiceLabel(gettext_noop("现场考评"))


METHOD_ORDER = [value for value, _label in Method.choices]
# Short names for narrow table cells (the full name is the cell's tooltip).
METHOD_SHORT = {Method.REPORT: gettext_noop("报送"), Method.SELF: gettext_noop("自评"),
                Method.ONSITE: gettext_noop("现场")}


def ancestor_or_self_paths(path: str) -> list[str]:
    """"0000001.0000004.0000017." -> ["0000001.", "0000001.0000004.", "0000001.0000004.0000017."]."""
    segs = path.split(".")[:-1]
    return [".".join(segs[: i + 1]) + "." for i in range(len(segs))]


class StandardSetQuerySet(models.QuerySet):
    def visible_to(self, user):
        from dangjian.core.access import scope

        return scope(user, "standard.view", self)


class StandardSet(models.Model):
    SCOPE_PATH = "owner__path"

    owner = models.ForeignKey(Organization, verbose_name=_("制定单位"), related_name="standard_sets",
                              on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    name = models.CharField(_("名称"), max_length=100)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    based_on = models.ForeignKey("self", verbose_name=_("复制自"), null=True, blank=True, related_name="+",
                                 on_delete=models.SET_NULL)
    status = models.CharField(_("状态"), max_length=10, choices=SetStatus.choices, default=SetStatus.DRAFT)
    note = models.TextField(_("说明"), max_length=2000, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StandardSetQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "owner__path", "-version"]
        verbose_name = pgettext_lazy("model name", "考评标准")
        verbose_name_plural = pgettext_lazy("model name plural", "考评标准")
        constraints = [
            models.UniqueConstraint(fields=["owner", "year", "version"], name="standard_set_version_unique"),
            models.UniqueConstraint(fields=["owner", "year"], condition=Q(status="published"),
                                    name="one_published_standard_set"),
            models.CheckConstraint(condition=Q(version__gte=1), name="standard_set_version_positive"),
        ]

    def __str__(self):
        return f"{self.name} V{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_editable(self) -> bool:
        return self.status == SetStatus.DRAFT and self.frozen_at is None

    @staticmethod
    def own_q(user, action):
        """Everyone with a role may read the rules they are evaluated under: besides the sets owned inside their
        subtrees (core.access.scope), ``standard.view`` also covers sets owned by an ancestor of a granted
        organization. Path arithmetic only, so the whole filter stays one query."""
        if action != "standard.view":
            return None
        from dangjian.core.access import allowed_paths

        paths = allowed_paths(user, action)
        if not paths:
            return None
        ancestors = sorted({a for p in paths for a in ancestor_or_self_paths(p)})
        return Q(owner__path__in=ancestors)


class Category(models.Model):
    SCOPE_PATH = "standard_set__owner__path"

    standard_set = models.ForeignKey(StandardSet, related_name="categories", on_delete=models.CASCADE)
    code = models.CharField(_("类别编码"), max_length=10)
    name = models.CharField(_("类别名称"), max_length=40)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["standard_set", "order", "id"]
        verbose_name = pgettext_lazy("model name", "考评类别")
        verbose_name_plural = pgettext_lazy("model name plural", "考评类别")
        constraints = [
            models.UniqueConstraint(fields=["standard_set", "code"], name="category_code_unique_in_set"),
            models.UniqueConstraint(fields=["standard_set", "name"], name="category_name_unique_in_set"),
        ]

    def __str__(self):
        return self.name


class AutoSource(models.TextChoices):
    """服务数据计分: the service figure of the organization's month (its subtree) an item may be scored from
    (assessments.auto). The figure is on 0–100; ``Item.auto_full_at`` and ``auto_zero_at`` turn it into points."""

    NONE = "", ChoiceLabel(gettext_noop("人工评分"))
    CUSTOMER = "satisfaction_customer", ChoiceLabel(gettext_noop("客户满意度指数"))
    GOVERNMENT = "satisfaction_government", ChoiceLabel(gettext_noop("政府满意度指数"))
    SATISFACTION = "satisfaction", ChoiceLabel(gettext_noop("满意度指数（客户与政府合并）"))
    TICKET_CLOSURE = "ticket_closure", ChoiceLabel(gettext_noop("整改工单销号率"))


class Item(models.Model):
    """考评细则. ``methods`` and ``applies_levels`` are JSON lists of Method and Level values in their canonical
    order (empty levels = every level); ``applies_types`` empty = every type (公用); ``weights`` maps an
    organization type's code to a decimal string (missing = 1)."""

    SCOPE_PATH = "standard_set__owner__path"

    standard_set = models.ForeignKey(StandardSet, related_name="items", on_delete=models.CASCADE)
    category = models.ForeignKey(Category, verbose_name=_("类别"), related_name="items", on_delete=models.CASCADE)
    code = models.CharField(_("细则编码"), max_length=20)
    text = models.TextField(_("考评内容"), max_length=1000)
    max_points = models.DecimalField(_("分值"), max_digits=5, decimal_places=1)
    rule = models.TextField(_("扣分标准"), max_length=1000)
    evidence = models.TextField(_("要求报送的资料"), max_length=1000, blank=True)
    methods = models.JSONField(_("考评方式"), default=list)
    applies_levels = models.JSONField(_("适用层级"), default=list, blank=True)
    applies_types = models.ManyToManyField(OrgType, verbose_name=_("适用类型"), blank=True, related_name="+")
    weights = models.JSONField(_("类型权重"), default=dict, blank=True)
    is_veto = models.BooleanField(_("一票否决项"), default=False)
    order = models.PositiveIntegerField(_("排序"), default=0)
    # 服务数据计分 (the loop of pillar 3): full marks at a figure ≥ auto_full_at, zero at ≤ auto_zero_at, linear
    # between, to 0.1; fewer than auto_min_sample responses (or due tickets) give no automatic score.
    auto_source = models.CharField(_("服务数据计分"), max_length=24, choices=AutoSource.choices, blank=True,
                                   default="")
    auto_full_at = models.DecimalField(_("满分线"), max_digits=4, decimal_places=1, null=True, blank=True)
    auto_zero_at = models.DecimalField(_("零分线"), max_digits=4, decimal_places=1, null=True, blank=True)
    auto_min_sample = models.PositiveSmallIntegerField(_("最少样本数"), default=1)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = pgettext_lazy("model name", "考评细则")
        verbose_name_plural = pgettext_lazy("model name plural", "考评细则")
        constraints = [
            models.UniqueConstraint(fields=["standard_set", "code"], name="item_code_unique_in_set"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="item_max_points_positive"),
            models.CheckConstraint(
                condition=Q(auto_source="") | Q(auto_zero_at__gte=0, auto_full_at__lte=100,
                                                auto_zero_at__lt=models.F("auto_full_at")),
                name="item_auto_rule_complete"),
        ]

    def __str__(self):
        return f"{self.code} {self.text[:30]}"

    # The helpers below read applies_types through the prefetch cache when there is one.

    def type_list(self) -> list[OrgType]:
        return list(self.applies_types.all())

    @property
    def is_common(self) -> bool:
        """公用: no type restriction (it may still be limited to some levels)."""
        return not self.type_list()

    def applies_to(self, level: str, type_id: int | None) -> bool:
        if self.applies_levels and level not in self.applies_levels:
            return False
        types = self.type_list()
        return not types or any(t.pk == type_id for t in types)

    def weight_for(self, type_code: str | None) -> Decimal:
        if not type_code:
            return ONE
        return Decimal(self.weights.get(type_code, "1"))

    def points_for(self, type_code: str | None) -> Decimal:
        """The item's points for an organization of this type: max points × the type's weight, to 0.1."""
        return (self.max_points * self.weight_for(type_code)).quantize(TENTH, rounding=ROUND_HALF_UP)

    def type_names(self) -> list[str]:
        return [t.display_name for t in self.type_list()]

    def level_labels(self) -> list:
        return [Level(v).label for v in self.applies_levels]

    def method_labels(self) -> list:
        return [Method(v).label for v in self.methods]

    def method_badges(self) -> list[tuple[str, str]]:
        """(short name, full name) of each method, in the active language."""
        return [(gettext(METHOD_SHORT[v]), str(Method(v).label)) for v in self.methods]

    def auto_points(self, figure: Decimal, max_points: Decimal) -> Decimal:
        """The points a service figure earns on this item (``max_points``: the item's points for the
        organization's type): full at ≥ auto_full_at, zero at ≤ auto_zero_at, linear between, to 0.1."""
        full, zero = self.auto_full_at, self.auto_zero_at
        if figure >= full:
            return max_points
        if figure <= zero:
            return Decimal("0.0")
        return (max_points * (figure - zero) / (full - zero)).quantize(TENTH, rounding=ROUND_HALF_UP)

    def auto_rule_text(self) -> str:
        """"客户满意度指数 ≥ 95 满分，≤ 60 零分，其间按比例" in the active language ("" when not auto-scored)."""
        if not self.auto_source:
            return ""
        return gettext("{source} ≥ {full} 满分，≤ {zero} 零分，其间按比例计分").format(
            source=AutoSource(self.auto_source).label, full=self.auto_full_at, zero=self.auto_zero_at)


# ---- member standards (党员量化评价标准): 基础分 / 奖励分 / 减项分 / 一票否决 ---------------------------------------


class MemberPart(models.TextChoices):
    BASE = "base", ChoiceLabel(gettext_noop("基础分"))
    BONUS = "bonus", ChoiceLabel(gettext_noop("奖励分"))
    DEDUCTION = "deduction", ChoiceLabel(gettext_noop("减项分"))
    VETO = "veto", ChoiceLabel(gettext_noop("一票否决"))


class Dimension(models.TextChoices):
    """四讲四有 plus the company's central work."""

    POLITICS = "politics", ChoiceLabel(gettext_noop("讲政治有信念"))
    RULES = "rules", ChoiceLabel(gettext_noop("讲规矩有纪律"))
    MORALS = "morals", ChoiceLabel(gettext_noop("讲道德有品行"))
    DEDICATION = "dedication", ChoiceLabel(gettext_noop("讲奉献有作为"))
    CENTRAL = "central", ChoiceLabel(gettext_noop("中心工作"))


class ActivitySource(models.TextChoices):
    """Which activity records pre-fill an item's count in a member's month (so nobody types a fact twice)."""

    NONE = "", ChoiceLabel(gettext_noop("手工填报"))
    MEETING_ATTENDED = "meeting_attended", ChoiceLabel(gettext_noop("参加组织生活次数"))
    MEETING_ABSENT = "meeting_absent", ChoiceLabel(gettext_noop("无故缺席组织生活次数"))
    LECTURE_GIVEN = "lecture_given", ChoiceLabel(gettext_noop("讲党课次数"))
    STUDY = "study", ChoiceLabel(gettext_noop("学习记录条数"))
    DUES_MISSING = "dues_missing", ChoiceLabel(gettext_noop("当月党费未按时交纳"))
    SERVICE_HOURS = "service_hours", ChoiceLabel(gettext_noop("志愿服务时长（小时）"))


class VetoEffect(models.TextChoices):
    MONTH = "month", ChoiceLabel(gettext_noop("当月不合格，当月得分计0"))
    YEAR_ZERO = "year_zero", ChoiceLabel(gettext_noop("当月不合格，全年得分清零"))
    BAR_TOP = "bar_top", ChoiceLabel(gettext_noop("当月不合格，年度不得评为优秀"))


class MemberStandardSet(models.Model):
    """A year's rules for evaluating Party members, owned by a committee and versioned like ``StandardSet``.

    Scoring (appraisal.scoring): every base item met earns its points, each miss loses ``per_miss`` (or all);
    bonus and deduction items count occurrences × points, capped per item per month and per year; then the
    bonus total is capped per dimension and in total (``bonus_cap``), deductions by ``deduction_cap``; the month
    total = base + bonus − deductions, not below ``floor``. With rater weights the month's score is
    self × weight_self % + branch × weight_branch %. A veto item makes the month unqualified, with the effect
    ``veto_effect``."""

    SCOPE_PATH = "owner__path"

    owner = models.ForeignKey(Organization, verbose_name=_("制定单位"), related_name="member_standard_sets",
                              on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    name = models.CharField(_("名称"), max_length=100)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    based_on = models.ForeignKey("self", verbose_name=_("复制自"), null=True, blank=True, related_name="+",
                                 on_delete=models.SET_NULL)
    status = models.CharField(_("状态"), max_length=10, choices=SetStatus.choices, default=SetStatus.DRAFT)
    note = models.TextField(_("说明"), max_length=2000, blank=True)
    bonus_cap = models.DecimalField(_("奖励分上限"), max_digits=5, decimal_places=1, null=True, blank=True)
    deduction_cap = models.DecimalField(_("减项分上限"), max_digits=5, decimal_places=1, null=True, blank=True)
    floor = models.DecimalField(_("月度最低分"), max_digits=5, decimal_places=1, null=True, blank=True,
                                help_text=_("留空表示不设下限"))
    pass_mark = models.DecimalField(_("合格分数线"), max_digits=5, decimal_places=1, null=True, blank=True,
                                    help_text=_("月度得分低于此分为不合格；留空表示只看否决项"))
    # {dimension value: "cap"} on the bonus earned in that dimension a month; missing = no cap.
    dimension_caps = models.JSONField(_("各维度奖励分上限"), default=dict, blank=True)
    veto_effect = models.CharField(_("否决项的效果"), max_length=10, choices=VetoEffect.choices,
                                   default=VetoEffect.MONTH)
    weight_self = models.DecimalField(_("自评权重（%）"), max_digits=5, decimal_places=1, default=Decimal("0"))
    weight_branch = models.DecimalField(_("支部评定权重（%）"), max_digits=5, decimal_places=1,
                                        default=Decimal("100"))
    public_ranking = models.BooleanField(_("公开显示排名"), default=False,
                                         help_text=_("是否在上墙页面显示支部内排名（默认不显示）"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "owner__path", "-version"]
        verbose_name = pgettext_lazy("model name", "党员评价标准")
        verbose_name_plural = pgettext_lazy("model name plural", "党员评价标准")
        constraints = [
            models.UniqueConstraint(fields=["owner", "year", "version"], name="member_set_version_unique"),
            models.UniqueConstraint(fields=["owner", "year"], condition=Q(status="published"),
                                    name="one_published_member_set"),
            models.CheckConstraint(condition=Q(weight_self__gte=0) & Q(weight_branch__gte=0),
                                   name="member_set_weights_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} V{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_editable(self) -> bool:
        return self.status == SetStatus.DRAFT and self.frozen_at is None

    own_q = staticmethod(StandardSet.own_q)


class MemberItem(models.Model):
    """One rule of a member standard set.

    ``points``: base — the item's full points; bonus/deduction — points per occurrence. ``per_miss`` (base only):
    points lost per miss (empty: the whole item is lost at the first miss). ``month_cap`` / ``year_cap``: the most
    an item adds (bonus) or takes (deduction) in a month / a year. A veto item carries no points: one occurrence
    makes the month unqualified. ``source`` names the activity records that pre-fill the count."""

    SCOPE_PATH = "standard_set__owner__path"

    standard_set = models.ForeignKey(MemberStandardSet, related_name="items", on_delete=models.CASCADE)
    code = models.CharField(_("编码"), max_length=20)
    part = models.CharField(_("部分"), max_length=10, choices=MemberPart.choices)
    dimension = models.CharField(_("维度"), max_length=12, choices=Dimension.choices)
    text = models.CharField(_("评价内容"), max_length=300)
    rule = models.CharField(_("计分说明"), max_length=500, blank=True)
    points = models.DecimalField(_("分值"), max_digits=5, decimal_places=1, default=Decimal("0"))
    per_miss = models.DecimalField(_("每缺一次扣分"), max_digits=5, decimal_places=1, null=True, blank=True)
    month_cap = models.DecimalField(_("每月上限"), max_digits=5, decimal_places=1, null=True, blank=True)
    year_cap = models.DecimalField(_("全年上限"), max_digits=6, decimal_places=1, null=True, blank=True)
    source = models.CharField(_("数据来源"), max_length=20, choices=ActivitySource.choices, blank=True, default="")
    evidence_required = models.BooleanField(_("需附佐证"), default=False)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["standard_set", "order", "id"]
        verbose_name = pgettext_lazy("model name", "党员评价细则")
        verbose_name_plural = pgettext_lazy("model name plural", "党员评价细则")
        constraints = [
            models.UniqueConstraint(fields=["standard_set", "code"], name="member_item_code_unique_in_set"),
            models.CheckConstraint(condition=Q(points__gte=0), name="member_item_points_not_negative"),
            models.CheckConstraint(condition=Q(part="veto") | Q(points__gt=0), name="member_item_points_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.text[:30]}"
