"""Operations on organizations, members, committee seats and role grants.

Each function checks permission and state, runs in one transaction, writes the audit event and returns the
changed object. Views, the API, commands and imports all call these; none repeats their logic.
"""

import datetime
import uuid

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _

from dangjian.core.access import AccessDenied, can, require
from dangjian.core.audit import diff, log_action, snapshot
from dangjian.core.errors import DomainError
from dangjian.core.validators import mask_id_number, mask_phone
from dangjian.orgs.models import (
    CommitteeSeat,
    Duty,
    Level,
    Member,
    Organization,
    OrgChange,
    Pledge,
    Role,
    RoleGrant,
    Transfer,
    path_segment,
)

ORG_FIELDS = ["name", "code", "level", "type", "parent", "path", "established_on", "term_ends_on", "address",
              "archived", "archived_on", "merged_into", "order"]
MEMBER_FIELDS = ["org", "name", "gender", "birth_date", "id_number", "phone", "joined_on", "confirmed_on",
                 "status", "post", "title", "user", "active"]

ALLOWED_CHILD_LEVELS = {
    Level.COMMITTEE: {Level.COMMITTEE, Level.GENERAL_BRANCH, Level.BRANCH},
    Level.GENERAL_BRANCH: {Level.BRANCH},
    Level.BRANCH: set(),
}


def _today():
    return datetime.date.today()


def check_placement(level: str, org_type, parent: Organization | None) -> None:
    if parent is None:
        if level != Level.COMMITTEE:
            raise DomainError(_("顶级组织必须是党委。"), "parent")
    else:
        if parent.archived:
            raise DomainError(_("上级组织“{name}”已撤销，不能在其下设立组织。").format(name=parent.name), "parent")
        if level not in ALLOWED_CHILD_LEVELS[parent.level]:
            raise DomainError(
                _("{parent_level}下不能设立{level}。").format(
                    parent_level=parent.get_level_display(), level=Level(level).label),
                "parent",
            )
    if level == Level.BRANCH and org_type is None:
        raise DomainError(_("党支部必须选择类型（生产类、管理类或经营类）。"), "type")


@transaction.atomic
def create_org(user, *, parent: Organization | None, name: str, code: str, level: str, type=None,
               established_on=None, term_ends_on=None, address: str = "", order: int = 0,
               audit: bool = True) -> Organization:
    if parent is None:
        if not (user.is_superuser or can(user, "org.manage", "")):
            raise AccessDenied("org.manage")
    else:
        require(user, "org.manage", parent.path)
    check_placement(level, type, parent)
    if Organization.objects.filter(code=code).exists():
        raise DomainError(_("组织编码“{code}”已被使用，请换一个。").format(code=code), "code")
    org = Organization.objects.create(
        parent=parent, name=name, code=code, level=level, type=type, established_on=established_on,
        term_ends_on=term_ends_on, address=address, order=order, path=f"tmp-{uuid.uuid4().hex}",
        depth=(parent.depth + 1) if parent else 0,
    )
    org.path = (parent.path if parent else "") + path_segment(org.pk)
    Organization.objects.filter(pk=org.pk).update(path=org.path)
    OrgChange.objects.create(org=org, kind=OrgChange.Kind.CREATE, effective_on=established_on or _today(),
                             after=snapshot(org, ORG_FIELDS), by=_u(user))
    if audit:
        log_action(user, "org.created", org, after=snapshot(org, ORG_FIELDS))
    return org


def _u(user):
    return user if getattr(user, "is_authenticated", False) else None


