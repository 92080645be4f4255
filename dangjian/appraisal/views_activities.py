"""Pages of the activity records: a branch's month at a glance, meetings with attendance, study records (and a
member's own 我的学习记录 on a phone), dues (a whole branch's month in one form), service hours, and the Excel
imports. Thin: parse, fetch through core.access (an outsider or another branch gets 404), call
appraisal.activities, render. Every list filters, paginates and exports to Excel.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from dangjian.appraisal import activities as act
from dangjian.appraisal import forms_activities as forms
from dangjian.appraisal import imports_activities as imports
from dangjian.appraisal.models import (
    Attendance,
    AttendanceStatus,
    DuesPayment,
    Meeting,
    MeetingKind,
    ServiceRecord,
    StudyForm,
    StudyRecord,
)
from dangjian.appraisal.prefill import month_bounds
from dangjian.core.access import can, get_scoped_or_404
from dangjian.core.errors import DomainError
from dangjian.core.excel import export_xlsx, wants_xlsx, xlsx_response
from dangjian.core.views import deny_as_404, form_error, paginate, require_capability
from dangjian.orgs.models import Level, Member, Organization

EXPORT_MAX = 100_000
BRANCH_SELECT_MAX = 500
NOT_LISTED = "-"  # the attendance radio for "not on the list"
STATUS_CLASS = {AttendanceStatus.PRESENT: "success", AttendanceStatus.LEAVE: "warning",
                AttendanceStatus.ABSENT: "danger"}
DUES_LABELS = {act.DUES_ON_TIME: gettext_noop("按时交纳"), act.DUES_LATE: gettext_noop("逾期交纳"),
               act.DUES_MISSING: gettext_noop("未交纳")}
DUES_CLASS = {act.DUES_ON_TIME: "success", act.DUES_LATE: "warning", act.DUES_MISSING: "danger"}


# ---- helpers ---------------------------------------------------------------------------------------------


def _branches(user, action="activity.view"):
    return act.managed_branches(user, action).only("id", "name", "path")


def _branch(request, action="activity.view", required=False) -> Organization | None:
    """The branch named by ?org= in the user's scope (404 outside it); else the only branch in scope."""
    value = request.GET.get("org") or request.POST.get("org")
    qs = Organization.objects.filter(level=Level.BRANCH, archived=False)
    if value:
        return get_scoped_or_404(request.user, action, qs, pk=value)
    if required:
        first_two = list(_branches(request.user, action)[:2])
        return first_two[0] if len(first_two) == 1 else None
    return None


def _own_member(user) -> Member | None:
    return Member.objects.filter(user_id=user.pk).select_related("org").first()


def _month_filter(qs, value, field="date"):
    if not value:
        return qs, ""
    month = forms.parse_month(value)
    first, last = month_bounds(month)
    return qs.filter(**{f"{field}__gte": first, f"{field}__lte": last}), f"{month:%Y-%m}"


def _pick_branch(request, title, target):
    """The first step of a create page for a user who manages several branches: choose the branch."""
    branches = list(_branches(request.user, "activity.manage")[:BRANCH_SELECT_MAX])
    if not branches:
        raise Http404(_("页面不存在，或您无权访问。"))
    return render(request, "appraisal/activities/pick_branch.html", {
        "title": title, "branches": branches, "target": reverse(target), "query": request.GET.urlencode()})


def _back(request, default):
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    return nxt if nxt.startswith("/") and not nxt.startswith("//") else default


# ---- the activity home: a branch's month -------------------------------------------------------------------


