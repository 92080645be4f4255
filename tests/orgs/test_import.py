"""Excel import of organizations and members: templates, validation report, all-or-nothing writes, access."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Level, Member, Organization, OrgChange, Pledge, Role
from tests.factories import make_org, make_user, valid_id

ORG_HEADER = ["组织编码*", "组织名称*", "层级*", "类型", "上级组织编码*", "成立日期", "届满日期", "活动阵地"]
MEMBER_HEADER = ["姓名*", "性别*", "出生日期*", "身份证号*", "手机号", "所在党支部编码*", "入党日期*", "转正日期",
                 "党员类别*", "岗位", "职务", "承诺"]
BIRTH = datetime.date(1990, 3, 7)


def xlsx(header, rows, name="导入.xlsx"):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def org_row(code, name, level="党支部", type_="生产类", parent="C001", established=None, ends=None, address=""):
    return [code, name, level, type_, parent, established, ends, address]


def member_row(serial=1, birth=BIRTH, **over):
    id_birth = birth if isinstance(birth, datetime.date) else BIRTH
    row = {
        "name": "李四", "gender": "男", "birth": birth, "id": valid_id(id_birth, serial), "phone": "13800000000",
        "org": "B001", "joined": datetime.date(2015, 7, 1), "confirmed": datetime.date(2016, 7, 1),
        "status": "正式党员", "post": "变电运维班班员", "title": "", "pledge": "",
    }
    row.update(over)
    return [row[k] for k in ("name", "gender", "birth", "id", "phone", "org", "joined", "confirmed", "status",
                             "post", "title", "pledge")]


def counts():
    return (Organization.objects.count(), Member.objects.count(), Pledge.objects.count(),
            AuditEvent.objects.count(), OrgChange.objects.count())


def upload(client, kind, file):
    return client.post(reverse("orgs:import_upload", args=[kind]), {"file": file})


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The personas' passwords need no real key stretching here; it only slows the many set-ups down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_g(company):
    """A 党建管理员 whose scope is only the 运维检修党总支 (branch_a and branch_b, not branch_c)."""
    return make_user("staff_g", Role.STAFF, company.general)


# ---- access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretary_a", "member_user_a", "outsider"])
def test_import_pages_are_404_without_capability(company, login, persona):
    client = login(getattr(company, persona))
    before = counts()
    assert client.get(reverse("orgs:import_home")).status_code == 404
    for kind in ("orgs", "members"):
        assert client.get(reverse("orgs:import_template", args=[kind])).status_code == 404
        assert client.get(reverse("orgs:import_upload", args=[kind])).status_code == 404
    resp = upload(client, "members", xlsx(MEMBER_HEADER, [member_row()]))
    assert resp.status_code == 404
    assert counts() == before


def test_import_pages_require_login(company, client):
    resp = client.get(reverse("orgs:import_home"))
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_unknown_kind_is_404(company, login):
    client = login(company.staff)
    assert client.get(reverse("orgs:import_template", args=["seats"])).status_code == 404
    assert client.get(reverse("orgs:import_upload", args=["seats"])).status_code == 404


@pytest.mark.parametrize("persona", ["staff", "admin"])
def test_import_home_lists_both_kinds(company, login, persona):
    resp = login(getattr(company, persona)).get(reverse("orgs:import_home"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "下载模板" in html and "上传导入" in html
    assert reverse("orgs:import_upload", args=["orgs"]) in html
    assert reverse("orgs:import_upload", args=["members"]) in html


def test_upload_form(company, login):
    html = login(company.staff).get(reverse("orgs:import_upload", args=["members"])).content.decode()
    assert 'type="file"' in html and 'name="file"' in html and 'accept=".xlsx"' in html
    assert 'data-testid="import-submit"' in html
    assert "<script>" not in html.split("</main>")[0]


# ---- templates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,header", [("orgs", ORG_HEADER), ("members", MEMBER_HEADER)])
def test_template_download(company, login, kind, header):
    resp = login(company.staff).get(reverse("orgs:import_template", args=[kind]))
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in resp["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.content))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == header
    assert len(rows) == 2 and all(v not in (None, "") for v in rows[1][:3])  # one example row
    assert "填写说明" in wb.sheetnames
    notes = " ".join(str(r[0]) for r in wb["填写说明"].iter_rows(values_only=True))
    assert "示例" in notes


@pytest.mark.parametrize("kind", ["orgs", "members"])
def test_template_example_row_left_in_is_refused(company, login, kind):
    client = login(company.staff)
    content = client.get(reverse("orgs:import_template", args=[kind])).content
    before = counts()
    resp = upload(client, kind, SimpleUploadedFile("模板.xlsx", content))
    html = resp.content.decode()
    assert 'data-testid="import-errors"' in html
    assert "第2行：这是模板中的示例行，请删除后再导入。" in html
    assert counts() == before


# ---- valid files ---------------------------------------------------------------------------------------


def test_valid_orgs_file_creates_orgs_under_right_parents(company, login):
    client = login(company.staff)
    before_changes = OrgChange.objects.count()
    rows = [
        org_row("G100", "营销党总支", level="党总支", type_="", parent="C001", established="2020-07-01"),
        org_row("B100", "营销一党支部", type_="经营类", parent="G100", established=datetime.date(2021, 1, 5),
                ends="2024年1月4日", address="营销楼201"),
        org_row("B101", "检修三党支部", type_="生产类（含供电所类）", parent="G001", established="2022/3/9"),
        org_row("B102", "机关第二党支部", type_="管理类", parent="C001"),
    ]
    resp = upload(client, "orgs", xlsx(ORG_HEADER, rows, name="组织.xlsx"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-testid="import-success"' in html and "已导入 4 个党组织" in html
    assert 'data-testid="import-errors"' not in html

    g100 = Organization.objects.get(code="G100")
    b100 = Organization.objects.get(code="B100")
    b101 = Organization.objects.get(code="B101")
    b102 = Organization.objects.get(code="B102")
    assert g100.parent == company.committee and g100.level == Level.GENERAL_BRANCH and g100.type is None
    assert g100.path == f"{company.committee.path}{g100.pk:07d}." and g100.depth == 1
    assert g100.established_on == datetime.date(2020, 7, 1)
    assert b100.parent == g100 and b100.path == f"{g100.path}{b100.pk:07d}." and b100.depth == 2
    assert b100.type.code == "business" and b100.address == "营销楼201"
    assert b100.term_ends_on == datetime.date(2024, 1, 4)
    assert b101.parent == company.general and b101.path.startswith(company.general.path)
    assert b101.type.code == "production" and b101.established_on == datetime.date(2022, 3, 9)
    assert b102.parent == company.committee and b102.type.code == "management"
    assert OrgChange.objects.count() == before_changes + 4
    assert set(OrgChange.objects.filter(kind="create", org__code__in=["G100", "B100", "B101", "B102"])
               .values_list("org__code", flat=True)) == {"G100", "B100", "B101", "B102"}

    events = list(AuditEvent.objects.exclude(action="auth.login"))
    assert [e.action for e in events] == ["org.imported"]
    assert events[0].data["count"] == 4 and events[0].data["filename"] == "组织.xlsx"
    assert events[0].org_path == company.committee.path
    assert events[0].user == company.staff


def test_valid_members_file_creates_members_pledges_and_pinyin(company, login):
    client = login(company.staff)
    before = Member.objects.count()
    rows = [
        member_row(1, name="李四", pledge="带头遵守安全规程。"),
        member_row(2, name="王小明", gender="女", org="B002", phone=13912345678, birth="1990-03-07",
                   joined="2015/7/1", confirmed="2016年7月1日", title="班长"),
        member_row(3, name="赵六", status="预备党员", confirmed=None, joined=datetime.date(2025, 1, 10),
                   phone="", id=valid_id(BIRTH, 3).lower()[:-1] + valid_id(BIRTH, 3)[-1].lower()),
    ]
    resp = upload(client, "members", xlsx(MEMBER_HEADER, rows, name="党员.xlsx"))
    html = resp.content.decode()
    assert resp.status_code == 200, html
    assert "已导入 3 名党员" in html and 'data-testid="import-success"' in html
    assert Member.objects.count() == before + 3

    li = Member.objects.by_id_number(valid_id(BIRTH, 1)).get()
    assert (li.name_pinyin, li.name_initials) == ("lisi", "ls")
    assert li.org == company.branch_a and li.gender == "M" and li.status == "full"
    assert li.created_at is not None and li.active
    assert li.pledges.get().text == "带头遵守安全规程。"
    assert li.pledges.get().year == datetime.date.today().year

    wang = Member.objects.by_id_number(valid_id(BIRTH, 2)).get()
    assert wang.org == company.branch_b and wang.gender == "F" and wang.phone == "13912345678"
    assert wang.birth_date == BIRTH and wang.joined_on == datetime.date(2015, 7, 1)
    assert wang.confirmed_on == datetime.date(2016, 7, 1) and wang.title == "班长"
    assert (wang.name_pinyin, wang.name_initials) == ("wangxiaoming", "wxm")
    assert not wang.pledges.exists()

    zhao = Member.objects.by_id_number(valid_id(BIRTH, 3)).get()
    assert zhao.status == "probationary" and zhao.confirmed_on is None and zhao.phone == ""
    assert list(Member.objects.search("wxm")) == [wang]

    events = list(AuditEvent.objects.exclude(action="auth.login"))
    assert [e.action for e in events] == ["member.imported"]
    assert events[0].data["count"] == 3 and events[0].data["pledges"] == 1
    assert events[0].data["filename"] == "党员.xlsx"
    assert events[0].org_path == company.general.path  # the common parent of branch_a and branch_b


def test_members_into_one_branch_audited_on_that_branch(company, login):
    upload(login(company.staff), "members", xlsx(MEMBER_HEADER, [member_row(1), member_row(2)]))
    assert AuditEvent.objects.get(action="member.imported").org_path == company.branch_a.path


def test_large_members_file_crosses_chunk_boundaries(company, login):
    rows = []
    for i in range(2600):
        birth = datetime.date(1980, 1, 1) + datetime.timedelta(days=i // 800)
        rows.append(member_row(100 + i % 800, birth=birth, name=f"张{i % 7}", org=("B001", "B002")[i % 2],
                               pledge="爱岗敬业" if i % 3 == 0 else ""))
    resp = upload(login(company.staff), "members", xlsx(MEMBER_HEADER, rows))
    assert "已导入 2600 名党员" in resp.content.decode()
    assert Member.objects.filter(name__startswith="张", name_pinyin__startswith="zhang").count() >= 2600
    assert Pledge.objects.count() == 867
    assert AuditEvent.objects.filter(action="member.imported").count() == 1


def test_member_import_queries_do_not_grow_with_rows(company, login):
    client = login(company.staff)

    def run(n, offset):
        rows = [member_row(offset + i, org=("B001", "B002")[i % 2], pledge="承诺" if i % 2 else "")
                for i in range(n)]
        file = xlsx(MEMBER_HEADER, rows)
        with CaptureQueriesContext(connection) as ctx:
            resp = upload(client, "members", file)
        assert f"已导入 {n} 名党员" in resp.content.decode()
        return len(ctx.captured_queries)

    small = run(10, 100)
    large = run(50, 200)
    print(f"queries: 10 rows {small}, 50 rows {large}")
    assert large <= small
    assert large <= 25


# ---- bad rows: a report, and nothing changed ------------------------------------------------------------


def assert_rejected(resp, *texts):
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-testid="import-errors"' in html, html
    assert "本次未导入任何数据" in html
    for text in texts:
        assert text in html, text
    return html


@pytest.mark.parametrize("rows,expected", [
    ([org_row("B100", "甲支部"), org_row("B101", "乙支部", parent="NOPE")],
     ["第3行：上级组织编码“NOPE”不存在或不在您的管理范围内。"]),
    ([org_row("B001", "甲支部")], ["第2行：组织编码“B001”已被使用，请换一个。"]),
    ([org_row("B100", "甲支部"), org_row("B100", "乙支部")], ["第3行：组织编码“B100”与第2行重复。"]),
    ([org_row("B100", "甲支部", level="支部")], ["第2行：层级“支部”不正确，应为党委、党总支或党支部。"]),
    ([org_row("B100", "甲支部", type_="后勤类")], ["第2行：类型“后勤类”不正确"]),
    ([org_row("B100", "甲支部", type_="")], ["第2行：党支部必须选择类型（生产类、管理类或经营类）。"]),
    ([org_row("B100", "甲支部", parent="B001")], ["第2行：党支部下不能设立党支部。"]),
    ([org_row("G100", "甲总支", level="党总支", type_="", parent="G001")], ["第2行：党总支下不能设立党总支。"]),
    ([org_row("B100", "甲支部", parent="G100"), org_row("G100", "甲总支", level="党总支", type_="")],
     ["第2行：上级组织编码“G100”在本行之后才出现"]),
    ([org_row("", "甲支部"), org_row("B101", "", parent="")],
     ["第2行：组织编码不能为空。", "第3行：组织名称不能为空。", "第3行：上级组织编码不能为空。"]),
    ([org_row("B100", "甲支部", established="2020-02-30")], ["第2行：“2020-02-30”不是有效的日期"]),
    ([org_row("B100", "甲" * 101)], ["第2行：组织名称不能超过100个字"]),
])
def test_bad_org_rows(company, login, rows, expected):
    client = login(company.staff)
    before = counts()
    assert_rejected(upload(client, "orgs", xlsx(ORG_HEADER, rows)), *expected)
    assert counts() == before


def test_bad_org_row_under_bad_file_parent_still_reported(company, login):
    rows = [org_row("G100", "甲总支", level="总支", type_=""), org_row("B100", "甲支部", parent="G100"),
            org_row("B101", "乙支部", parent="G100", type_="")]
    client = login(company.staff)
    before = counts()
    html = assert_rejected(upload(client, "orgs", xlsx(ORG_HEADER, rows)),
                           "第2行：层级“总支”不正确", "第4行：党支部必须选择类型")
    assert "第3行" not in html  # the child of a broken parent is not blamed for its parent
    assert counts() == before


def test_org_parent_outside_scope(company, login, staff_g):
    other = make_org("外单位党委", level=Level.COMMITTEE, type_code=None, code="X001")
    rows = [org_row("B100", "甲支部", parent="G001"), org_row("B101", "乙支部", parent="C001"),
            org_row("B102", "丙支部", parent="X001")]
    client = login(staff_g)
    before = counts()
    assert_rejected(upload(client, "orgs", xlsx(ORG_HEADER, rows)),
                    "第3行：上级组织编码“C001”不存在或不在您的管理范围内。",
                    "第4行：上级组织编码“X001”不存在或不在您的管理范围内。")
    assert counts() == before
    assert not other.children.exists()


def test_org_parent_archived(company, login):
    Organization.objects.filter(pk=company.general.pk).update(archived=True)
    client = login(company.staff)
    before = counts()
    assert_rejected(upload(client, "orgs", xlsx(ORG_HEADER, [org_row("B100", "甲支部", parent="G001")])),
                    "第2行：上级组织“运维检修党总支”已撤销，不能在其下设立组织。")
    assert counts() == before


@pytest.mark.parametrize("rows,expected", [
    ([member_row(1), member_row(2), member_row(1, name="王五")], ["第4行：身份证号与第2行重复。"]),
    ([member_row(1, id=valid_id(BIRTH, 1)[:-1] + ("0" if valid_id(BIRTH, 1)[-1] != "0" else "1"))],
     ["第2行：身份证号校验位不正确，请核对后重新输入。"]),
    ([member_row(1, id="1101011990")], ["第2行：身份证号应为18位"]),
    ([member_row(1, id=1.10101199003070011e17)], ["第2行：身份证号被 Excel 保存成了数字，后几位已经丢失"]),
    ([member_row(1), member_row(2, phone="1391234567")], ["第3行：手机号应为以1开头的11位数字。"]),
    ([member_row(1, joined="2020-13-01")], ["第2行：“2020-13-01”不是有效的日期"]),
    ([member_row(1, joined="去年七月")], ["第2行：“去年七月”不是有效的日期"]),
    ([member_row(1, name="")], ["第2行：姓名不能为空。"]),
    ([member_row(1, gender="")], ["第2行：性别不能为空。"]),
    ([member_row(1, gender="未知")], ["第2行：性别“未知”不正确，应为男或女。"]),
    ([member_row(1, status="积极分子")], ["第2行：党员类别“积极分子”不正确"]),
    ([member_row(1, org="")], ["第2行：所在党支部编码不能为空。"]),
    ([member_row(1, org="NOPE")], ["第2行：所在党支部编码“NOPE”不存在或不在您的管理范围内。"]),
    ([member_row(1, org="G001")], ["第2行：“G001”（运维检修党总支）是党总支，党员应编入党支部。"]),
    ([member_row(1, birth=datetime.date(1990, 3, 8), id=valid_id(BIRTH, 1))],
     ["第2行：出生日期与身份证号中的出生日期不一致。"]),
    ([member_row(1, confirmed=None)], ["第2行：正式党员须填写转正日期。"]),
    ([member_row(1, joined=datetime.date(2005, 1, 1))], ["第2行：入党时应年满18周岁"]),
    ([member_row(1, pledge="诺" * 501)], ["第2行：承诺不能超过500个字"]),
])
def test_bad_member_rows(company, login, rows, expected):
    client = login(company.staff)
    before = counts()
    assert_rejected(upload(client, "members", xlsx(MEMBER_HEADER, rows)), *expected)
    assert counts() == before


def test_member_id_number_already_registered(company, login):
    client = login(company.staff)
    before = counts()
    rows = [member_row(1), member_row(2, birth=company.member_b.birth_date, id=company.member_b.id_number.lower())]
    assert_rejected(upload(client, "members", xlsx(MEMBER_HEADER, rows)),
                    "第3行：该身份证号已登记，请勿重复添加；如需调入，请使用“转接”。")
    assert counts() == before


def test_member_branch_outside_staff_scope(company, login, staff_g):
    rows = [member_row(1, org="B001"), member_row(2, org="B003")]
    client = login(staff_g)
    before = counts()
    assert_rejected(upload(client, "members", xlsx(MEMBER_HEADER, rows)),
                    "第3行：所在党支部编码“B003”不存在或不在您的管理范围内。")
    assert counts() == before


def test_member_branch_archived(company, login):
    Organization.objects.filter(pk=company.branch_b.pk).update(archived=True)
    client = login(company.staff)
    before = counts()
    assert_rejected(upload(client, "members", xlsx(MEMBER_HEADER, [member_row(1, org="B002")])),
                    "第2行：“B002”（输电运检党支部）已撤销，不能新增党员。")
    assert counts() == before


def test_all_errors_are_collected_with_columns(company, login):
    rows = [
        member_row(1),
        member_row(2, phone="123", joined="2020-13-01"),
        [None] * 12,  # a blank row is skipped but keeps the numbering
        member_row(3, name="", org="NOPE"),
        member_row(1, name="王五"),
    ]
    client = login(company.staff)
    before = counts()
    html = assert_rejected(upload(client, "members", xlsx(MEMBER_HEADER, rows)),
                           "第3行：手机号应为以1开头的11位数字。", "第3行：“2020-13-01”不是有效的日期",
                           "第5行：姓名不能为空。", "第5行：所在党支部编码“NOPE”不存在",
                           "第6行：身份证号与第2行重复。", "发现 5 处问题")
    assert "<td class=\"text-nowrap\">手机号</td>" in html and "<td class=\"text-nowrap\">入党日期</td>" in html
    assert counts() == before


def test_a_duplicate_registered_meanwhile_rolls_everything_back(company, login, monkeypatch):
    """Another user registers the same ID number between the check and the write: the unique index refuses
    it, the whole import is rolled back and the user is told in Chinese."""
    from dangjian.orgs import imports

    monkeypatch.setattr(imports, "_existing", lambda model_field, values: set())
    client = login(company.staff)
    before = counts()
    rows = [member_row(1, pledge="承诺"), member_row(2, birth=company.member_b.birth_date,
                                                     id=company.member_b.id_number)]
    html = upload(client, "members", xlsx(MEMBER_HEADER, rows)).content.decode()
    assert 'data-testid="import-file-error"' in html and "已被他人同时登记" in html
    assert counts() == before


# ---- unreadable files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("file,expected", [
    (SimpleUploadedFile("名单.xlsx", "姓名,性别\n张三,男\n".encode()), "文件不是有效的 Excel（.xlsx）文件"),
    (SimpleUploadedFile("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 200), "文件不是有效的 Excel"),
    (SimpleUploadedFile("名单.xlsx", b"PK\x03\x04" + b"\x00broken" * 50), "文件已损坏或不是 .xlsx 格式"),
    (SimpleUploadedFile("名单.xlsx", b""), "上传的文件是空的"),
])
def test_unreadable_files(company, login, file, expected):
    client = login(company.staff)
    before = counts()
    resp = upload(client, "members", file)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-testid="import-file-error"' in html and expected in html
    assert counts() == before


def test_no_file(company, login):
    resp = login(company.staff).post(reverse("orgs:import_upload", args=["orgs"]), {})
    assert resp.status_code == 200 and "请选择要上传的 Excel（.xlsx）文件。" in resp.content.decode()


def test_oversized_file(company, login, settings):
    settings.EXCEL_MAX_UPLOAD_BYTES = 1000
    client = login(company.staff)
    before = counts()
    rows = [member_row(i, post="岗" * 50) for i in range(1, 60)]
    resp = upload(client, "members", xlsx(MEMBER_HEADER, rows))
    assert "文件过大" in resp.content.decode()
    assert counts() == before


def test_wrong_template_header(company, login):
    client = login(company.staff)
    before = counts()
    resp = upload(client, "orgs", xlsx(MEMBER_HEADER, [member_row(1)]))
    html = resp.content.decode()
    assert 'data-testid="import-file-error"' in html
    assert "表头与党组织导入模板不一致：第1列应为“组织编码”，实际为“姓名”。" in html
    assert counts() == before


def test_header_only_file(company, login):
    resp = upload(login(company.staff), "members", xlsx(MEMBER_HEADER, []))
    assert "文件中没有可导入的数据行" in resp.content.decode()


def test_header_without_asterisks_is_accepted(company, login):
    header = [h.rstrip("*") for h in MEMBER_HEADER]
    resp = upload(login(company.staff), "members", xlsx(header, [member_row(1)]))
    assert "已导入 1 名党员" in resp.content.decode()