@transaction.atomic
def update_org(user, org: Organization, **changes) -> Organization:
    require(user, "org.manage", org.path)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    before = snapshot(org, ORG_FIELDS)
    for key in ("parent", "path", "archived", "merged_into", "archived_on"):
        if key in changes:
            raise DomainError(_("调整隶属、合并和撤销请使用对应的操作。"))
    code = changes.get("code")
    if code and code != org.code and Organization.objects.filter(code=code).exclude(pk=org.pk).exists():
        raise DomainError(_("组织编码“{code}”已被使用，请换一个。").format(code=code), "code")
    for key, value in changes.items():
        setattr(org, key, value)
    check_placement(org.level, org.type, org.parent)
    if org.level != before["level"]:
        allowed = ALLOWED_CHILD_LEVELS[org.level]
        if org.children.exclude(level__in=allowed).exists():
            raise DomainError(_("该组织有下级组织，不能改为{level}。").format(level=org.get_level_display()), "level")
    org.save()
    b, a = diff(before, snapshot(org, ORG_FIELDS))
    if a:
        OrgChange.objects.create(org=org, kind=OrgChange.Kind.EDIT, effective_on=_today(), before=b, after=a,
                                 by=_u(user))
        log_action(user, "org.updated", org, before=b, after=a)
    return org


def _repath_subtree(old_prefix: str, new_prefix: str, depth_delta: int) -> int:
    """One UPDATE re-roots a whole subtree, on SQLite and PostgreSQL alike."""
    return Organization.objects.filter(path__startswith=old_prefix).update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1, Length("path"))),
        depth=F("depth") + depth_delta,
    )


@transaction.atomic
def move_org(user, org: Organization, new_parent: Organization, *, effective_on=None, reason: str = "") -> Organization:
    require(user, "org.manage", org.path)
    require(user, "org.manage", new_parent.path)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    new_parent = Organization.objects.get(pk=new_parent.pk)
    if org.parent_id is None:
        raise DomainError(_("顶级党委不能调整隶属关系。"))
    if new_parent.path.startswith(org.path):
        raise DomainError(_("不能把组织调整到它自己或它的下级组织之下。"), "parent")
    if new_parent.pk == org.parent_id:
        raise DomainError(_("新的上级组织与当前上级组织相同。"), "parent")
    check_placement(org.level, org.type, new_parent)
    before = snapshot(org, ["parent", "path", "depth"])
    old_path = org.path
    new_path = new_parent.path + path_segment(org.pk)
    _repath_subtree(old_path, new_path, new_parent.depth + 1 - org.depth)
    Organization.objects.filter(pk=org.pk).update(parent=new_parent)
    org.refresh_from_db()
    after = snapshot(org, ["parent", "path", "depth"])
    OrgChange.objects.create(org=org, kind=OrgChange.Kind.MOVE, effective_on=effective_on or _today(),
                             before=before, after=after, reason=reason, by=_u(user))
    log_action(user, "org.moved", org, before=before, after=after, reason=reason)
    return org


@transaction.atomic
def archive_org(user, org: Organization, *, effective_on=None, reason: str = "") -> Organization:
    require(user, "org.manage", org.path)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.archived:
        raise DomainError(_("该组织已撤销。"))
    if org.parent_id is None:
        raise DomainError(_("顶级党委不能撤销。"))
    if org.children.filter(archived=False).exists():
        raise DomainError(_("该组织还有未撤销的下级组织，请先调整或撤销下级组织。"))
    if org.members.filter(active=True).exists():
        raise DomainError(_("该组织还有在册党员，请先转接党员组织关系，或使用“合并”。"))
    org.archived, org.archived_on = True, effective_on or _today()
    org.save(update_fields=["archived", "archived_on"])
    CommitteeSeat.objects.filter(org=org, until__isnull=True).update(until=org.archived_on)
    OrgChange.objects.create(org=org, kind=OrgChange.Kind.ARCHIVE, effective_on=org.archived_on,
                             before={"archived": False}, after={"archived": True}, reason=reason, by=_u(user))
    log_action(user, "org.archived", org, reason=reason)
    return org