@login_required
def activity_home(request):
    user = request.user
    if not can(user, "activity.view"):
        if _own_member(user) is not None:
            return redirect("appraisal:study_mine")
        raise Http404(_("页面不存在，或您无权访问。"))
    month = forms.parse_month(request.GET.get("month"))
    branches = list(_branches(user)[:BRANCH_SELECT_MAX])
    org = _branch(request) or (branches[0] if branches else None)
    ctx = {"branches": branches, "org": org, "month": month, "month_value": f"{month:%Y-%m}",
           "prev": (month - datetime.timedelta(days=1)).replace(day=1),
           "next": (month_bounds(month)[1] + datetime.timedelta(days=1)),
           "this_month": timezone.localdate().replace(day=1)}
    if org is None:
        return render(request, "appraisal/activities/home.html", ctx)
    data = act.branch_month(org, month)
    if wants_xlsx(request):
        rows = ((r["member"].name, r["member"].post, r["present"], r["leave"], r["absent"], r["study"],
                 r["study_hours"], r["service_hours"], _(DUES_LABELS[r["dues_status"]]),
                 r["dues"].amount if r["dues"] else None, r["dues"].paid_on if r["dues"] else None)
                for r in data["rows"])
        header = [_("姓名"), _("岗位"), _("出席"), _("请假"), _("缺席"), _("学习记录"), _("学时"),
                  _("志愿服务（小时）"), _("党费"), _("金额（元）"), _("交纳日期")]
        return export_xlsx(request, gettext_noop("支部月度活动"), header, rows, what=gettext_noop("支部月度活动"),
                           count=len(data["rows"]))
    for r in data["rows"]:
        r["dues_label"] = _(DUES_LABELS[r["dues_status"]])
        r["dues_class"] = DUES_CLASS[r["dues_status"]]
    ctx.update(data)
    ctx["manage"] = can(user, "activity.manage", org.path)
    ctx["query"] = urlencode({"org": org.pk, "month": f"{month:%Y-%m}"})
    return render(request, "appraisal/activities/home.html", ctx)


# ---- meetings ---------------------------------------------------------------------------------------------


def _meeting(request, pk, action="activity.view") -> Meeting:
    return get_scoped_or_404(request.user, action, Meeting.objects.select_related("org", "lecturer"), pk=pk)


