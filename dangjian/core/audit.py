"""Audit by action code. ``log_action`` runs inside the caller's transaction, so the event and the change
commit or roll back together. The sentence a person reads is made at display time from ACTION_LABELS.
Events are hash-chained (core.audit_chain): log_action takes the chain lock, which is held until the caller's
transaction ends, so call it as the last step of a service, after the rows it changes are locked."""

import contextvars
import datetime
import decimal
import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from dangjian.core.models import AuditEvent

current_request: contextvars.ContextVar = contextvars.ContextVar("current_request", default=None)

# Chinese source text; label() translates it into the language of whoever reads the log.
ACTION_LABELS = {
    "auth.login": gettext_noop("登录"),
    "auth.login_failed": gettext_noop("登录失败"),
    "auth.logout": gettext_noop("退出登录"),
    "auth.password_changed": gettext_noop("修改密码"),
    "auth.token_issued": gettext_noop("签发API令牌"),
    "org.created": gettext_noop("新建党组织"),
    "org.updated": gettext_noop("修改党组织"),
    "org.moved": gettext_noop("调整党组织隶属关系"),
    "org.merged": gettext_noop("合并党组织"),
    "org.archived": gettext_noop("撤销党组织"),
    "org.restored": gettext_noop("恢复党组织"),
    "org.imported": gettext_noop("批量导入党组织"),
    "orgtype.saved": gettext_noop("保存组织类型"),
    "member.created": gettext_noop("新增党员"),
    "member.updated": gettext_noop("修改党员信息"),
    "member.transferred": gettext_noop("转接组织关系"),
    "member.imported": gettext_noop("批量导入党员"),
    "member.photo_changed": gettext_noop("更新党员照片"),
    "member.pii_viewed": gettext_noop("查看党员完整个人信息"),
    "pledge.saved": gettext_noop("保存党员承诺"),
    "seat.assigned": gettext_noop("任命支委职务"),
    "seat.ended": gettext_noop("免去支委职务"),
    "account.created": gettext_noop("开通账号"),
    "account.enabled": gettext_noop("启用账号"),
    "account.disabled": gettext_noop("停用账号"),
    "account.password_reset": gettext_noop("重置账号密码"),
    "role.granted": gettext_noop("授予角色"),
    "role.revoked": gettext_noop("撤销角色"),
    "standard.created": gettext_noop("新建考评标准"),
    "standard.updated": gettext_noop("修改考评标准"),
    "standard.published": gettext_noop("发布考评标准"),
    "standard.archived": gettext_noop("归档考评标准"),
    "standard.copied": gettext_noop("复制考评标准为新版本"),
    "standard.imported": gettext_noop("导入考评标准"),
    "standard.defaults_loaded": gettext_noop("载入默认考评标准"),
    "standard.frozen": gettext_noop("冻结考评标准"),
    "standard.category_added": gettext_noop("新增考评类别"),
    "standard.category_updated": gettext_noop("修改考评类别"),
    "standard.category_deleted": gettext_noop("删除考评类别"),
    "standard.item_added": gettext_noop("新增考评细则"),
    "standard.item_updated": gettext_noop("修改考评细则"),
    "standard.item_deleted": gettext_noop("删除考评细则"),
    "standard.items_reordered": gettext_noop("调整考评细则顺序"),
    # Member standard sets (党员评价标准), issue 4 part "member standard sets" (standards/member_services.py).
    "member_standard.created": gettext_noop("新建党员评价标准"),
    "member_standard.updated": gettext_noop("修改党员评价标准及设置"),
    "member_standard.published": gettext_noop("发布党员评价标准"),
    "member_standard.archived": gettext_noop("归档党员评价标准"),
    "member_standard.copied": gettext_noop("复制党员评价标准为新版本"),
    "member_standard.imported": gettext_noop("导入党员评价标准"),
    "member_standard.defaults_loaded": gettext_noop("载入默认党员评价标准"),
    "member_standard.frozen": gettext_noop("冻结党员评价标准"),
    "member_standard.item_added": gettext_noop("新增党员评价细则"),
    "member_standard.item_updated": gettext_noop("修改党员评价细则"),
    "member_standard.item_deleted": gettext_noop("删除党员评价细则"),
    "member_standard.items_reordered": gettext_noop("调整党员评价细则顺序"),
    "period.opened": gettext_noop("开启考评月份"),
    "period.assessors_assigned": gettext_noop("分配考评员"),
    "period.assessor_unassigned": gettext_noop("取消考评员分配"),
    "evaluation.moved": gettext_noop("考评状态流转"),
    "evaluation.summary_saved": gettext_noop("保存月小结"),
    "evaluation.item_scored": gettext_noop("考评细则打分"),
    "evidence.uploaded": gettext_noop("上传佐证资料"),
    "evidence.withdrawn": gettext_noop("撤回佐证资料"),
    "period.finalized": gettext_noop("月度考评兑现"),
    "period.reminded": gettext_noop("发送考评截止提醒"),
    "evaluation.adjusted": gettext_noop("兑现后调整得分"),
    "auth.locked_out": gettext_noop("登录失败次数过多，账号被锁定"),
    "auth.totp_enrolled": gettext_noop("启用双因素认证"),
    "auth.totp_disabled": gettext_noop("停用双因素认证"),
    "security.unlocked": gettext_noop("解除登录锁定"),
    "security.totp_reset": gettext_noop("重置双因素认证"),
    "audit.purged": gettext_noop("清理过期审计日志"),
    "system.backup": gettext_noop("备份数据库"),
    "system.restored": gettext_noop("恢复数据库"),
    # Personal data (docs/security.md S6): the explicit export permission and the field-key rotation.
    "member.personal_exported": gettext_noop("导出含完整身份证号和手机号的党员名册"),
    "security.personal_export_granted": gettext_noop("授予导出完整个人信息权限"),
    "security.personal_export_revoked": gettext_noop("撤销导出完整个人信息权限"),
    "system.field_key_rotated": gettext_noop("轮换个人信息加密密钥"),
    # 上墙 (issue 4, the wall part: appraisal/wall.py)
    "wall.public_enabled": gettext_noop("开放上墙公众链接"),
    "wall.public_disabled": gettext_noop("关闭上墙公众链接"),
    "wall.public_renewed": gettext_noop("更换上墙公众链接"),
    "wall.feedback_received": gettext_noop("收到群众监督留言"),
    "wall.feedback_read": gettext_noop("群众监督留言标记已读"),
    "wall.feedback_handled": gettext_noop("记录群众监督留言处理情况"),
    "export": gettext_noop("导出数据"),
    "access.denied": gettext_noop("越权访问被拒绝"),
    # Activity records (组织生活、学习、党费、服务时长): appraisal/activities.py and imports_activities.py.
    "activity.meeting_recorded": gettext_noop("登记组织生活"),
    "activity.meeting_updated": gettext_noop("修改组织生活记录"),
    "activity.meeting_deleted": gettext_noop("删除组织生活记录"),
    "activity.study_added": gettext_noop("登记学习记录"),
    "activity.study_updated": gettext_noop("修改学习记录"),
    "activity.study_deleted": gettext_noop("删除学习记录"),
    "activity.dues_recorded": gettext_noop("登记党费交纳"),
    "activity.dues_updated": gettext_noop("修改党费交纳记录"),
    "activity.dues_deleted": gettext_noop("删除党费交纳记录"),
    "activity.dues_branch_recorded": gettext_noop("登记支部当月党费"),
    "activity.service_added": gettext_noop("登记志愿服务时长"),
    "activity.service_updated": gettext_noop("修改志愿服务记录"),
    "activity.service_deleted": gettext_noop("删除志愿服务记录"),
    "activity.imported": gettext_noop("批量导入活动记录"),
    # Monthly member evaluation (党员自评、支部评定、公示): appraisal/services.py and appraisal/close.py.
    "appraisal.period_opened": gettext_noop("开启党员月度评价"),
    "appraisal.self_line": gettext_noop("党员自评填报"),
    "appraisal.self_note": gettext_noop("保存自评小结"),
    "appraisal.moved": gettext_noop("党员评价状态变更"),
    "appraisal.branch_determined": gettext_noop("支部批量评定党员"),
    "appraisal.line_determined": gettext_noop("支部评定细则"),
    "appraisal.exempt": gettext_noop("设置免于评价"),
    "appraisal.evidence_uploaded": gettext_noop("上传党员评价佐证材料"),
    "appraisal.evidence_withdrawn": gettext_noop("撤回党员评价佐证材料"),
    "appraisal.branch_published": gettext_noop("公示支部党员评价结果"),
    "appraisal.published_ready": gettext_noop("公示已评定完成的支部"),
    "appraisal.period_closed": gettext_noop("结束党员月度评价"),
    # Year end (民主评议党员): appraisal/yearend.py. The handbook PDFs (appraisal/handbook.py) are audited as
    # "export".
    "yearend.computed": gettext_noop("计算年度民主评议结果"),
    "yearend.rule_saved": gettext_noop("修改民主评议建议等次规则"),
    "yearend.votes_recorded": gettext_noop("录入民主评议票数和评定等次"),
    "yearend.locked": gettext_noop("确认年度民主评议结果"),
    # service pillar: needs and public need forms
    "service_area.created": gettext_noop("新建服务区域"),
    "service_area.updated": gettext_noop("修改服务区域"),
    "service_area.archived": gettext_noop("停用服务区域"),
    "service_area.restored": gettext_noop("启用服务区域"),
    "need.created": gettext_noop("登记需求"),
    "need.imported": gettext_noop("批量导入需求"),
    "need.received": gettext_noop("收到群众在线诉求"),
    "need.accepted": gettext_noop("受理需求"),
    "need.declined": gettext_noop("不予受理需求"),
    "need.contact_viewed": gettext_noop("查看诉求人完整联系方式"),
    "need_channel.enabled": gettext_noop("开放需求征集二维码"),
    "need_channel.disabled": gettext_noop("关闭需求征集二维码"),
    "need_channel.renewed": gettext_noop("更换需求征集二维码"),
    "ticket.opened": gettext_noop("新建整改工单"),
    # service pillar: tickets
    "ticket.updated": gettext_noop("修改整改工单"),
    "ticket.moved": gettext_noop("整改工单进入下一阶段"),
    "ticket.returned": gettext_noop("退回整改工单"),
    "ticket.closed": gettext_noop("整改工单销号"),
    "ticket.cancelled": gettext_noop("撤销整改工单"),
    "ticket.reopened": gettext_noop("重新打开整改工单"),
    "ticket.action_added": gettext_noop("登记整改措施落实情况"),
    "ticket.evidence_uploaded": gettext_noop("上传整改佐证材料"),
    "ticket.evidence_withdrawn": gettext_noop("撤回整改佐证材料"),
    "ticket.reminded": gettext_noop("发送整改工单到期提醒"),
    # service pillar: surveys
    "survey.created": gettext_noop("新建满意度调查问卷"),
    "survey.updated": gettext_noop("修改满意度调查设置"),
    "survey.deleted": gettext_noop("删除满意度调查草稿"),
    "survey.opened": gettext_noop("开始满意度调查"),
    "survey.closed": gettext_noop("结束满意度调查"),
    "survey.question_added": gettext_noop("添加调查题目"),
    "survey.question_updated": gettext_noop("修改调查题目"),
    "survey.question_deleted": gettext_noop("删除调查题目"),
    "survey.questions_reordered": gettext_noop("调整调查题目顺序"),
    "survey.links_added": gettext_noop("生成调查链接"),
    "survey.link_enabled": gettext_noop("启用调查链接"),
    "survey.link_disabled": gettext_noop("停用调查链接"),
    "survey.invitations_created": gettext_noop("生成调查邀请码"),
    "survey.response_received": gettext_noop("收到满意度调查答卷"),
    "survey.recomputed": gettext_noop("重新计算满意度指数"),
    "survey.indices_computed": gettext_noop("计算月度满意度指数"),
    # service pillar: teams and projects
    "team.created": gettext_noop("新建服务队"),
    "team.updated": gettext_noop("修改服务队"),
    "team.archived": gettext_noop("撤销服务队"),
    "team.restored": gettext_noop("恢复服务队"),
    "team.member_added": gettext_noop("服务队增加队员"),
    "team.member_removed": gettext_noop("服务队移除队员"),
    "team.activity_created": gettext_noop("登记服务队活动"),
    "team.activity_updated": gettext_noop("修改服务队活动"),
    "team.activity_deleted": gettext_noop("删除服务队活动"),
    "team.photo_added": gettext_noop("上传服务活动照片"),
    "team.photo_deleted": gettext_noop("删除服务活动照片"),
    "project.created": gettext_noop("新建社会责任项目"),
    "project.updated": gettext_noop("修改社会责任项目"),
    "project.milestone_added": gettext_noop("新增项目里程碑"),
    "project.milestone_done": gettext_noop("里程碑完成"),
    "project.milestone_deleted": gettext_noop("删除项目里程碑"),
    "project.indicator_added": gettext_noop("新增成效指标"),
    "project.indicator_updated": gettext_noop("修改成效指标"),
    "project.value_added": gettext_noop("登记指标值"),
    "project.value_deleted": gettext_noop("删除指标值"),
    # service pillar: the loop into organization items
    "evaluation.auto_scored": gettext_noop("按服务数据计分"),
}