@transaction.atomic
def restore_org(user, org: Organization, *, reason: str = "") -> Organization:
    require(user, "org.manage", org.path)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if not org.archived:
        raise DomainError(_("该组织未撤销。"))
    if org.parent and org.parent.archived:
        raise DomainError(_("上级组织已撤销，请先恢复上级组织或调整隶属关系。"))
    org.archived, org.archived_on, org.merged_into = False, None, None
    org.save(update_fields=["archived", "archived_on", "merged_into"])
    OrgChange.objects.create(org=org, kind=OrgChange.Kind.RESTORE, effective_on=_today(),
                             before={"archived": True}, after={"archived": False}, reason=reason, by=_u(user))
    log_action(user, "org.restored", org, reason=reason)
    return org


@transaction.atomic
def merge_org(user, source: Organization, target: Organization, *, effective_on=None, reason: str = "") -> Organization:
    """合并: the source's members and child organizations go to the target, the source is archived.

    The source keeps its id, its past months and its history; it is marked as merged into the target."""
    require(user, "org.manage", source.path)
    require(user, "org.manage", target.path)
    source = Organization.objects.select_for_update().get(pk=source.pk)
    target = Organization.objects.select_for_update().get(pk=target.pk)
    effective_on = effective_on or _today()
    if source.pk == target.pk:
        raise DomainError(_("不能把组织与它自己合并。"))
    if source.archived or target.archived:
        raise DomainError(_("已撤销的组织不能参与合并。"))
    if target.path.startswith(source.path):
        raise DomainError(_("不能把组织合并到它自己的下级组织。"))
    if source.parent_id is None:
        raise DomainError(_("顶级党委不能被合并。"))
    if target.level != source.level:
        raise DomainError(_("只能并入同一层级的组织（本组织是{level}）。").format(level=source.get_level_display()),
                          "target")
    # The reason is stored with the history (data in the product's language), so it is not translated.
    for child in source.children.filter(archived=False):
        move_org(user, child, target, effective_on=effective_on, reason=f"随“{source.name}”并入“{target.name}”")
    for member in source.members.filter(active=True):
        _do_transfer(user, member, target, effective_on, f"随“{source.name}”并入“{target.name}”")
    source.archived, source.archived_on, source.merged_into = True, effective_on, target
    source.save(update_fields=["archived", "archived_on", "merged_into"])
    CommitteeSeat.objects.filter(org=source, until__isnull=True).update(until=effective_on)
    OrgChange.objects.create(org=source, kind=OrgChange.Kind.MERGE, effective_on=effective_on,
                             before={"archived": False}, after={"archived": True, "merged_into": target.pk},
                             reason=reason, by=_u(user))
    log_action(user, "org.merged", source, after={"merged_into": target.pk, "target": target.name}, reason=reason)
    return target


def org_state_at(org: Organization, on: datetime.date) -> dict:
    """The organization as it was on ``on``: its name, level, type, parent and path then.

    Later changes are undone from newest to oldest, so a past month can be shown and grouped as it was."""
    state = snapshot(org, ORG_FIELDS)
    for change in org.changes.filter(effective_on__gt=on).order_by("-effective_on", "-id"):
        if change.kind == OrgChange.Kind.CREATE:
            return {}
        state.update(change.before)
    return state


# ---- members -------------------------------------------------------------------------------------------


def check_member_facts(data: dict) -> None:
    """Cross-field rules shared by the form, the API and the importer."""
    from dangjian.core.validators import id_birth_date

    birth, idn = data.get("birth_date"), data.get("id_number")
    if birth and idn and len(idn) == 18 and id_birth_date(idn) != birth:
        raise DomainError(_("出生日期与身份证号中的出生日期不一致。"), "birth_date")
    joined, confirmed = data.get("joined_on"), data.get("confirmed_on")
    if birth and joined and (joined.year, joined.month, joined.day) < (birth.year + 18, birth.month, birth.day):
        raise DomainError(_("入党时应年满18周岁，请核对入党日期和出生日期。"), "joined_on")
    if joined and joined > _today():
        raise DomainError(_("入党日期不能晚于今天。"), "joined_on")
    if confirmed and joined and confirmed <= joined:
        raise DomainError(_("转正日期应晚于入党日期。"), "confirmed_on")
    if data.get("status") == "full" and joined and not confirmed:
        raise DomainError(_("正式党员须填写转正日期。"), "confirmed_on")
    if data.get("status") == "probationary" and confirmed:
        raise DomainError(_("预备党员不应有转正日期；如已转正，请把类别改为正式党员。"), "status")


