"""The organization tree (三级三类), Party members, pledges, committee seats and role grants."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dangjian.core import crypto
from dangjian.core.fields import EncryptedCharField
from dangjian.core.validators import normalize_id_number, validate_id_number, validate_phone

PATH_SEGMENT = 7  # digits per level: a node's own id, zero-padded


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT}d}."


class ChoiceLabel(str):
    """A choice label whose value is its Chinese source text and which displays translated.

    Equality, hashing, ``join`` and JSON see the Chinese text, so what is stored or keyed on (import tables,
    API fields, audit records) stays in the product's language whatever the user's language is; ``str()`` and
    ``format()`` give the translation into the active language, so pages, forms and messages show it.
    ``gettext_noop`` marks each label for makemessages."""

    __slots__ = ()

    def __str__(self):
        return gettext(str.__str__(self))

    def __format__(self, spec):
        return format(str(self), spec)


class Level(models.TextChoices):
    COMMITTEE = "committee", ChoiceLabel(gettext_noop("党委"))
    GENERAL_BRANCH = "general", ChoiceLabel(gettext_noop("党总支"))
    BRANCH = "branch", ChoiceLabel(gettext_noop("党支部"))


class OrgType(models.Model):
    """三类: types are data a committee can extend."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = pgettext_lazy("model name", "组织类型")
        verbose_name_plural = pgettext_lazy("model name plural", "组织类型")

    def __str__(self):
        return self.name

    @property
    def display_name(self):
        """The name in the active language: the seeded types are translated, types added later are shown as
        they were entered."""
        return gettext(self.name) if self.name else self.name


# The seeded types (migration 0002) for makemessages; their names are data, translated by display_name.
SEEDED_TYPE_NAMES = (gettext_noop("生产类（含供电所类）"), gettext_noop("管理类"), gettext_noop("经营类"))


class OrganizationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived=False)

    def subtree(self, path: str):
        return self.filter(path__startswith=path)