def label(action: str) -> str:
    text = ACTION_LABELS.get(action)
    return gettext(text) if text else action


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or ""
    return value


def snapshot(obj, fields) -> dict:
    """The values of ``fields`` on ``obj``, for before/after records."""
    out = {}
    for f in fields:
        v = getattr(obj, f"{f}_id", None) if hasattr(obj, f"{f}_id") else getattr(obj, f, None)
        out[f] = _jsonable(v)
    return out


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def log_action(user, action: str, obj=None, *, org_path: str = "", before=None, after=None, request=None, **extra):
    request = request or current_request.get()
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    data = {}
    if before is not None:
        data["before"] = _jsonable(before)
    if after is not None:
        data["after"] = _jsonable(after)
    if extra:
        data.update(_jsonable(extra))
    if obj is not None and not org_path:
        org_path = _org_path_of(obj)
    # What the database gives back is what is hashed: JSON types only, as the JSON column stores them.
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    from dangjian.core.audit_chain import event_hash, lock_and_last_hash

    event = AuditEvent(
        user=user,
        username=str(user.get_username() if user else extra.get("username", ""))[:150],
        ip=client_ip(request),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        org_path=org_path or "",
        data=data,
    )
    with transaction.atomic():
        event.prev_hash = lock_and_last_hash()
        event.at = timezone.now()
        event.hash = event_hash({"user_id": event.user_id, **{f: getattr(event, f) for f in (
            "at", "username", "ip", "action", "object_type", "object_id", "object_repr", "org_path", "data",
            "prev_hash")}})
        event.save(force_insert=True)
    return event


def _org_path_of(obj) -> str:
    # The same default as core.access.scope: an organization's own ``path`` scopes it.
    field = getattr(type(obj), "SCOPE_PATH", "path")
    value = obj
    for part in field.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return ""
    return value
