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

    class Meta:
        ordering = ["order", "id"]
        verbose_name = pgettext_lazy("model name", "考评细则")
        verbose_name_plural = pgettext_lazy("model name plural", "考评细则")
        constraints = [
            models.UniqueConstraint(fields=["standard_set", "code"], name="item_code_unique_in_set"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="item_max_points_positive"),
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
