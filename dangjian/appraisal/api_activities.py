"""JSON API of the activity records (mounted by appraisal/api.py at /api/v1/): /activities/meetings (with
attendance), /activities/study-records, /activities/dues and /activities/service-records — list with filters
and pagination, create, update, delete.

The same access as the pages: lists read through ``core.access.scope`` (``activity.view``; a member sees their
own study, dues and service rows), objects outside the user's scope are 404, every write goes through
``appraisal.activities`` (``activity.manage`` on the branch; a member on their own study records). A request
with several bad attendance rows is one 400 naming every row; nothing is saved.
"""

import datetime
import functools
from decimal import Decimal
from typing import Annotated

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.appraisal import activities as act
from dangjian.appraisal.models import (
    AttendanceStatus,
    DuesPayment,
    Meeting,
    MeetingKind,
    ServiceRecord,
    StudyForm,
    StudyRecord,
)
from dangjian.appraisal.prefill import month_bounds
from dangjian.core.access import get_scoped_or_404
from dangjian.core.api_helpers import DomainErrorOut, PageIn, api_errors, paginate, reads, writes
from dangjian.core.errors import DomainError
from dangjian.orgs.models import Level, Member, Organization

router = Router(tags=["活动记录"])

KIND_HELP = ("general=支部党员大会，committee=支委会，group=党小组会，lecture=党课，theme_day=主题党日，"
             "life=组织生活会，other=其他")
STATUS_HELP = "present=出席，leave=请假，absent=缺席"
FORM_HELP = "self=个人自学，group=集中学习，online=网络学习，training=培训"
MONTH = r"^\d{4}-\d{2}$"

MeetingId = Annotated[int, Path(title="组织生活编号")]
StudyId = Annotated[int, Path(title="学习记录编号")]
DuesId = Annotated[int, Path(title="党费记录编号")]
ServiceId = Annotated[int, Path(title="志愿服务记录编号")]


