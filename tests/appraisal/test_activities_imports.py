"""Excel imports of activity records: templates to download, good files written whole, bad files reported row by
row in Chinese and changing nothing, members found by name (and ID number where names repeat) only inside the
importer's branches. Personas: tests/conftest.py."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from dangjian.appraisal import activities as act
from dangjian.appraisal.imports_activities import KINDS, run_import
from dangjian.appraisal.models import Attendance, DuesPayment, Meeting, ServiceRecord, StudyRecord
from dangjian.core.models import AuditEvent
from tests.factories import make_member

D = datetime.date


def xlsx(kind, rows, header=None):
    wb = Workbook()
    ws = wb.active
    ws.append(header or KINDS[kind].headers)
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(f"{kind}.xlsx", buf.getvalue())


def upload(client, kind, rows, **kw):
    return client.post(reverse("appraisal:activity_import_upload", args=[kind]), {"file": xlsx(kind, rows, **kw)})


def problems(result):
    return [p.text for p in result["problems"]]


def tail(member):
    return member.id_number[-6:]


# ---- templates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_template_downloads_with_its_header_example_and_notes(login, company, kind):
    resp = login(company.secretary_a).get(reverse("appraisal:activity_import_template", args=[kind]))
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == KINDS[kind].headers and len(rows) == 2
    assert wb.worksheets[1].title == "填写说明"


def test_imports_are_for_those_who_manage_a_branch(login, company):
    c = company
    assert login(c.secretary_a).get(reverse("appraisal:activity_import")).status_code == 200
    for user in (c.member_user_a, c.assessor, c.outsider):
        assert login(user).get(reverse("appraisal:activity_import")).status_code == 404
        assert login(user).get(reverse("appraisal:activity_import_template", args=["study"])).status_code == 404
    assert login(c.staff).get(reverse("appraisal:activity_import_upload", args=["nope"])).status_code == 404


# ---- attendance -------------------------------------------------------------------------------------------


def test_an_attendance_file_makes_one_meeting_per_branch_date_kind_and_title(login, company):
    c = company
    rows = [
        ("2026-10-09", "主题党日", "进社区宣传安全用电", "张三", "", "出席", "", "城东社区", "李建国"),
        (D(2026, 10, 9), "主题党日", "进社区宣传安全用电", "李建国", "", "请假", "抢修值班", "", ""),
        ("2026/10/16", "党课", "党课：全会精神", "张三", tail(c.member_a), "缺席", "", "", ""),
    ]
    resp = upload(login(c.secretary_a), "attendance", rows)
    assert resp.status_code == 200 and 'data-testid="import-success"' in resp.content.decode()
    day = Meeting.objects.get(kind="theme_day")
    assert (day.org, day.date, day.place, day.host) == (c.branch_a, D(2026, 10, 9), "城东社区", "李建国")
    assert dict(day.attendance.values_list("member__name", "status")) == {"张三": "present", "李建国": "leave"}
    assert Attendance.objects.get(meeting__kind="lecture").status == "absent"
    ev = AuditEvent.objects.get(action="activity.imported")
    assert ev.data["kind"] == "attendance" and ev.data["meetings"] == 2 and ev.org_path == c.branch_a.path


def test_a_bad_attendance_file_is_reported_row_by_row_and_changes_nothing(company):
    c = company
    make_member(c.branch_a, "张三", id_number="110101198506151239")  # a second 张三 in branch A
    rows = [
        ("2099-01-01", "主题党日", "未来的会", "李建国", "", "出席", "", "", ""),
        ("2026-10-09", "茶话会", "联欢", "李建国", "", "出席", "", "", ""),
        ("2026-10-09", "党课", "党课", "张三", "", "出席", "", "", ""),
        ("2026-10-09", "党课", "党课", "王芳", "", "出席", "", "", ""),
        ("2026-10-09", "党课", "党课", "李建国", "", "迟到", "", "", ""),
        ("2026-10-09", "党课", "党课", "李建国", "", "出席", "", "", ""),
        ("2026-10-09", "党课", "党课", "李建国", "", "出席", "", "", ""),
    ]
    result = run_import(c.secretary_a, KINDS["attendance"], xlsx("attendance", rows))
    texts = problems(result)
    assert result["rows"] == 7
    assert any(t.startswith("第2行：") and "不能晚于今天" in t for t in texts)
    assert any(t.startswith("第3行：") and "类型“茶话会”不正确" in t for t in texts)
    assert any(t.startswith("第4行：") and "有2名在册党员叫“张三”" in t for t in texts)
    assert any(t.startswith("第5行：") and "没有找到在册党员“王芳”" in t for t in texts)  # branch B: not mine
    assert any(t.startswith("第6行：") and "出勤“迟到”不正确" in t for t in texts)
    assert any(t.startswith("第8行：") and "已列入这次会议" in t for t in texts)
    assert not Meeting.objects.exists() and not AuditEvent.objects.filter(action="activity.imported").exists()


def test_an_attendance_file_cannot_repeat_a_recorded_meeting_nor_touch_a_published_month(company):
    from tests.appraisal.test_activities_services import publish

    c = company
    act.record_meeting(c.secretary_a, c.branch_a, kind="lecture", title="党课", date=D(2026, 10, 9))
    publish(c.member_a, D(2026, 9, 1))
    rows = [("2026-10-09", "党课", "党课", "张三", "", "出席", "", "", ""),
            ("2026-09-09", "党课", "九月党课", "张三", "", "出席", "", "", "")]
    texts = problems(run_import(c.secretary_a, KINDS["attendance"], xlsx("attendance", rows)))
    assert any("已登记，不能重复导入" in t for t in texts)
    assert any("已公示" in t for t in texts)
    assert Meeting.objects.count() == 1


# ---- study, dues, service ------------------------------------------------------------------------------------


def test_a_study_file_is_imported_with_defaults(login, company):
    c = company
    rows = [("张三", "", "2026-10-09", "党章学习", "", "", ""),
            ("李建国", "", D(2026, 10, 10), "网络培训", "网络学习", 2.5, "收获很大")]
    resp = upload(login(c.secretary_a), "study", rows)
    assert "已导入 2 条学习记录" in resp.content.decode()
    a = StudyRecord.objects.get(member=c.member_a)
    assert (a.form, a.hours, a.created_by) == ("self", Decimal("1.0"), c.secretary_a)
    assert StudyRecord.objects.get(member=c.secretary_member_a).hours == Decimal("2.5")


def test_a_study_file_keeps_each_day_within_24_hours(company):
    c = company
    act.add_study_record(c.secretary_a, c.member_a, date=D(2026, 10, 9), title="培训", hours="20")
    rows = [("张三", "", "2026-10-09", "自学一", "", 3, ""), ("张三", "", "2026-10-09", "自学二", "", 2, ""),
            ("张三", "", "2026-10-10", "自学三", "讲座", 0, "")]
    texts = problems(run_import(c.secretary_a, KINDS["study"], xlsx("study", rows)))
    assert any(t.startswith("第3行：") and "超过一天24小时" in t for t in texts)
    assert any(t.startswith("第4行：") and "形式“讲座”不正确" in t for t in texts)
    assert any(t.startswith("第4行：") and "应大于0" in t for t in texts)
    assert StudyRecord.objects.count() == 1


def test_a_dues_file_sets_on_time_and_refuses_repeats(company):
    c = company
    rows = [("张三", c.member_a.id_number, "2026-10", 25.5, "2026-10-31"),
            ("李建国", "", "2026年10月", "30", "2026-11-02")]
    assert run_import(c.secretary_a, KINDS["dues"], xlsx("dues", rows)) == {"count": 2}
    assert dict(DuesPayment.objects.values_list("member__name", "on_time")) == {"张三": True, "李建国": False}
    assert DuesPayment.objects.get(member=c.member_a).amount == Decimal("25.50")
    again = [("张三", "", "2026-10", 25.5, "2026-10-31"), ("李建国", "", "2026-09", "-1", "2026-09-02"),
             ("李建国", "", "2026-08", "20", "2026-08-02"), ("李建国", "", "2026-08", "20", "2026-08-03"),
             ("张三", "12345", "2026-08", "20", "2026-08-03")]
    texts = problems(run_import(c.secretary_a, KINDS["dues"], xlsx("dues", again)))
    assert any(t.startswith("第2行：") and "党费已登记" in t for t in texts)
    assert any(t.startswith("第3行：") and "党费金额应大于0" in t for t in texts)
    assert any(t.startswith("第5行：") and "在第4行已填写" in t for t in texts)
    assert any(t.startswith("第6行：") and "后6位或完整的18位" in t for t in texts)
    assert DuesPayment.objects.count() == 2


def test_a_service_file_is_imported(company):
    c = company
    rows = [("张三", "", "2026-10-03", "社区用电安全宣传", 2.5, 40, "共产党员服务队"),
            ("张三", tail(c.member_a), "2026-10-04", "抢修保电", "8", "", "")]
    assert run_import(c.secretary_a, KINDS["service"], xlsx("service", rows)) == {"count": 2}
    assert ServiceRecord.objects.filter(member=c.member_a).count() == 2
    bad = [("张三", "", "2026-10-05", "宣传", "", "abc", "")]
    texts = problems(run_import(c.secretary_a, KINDS["service"], xlsx("service", bad)))
    assert any("时长（小时）不能为空" in t for t in texts) and any("服务人次应为" in t for t in texts)


def test_a_wrong_header_or_a_non_excel_file_is_refused_as_a_whole(login, company):
    c = company
    client = login(c.secretary_a)
    resp = upload(client, "study", [("张三", "", "2026-10-09", "学习", "", "", "")],
                  header=["姓名", "身份证号", "日期", "学习内容", "形式", "学时", "心得体会"])
    assert 'data-testid="import-file-error"' in resp.content.decode() and "第1列应为“党员姓名”" in resp.content.decode()
    resp = client.post(reverse("appraisal:activity_import_upload", args=["study"]),
                       {"file": SimpleUploadedFile("a.xlsx", b"not an excel file")})
    assert "不是有效的 Excel" in resp.content.decode()
    resp = upload(client, "study", [KINDS["study"].example])
    assert "没有可导入的数据行" in resp.content.decode()  # the untouched example row is skipped
    assert not StudyRecord.objects.exists()


def test_staff_imports_for_several_branches_and_a_secretary_only_for_theirs(company):
    c = company
    rows = [("张三", "", "2026-10-09", "学习", "", "", ""), ("王芳", "", "2026-10-09", "学习", "", "", "")]
    result = run_import(c.secretary_b, KINDS["study"], xlsx("study", rows))
    assert any("没有找到在册党员“张三”" in t for t in problems(result))
    assert run_import(c.staff, KINDS["study"], xlsx("study", rows)) == {"count": 2}
    assert AuditEvent.objects.get(action="activity.imported").org_path == c.general.path