def _masked(record: dict) -> dict:
    """ID and phone numbers go into the audit log masked: the log is not sealed, and auditors need to see that
    a number changed, not the number (docs/security.md S6)."""
    out = dict(record)
    if out.get("id_number"):
        out["id_number"] = mask_id_number(out["id_number"])
    if out.get("phone"):
        out["phone"] = mask_phone(out["phone"])
    return out


@transaction.atomic
def create_member(user, org: Organization, **data) -> Member:
    require(user, "member.manage", org.path)
    if org.archived:
        raise DomainError(_("该组织已撤销，不能新增党员。"), "org")
    if org.level != Level.BRANCH:
        raise DomainError(_("党员应登记在党支部，请选择党支部。"), "org")
    check_member_facts(data)
    if Member.objects.by_id_number(data["id_number"]).exists():
        raise DomainError(_("该身份证号已登记，请勿重复添加；如需调入，请使用“转接”。"), "id_number")
    member = Member(org=org, **data)
    member.save()
    log_action(user, "member.created", member, after=_masked(snapshot(member, MEMBER_FIELDS)))
    return member


@transaction.atomic
def update_member(user, member: Member, **changes) -> Member:
    require(user, "member.manage", member.org.path)
    member = Member.objects.select_for_update().select_related("org").get(pk=member.pk)
    if "org" in changes or "org_id" in changes:
        raise DomainError(_("变更所在组织请使用“转接”。"))
    before = snapshot(member, MEMBER_FIELDS)
    for key, value in changes.items():
        setattr(member, key, value)
    check_member_facts(snapshot(member, MEMBER_FIELDS) | {
        "birth_date": member.birth_date, "joined_on": member.joined_on, "confirmed_on": member.confirmed_on})
    idn = changes.get("id_number")
    if idn and Member.objects.by_id_number(idn).exclude(pk=member.pk).exists():
        raise DomainError(_("该身份证号已登记在另一名党员名下。"), "id_number")
    member.save()
    b, a = diff(before, snapshot(member, MEMBER_FIELDS))
    if a:
        log_action(user, "member.updated", member, before=_masked(b), after=_masked(a))
    return member


def _do_transfer(user, member, to_org, effective_on, reason):
    from_org = member.org
    Transfer.objects.create(member=member, from_org=from_org, to_org=to_org, effective_on=effective_on,
                            reason=reason, by=_u(user))
    Member.objects.filter(pk=member.pk).update(org=to_org)
    CommitteeSeat.objects.filter(member=member, org=from_org, until__isnull=True).update(until=effective_on)
    member.org = to_org
    log_action(user, "member.transferred", member, org_path=from_org.path,
               before={"org": from_org.name}, after={"org": to_org.name}, reason=reason)
    # The receiving organization sees the event in its own audit view too.
    log_action(user, "member.transferred", member, org_path=to_org.path,
               before={"org": from_org.name}, after={"org": to_org.name}, reason=reason)


@transaction.atomic
def transfer_member(user, member: Member, to_org: Organization, *, effective_on=None, reason: str = "") -> Member:
    require(user, "member.manage", member.org.path)
    require(user, "member.manage", to_org.path)
    member = Member.objects.select_for_update().select_related("org").get(pk=member.pk)
    if to_org.archived:
        raise DomainError(_("目标组织已撤销。"), "to_org")
    if to_org.pk == member.org_id:
        raise DomainError(_("目标组织与当前所在组织相同。"), "to_org")
    if to_org.level != Level.BRANCH:
        raise DomainError(_("党员组织关系应转入党支部。"), "to_org")
    _do_transfer(user, member, to_org, effective_on or _today(), reason)
    return member