@login_required
def meeting_list(request):
    user = request.user
    require_capability(user, "activity.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "kind", "month", "q")}
    qs = act.visible_meetings(user).select_related("org", "lecturer")
    if f["org"]:
        org = _branch(request)
        qs = qs.filter(org=org)
    if f["kind"] in MeetingKind.values:
        qs = qs.filter(kind=f["kind"])
    qs, f["month"] = _month_filter(qs, f["month"])
    if f["q"]:
        qs = qs.filter(title__contains=f["q"])
    qs = qs.order_by("-date", "-id")
    if wants_xlsx(request) and request.GET.get("rows") == "attendance":
        att = (Attendance.objects.filter(meeting__in=qs.values("pk")).select_related("meeting__org", "member")
               .order_by("-meeting__date", "meeting_id", "member__name_pinyin"))
        rows = ((a.meeting.org.name, a.meeting.date, str(MeetingKind(a.meeting.kind).label), a.meeting.title,
                 a.member.name, str(AttendanceStatus(a.status).label), a.note)
                for a in att[:EXPORT_MAX].iterator(chunk_size=2000))
        header = [_("支部"), _("日期"), _("类型"), _("主题"), _("党员姓名"), _("出勤"), _("说明")]
        return export_xlsx(request, gettext_noop("组织生活出勤明细"), header, rows,
                           what=gettext_noop("组织生活出勤明细"))
    qs = act.attendance_counts(qs)
    if wants_xlsx(request):
        rows = ((m.org.name, m.date, str(MeetingKind(m.kind).label), m.title, m.place, m.host,
                 m.lecturer.name if m.lecturer else "", m.n_present, m.n_leave, m.n_absent, m.content)
                for m in qs[:EXPORT_MAX].iterator(chunk_size=2000))
        header = [_("支部"), _("日期"), _("类型"), _("主题"), _("地点"), _("主持人"), _("授课人"), _("出席"), _("请假"),
                  _("缺席"), _("内容纪要")]
        return export_xlsx(request, gettext_noop("组织生活"), header, rows, what=gettext_noop("组织生活"))
    page, query = paginate(request, qs)
    return render(request, "appraisal/activities/meeting_list.html", {
        "page": page, "query": query, "f": f, "kinds": MeetingKind.choices,
        "branches": list(_branches(user)[:BRANCH_SELECT_MAX]), "manage": can(user, "activity.manage"),
    })


def _attendance_rows(org, meeting: Meeting | None, post=None, errors=None, kind=None) -> list[dict]:
    """One row per member for the attendance form: the listed members of the meeting (if any) and everyone on
    the branch's rolls; a member not yet listed shows "not on the list" when editing, 出席 when creating."""
    errors = errors or {}
    listed = {}
    if meeting is not None:
        listed = {a.member_id: a for a in meeting.attendance.select_related("member").order_by("member__name_pinyin")}
    committee = act.committee_member_ids(org, meeting.date if meeting else None)
    rows = []
    members = list(forms.branch_members(org))
    seen = {m.pk for m in members}
    members += [a.member for mid, a in listed.items() if mid not in seen]
    for m in members:
        a = listed.get(m.pk)
        if post is not None and f"status_{m.pk}" in post:
            status, note = post.get(f"status_{m.pk}"), post.get(f"note_{m.pk}", "")
        elif a is not None:
            status, note = a.status, a.note
        elif meeting is not None:
            status, note = NOT_LISTED, ""
        else:
            status = NOT_LISTED if kind == MeetingKind.COMMITTEE and committee and m.pk not in committee \
                else AttendanceStatus.PRESENT
            note = ""
        rows.append({"member": m, "status": status, "note": note, "committee": m.pk in committee,
                     "error": errors.get(m.pk), "former": m.pk not in seen})
    return rows


def _marks(request, rows) -> dict:
    marks = {}
    for row in rows:
        pk = row["member"].pk
        status = request.POST.get(f"status_{pk}")
        if status is None:
            continue
        marks[pk] = ("" if status == NOT_LISTED else status, request.POST.get(f"note_{pk}", ""))
    return marks


def _meeting_form_page(request, org, meeting=None):
    user = request.user
    initial = None
    if meeting is not None:
        initial = {"kind": meeting.kind, "title": meeting.title, "date": meeting.date, "place": meeting.place,
                   "host": meeting.host, "lecturer": meeting.lecturer_id, "content": meeting.content}
    form = forms.MeetingForm(request.POST or None, org=org, initial=initial)
    errors = {}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        rows = _attendance_rows(org, meeting)
        marks = _marks(request, rows)
        fields = {k: d[k] for k in ("kind", "title", "date", "place", "host", "lecturer", "content")}
        try:
            if meeting is None:
                saved = act.record_meeting(user, org, attendance=marks, **fields)
            else:
                saved = act.update_meeting(user, meeting, attendance=marks, **fields)
        except act.BatchError as exc:
            errors = exc.errors
            form.add_error(None, exc.message)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已保存“{title}”，出席 {n} 人。").format(
                title=saved.title, n=saved.attendance.filter(status=AttendanceStatus.PRESENT).count()))
            return redirect("appraisal:meeting_detail", saved.pk)
    kind = form["kind"].value() or MeetingKind.GENERAL
    rows = _attendance_rows(org, meeting, request.POST if request.method == "POST" else None, errors, kind)
    return render(request, "appraisal/activities/meeting_form.html", {
        "form": form, "org": org, "meeting": meeting, "rows": rows,
        "statuses": [(v, str(label), STATUS_CLASS[v]) for v, label in AttendanceStatus.choices],
        "not_listed": NOT_LISTED,
        "title": _("登记组织生活") if meeting is None else _("修改组织生活记录"),
        "back": reverse("appraisal:meeting_detail", args=[meeting.pk]) if meeting else
        f"{reverse('appraisal:activity_home')}?org={org.pk}",
    })