def batch_errors(view):
    """Several bad rows (``BatchError``) -> one 400 naming each (inside ``api_errors``)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except act.BatchError as exc:
            return 400, {"detail": "；".join(str(m) for m in exc.errors.values()), "field": "attendance"}

    return wrapper


# ---- schemas -------------------------------------------------------------------------------------------


class ActivityRefOut(Schema):
    id: int = Field(..., title="编号")
    name: str = Field(..., title="名称")


class AttendanceIn(Schema):
    member_id: int = Field(..., title="党员编号", description="本支部的在册党员（修改时也可以是已列入名单的党员）")
    status: str = Field(..., pattern=r"^(present|leave|absent|)$", title="出勤",
                        description=STATUS_HELP + "；空字符串表示不列入名单（修改时即移出名单）")
    note: str = Field("", max_length=200, title="说明", description="请假、缺席的原因")


class AttendanceOut(Schema):
    member: ActivityRefOut = Field(..., title="党员")
    status: AttendanceStatus = Field(..., title="出勤", description=STATUS_HELP)
    status_label: str = Field(..., title="出勤名称")
    note: str = Field("", title="说明")


class MeetingOut(Schema):
    id: int = Field(..., title="组织生活编号")
    org: ActivityRefOut = Field(..., title="党支部")
    kind: MeetingKind = Field(..., title="类型", description=KIND_HELP)
    kind_label: str = Field(..., title="类型名称")
    title: str = Field(..., title="主题")
    date: datetime.date = Field(..., title="日期")
    place: str = Field("", title="地点")
    host: str = Field("", title="主持人")
    lecturer: ActivityRefOut | None = Field(None, title="授课人")
    present: int = Field(..., title="出席人数")
    leave: int = Field(..., title="请假人数")
    absent: int = Field(..., title="缺席人数")


class MeetingDetailOut(MeetingOut):
    content: str = Field("", title="内容纪要")
    attendance: list[AttendanceOut] = Field(..., title="出勤名单")
    locked: bool = Field(..., title="已锁定", description="该月党员评价已公示，不能再修改或删除")


class MeetingPage(Schema):
    count: int = Field(..., title="总数")
    items: list[MeetingOut] = Field(..., title="本页组织生活")


class MeetingFilter(Schema):
    org: int | None = Field(None, title="党支部编号")
    kind: MeetingKind | None = Field(None, title="类型", description=KIND_HELP)
    month: str | None = Field(None, pattern=MONTH, title="月份", description="YYYY-MM")
    lecturer: int | None = Field(None, title="授课人（党员编号）")


class MeetingIn(Schema):
    org_id: int = Field(..., title="党支部编号", description="须有该支部的活动记录管理权限")
    kind: MeetingKind = Field(..., title="类型", description=KIND_HELP)
    title: str = Field(..., max_length=200, title="主题")
    date: datetime.date = Field(..., title="日期", description="不能晚于今天")
    place: str = Field("", max_length=100, title="地点")
    host: str = Field("", max_length=40, title="主持人")
    lecturer_id: int | None = Field(None, title="授课人（党员编号）", description="本支部在册党员；党课计入其讲党课次数")
    content: str = Field("", max_length=5000, title="内容纪要")
    attendance: list[AttendanceIn] = Field([], title="出勤标记",
                                           description="未列出的在册党员默认出席（支委会默认只列入支委）")


class MeetingPatchIn(Schema):
    kind: MeetingKind | None = Field(None, title="类型", description=KIND_HELP)
    title: str | None = Field(None, max_length=200, title="主题")
    date: datetime.date | None = Field(None, title="日期")
    place: str | None = Field(None, max_length=100, title="地点")
    host: str | None = Field(None, max_length=40, title="主持人")
    lecturer_id: int | None = Field(None, title="授课人（党员编号）", description="传 null 表示清除授课人")
    content: str | None = Field(None, max_length=5000, title="内容纪要")
    attendance: list[AttendanceIn] | None = Field(None, title="出勤标记", description="只改列出的党员")


class StudyOut(Schema):
    id: int = Field(..., title="学习记录编号")
    member: ActivityRefOut = Field(..., title="党员")
    org: ActivityRefOut = Field(..., title="党支部")
    date: datetime.date = Field(..., title="学习日期")
    title: str = Field(..., title="学习内容")
    form: StudyForm = Field(..., title="形式", description=FORM_HELP)
    form_label: str = Field(..., title="形式名称")
    hours: Decimal = Field(..., title="学时")
    notes: str = Field("", title="心得体会")


class StudyPage(Schema):
    count: int = Field(..., title="总数")
    items: list[StudyOut] = Field(..., title="本页学习记录")


class ActivityMemberFilter(Schema):
    org: int | None = Field(None, title="党支部编号")
    member: int | None = Field(None, title="党员编号")
    month: str | None = Field(None, pattern=MONTH, title="月份", description="YYYY-MM")


class StudyFilter(ActivityMemberFilter):
    form: StudyForm | None = Field(None, title="形式", description=FORM_HELP)


class StudyIn(Schema):
    member_id: int | None = Field(None, title="党员编号", description="不填为本人；支部可为本支部党员登记")
    date: datetime.date = Field(..., title="学习日期", description="不能晚于今天")
    title: str = Field(..., max_length=200, title="学习内容")
    form: StudyForm = Field(StudyForm.SELF, title="形式", description=FORM_HELP)
    hours: Decimal = Field(Decimal("1"), title="学时", description="大于0，最多一位小数；同一天合计不超过24")
    notes: str = Field("", max_length=2000, title="心得体会")


class StudyPatchIn(Schema):
    date: datetime.date | None = Field(None, title="学习日期")
    title: str | None = Field(None, max_length=200, title="学习内容")
    form: StudyForm | None = Field(None, title="形式", description=FORM_HELP)
    hours: Decimal | None = Field(None, title="学时")
    notes: str | None = Field(None, max_length=2000, title="心得体会")


class DuesOut(Schema):
    id: int = Field(..., title="党费记录编号")
    member: ActivityRefOut = Field(..., title="党员")
    org: ActivityRefOut = Field(..., title="党支部")
    month: str = Field(..., title="所属月份", description="YYYY-MM")
    amount: Decimal = Field(..., title="金额（元）")
    paid_on: datetime.date = Field(..., title="交纳日期")
    on_time: bool = Field(..., title="按时交纳", description="在所属月份最后一天（含）之前交纳")


class DuesPage(Schema):
    count: int = Field(..., title="总数")
    items: list[DuesOut] = Field(..., title="本页党费记录")


class DuesFilter(ActivityMemberFilter):
    on_time: bool | None = Field(None, title="按时交纳", description="false 只列出逾期交纳的")


class DuesIn(Schema):
    member_id: int = Field(..., title="党员编号")
    month: str = Field(..., pattern=MONTH, title="所属月份", description="YYYY-MM，不能晚于本月")
    amount: Decimal = Field(..., title="金额（元）", description="大于0，最多两位小数")
    paid_on: datetime.date = Field(..., title="交纳日期", description="不能晚于今天")


class DuesPatchIn(Schema):
    amount: Decimal | None = Field(None, title="金额（元）")
    paid_on: datetime.date | None = Field(None, title="交纳日期")


class ServiceOut(Schema):
    id: int = Field(..., title="志愿服务记录编号")
    member: ActivityRefOut = Field(..., title="党员")
    org: ActivityRefOut = Field(..., title="党支部")
    date: datetime.date = Field(..., title="服务日期")
    activity: str = Field(..., title="服务内容")
    hours: Decimal = Field(..., title="时长（小时）")
    people_served: int = Field(..., title="服务人次")
    source: str = Field("", title="来源")


class ServicePage(Schema):
    count: int = Field(..., title="总数")
    items: list[ServiceOut] = Field(..., title="本页志愿服务记录")


class ServiceIn(Schema):
    member_id: int = Field(..., title="党员编号")
    date: datetime.date = Field(..., title="服务日期", description="不能晚于今天")
    activity: str = Field(..., max_length=200, title="服务内容")
    hours: Decimal = Field(..., title="时长（小时）", description="大于0，最多一位小数；同一天合计不超过24")
    people_served: int = Field(0, ge=0, title="服务人次")
    source: str = Field("", max_length=40, title="来源")


class ServicePatchIn(Schema):
    date: datetime.date | None = Field(None, title="服务日期")
    activity: str | None = Field(None, max_length=200, title="服务内容")
    hours: Decimal | None = Field(None, title="时长（小时）")
    people_served: int | None = Field(None, ge=0, title="服务人次")
    source: str | None = Field(None, max_length=40, title="来源")


# ---- helpers -------------------------------------------------------------------------------------------


def _ref(obj) -> dict | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def _month_q(month: str | None, field: str = "date") -> Q:
    if not month:
        return Q()
    first, last = month_bounds(act.month_start(month))
    return Q(**{f"{field}__gte": first, f"{field}__lte": last})


def _member_q(filters) -> Q:
    q = Q()
    if filters.org is not None:
        q &= Q(member__org_id=filters.org)
    if filters.member is not None:
        q &= Q(member_id=filters.member)
    return q


def _meeting_dict(m: Meeting) -> dict:
    return {"id": m.pk, "org": _ref(m.org), "kind": m.kind, "kind_label": str(MeetingKind(m.kind).label),
            "title": m.title, "date": m.date, "place": m.place, "host": m.host, "lecturer": _ref(m.lecturer),
            "present": m.n_present, "leave": m.n_leave, "absent": m.n_absent}


def _meeting_detail(user, pk) -> dict:
    qs = act.attendance_counts(Meeting.objects.select_related("org", "lecturer"))
    m = get_scoped_or_404(user, "activity.view", qs, pk=pk)
    rows = m.attendance.select_related("member").order_by("member__name_pinyin", "member_id")
    return {**_meeting_dict(m), "content": m.content, "locked": act.org_month_published(m.org_id, m.date),
            "attendance": [{"member": _ref(a.member), "status": a.status,
                            "status_label": str(AttendanceStatus(a.status).label), "note": a.note} for a in rows]}


def _marks(rows) -> dict:
    marks = {}
    for r in rows or []:
        if r.member_id in marks:
            raise DomainError(_("编号为 {id} 的党员在出勤标记中出现了两次。").format(id=r.member_id), "attendance")
        marks[r.member_id] = (r.status, r.note)
    return marks


def _lecturer(user, lecturer_id):
    if lecturer_id is None:
        return None
    return get_scoped_or_404(user, "activity.manage", Member.objects.select_related("org"), pk=lecturer_id)


def _study_dict(r: StudyRecord) -> dict:
    return {"id": r.pk, "member": _ref(r.member), "org": _ref(r.member.org), "date": r.date, "title": r.title,
            "form": r.form, "form_label": str(StudyForm(r.form).label), "hours": r.hours, "notes": r.notes}


def _dues_dict(p: DuesPayment) -> dict:
    return {"id": p.pk, "member": _ref(p.member), "org": _ref(p.member.org), "month": f"{p.month:%Y-%m}",
            "amount": p.amount, "paid_on": p.paid_on, "on_time": p.on_time}


def _service_dict(r: ServiceRecord) -> dict:
    return {"id": r.pk, "member": _ref(r.member), "org": _ref(r.member.org), "date": r.date,
            "activity": r.activity, "hours": r.hours, "people_served": r.people_served, "source": r.source}


def _managed_member(user, member_id) -> Member:
    return get_scoped_or_404(user, "activity.manage", Member.objects.select_related("org"), pk=member_id)


# ---- meetings ------------------------------------------------------------------------------------------


@router.get("/activities/meetings", response={**reads(MeetingPage), 400: DomainErrorOut}, summary="组织生活列表",
            description="权限范围内各支部的组织生活（三会一课、主题党日等）及出勤人数；可按支部、类型、月份、授课人筛选。")
@api_errors
def list_meetings(request, filters: Query[MeetingFilter], page: Query[PageIn]):
    qs = act.visible_meetings(request.auth).select_related("org", "lecturer")
    if filters.org is not None:
        qs = qs.filter(org_id=filters.org)
    if filters.kind:
        qs = qs.filter(kind=filters.kind.value)
    if filters.lecturer is not None:
        qs = qs.filter(lecturer_id=filters.lecturer)
    qs = qs.filter(_month_q(filters.month))
    result = paginate(act.attendance_counts(qs).order_by("-date", "-id"), page, count_qs=qs)
    return {"count": result["count"], "items": [_meeting_dict(m) for m in result["items"]]}


@router.post("/activities/meetings", response=writes(MeetingDetailOut, 201), summary="登记组织生活",
             description="支部登记一次组织生活及出勤：本支部在册党员默认出席，可标记请假、缺席（附说明）或不列入。")
@api_errors(fields={"org": "org_id", "lecturer": "lecturer_id"})
@batch_errors
def create_meeting(request, body: MeetingIn):
    user = request.auth
    org = get_scoped_or_404(user, "activity.manage", Organization.objects.filter(level=Level.BRANCH), pk=body.org_id)
    meeting = act.record_meeting(user, org, kind=body.kind.value, title=body.title, date=body.date,
                                 place=body.place, host=body.host, lecturer=_lecturer(user, body.lecturer_id),
                                 content=body.content, attendance=_marks(body.attendance))
    return 201, _meeting_detail(user, meeting.pk)


@router.get("/activities/meetings/{meeting_id}", response=reads(MeetingDetailOut), summary="组织生活详情（含出勤）")
@api_errors
def get_meeting(request, meeting_id: MeetingId):
    return _meeting_detail(request.auth, meeting_id)


@router.patch("/activities/meetings/{meeting_id}", response=writes(MeetingDetailOut), summary="修改组织生活",
              description="只修改请求中给出的字段和党员的出勤；该月党员评价已公示时不能修改。")
@api_errors(fields={"lecturer": "lecturer_id"})
@batch_errors
def update_meeting(request, meeting_id: MeetingId, body: MeetingPatchIn):
    user = request.auth
    meeting = get_scoped_or_404(user, "activity.view", Meeting.objects.select_related("org"), pk=meeting_id)
    data = body.model_dump(exclude_unset=True)
    attendance = data.pop("attendance", None)
    if "lecturer_id" in data:
        data["lecturer"] = _lecturer(user, data.pop("lecturer_id"))
    if "kind" in data and data["kind"] is not None:
        data["kind"] = MeetingKind(data["kind"]).value
    fields = {k: v for k, v in data.items() if v is not None or k == "lecturer"}
    act.update_meeting(user, meeting, attendance=_marks(body.attendance) if attendance is not None else None,
                       **fields)
    return _meeting_detail(user, meeting.pk)


@router.delete("/activities/meetings/{meeting_id}", response=writes(None, 204), summary="删除组织生活",
               description="连同出勤记录一起删除；该月党员评价已公示时不能删除。")
@api_errors
def delete_meeting(request, meeting_id: MeetingId):
    user = request.auth
    meeting = get_scoped_or_404(user, "activity.view", Meeting.objects.select_related("org"), pk=meeting_id)
    act.delete_meeting(user, meeting)
    return 204, None


# ---- study records -------------------------------------------------------------------------------------


@router.get("/activities/study-records", response={**reads(StudyPage), 400: DomainErrorOut}, summary="学习记录列表",
            description="支部看本支部党员的学习记录；党员看本人的。可按支部、党员、月份、形式筛选。")
@api_errors
def list_study(request, filters: Query[StudyFilter], page: Query[PageIn]):
    qs = act.visible_study(request.auth).select_related("member__org").filter(_member_q(filters),
                                                                               _month_q(filters.month))
    if filters.form:
        qs = qs.filter(form=filters.form.value)
    result = paginate(qs.order_by("-date", "-id"), page)
    return {"count": result["count"], "items": [_study_dict(r) for r in result["items"]]}


@router.post("/activities/study-records", response=writes(StudyOut, 201), summary="登记学习记录",
             description="党员登记本人的学习记录（不填 member_id）；支部可为本支部党员登记。")
@api_errors(fields={"member": "member_id"})
def create_study(request, body: StudyIn):
    user = request.auth
    own = Member.objects.select_related("org").filter(user_id=user.pk).first()
    if body.member_id is None or (own is not None and body.member_id == own.pk):
        if own is None:
            raise DomainError(_("当前账号没有关联党员，请填写党员编号。"), "member")
        member = own
    else:
        member = _managed_member(user, body.member_id)
    record = act.add_study_record(user, member, date=body.date, title=body.title, form=body.form.value,
                                  hours=body.hours, notes=body.notes)
    return 201, _study_dict(record)


def _study(user, pk) -> StudyRecord:
    return get_scoped_or_404(user, "activity.view", StudyRecord.objects.select_related("member__org"), pk=pk)


@router.patch("/activities/study-records/{record_id}", response=writes(StudyOut), summary="修改学习记录",
              description="本人或支部可修改；该月党员评价已公示时不能修改。")
@api_errors
def update_study(request, record_id: StudyId, body: StudyPatchIn):
    user = request.auth
    record = _study(user, record_id)
    data = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "form" in data:
        data["form"] = StudyForm(data["form"]).value
    act.update_study_record(user, record, **data)
    return _study_dict(_study(user, record_id))


@router.delete("/activities/study-records/{record_id}", response=writes(None, 204), summary="删除学习记录")
@api_errors
def delete_study(request, record_id: StudyId):
    user = request.auth
    act.delete_study_record(user, _study(user, record_id))
    return 204, None


# ---- dues ----------------------------------------------------------------------------------------------


@router.get("/activities/dues", response={**reads(DuesPage), 400: DomainErrorOut}, summary="党费交纳列表",
            description="支部看本支部党员的党费记录；党员看本人的。可按支部、党员、月份、是否按时筛选。")
@api_errors
def list_dues(request, filters: Query[DuesFilter], page: Query[PageIn]):
    qs = act.visible_dues(request.auth).select_related("member__org").filter(_member_q(filters),
                                                                              _month_q(filters.month, "month"))
    if filters.on_time is not None:
        qs = qs.filter(on_time=filters.on_time)
    result = paginate(qs.order_by("-month", "member__name_pinyin", "id"), page)
    return {"count": result["count"], "items": [_dues_dict(p) for p in result["items"]]}


@router.post("/activities/dues", response=writes(DuesOut, 201), summary="登记党费交纳",
             description="每名党员每月一条；在所属月份最后一天（含）之前交纳为按时交纳。")
@api_errors(fields={"member": "member_id"})
def create_dues(request, body: DuesIn):
    user = request.auth
    payment = act.record_dues(user, _managed_member(user, body.member_id), month=body.month, amount=body.amount,
                              paid_on=body.paid_on)
    return 201, _dues_dict(payment)


def _dues(user, pk) -> DuesPayment:
    return get_scoped_or_404(user, "activity.view", DuesPayment.objects.select_related("member__org"), pk=pk)


@router.patch("/activities/dues/{payment_id}", response=writes(DuesOut), summary="修改党费交纳",
              description="修改金额或交纳日期；按时与否随之重算。该月党员评价已公示时不能修改。")
@api_errors
def update_dues(request, payment_id: DuesId, body: DuesPatchIn):
    user = request.auth
    payment = act.update_dues(user, _dues(user, payment_id), amount=body.amount, paid_on=body.paid_on)
    return _dues_dict(payment)


@router.delete("/activities/dues/{payment_id}", response=writes(None, 204), summary="删除党费交纳记录")
@api_errors
def delete_dues(request, payment_id: DuesId):
    user = request.auth
    act.delete_dues(user, _dues(user, payment_id))
    return 204, None


# ---- service records -----------------------------------------------------------------------------------


@router.get("/activities/service-records", response={**reads(ServicePage), 400: DomainErrorOut}, summary="志愿服务记录列表",
            description="支部看本支部党员的志愿服务时长；党员看本人的。可按支部、党员、月份筛选。")
@api_errors
def list_service(request, filters: Query[ActivityMemberFilter], page: Query[PageIn]):
    qs = act.visible_service(request.auth).select_related("member__org").filter(_member_q(filters),
                                                                                 _month_q(filters.month))
    result = paginate(qs.order_by("-date", "-id"), page)
    return {"count": result["count"], "items": [_service_dict(r) for r in result["items"]]}


@router.post("/activities/service-records", response=writes(ServiceOut, 201), summary="登记志愿服务",
             description="支部为本支部党员登记志愿服务时长。")
@api_errors(fields={"member": "member_id"})
def create_service(request, body: ServiceIn):
    user = request.auth
    record = act.add_service_record(user, _managed_member(user, body.member_id), date=body.date,
                                    activity=body.activity, hours=body.hours, people_served=body.people_served,
                                    source=body.source)
    return 201, _service_dict(record)


def _service(user, pk) -> ServiceRecord:
    return get_scoped_or_404(user, "activity.view", ServiceRecord.objects.select_related("member__org"), pk=pk)


@router.patch("/activities/service-records/{record_id}", response=writes(ServiceOut), summary="修改志愿服务记录")
@api_errors
def update_service(request, record_id: ServiceId, body: ServicePatchIn):
    user = request.auth
    data = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    act.update_service_record(user, _service(user, record_id), **data)
    return _service_dict(_service(user, record_id))


@router.delete("/activities/service-records/{record_id}", response=writes(None, 204), summary="删除志愿服务记录")
@api_errors
def delete_service(request, record_id: ServiceId):
    user = request.auth
    act.delete_service_record(user, _service(user, record_id))
    return 204, None