def member_org_at(member: Member, on: datetime.date) -> int:
    """The id of the organization the member belonged to on ``on``."""
    later = member.transfers.filter(effective_on__gt=on).order_by("effective_on", "id").first()
    return later.from_org_id if later else member.org_id


@transaction.atomic
def save_pledge(user, member: Member, year: int, text: str) -> Pledge:
    own = member.user_id is not None and member.user_id == getattr(user, "pk", None)
    if not own:
        require(user, "member.manage", member.org.path)
    text = (text or "").strip()
    if not text:
        raise DomainError(_("承诺内容不能为空。"), "text")
    if len(text) > 500:
        raise DomainError(_("承诺内容不能超过500字。"), "text")
    pledge, created = Pledge.objects.select_for_update().get_or_create(
        member=member, year=year, defaults={"text": text})
    before = None if created else {"text": pledge.text}
    if not created:
        pledge.text = text
        pledge.save(update_fields=["text", "updated_at"])
    log_action(user, "pledge.saved", member, before=before, after={"year": year, "text": text})
    return pledge


@transaction.atomic
def assign_seat(user, org: Organization, member: Member, duty: str, since=None) -> CommitteeSeat:
    require(user, "org.manage", org.path)
    if member.org_id != org.pk and not member.org.path.startswith(org.path):
        raise DomainError(_("支委须是本组织（或下级组织）的党员。"), "member")
    since = since or _today()
    if duty == Duty.SECRETARY:
        CommitteeSeat.objects.filter(org=org, duty=Duty.SECRETARY, until__isnull=True).update(until=since)
    if CommitteeSeat.objects.filter(org=org, member=member, duty=duty, until__isnull=True).exists():
        raise DomainError(_("该党员已担任此职务。"), "duty")
    seat = CommitteeSeat.objects.create(org=org, member=member, duty=duty, since=since)
    log_action(user, "seat.assigned", org, after={"member": member.name, "duty": seat.get_duty_display()})
    return seat


@transaction.atomic
def end_seat(user, seat: CommitteeSeat, until=None) -> CommitteeSeat:
    require(user, "org.manage", seat.org.path)
    if seat.until:
        raise DomainError(_("该职务已离任。"))
    seat.until = until or _today()
    seat.save(update_fields=["until"])
    log_action(user, "seat.ended", seat.org, before={"member": seat.member.name, "duty": seat.get_duty_display()})
    return seat


# ---- roles ---------------------------------------------------------------------------------------------


@transaction.atomic
def grant_role(user, target_user, role: str, org: Organization) -> RoleGrant:
    require(user, "role.manage", org.path)
    if role not in Role.values:
        raise DomainError(_("未知的角色。"), "role")
    if org.archived:
        raise DomainError(_("不能在已撤销的组织上授权。"), "org")
    grant, created = RoleGrant.objects.get_or_create(user=target_user, role=role, org=org,
                                                     defaults={"granted_by": _u(user)})
    if not created:
        raise DomainError(_("该用户已在此组织拥有该角色。"))
    log_action(user, "role.granted", grant, after={"user": target_user.get_username(), "role": grant.get_role_display(),
                                                  "org": org.name})
    return grant


@transaction.atomic
def revoke_role(user, grant: RoleGrant) -> None:
    require(user, "role.manage", grant.org.path)
    log_action(user, "role.revoked", grant, before={"user": grant.user.get_username(),
                                                    "role": grant.get_role_display(), "org": grant.org.name})
    grant.delete()