@login_required
@deny_as_404
def meeting_create(request):
    require_capability(request.user, "activity.manage")
    org = _branch(request, "activity.manage", required=True)
    if org is None:
        return _pick_branch(request, _("登记组织生活"), "appraisal:meeting_create")
    return _meeting_form_page(request, org)


@login_required
def meeting_detail(request, pk):
    meeting = _meeting(request, pk)
    attendance = list(meeting.attendance.select_related("member").order_by("status", "member__name_pinyin"))
    counts = {v: 0 for v in AttendanceStatus.values}
    for a in attendance:
        counts[a.status] += 1
        a.badge = STATUS_CLASS[a.status]
    locked = act.org_month_published(meeting.org_id, meeting.date)
    return render(request, "appraisal/activities/meeting_detail.html", {
        "meeting": meeting, "attendance": attendance, "locked": locked,
        "counts": [(str(label), counts[v], STATUS_CLASS[v]) for v, label in AttendanceStatus.choices],
        "manage": can(request.user, "activity.manage", meeting.org.path) and not locked,
    })


@login_required
@deny_as_404
def meeting_edit(request, pk):
    meeting = _meeting(request, pk, "activity.manage")
    if act.org_month_published(meeting.org_id, meeting.date):
        messages.error(request, _("该月的党员评价已公示，组织生活记录已锁定，不能修改。"))
        return redirect("appraisal:meeting_detail", meeting.pk)
    return _meeting_form_page(request, meeting.org, meeting)


@login_required
@require_POST
@deny_as_404
def meeting_delete(request, pk):
    meeting = _meeting(request, pk, "activity.manage")
    try:
        act.delete_meeting(request.user, meeting)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("appraisal:meeting_detail", meeting.pk)
    messages.success(request, _("已删除“{title}”及其出勤记录。").format(title=meeting.title))
    return redirect(f"{reverse('appraisal:meeting_list')}?org={meeting.org_id}")


# ---- study records ---------------------------------------------------------------------------------------


def _study_rows(qs):
    return ((r.member.org.name, r.member.name, r.date, r.title, str(StudyForm(r.form).label), r.hours, r.notes)
            for r in qs[:EXPORT_MAX].iterator(chunk_size=2000))


STUDY_HEADER = [gettext_noop("支部"), gettext_noop("党员"), gettext_noop("日期"), gettext_noop("学习内容"),
                gettext_noop("形式"), gettext_noop("学时"), gettext_noop("心得体会")]


