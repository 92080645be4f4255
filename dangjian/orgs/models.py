"""The organization tree (三级三类), Party members, pledges, committee seats and role grants."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from dangjian.core.validators import validate_id_number, validate_phone

PATH_SEGMENT = 7  # digits per level: a node's own id, zero-padded


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT}d}."


class Level(models.TextChoices):
    COMMITTEE = "committee", "党委"
    GENERAL_BRANCH = "general", "党总支"
    BRANCH = "branch", "党支部"


class OrgType(models.Model):
    """三类: types are data a committee can extend."""

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=40, unique=True)
    order = models.PositiveSmallIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = verbose_name_plural = "组织类型"

    def __str__(self):
        return self.name


class OrganizationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived=False)

    def subtree(self, path: str):
        return self.filter(path__startswith=path)


class Organization(models.Model):
    name = models.CharField("名称", max_length=100)
    code = models.CharField("组织编码", max_length=40, unique=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    type = models.ForeignKey(OrgType, verbose_name="类型", null=True, blank=True, on_delete=models.PROTECT)
    parent = models.ForeignKey(
        "self", verbose_name="上级组织", null=True, blank=True, related_name="children", on_delete=models.PROTECT
    )
    # Materialized path of ids ("0000001.0000004."): a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    established_on = models.DateField("成立日期", null=True, blank=True)
    term_ends_on = models.DateField("届满日期", null=True, blank=True)
    address = models.CharField("活动阵地", max_length=200, blank=True)
    archived = models.BooleanField("已撤销", default=False)
    archived_on = models.DateField("撤销日期", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name="并入组织", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    order = models.PositiveIntegerField("排序", default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = verbose_name_plural = "党组织"
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
        CREATE = "create", "成立"
        EDIT = "edit", "修改"
        MOVE = "move", "调整隶属"
        MERGE = "merge", "合并"
        ARCHIVE = "archive", "撤销"
        RESTORE = "restore", "恢复"

    org = models.ForeignKey(Organization, related_name="changes", on_delete=models.CASCADE)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    effective_on = models.DateField("生效日期")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.CharField("原因", max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-id"]
        indexes = [models.Index(fields=["org", "effective_on"])]


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class MemberStatus(models.TextChoices):
    FULL = "full", "正式党员"
    PROBATIONARY = "probationary", "预备党员"


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


class Member(models.Model):
    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, verbose_name="所在组织", related_name="members", on_delete=models.PROTECT)
    name = models.CharField("姓名", max_length=40)
    name_pinyin = models.CharField(max_length=120, db_index=True, editable=False)
    name_initials = models.CharField(max_length=40, db_index=True, editable=False)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    id_number = models.CharField("身份证号", max_length=18, unique=True, validators=[validate_id_number])
    phone = models.CharField("手机号", max_length=11, blank=True, validators=[validate_phone])
    joined_on = models.DateField("入党日期")
    confirmed_on = models.DateField("转正日期", null=True, blank=True)
    status = models.CharField("党员类别", max_length=12, choices=MemberStatus.choices, default=MemberStatus.FULL)
    post = models.CharField("岗位", max_length=60, blank=True)
    title = models.CharField("职务", max_length=60, blank=True)
    photo = models.FileField("照片", upload_to="photos/%Y/", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="登录账号", null=True, blank=True,
        related_name="member", on_delete=models.SET_NULL,
    )
    active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["org__path", "name_pinyin", "id"]
        verbose_name = verbose_name_plural = "党员"

    def __str__(self):
        return self.name

    @staticmethod
    def own_q(user, action):
        """A member always sees their own record."""
        return Q(user_id=user.pk) if action == "member.view" else None

    def save(self, *args, **kwargs):
        from dangjian.core.pinyin import name_keys

        self.name_pinyin, self.name_initials = name_keys(self.name)
        super().save(*args, **kwargs)


class Pledge(models.Model):
    """党员承诺, one per member and year."""

    SCOPE_PATH = "member__org__path"

    member = models.ForeignKey(Member, related_name="pledges", on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField("年度")
    text = models.TextField("承诺内容", max_length=500)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="one_pledge_per_member_year")]


class Transfer(models.Model):
    """组织关系转接 between organizations; the member's past stays with the old organization."""

    member = models.ForeignKey(Member, related_name="transfers", on_delete=models.CASCADE)
    from_org = models.ForeignKey(Organization, related_name="+", on_delete=models.PROTECT)
    to_org = models.ForeignKey(Organization, related_name="+", on_delete=models.PROTECT)
    effective_on = models.DateField("转接日期")
    reason = models.CharField("原因", max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-id"]


class Duty(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY = "deputy", "副书记"
    ORGANIZATION = "organization", "组织委员"
    PUBLICITY = "publicity", "宣传委员"
    DISCIPLINE = "discipline", "纪检委员"
    MEMBER = "member", "委员"


class CommitteeSeat(models.Model):
    """书记 and 支委: who holds which duty in an organization's committee, and since when."""

    SCOPE_PATH = "org__path"

    org = models.ForeignKey(Organization, related_name="seats", on_delete=models.CASCADE)
    member = models.ForeignKey(Member, related_name="seats", on_delete=models.CASCADE)
    duty = models.CharField("职务", max_length=15, choices=Duty.choices)
    since = models.DateField("任职日期")
    until = models.DateField("离任日期", null=True, blank=True)

    class Meta:
        ordering = ["org", "duty", "since"]
        constraints = [
            models.UniqueConstraint(
                fields=["org"], condition=Q(duty="secretary", until__isnull=True), name="one_current_secretary"
            )
        ]


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    STAFF = "staff", "党建管理员"
    ASSESSOR = "assessor", "考评员"
    SECRETARY = "secretary", "支部书记/支委"
    MEMBER = "member", "党员"


class RoleGrant(models.Model):
    """A role granted on an organization; it covers the organization's whole subtree."""

    SCOPE_PATH = "org__path"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="grants", on_delete=models.CASCADE)
    role = models.CharField("角色", max_length=12, choices=Role.choices)
    org = models.ForeignKey(Organization, verbose_name="授权组织", related_name="grants", on_delete=models.CASCADE)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "role"]
        constraints = [models.UniqueConstraint(fields=["user", "role", "org"], name="unique_grant")]