class Organization(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("组织编码"), max_length=40, unique=True)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    type = models.ForeignKey(OrgType, verbose_name=_("类型"), null=True, blank=True, on_delete=models.PROTECT)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级组织"), null=True, blank=True, related_name="children", on_delete=models.PROTECT
    )
    # Materialized path of ids ("0000001.0000004."): a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    term_ends_on = models.DateField(_("届满日期"), null=True, blank=True)
    address = models.CharField(_("活动阵地"), max_length=200, blank=True)
    archived = models.BooleanField(_("已撤销"), default=False)
    archived_on = models.DateField(_("撤销日期"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("并入组织"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    order = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = pgettext_lazy("model name", "党组织")
        verbose_name_plural = pgettext_lazy("model name plural", "党组织")
        constraints = [
            models.CheckConstraint(condition=~Q(path=""), name="org_path_not_empty"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_branch(self):
        return self.level == Level.BRANCH

    def ancestor_paths(self):
        segs = self.path.split(".")[:-1]
        return [".".join(segs[: i + 1]) + "." for i in range(len(segs) - 1)]


class OrgChange(models.Model):
    """A re-organization: what the node was before, so past months stay as they were."""

    class Kind(models.TextChoices):
        CREATE = "create", ChoiceLabel(gettext_noop("成立"))
        EDIT = "edit", ChoiceLabel(gettext_noop("修改"))
        MOVE = "move", ChoiceLabel(gettext_noop("调整隶属"))
        MERGE = "merge", ChoiceLabel(gettext_noop("合并"))
        ARCHIVE = "archive", ChoiceLabel(gettext_noop("撤销"))
        RESTORE = "restore", ChoiceLabel(gettext_noop("恢复"))

    org = models.ForeignKey(Organization, related_name="changes", on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    effective_on = models.DateField(_("生效日期"))
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-id"]
        indexes = [models.Index(fields=["org", "effective_on"])]

    def __str__(self):
        return f"{self.org} {self.get_kind_display()} {self.effective_on}"


class Gender(models.TextChoices):
    MALE = "M", ChoiceLabel(gettext_noop("男"))
    FEMALE = "F", ChoiceLabel(gettext_noop("女"))


class MemberStatus(models.TextChoices):
    FULL = "full", ChoiceLabel(gettext_noop("正式党员"))
    PROBATIONARY = "probationary", ChoiceLabel(gettext_noop("预备党员"))


class MemberQuerySet(models.QuerySet):
    def search(self, text: str):
        """Name, pinyin or initials: 张三 is found by 张三, zhangsan, zhang and zs."""
        text = (text or "").strip()
        if not text:
            return self
        key = text.lower().replace(" ", "")
        if key.isascii():
            return self.filter(Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key)
                               | Q(name_pinyin__contains=key))
        return self.filter(name__contains=text)

    def by_id_number(self, id_number: str):
        """Members with this ID number (normalized), found by its blind index under every configured key."""
        return self.filter(id_number_index__in=crypto.blind_indexes(normalize_id_number(id_number or "")))


class Member(models.Model):
    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name=_("所在组织"), related_name="members", on_delete=models.PROTECT)
    name = models.CharField(_("姓名"), max_length=40)
    name_pinyin = models.CharField(max_length=120, db_index=True, editable=False)
    name_initials = models.CharField(max_length=40, db_index=True, editable=False)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    # Sealed at rest (core.crypto, docs/security.md S6); id_number_index is the blind index that finds a member
    # by ID number and keeps ID numbers unique (Member.objects.by_id_number, Member.id_index).
    id_number = EncryptedCharField(_("身份证号"), max_length=18, validators=[validate_id_number],
                                   blind_index="id_number_index")
    id_number_index = models.CharField(max_length=32, unique=True, editable=False)
    phone = EncryptedCharField(_("手机号"), max_length=11, blank=True, validators=[validate_phone])
    joined_on = models.DateField(_("入党日期"))
    confirmed_on = models.DateField(_("转正日期"), null=True, blank=True)
    status = models.CharField(_("党员类别"), max_length=12, choices=MemberStatus.choices, default=MemberStatus.FULL)
    post = models.CharField(_("岗位"), max_length=60, blank=True)
    title = models.CharField(_("职务"), max_length=60, blank=True)
    photo = models.FileField(_("照片"), upload_to="photos/%Y/", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("登录账号"), null=True, blank=True,
        related_name="member", on_delete=models.SET_NULL,
    )
    active = models.BooleanField(_("在册"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["org__path", "name_pinyin", "id"]
        verbose_name = pgettext_lazy("model name", "党员")
        verbose_name_plural = pgettext_lazy("model name plural", "党员")
        # Granted to a named user by the 安全管理员 (core.access.EXPLICIT), never through a role.
        permissions = [("export_personal_data", _("导出完整身份证号和手机号"))]

    def __str__(self):
        return self.name

    @staticmethod
    def own_q(user, action):
        """A member always sees their own record."""
        return Q(user_id=user.pk) if action == "member.view" else None

    def save(self, *args, **kwargs):
        from dangjian.core.pinyin import name_keys

        self.name_pinyin, self.name_initials = name_keys(self.name)
        self.id_number = normalize_id_number(self.id_number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "id_number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "id_number_index"}
        super().save(*args, **kwargs)

    @staticmethod
    def id_index(id_number: str) -> str:
        """The blind index stored for an ID number (bulk loads fill the column with it)."""
        return crypto.blind_index(normalize_id_number(id_number))


class Pledge(models.Model):
    """党员承诺, one per member and year."""

    SCOPE_PATH = "member__org__path"

    member = models.ForeignKey(Member, related_name="pledges", on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField(_("年度"))
    text = models.TextField(_("承诺内容"), max_length=500)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="one_pledge_per_member_year")]

    def __str__(self):
        return f"{self.member} {self.year}"


class Transfer(models.Model):
    """组织关系转接 between organizations; the member's past stays with the old organization."""

    member = models.ForeignKey(Member, related_name="transfers", on_delete=models.CASCADE)
    from_org = models.ForeignKey(Organization, related_name="+", on_delete=models.PROTECT)
    to_org = models.ForeignKey(Organization, related_name="+", on_delete=models.PROTECT)
    effective_on = models.DateField(_("转接日期"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-id"]

    def __str__(self):
        return f"{self.member}: {self.from_org} → {self.to_org}"


class Duty(models.TextChoices):
    SECRETARY = "secretary", ChoiceLabel(gettext_noop("书记"))
    DEPUTY = "deputy", ChoiceLabel(gettext_noop("副书记"))
    ORGANIZATION = "organization", ChoiceLabel(gettext_noop("组织委员"))
    PUBLICITY = "publicity", ChoiceLabel(gettext_noop("宣传委员"))
    DISCIPLINE = "discipline", ChoiceLabel(gettext_noop("纪检委员"))
    MEMBER = "member", ChoiceLabel(gettext_noop("委员"))


class CommitteeSeat(models.Model):
    """书记 and 支委: who holds which duty in an organization's committee, and since when."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, related_name="seats", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, related_name="seats", on_delete=models.CASCADE)
    duty = models.CharField(_("职务"), max_length=15, choices=Duty.choices)
    since = models.DateField(_("任职日期"))
    until = models.DateField(_("离任日期"), null=True, blank=True)

    class Meta:
        ordering = ["org", "duty", "since"]
        constraints = [
            models.UniqueConstraint(
                fields=["org"], condition=Q(duty="secretary", until__isnull=True), name="one_current_secretary"
            )
        ]

    def __str__(self):
        return f"{self.org} {self.get_duty_display()} {self.member}"


class Role(models.TextChoices):
    ADMIN = "admin", ChoiceLabel(gettext_noop("系统管理员"))
    STAFF = "staff", ChoiceLabel(gettext_noop("党建管理员"))
    ASSESSOR = "assessor", ChoiceLabel(gettext_noop("考评员"))
    SECRETARY = "secretary", ChoiceLabel(gettext_noop("支部书记/支委"))
    MEMBER = "member", ChoiceLabel(gettext_noop("党员"))
    # 等保 三员: the system administrator above, a security administrator (lockouts, second factors) and an
    # audit administrator who reads the audit log and changes nothing (core.access.ACTIONS).
    SECURITY = "security", ChoiceLabel(gettext_noop("安全管理员"))
    AUDITOR = "auditor", ChoiceLabel(gettext_noop("审计管理员"))


class RoleGrant(models.Model):
    """A role granted on an organization; it covers the organization's whole subtree."""

    SCOPE_PATH = "org__path"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="grants", on_delete=models.CASCADE)
    role = models.CharField(_("角色"), max_length=12, choices=Role.choices)
    org = models.ForeignKey(Organization, verbose_name=_("授权组织"), related_name="grants", on_delete=models.CASCADE)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "role"]
        constraints = [models.UniqueConstraint(fields=["user", "role", "org"], name="unique_grant")]

    def __str__(self):
        return f"{self.user} {self.get_role_display()} @ {self.org}"