@login_required
def study_list(request):
    user = request.user
    require_capability(user, "activity.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "form", "month", "q")}
    qs = act.visible_study(user).select_related("member__org")
    if f["org"]:
        qs = qs.filter(member__org=_branch(request))
    if f["form"] in StudyForm.values:
        qs = qs.filter(form=f["form"])
    qs, f["month"] = _month_filter(qs, f["month"])
    if f["q"]:
        qs = qs.filter(Q(member__name__contains=f["q"]) | Q(title__contains=f["q"]))
    qs = qs.order_by("-date", "-id")
    if wants_xlsx(request):
        return export_xlsx(request, gettext_noop("学习记录"), [_(h) for h in STUDY_HEADER], _study_rows(qs),
                           what=gettext_noop("学习记录"))
    page, query = paginate(request, qs)
    totals = qs.aggregate(n=Count("id"), h=Sum("hours"))
    return render(request, "appraisal/activities/study_list.html", {
        "page": page, "query": query, "f": f, "forms": StudyForm.choices, "totals": totals,
        "branches": list(_branches(user)[:BRANCH_SELECT_MAX]), "manage": can(user, "activity.manage"),
    })


@login_required
@deny_as_404
def study_create(request):
    user = request.user
    if not can(user, "activity.manage"):
        if _own_member(user) is not None:
            return redirect("appraisal:study_mine")
        raise Http404(_("页面不存在，或您无权访问。"))
    org = _branch(request, "activity.manage", required=True)
    if org is None:
        return _pick_branch(request, _("登记学习记录"), "appraisal:study_create")
    form = forms.StudyRecordForm(request.POST or None, members=forms.branch_members(org),
                                 initial={"member": request.GET.get("member")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            act.add_study_record(user, d["member"], date=d["date"], title=d["title"], form=d["form"],
                                 hours=d["hours"], notes=d["notes"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已为{name}登记学习记录。").format(name=d["member"].name))
            if "again" in request.POST:
                return redirect(f"{reverse('appraisal:study_create')}?org={org.pk}")
            return redirect(f"{reverse('appraisal:study_list')}?org={org.pk}")
    return render(request, "appraisal/activities/form.html", {
        "form": form, "org": org, "title": _("登记学习记录"), "again": True,
        "back": f"{reverse('appraisal:study_list')}?org={org.pk}"})


@login_required
def study_mine(request):
    """我的学习记录: a member's own records, added in a few taps on a phone."""
    user = request.user
    member = _own_member(user)
    if member is None:
        raise Http404(_("页面不存在，或您无权访问。"))
    form = forms.MyStudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            act.add_study_record(user, member, date=d["date"], title=d["title"], form=d["form"], hours=d["hours"],
                                 notes=d["notes"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已记录：{title}（{hours} 学时）。").format(title=d["title"], hours=d["hours"]))
            return redirect("appraisal:study_mine")
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    qs = StudyRecord.objects.filter(member=member, date__year=year).select_related("member__org").order_by(
        "-date", "-id")
    if wants_xlsx(request):
        return export_xlsx(request, gettext_noop("我的学习记录"), [_(h) for h in STUDY_HEADER], _study_rows(qs),
                           what=gettext_noop("我的学习记录"))
    page, query = paginate(request, qs)
    totals = qs.aggregate(n=Count("id"), h=Sum("hours"))
    first, last = month_bounds(today)
    month = {
        "study": StudyRecord.objects.filter(member=member, date__gte=first, date__lte=last).aggregate(
            n=Count("id"), h=Sum("hours")),
        "attendance": dict(Attendance.objects.filter(member=member, meeting__date__gte=first,
                                                     meeting__date__lte=last)
                           .order_by().values_list("status").annotate(n=Count("id"))),
        "dues": DuesPayment.objects.filter(member=member, month=first).first(),
    }
    years = list(range(today.year, max(today.year - 5, 2000) - 1, -1))
    return render(request, "appraisal/activities/study_mine.html", {
        "member": member, "form": form, "page": page, "query": query, "year": year, "years": years,
        "totals": totals, "month": month, "month_start": first,
        "presets": ["0.5", "1", "1.5", "2", "3", "4"],
    })


def _study(request, pk) -> StudyRecord:
    record = get_scoped_or_404(request.user, "activity.view", StudyRecord.objects.select_related("member__org"),
                               pk=pk)
    if not act.may_write_study(request.user, record.member):
        raise Http404(_("页面不存在，或您无权访问。"))
    return record


def _study_back(request, record):
    if record.member.user_id == request.user.pk and not can(request.user, "activity.manage", record.member.org.path):
        return reverse("appraisal:study_mine")
    return f"{reverse('appraisal:study_list')}?org={record.member.org_id}"


@login_required
@deny_as_404
def study_edit(request, pk):
    record = _study(request, pk)
    initial = {"date": record.date, "title": record.title, "form": record.form, "hours": record.hours,
               "notes": record.notes}
    form = forms.StudyRecordForm(request.POST or None, with_member=False, initial=initial)
    back = _back(request, _study_back(request, record))
    if request.method == "POST" and form.is_valid():
        try:
            act.update_study_record(request.user, record, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已修改学习记录。"))
            return redirect(back)
    return render(request, "appraisal/activities/form.html", {
        "form": form, "title": _("修改{name}的学习记录").format(name=record.member.name), "back": back,
        "delete_url": reverse("appraisal:study_delete", args=[record.pk])})


@login_required
@require_POST
@deny_as_404
def study_delete(request, pk):
    record = _study(request, pk)
    back = _back(request, _study_back(request, record))
    try:
        act.delete_study_record(request.user, record)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除学习记录“{title}”。").format(title=record.title))
    return redirect(back)


# ---- dues ------------------------------------------------------------------------------------------------


@login_required
def dues_list(request):
    user = request.user
    require_capability(user, "activity.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "month", "status", "q")}
    qs = act.visible_dues(user).select_related("member__org")
    if f["org"]:
        qs = qs.filter(member__org=_branch(request))
    qs, f["month"] = _month_filter(qs, f["month"], "month")
    if f["status"] == act.DUES_ON_TIME:
        qs = qs.filter(on_time=True)
    elif f["status"] == act.DUES_LATE:
        qs = qs.filter(on_time=False)
    if f["q"]:
        qs = qs.filter(member__name__contains=f["q"])
    qs = qs.order_by("-month", "member__org__path", "member__name_pinyin", "id")
    if wants_xlsx(request):
        rows = ((p.member.org.name, p.member.name, f"{p.month:%Y-%m}", p.amount, p.paid_on,
                 _("按时交纳") if p.on_time else _("逾期交纳")) for p in qs[:EXPORT_MAX].iterator(chunk_size=2000))
        header = [_("支部"), _("党员"), _("所属月份"), _("金额（元）"), _("交纳日期"), _("情况")]
        return export_xlsx(request, gettext_noop("党费交纳"), header, rows, what=gettext_noop("党费交纳"))
    page, query = paginate(request, qs)
    totals = qs.aggregate(n=Count("id"), amount=Sum("amount"), late=Count("id", filter=Q(on_time=False)))
    return render(request, "appraisal/activities/dues_list.html", {
        "page": page, "query": query, "f": f, "totals": totals,
        "statuses": [(act.DUES_ON_TIME, _("按时交纳")), (act.DUES_LATE, _("逾期交纳"))],
        "branches": list(_branches(user)[:BRANCH_SELECT_MAX]), "manage": can(user, "activity.manage"),
    })


@login_required
@deny_as_404
def dues_branch(request):
    """A whole branch's month of dues in one form: every member on the rolls, amount and date paid."""
    user = request.user
    require_capability(user, "activity.manage")
    org = _branch(request, "activity.manage", required=True)
    if org is None:
        return _pick_branch(request, _("登记支部党费"), "appraisal:dues_branch")
    month = forms.parse_month(request.GET.get("month") or request.POST.get("month"))
    members = list(forms.branch_members(org))
    existing = {p.member_id: p for p in DuesPayment.objects.filter(member__org=org, month=month)}
    errors = {}
    if request.method == "POST":
        rows = [{"member_id": m.pk, "amount": request.POST.get(f"amount_{m.pk}", "").strip(),
                 "paid_on": request.POST.get(f"paid_on_{m.pk}", "").strip()} for m in members]
        try:
            result = act.record_branch_dues(user, org, month, rows)
        except act.BatchError as exc:
            errors = exc.errors
            messages.error(request, exc.message)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已保存{month}党费：新登记 {created} 人，修改 {updated} 人。").format(
                month=act.month_text(month), **result))
            return redirect(f"{reverse('appraisal:activity_home')}?org={org.pk}&month={month:%Y-%m}")
    rows = []
    for m in members:
        p = existing.get(m.pk)
        if request.method == "POST":
            amount, paid_on = request.POST.get(f"amount_{m.pk}", ""), request.POST.get(f"paid_on_{m.pk}", "")
        else:
            amount = p.amount if p else ""
            paid_on = p.paid_on.isoformat() if p else ""
        rows.append({"member": m, "amount": amount, "paid_on": paid_on, "payment": p, "error": errors.get(m.pk)})
    last = month_bounds(month)[1]
    return render(request, "appraisal/activities/dues_branch.html", {
        "org": org, "month": month, "month_value": f"{month:%Y-%m}", "rows": rows, "last_day": last,
        "default_day": min(timezone.localdate(), last).isoformat(),
        "locked": act.org_month_published(org.pk, month),
    })


def _dues(request, pk) -> DuesPayment:
    return get_scoped_or_404(request.user, "activity.manage", DuesPayment.objects.select_related("member__org"), pk=pk)


@login_required
@deny_as_404
def dues_edit(request, pk):
    payment = _dues(request, pk)
    form = forms.DuesForm(request.POST or None, initial={"amount": payment.amount, "paid_on": payment.paid_on})
    back = _back(request, f"{reverse('appraisal:dues_list')}?org={payment.member.org_id}")
    if request.method == "POST" and form.is_valid():
        try:
            act.update_dues(request.user, payment, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已修改{name}{month}的党费记录。").format(
                name=payment.member.name, month=act.month_text(payment.month)))
            return redirect(back)
    return render(request, "appraisal/activities/form.html", {
        "form": form, "back": back, "delete_url": reverse("appraisal:dues_delete", args=[payment.pk]),
        "title": _("修改{name}{month}的党费").format(name=payment.member.name, month=act.month_text(payment.month))})


@login_required
@require_POST
@deny_as_404
def dues_delete(request, pk):
    payment = _dues(request, pk)
    back = _back(request, f"{reverse('appraisal:dues_list')}?org={payment.member.org_id}")
    try:
        act.delete_dues(request.user, payment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除{name}{month}的党费记录。").format(
            name=payment.member.name, month=act.month_text(payment.month)))
    return redirect(back)


# ---- service records ------------------------------------------------------------------------------------


@login_required
def service_list(request):
    user = request.user
    require_capability(user, "activity.view")
    f = {k: request.GET.get(k, "").strip() for k in ("org", "month", "q")}
    qs = act.visible_service(user).select_related("member__org")
    if f["org"]:
        qs = qs.filter(member__org=_branch(request))
    qs, f["month"] = _month_filter(qs, f["month"])
    if f["q"]:
        qs = qs.filter(Q(member__name__contains=f["q"]) | Q(activity__contains=f["q"]))
    qs = qs.order_by("-date", "-id")
    if wants_xlsx(request):
        rows = ((r.member.org.name, r.member.name, r.date, r.activity, r.hours, r.people_served, r.source)
                for r in qs[:EXPORT_MAX].iterator(chunk_size=2000))
        header = [_("支部"), _("党员"), _("日期"), _("服务内容"), _("时长（小时）"), _("服务人次"), _("来源")]
        return export_xlsx(request, gettext_noop("志愿服务时长"), header, rows, what=gettext_noop("志愿服务时长"))
    page, query = paginate(request, qs)
    totals = qs.aggregate(n=Count("id"), h=Sum("hours"), people=Sum("people_served"))
    return render(request, "appraisal/activities/service_list.html", {
        "page": page, "query": query, "f": f, "totals": totals,
        "branches": list(_branches(user)[:BRANCH_SELECT_MAX]), "manage": can(user, "activity.manage"),
    })


@login_required
@deny_as_404
def service_create(request):
    user = request.user
    require_capability(user, "activity.manage")
    org = _branch(request, "activity.manage", required=True)
    if org is None:
        return _pick_branch(request, _("登记志愿服务"), "appraisal:service_create")
    form = forms.ServiceForm(request.POST or None, members=forms.branch_members(org),
                             initial={"member": request.GET.get("member")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            act.add_service_record(user, d["member"], date=d["date"], activity=d["activity"], hours=d["hours"],
                                   people_served=d["people_served"] or 0, source=d["source"])
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已为{name}登记志愿服务 {hours} 小时。").format(
                name=d["member"].name, hours=d["hours"]))
            if "again" in request.POST:
                return redirect(f"{reverse('appraisal:service_create')}?org={org.pk}")
            return redirect(f"{reverse('appraisal:service_list')}?org={org.pk}")
    return render(request, "appraisal/activities/form.html", {
        "form": form, "org": org, "title": _("登记志愿服务"), "again": True,
        "back": f"{reverse('appraisal:service_list')}?org={org.pk}"})


def _service(request, pk) -> ServiceRecord:
    return get_scoped_or_404(request.user, "activity.manage", ServiceRecord.objects.select_related("member__org"),
                             pk=pk)


@login_required
@deny_as_404
def service_edit(request, pk):
    record = _service(request, pk)
    initial = {"date": record.date, "activity": record.activity, "hours": record.hours,
               "people_served": record.people_served, "source": record.source}
    form = forms.ServiceForm(request.POST or None, with_member=False, initial=initial)
    back = _back(request, f"{reverse('appraisal:service_list')}?org={record.member.org_id}")
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        d["people_served"] = d["people_served"] or 0
        try:
            act.update_service_record(request.user, record, **d)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("已修改志愿服务记录。"))
            return redirect(back)
    return render(request, "appraisal/activities/form.html", {
        "form": form, "back": back, "delete_url": reverse("appraisal:service_delete", args=[record.pk]),
        "title": _("修改{name}的志愿服务记录").format(name=record.member.name)})


@login_required
@require_POST
@deny_as_404
def service_delete(request, pk):
    record = _service(request, pk)
    back = _back(request, f"{reverse('appraisal:service_list')}?org={record.member.org_id}")
    try:
        act.delete_service_record(request.user, record)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除志愿服务记录。"))
    return redirect(back)


# ---- imports -------------------------------------------------------------------------------------------


def _kind(request, key) -> imports.Kind:
    require_capability(request.user, "activity.manage")
    kind = imports.KINDS.get(key)
    if kind is None:
        raise Http404(_("页面不存在。"))
    return kind


@login_required
def activity_import(request):
    require_capability(request.user, "activity.manage")
    return render(request, "appraisal/activities/import_home.html", {"kinds": list(imports.KINDS.values())})


@login_required
def activity_import_template(request, kind):
    kind = _kind(request, kind)
    return xlsx_response(imports.template_bytes(kind), _("{noun}导入模板.xlsx").format(noun=_(kind.noun)))


@login_required
def activity_import_upload(request, kind):
    kind = _kind(request, kind)
    ctx = {"kind": kind, "columns": kind.columns}
    if request.method == "POST":
        upload = request.FILES.get("file")
        ctx["filename"] = getattr(upload, "name", "")
        if upload is None:
            ctx["file_error"] = _("请选择要上传的 Excel（.xlsx）文件。")
        elif not upload.size:
            ctx["file_error"] = _("上传的文件是空的，请选择按模板填写的 Excel（.xlsx）文件。")
        else:
            try:
                result = imports.run_import(request.user, kind, upload, request)
            except DomainError as exc:
                ctx["file_error"] = exc.message
            else:
                if "problems" in result:
                    ctx["problems"] = result["problems"][:imports.MAX_SHOWN_ERRORS]
                    ctx["problem_total"] = len(result["problems"])
                    ctx["row_total"] = result["rows"]
                    ctx["truncated"] = len(result["problems"]) > imports.MAX_SHOWN_ERRORS
                elif kind.key == "attendance":
                    ctx["success"] = _("已导入 {meetings} 次组织生活，共 {count} 条出勤记录。").format(**result)
                else:
                    ctx["success"] = _("已导入 {count} 条{noun}。").format(count=result["count"], noun=_(kind.noun))
    return render(request, "appraisal/activities/import_upload.html", ctx)