@transaction.atomic
def create_account(user, username: str, full_name: str, password: str, member: Member | None = None):
    """A login account, linked to a member when given; the member gets the 党员 role on their branch."""
    from django.contrib.auth.models import User

    if member is not None:
        require(user, "member.manage", member.org.path)
        if member.user_id:
            raise DomainError(_("{name}已有登录账号。").format(name=member.name))
    elif not can(user, "role.manage"):
        raise AccessDenied("role.manage")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(_("用户名“{username}”已被使用。").format(username=username), "username")
    account = User.objects.create_user(username=username, password=password, first_name=full_name)
    log_action(user, "account.created", member, org_path=member.org.path if member else "",
               after={"username": username, "name": full_name})
    if member is not None:
        Member.objects.filter(pk=member.pk).update(user=account)
        RoleGrant.objects.create(user=account, role=Role.MEMBER, org=member.org, granted_by=_u(user))
    return account


@transaction.atomic
def set_account_active(user, account, active: bool):
    """停用 / 启用 an account. Accounts are never deleted: the audit trail keeps pointing at them."""
    if not can(user, "role.manage"):
        raise AccessDenied("role.manage")
    if account.pk == user.pk and not active:
        raise DomainError(_("不能停用自己的账号。"))
    if account.is_superuser and not user.is_superuser:
        raise AccessDenied("role.manage")
    account.is_active = active
    account.save(update_fields=["is_active"])
    if not active:
        from dangjian.core.models import ApiToken

        ApiToken.objects.filter(user=account).delete()
    log_action(user, "account.enabled" if active else "account.disabled", account,
               after={"username": account.get_username(), "active": active})
    return account


@transaction.atomic
def reset_password(user, account, password: str):
    """An administrator sets a new password (validated by the password rules) for an account."""
    from django.contrib.auth.password_validation import validate_password

    if not can(user, "role.manage"):
        raise AccessDenied("role.manage")
    if account.is_superuser and not user.is_superuser:
        raise AccessDenied("role.manage")
    validate_password(password, account)
    account.set_password(password)
    account.save(update_fields=["password"])
    log_action(user, "account.password_reset", account, after={"username": account.get_username()})
    return account


# ---- the explicit permission to export personal data (QUALITY.md S6) -------------------------------------

PERSONAL_EXPORT = ("orgs", "export_personal_data")


def personal_exporters():
    """Accounts holding the explicit permission to export full ID and phone numbers (granted directly)."""
    from django.contrib.auth.models import User

    app_label, codename = PERSONAL_EXPORT
    return User.objects.filter(user_permissions__content_type__app_label=app_label,
                               user_permissions__codename=codename).order_by("username").distinct()


def _personal_export_permission():
    from django.contrib.auth.models import Permission

    app_label, codename = PERSONAL_EXPORT
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _require_security_admin(user):
    # The permission belongs to no organization: the 安全管理员 role must be held on a top-level one.
    from dangjian.core.access import holds_at_top

    if not holds_at_top(user, "security.manage"):
        raise AccessDenied("security.manage")


@transaction.atomic
def grant_personal_export(user, account) -> None:
    """The 安全管理员 lets a named account export full ID and phone numbers of the members it can see."""
    _require_security_admin(user)
    if account is None:
        raise DomainError(_("未找到该用户名的账号，请核对。"), "username")
    if account.pk == getattr(user, "pk", None):
        raise DomainError(_("不能给自己授予该权限，请由另一名安全管理员办理。"), "username")
    if not account.is_active:
        raise DomainError(_("该账号已停用，不能授予权限。"), "username")
    if personal_exporters().filter(pk=account.pk).exists():
        raise DomainError(_("该账号已有导出完整个人信息的权限。"), "username")
    account.user_permissions.add(_personal_export_permission())
    log_action(user, "security.personal_export_granted", after={"account": account.get_username()})


@transaction.atomic
def revoke_personal_export(user, account) -> None:
    _require_security_admin(user)
    if account is None or not personal_exporters().filter(pk=account.pk).exists():
        raise DomainError(_("该账号没有导出完整个人信息的权限。"))
    account.user_permissions.remove(_personal_export_permission())
    log_action(user, "security.personal_export_revoked", before={"account": account.get_username()})
